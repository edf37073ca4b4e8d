"""The judge's side of the warm fork server: start it in bubblewrap, ask it for confined children.

One :class:`ForkServer` per grading slot. It starts the server once (bubblewrap, then an
interpreter that imports numpy), and :meth:`ForkServer.start_child` then costs a fork and the
confinement steps, a few milliseconds, instead of a fresh interpreter; and the server confines
the next child while the judge grades with this one, so a handout is one round trip. The server
is recycled after ``recycle_after`` children, and restarted if it ever dies.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
import subprocess
import tempfile
import threading

from autograder.sandbox import bubblewrap, cgroups, messages
from autograder.sandbox.confine import Limits
from autograder.sandbox.launcher import Channel, describe_exit
from autograder.errors import DlgradeError

START_SECONDS = 30.0
CONTROL_SECONDS = 15.0
SLOT_MEMORY = 3 << 30        # the cgroup bound of one slot: the server and its one live child
SLOT_PROCESSES = 128


class SandboxError(DlgradeError, RuntimeError):
    """The sandbox could not be started or used; the message says why and how to fix it."""


class ForkServer:
    """A sandboxed fork server; ``start_child()`` returns a :class:`ConfinedChild`."""

    def __init__(self, limits: Limits = Limits(), hidden: list[str] = (), recycle_after: int = 500,
                 use_cgroup: bool = True):
        self.limits = limits
        self.hidden = list(hidden)
        self.recycle_after = recycle_after
        self.use_cgroup = use_cgroup
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.cgroup: cgroups.SlotCgroup | None = None
        self.info: dict = {}
        self.forks = 0
        self.live: set[int] = set()
        self._stderr = None
        self._staging: bubblewrap.Staging | None = None
        self._lock = threading.Lock()  # a time-limit thread may kill a child while grading goes on

    # ------------------------------------------------------------ server lifecycle
    def start(self) -> None:
        self.launch()
        self.await_ready()

    def launch(self) -> None:
        """Start bubblewrap and the server inside it; :meth:`await_ready` waits for its hello.

        Call it from a thread that lives as long as the server: bubblewrap's ``--die-with-parent``
        is the kernel's parent-death signal, sent when the *thread* that started it exits."""
        privileged = os.geteuid() == 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._stderr = tempfile.TemporaryFile()
        self.cgroup = cgroups.make_slot_cgroup(SLOT_MEMORY, SLOT_PROCESSES) if (self.use_cgroup and privileged) else None
        procs = self.cgroup.procs_files() if self.cgroup else []
        where = bubblewrap.layout()
        self._staging = bubblewrap.stage(where)
        try:
            args = bubblewrap.command(control_fd=theirs.fileno(), hidden=self.hidden, privileged=privileged,
                                      staging=self._staging, where=where)
        except bubblewrap.BubblewrapMissing as error:
            self._unstage()
            raise SandboxError(str(error)) from None
        try:
            self.process = subprocess.Popen(
                args, pass_fds=(theirs.fileno(),), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=self._stderr, env=bubblewrap.environment(where), start_new_session=True,
                preexec_fn=(lambda: cgroups.join(procs)) if procs else None,
            )
        except BaseException:
            self._unstage()
            raise
        theirs.close()
        try:  # a few hundred bytes: the pipe takes them without waiting for the server to read
            self.process.stdin.write(bubblewrap.boot_input(where, json.dumps(self.limits.to_json())))
            self.process.stdin.close()
        except OSError:
            pass  # the server died at once: _receive says how
        self.control = ours

    def await_ready(self) -> None:
        """Wait for the launched server's hello (any thread may wait)."""
        self.control.settimeout(START_SECONDS)
        try:
            self.info = self._receive()[0]
        except SandboxError as error:
            self.close()
            raise SandboxError(f"the sandbox did not start: {error}") from None
        finally:
            self._unstage()  # up or not, the overlays no longer need the stand-ins
        self.control.settimeout(CONTROL_SECONDS)
        self.forks = 0

    def _receive(self) -> tuple[dict, list[int]]:
        """The server's reply, and the file descriptors it passed with it."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
        except (socket.timeout, OSError) as error:
            raise SandboxError(self._server_death(str(error))) from None
        if not message:
            raise SandboxError(self._server_death("it exited"))
        reply = json.loads(message)
        if not reply.get("ok"):
            _close_all(fds)
            raise SandboxError(reply.get("error", "unknown error"))
        return reply, fds

    def _server_death(self, what: str) -> str:
        detail = ""
        if self.process is not None:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        if self._stderr is not None:
            self._stderr.seek(0)
            detail = self._stderr.read(4000).decode(errors="replace").strip()
        return f"{what}{': ' + detail if detail else ''}"

    def _exchange(self, document: dict) -> tuple[dict, list[int]]:
        with self._lock:
            if self.control is None:
                raise SandboxError("the fork server is not running")
            try:
                self.control.send(json.dumps(document).encode())
            except OSError as error:
                raise SandboxError(self._server_death(f"the fork server is gone ({error})")) from None
            return self._receive()

    def _call(self, document: dict) -> dict:
        reply, fds = self._exchange(document)
        _close_all(fds)  # none expected
        return reply

    def _unstage(self) -> None:
        if self._staging is not None:
            self._staging.remove()
            self._staging = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        """Stop the server; bubblewrap's pid namespace takes every child with it."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.process = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._unstage()
        self.live.clear()

    # ------------------------------------------------------------ children
    def start_child(self) -> "ConfinedChild":
        if not self.running or (self.forks >= self.recycle_after and not self.live):
            self.close()
            self.start()
        self.forks += 1
        # The child runs where the asking thread may run: on its CPU when it is pinned (.placement).
        # No spare when the next start recycles the server.
        reply, fds = self._exchange({"op": "fork", "cpus": sorted(os.sched_getaffinity(0)),
                                     "spare": self.forks < self.recycle_after})
        pid = reply["pid"]
        self.live.add(pid)
        try:
            requests_w, answers_r, shared = verified_handout(fds)
        except ValueError as problem:
            self.kill(pid)
            raise SandboxError(f"the fork server handed out a child without its pipes: {problem}") from None
        return ConfinedChild(self, pid, requests_w, answers_r, shared, self.cgroup.oom_kills() if self.cgroup else 0)

    def kill(self, pid: int, wait: bool = True):
        """SIGKILL child ``pid`` (and so every process it started); its exit status if ``wait``."""
        self.live.discard(pid)
        if not self.running:
            return None
        try:
            return self._call({"op": "kill", "pid": pid, "wait": wait}).get("status")
        except SandboxError:
            return None

    def settle(self) -> bool:
        """Return once the server is idle (every killed child reaped); whether a spare child is ready."""
        return bool(self.running and self._call({"op": "settle"}).get("spare"))

    def wait(self, pid: int, timeout: float = 2.0):
        if not self.running:
            return None
        try:
            status = self._call({"op": "wait", "pid": pid, "timeout": timeout}).get("status")
        except SandboxError:
            return None
        if status is not None:
            self.live.discard(pid)
        return status

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


class ConfinedChild(Channel):
    """One confined child of a fork server: the judge's two pipes, and how it died."""

    isolated = True

    def __init__(self, server: ForkServer, pid: int, to_child: int, from_child: int,
                 shared: messages.SharedRegion, oom_before: int):
        self.server, self.pid = server, pid
        self._attach(to_child, from_child, shared)
        self._oom_before = oom_before
        self._dead = False

    def _death_note(self) -> str:
        status = self.server.wait(self.pid, 2.0)
        self._dead = True
        if status is None:
            self.kill()
            return "the process stopped answering"
        if self._killed_for_memory(status):
            return ("killed: memory (the submission used more than the sandbox's memory limit of "
                    f"{SLOT_MEMORY >> 30} GiB)")
        return describe_exit(status)

    def _killed_for_memory(self, status: int) -> bool:
        cgroup = self.server.cgroup
        return status == -9 and cgroup is not None and cgroup.oom_kills() > self._oom_before

    def terminate(self) -> None:
        """Kill the child's processes only (safe from another thread; the pipes stay open)."""
        self.server.kill(self.pid, wait=False)  # the death note waits, if anyone asks for one

    def kill(self) -> None:
        if not self._dead:
            self.server.kill(self.pid, wait=False)
            self._dead = True
        self._close_pipes()

    @property
    def alive(self) -> bool:
        return not self._dead and self._to_child >= 0 and self.server.running



def verified_handout(fds: list[int]) -> tuple[int, int, messages.SharedRegion]:
    """The judge's ends of a new child's pipes and its region, each checked to be what it claims."""
    try:
        if len(fds) != 3:
            raise ValueError(f"{len(fds)} file descriptors instead of 3")
        requests_w, answers_r, shared = fds
        for fd, mode, name in ((requests_w, os.O_WRONLY, "requests"), (answers_r, os.O_RDONLY, "answers")):
            if not stat.S_ISFIFO(os.fstat(fd).st_mode) or fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != mode:
                raise ValueError(f"the {name} end is not a pipe open the right way")
        return requests_w, answers_r, messages.SharedRegion.adopt(shared)
    except (ValueError, OSError) as error:
        _close_all(fds)
        raise ValueError(str(error)) from None


def _close_all(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
