"""The warm fork server: runs inside bubblewrap and forks one confined child per submission.

Started by :class:`autograder.sandbox.forkserver.ForkServer`. It gives up root (when bubblewrap
started it as root), pins every numeric library to one thread, imports numpy and the child
module once, and then serves requests on a SOCK_SEQPACKET control socket:

- ``fork`` (with three file descriptors: requests in, answers out, the shared region for large
  messages): fork a child, confine it (:mod:`.confine`), and let it serve the submission; reply
  with its pid.
- ``kill``: SIGKILL a child; as pid 1 of its own pid namespace its death takes every process it
  started. ``wait``: its exit status, once it has exited.

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

from autograder.sandbox import confine

SANDBOX_UID = SANDBOX_GID = 65534  # nobody
_SECCOMP = None  # the seccomp filter, built by warm_up()


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

    from autograder.judge.wire import decode, encode

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


class Server:
    def __init__(self, control: socket.socket, limits: confine.Limits):
        self.control = control
        self.limits = limits
        self.exited: dict[int, int] = {}

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
            try:
                request = json.loads(message)
                reply = self.handle(request, fds)
            except Exception as error:  # a bad request must not take the server down
                reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            finally:
                for fd in fds:
                    _close(fd)
            self.send(reply)
            if request.get("op") == "exit":
                return

    def send(self, document: dict) -> None:
        self.control.send(json.dumps(document).encode())

    def handle(self, request: dict, fds: list[int]) -> dict:
        op = request.get("op")
        if op == "fork":
            if len(fds) != 3:
                return {"ok": False, "error": "fork needs three file descriptors"}
            return self.fork(*fds, cpus=request.get("cpus"))
        if op == "kill":
            pid = int(request["pid"])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # gone and reaped already
                return {"ok": True, "status": self.exited.pop(pid, None)}
            return {"ok": True, "status": self.wait(pid, 5.0)}
        if op == "wait":
            return {"ok": True, "status": self.wait(int(request["pid"]), float(request.get("timeout", 2.0)))}
        if op == "ping":
            return {"ok": True}
        if op == "exit":
            return {"ok": True}
        return {"ok": False, "error": f"unknown op {op!r}"}

    # ------------------------------------------------------------ children
    def fork(self, requests_fd: int, answers_fd: int, shared_fd: int, cpus: list[int] | None = None) -> dict:
        report_r, report_w = os.pipe()
        first = os.fork()
        if first == 0:
            try:
                _first_child(self.control.fileno(), (requests_fd, answers_fd, shared_fd), report_w, self.limits, cpus)
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
            return {"ok": False, "error": problem or "the child did not finish its confinement"}
        return {"ok": True, "pid": pid}

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exited[pid] = os.waitstatus_to_exitcode(status)

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


def _first_child(control_fd: int, fds: tuple[int, int, int], report_w: int, limits, cpus) -> None:
    """In the first fork: new namespaces, then fork the child that becomes pid 1 there."""
    try:
        os.close(control_fd)  # a submission must never reach the server's control socket
        _close_all_but({*fds, report_w})
        confine.prctl(confine.PR_SET_DUMPABLE, 1)  # to write its own uid_map; the child drops it again
        confine.enter_namespaces(SANDBOX_UID, SANDBOX_GID)
        second = os.fork()
    except BaseException as error:
        _report(report_w, f"error {type(error).__name__}: {error}")
        return
    if second == 0:
        _second_child(fds, report_w, limits, cpus)
        return
    _report(report_w, f"pid {second}")
    os._exit(0)


def _second_child(fds: tuple[int, int, int], report_w: int, limits, cpus) -> None:
    """Pid 1 of the submission's namespaces: confine, then serve the judge's requests."""
    try:
        _run_on(cpus)
        confine.private_mounts(limits, runtime_under_tmp())
        confine.apply_limits(limits)
        _quiet_stdio()
        os.chdir("/tmp")
        confine.drop_privileges()
        if _has_seccomp():
            confine.install_seccomp(_SECCOMP)
    except BaseException as error:
        _report(report_w, f"error {type(error).__name__}: {error}")
        os._exit(71)
    _report(report_w, "ready")
    os.close(report_w)
    from autograder.sandbox.child import serve

    try:
        serve(*fds)
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
