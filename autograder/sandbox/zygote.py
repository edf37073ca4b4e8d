"""The warm fork server: runs inside bubblewrap and forks one confined child per submission.

Started by :class:`autograder.sandbox.forkserver.ForkServer`. It gives up root (when bubblewrap
started it as root), pins every numeric library to one thread, imports numpy and the child
module once, and then serves requests on a SOCK_SEQPACKET control socket:

- ``fork``: hand out a confined child (:mod:`.confine`) that serves one submission: its pid, with
  the judge's ends of its two pipes and of its shared region (large messages) passed along.
  With ``spare``, the server then confines the next child while the judge works, so that the
  next fork only hands it out. A spare has never run student code: it waits for its first
  request, having faulted in the memory grading needs (heap and shared region) when it was
  confined on a CPU other than the judge's.
- ``kill``: SIGKILL a child; as pid 1 of its own pid namespace its death takes every process it
  started (``wait: false``: reaped later). ``wait``: its exit status, once it has exited.
  ``settle``: return once every killed child is reaped.

It never runs student code itself and never holds anything hidden, so a fork inherits nothing a
student should not see.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass

from autograder.sandbox import confine, heap, messages

SANDBOX_UID = SANDBOX_GID = 65534  # nobody
_SECCOMP = None  # the seccomp filter, built by warm_up()
# The fresh memory a full submission's grading needs (million-element arrays): a spare child
# faults it in before it is handed out, off the judge's CPU, so that the judge does not wait for
# some 4,000 page faults (3 µs each in a virtual machine) on the heap and the shared region.
SPARE_HEAP_BYTES = 24 << 20
SPARE_REGION_BYTES = 12 << 20


def become_unprivileged(uid: int, gid: int) -> None:
    """Bubblewrap started as root keeps capabilities: drop them and become ``uid`` for good."""
    if os.geteuid() != 0:
        return
    confine.mount_proc()
    for capability in range(confine.LAST_CAPABILITY + 1):
        try:
            confine.prctl(confine.PR_CAPBSET_DROP, capability)
        except OSError:
            pass
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from uid 0 to non-zero: every capability is cleared
    if os.geteuid() == 0 or os.getuid() == 0:
        raise SystemExit("could not leave root")


def warm_up() -> None:
    """Import what every child needs, once, before any fork."""
    for module in ("numpy", "numpy.random", "autograder.sandbox.child"):  # numpy 2 loads numpy.random lazily
        importlib.import_module(module)
    try:
        importlib.import_module("pyseccomp")
    except (ImportError, OSError, RuntimeError):
        pass  # reported by the self-test as a missing hardening layer
    _exercise_numpy()
    global _SECCOMP
    if _has_seccomp():
        _SECCOMP = confine.seccomp_filter()  # built once here, loaded by each child
    gc.freeze()  # a collection in a child then never writes to (and copies) the pages it shares with the server


def _exercise_numpy() -> None:
    """Run the operations the course's submissions use, so that numpy's per-process caches (ufunc
    loops per dtype, casts, random generators) are filled once here instead of in every child."""
    import numpy as np

    from autograder.wire import decode, encode

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((8, 5)).astype(dtype)
        w = rng.uniform(-1, 1, (5, 3)).astype(dtype)
        y = x @ w + w.sum(axis=0)
        z = np.exp(-np.abs(y)) / (1 + np.exp(-np.abs(y)))
        z = np.where(y >= 0, 1 / (1 + np.exp(-y)), z) * (1 - z) - np.tanh(y) + np.maximum(y, 0)
        z = np.clip(z, 1e-12, 1 - 1e-12)
        _ = (np.log(z).mean(), np.sqrt(z ** 2 + 1).max(axis=1), z.argmax(axis=1), (z > 0.5).astype(dtype),
             np.allclose(z, z), np.isfinite(z).all(), x.T @ (y - y.max(axis=1, keepdims=True)), np.outer(x[0], x[1]))
        decode(encode({"x": x, "y": [y, (z, 1.5)], "n": None}))
    _ = (rng.binomial(1, 0.3, (4, 4)), rng.random((4, 4)) < 0.5, rng.permutation(10), rng.choice(5, 3),
         rng.integers(0, 9, 4), rng.normal(0, 1, 3), np.random.default_rng([1, 2]).uniform(size=3))


def _rehearse() -> None:
    """A spare's rehearsal, before it is handed out and off the judge's CPU: numpy's usual
    operations and one load through the child's own handler, on the judge's wire. A forked child
    shares the server's pages until it writes them, and the first grading writes many (reference
    counts of numpy's and the handler's objects): each costs a copy-on-write fault then, while
    the judge waits. Rehearsed, they are copied here. Nothing of it stays: the module is dropped
    and the handler discarded; no student code has run."""
    from autograder.sandbox.child import Child
    from autograder.wire import decode, encode

    _exercise_numpy()
    source = "import numpy as np\n\ndef f(x, w):\n    return np.maximum(x @ w, 0).sum(axis=0)\n"
    decode(Child().respond(encode({"op": "load", "module": "_dlgrade_rehearsal", "cells": [source],
                                   "filename": "rehearsal.py", "tolerant": False, "allowed_imports": None})))
    sys.modules.pop("_dlgrade_rehearsal", None)


class ChildNotReady(Exception):
    """A child failed its confinement; the message says at which step."""


@dataclass
class ConfinedChild:
    """A confined child waiting for its first request, and the judge's ends of its pipes and region."""

    pid: int
    judge_fds: list[int]  # requests (write end), answers (read end), shared region
    cpus: list[int] | None

    def discard(self, server: "Server") -> None:
        for fd in self.judge_fds:
            _close(fd)
        try:
            os.kill(self.pid, signal.SIGKILL)
            server.dying.add(self.pid)
        except ProcessLookupError:
            pass


class Server:
    def __init__(self, control: socket.socket, limits: confine.Limits):
        self.control = control
        self.limits = limits
        self.exited: dict[int, int] = {}
        self.dying: set[int] = set()  # killed, not yet reaped
        self.spare: ConfinedChild | None = None
        self.cpus = os.sched_getaffinity(0)  # where the server may run

    def serve(self) -> None:
        self.send({"ok": True, "ready": True, "pid": os.getpid(), "uid": os.getuid(),
                   "seccomp": _has_seccomp()})
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 4)
            except OSError:
                return
            if not message:
                return  # the judge closed the socket
            self.reap()
            handed = []
            try:
                request = json.loads(message)
                reply, handed = self.handle(request, fds)
            except Exception as error:  # a bad request must not take the server down
                request, reply = {}, {"ok": False, "error": f"{type(error).__name__}: {error}"}
            finally:
                for fd in fds:
                    _close(fd)
            try:
                self.send(reply, handed)
            finally:
                for fd in handed:
                    _close(fd)  # the judge has its own copies now
            if request.get("op") == "exit":
                return
            self.between_requests(request)

    def send(self, document: dict, fds: list[int] = ()) -> None:
        socket.send_fds(self.control, [json.dumps(document).encode()], list(fds))

    def handle(self, request: dict, fds: list[int]) -> tuple[dict, list[int]]:
        """The reply to one request, and the file descriptors that go with it."""
        op = request.get("op")
        if op == "fork":
            try:
                child = self.take_spare(request.get("cpus")) or self.start_child(request.get("cpus"))
            except ChildNotReady as problem:
                return {"ok": False, "error": str(problem)}, []
            return {"ok": True, "pid": child.pid}, child.judge_fds
        if op == "kill":
            pid = int(request["pid"])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # gone and reaped already
                return {"ok": True, "status": self.exited.pop(pid, None)}, []
            if not request.get("wait", True):  # reaped later: the judge goes on meanwhile
                self.dying.add(pid)
                return {"ok": True, "status": None}, []
            return {"ok": True, "status": self.wait(pid, 5.0)}, []
        if op == "wait":
            return {"ok": True, "status": self.wait(int(request["pid"]), float(request.get("timeout", 2.0)))}, []
        if op == "settle":
            for pid in list(self.dying):
                self.wait(pid, 5.0)
            return {"ok": True, "spare": self.spare is not None}, []
        if op in ("ping", "exit"):
            return {"ok": True}, []
        return {"ok": False, "error": f"unknown op {op!r}"}, []

    def between_requests(self, request: dict) -> None:
        """Work the judge does not wait for: after a fork, the next child is confined while the judge
        grades with this one, so the next fork only hands it out. The server moves off the judge's
        CPU for this when it can: there it would take turns with the grading it is meant to hide
        behind. Only then is the spare warmed too: on a busy CPU (a batch pins one worker and its
        server to each) faulting memory in ahead costs more than it saves."""
        if request.get("op") == "fork" and request.get("spare") and self.spare is None:
            elsewhere = sorted(self.cpus - set(request.get("cpus") or ()))
            _run_on(elsewhere or sorted(self.cpus))
            try:
                self.spare = self.start_child(request.get("cpus"), warm=bool(elsewhere))
            except ChildNotReady:
                self.spare = None  # the next fork confines one itself, and reports the problem

    # ------------------------------------------------------------ children
    def take_spare(self, cpus) -> "ConfinedChild | None":
        """The spare child, if it is alive and runs on ``cpus``; otherwise it is discarded."""
        spare, self.spare = self.spare, None
        if spare is None:
            return None
        self.reap()
        if spare.pid not in self.exited and spare.cpus == cpus:
            return spare
        self.exited.pop(spare.pid, None)
        spare.discard(self)
        return None

    def start_child(self, cpus, warm: bool = False) -> "ConfinedChild":
        """Fork and confine a child that waits for the judge's first request; a ``warm`` one (a spare)
        first faults in the memory grading will need (:data:`SPARE_HEAP_BYTES`)."""
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        shared = messages.sealed_memfd()
        try:
            pid = self._confine((requests_r, answers_w, shared), cpus, warm)
        except BaseException:
            for fd in (requests_w, answers_r, shared):
                _close(fd)
            raise
        finally:
            for fd in (requests_r, answers_w):
                _close(fd)
        return ConfinedChild(pid, [requests_w, answers_r, shared], cpus)

    def _confine(self, fds: tuple[int, int, int], cpus, warm: bool) -> int:
        report_r, report_w = os.pipe()
        first = os.fork()
        if first == 0:
            try:
                _first_child(self.control.fileno(), fds, report_w, self.limits, cpus, warm)
            finally:
                os._exit(70)
        os.close(report_w)
        report = _read_report(report_r)
        os.waitpid(first, 0)
        lines = report.decode(errors="replace").splitlines()
        pid = next((int(line.split()[1]) for line in lines if line.startswith("pid ")), None)
        problem = next((line[6:] for line in lines if line.startswith("error ")), None)
        if pid is None or problem or "ready" not in lines:
            if pid is not None:
                self.wait(pid, 2.0)
            raise ChildNotReady(problem or "the child did not finish its confinement")
        return pid

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.dying.discard(pid)
            self.exited[pid] = os.waitstatus_to_exitcode(status)
            while len(self.exited) > 64:  # statuses nobody asked for (children killed without waiting)
                del self.exited[next(iter(self.exited))]

    def wait(self, pid: int, timeout: float):
        deadline = time.monotonic() + timeout
        try:
            exited = os.pidfd_open(pid)  # readable once the process has exited: no polling delay
        except OSError:  # already reaped (its status is in self.exited), or no pidfd on this kernel
            exited = None
        try:
            while True:
                self.reap()
                if pid in self.exited:
                    return self.exited.pop(pid)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if exited is not None:
                    select.select([exited], [], [], remaining)
                else:
                    time.sleep(0.002)
        finally:
            if exited is not None:
                os.close(exited)


def _first_child(control_fd: int, fds: tuple[int, int, int], report_w: int, limits, cpus, warm: bool) -> None:
    """In the first fork: new namespaces, then fork the child that becomes pid 1 there."""
    try:
        os.close(control_fd)  # a submission must never reach the server's control socket
        _close_all_but({*fds, report_w})
        # A session of its own: with autogroup scheduling a session is one scheduling group, so
        # whatever the child does to its group (its nice value) stays with this submission, and
        # seccomp then forbids it a new one (:data:`confine.PLACEMENT_SYSCALLS`).
        os.setsid()
        confine.prctl(confine.PR_SET_DUMPABLE, 1)  # to write its own uid_map; the child drops it again
        confine.enter_namespaces(SANDBOX_UID, SANDBOX_GID)
        second = os.fork()
    except BaseException as error:
        _report(report_w, f"error {type(error).__name__}: {error}")
        return
    if second == 0:
        _second_child(fds, report_w, limits, cpus, warm)
        return
    _report(report_w, f"pid {second}")
    os._exit(0)


def _second_child(fds: tuple[int, int, int], report_w: int, limits, cpus, warm: bool) -> None:
    """Pid 1 of the submission's namespaces: confine, then serve the judge's requests."""
    try:
        confine.private_mounts(limits, runtime_under_tmp())
        confine.apply_limits(limits)
        _quiet_stdio()
        os.chdir("/tmp")
        confine.drop_privileges()
        heap.retain_freed_memory()
        shared = messages.SharedRegion(fds[2])
        if warm:
            heap.fault_in(SPARE_HEAP_BYTES)
            shared.populate(SPARE_REGION_BYTES)
            _rehearse()
        # After the warm-up (a spare is confined and warmed on whichever CPU the server runs on),
        # and before seccomp, which leaves the child no way to change its CPUs again.
        _run_on(cpus)
        if _has_seccomp():
            confine.install_seccomp(_SECCOMP)
    except BaseException as error:
        _report(report_w, f"error {type(error).__name__}: {error}")
        os._exit(71)
    _report(report_w, "ready")
    os.close(report_w)
    from autograder.sandbox.child import serve

    try:
        serve(fds[0], fds[1], shared)
    finally:
        os._exit(0)


def _run_on(cpus) -> None:
    """The judge's CPUs (one, when it is pinned: see :mod:`.placement`); the server's otherwise."""
    if cpus:
        try:
            os.sched_setaffinity(0, {int(cpu) for cpu in cpus})
        except (OSError, ValueError, TypeError):
            pass  # CPUs outside this cpuset: stay where the server runs


def runtime_under_tmp() -> list[str]:
    """The interpreter's folders that a fresh /tmp would hide (outermost first)."""
    folders = sorted({p for p in sys.path + [os.path.dirname(sys.executable)]
                      if p.startswith("/tmp/") and os.path.isdir(p)})
    return [p for p in folders if not any(p.startswith(q + "/") for q in folders if q != p)]


def _quiet_stdio() -> None:
    """Whatever the submission prints is dropped: it can neither flood nor reach the judge."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _close_all_but(keep: set[int]) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 16)


def _report(fd: int, line: str) -> None:
    try:
        os.write(fd, (line.replace("\n", " ") + "\n").encode())
    except OSError:
        pass


def _read_report(fd: int) -> bytes:
    """The children's report, up to its last line ("ready" or an error): no need to wait for EOF."""
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
        lines = b"".join(chunks).split(b"\n")[:-1]  # complete lines only
        if any(line.startswith(b"error ") for line in lines) or (
                b"ready" in lines and any(line.startswith(b"pid ") for line in lines)):
            break
    os.close(fd)
    return b"".join(chunks)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _has_seccomp() -> bool:
    return "pyseccomp" in sys.modules


def main(control_fd: int, limits_json: str) -> None:
    become_unprivileged(SANDBOX_UID, SANDBOX_GID)
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    confine.prctl(confine.PR_SET_CHILD_SUBREAPER, 1)  # orphaned children come back here to be reaped
    warm_up()
    control = socket.socket(fileno=control_fd)
    Server(control, confine.Limits(**json.loads(limits_json))).serve()
