"""The two ends of a child that runs student code, and the unconfined child for ``--insecure``.

:class:`Channel` is the judge's side of one child: requests and answers travel on two dedicated
pipes (a student's ``print`` can never forge an answer), each answer within a deadline.
:class:`ChildProcess` is a fresh interpreter with rlimits, a scrubbed environment and its own
process group, and nothing more: it runs only when the OS sandbox (:mod:`.forkserver`) is
explicitly declined with ``--insecure``.
"""

from __future__ import annotations

import fcntl
import math
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from autograder.wire import MAX_MESSAGE_BYTES, WireError, decode, encode_parts
from autograder.sandbox import messages

CPU_SECONDS = 120  # a backstop per child; each test has its own wall-clock limit
FILE_SIZE = 16 << 20
OPEN_FILES = 256
PIPE_BYTES = 1 << 20

# The only variables the child inherits: no credentials, no course seed, no paths to solutions.
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
_ONE_THREAD = {name: "1" for name in (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS",
)}


class ChildTimeout(Exception):
    """The child did not answer within its time limit (it has been killed)."""


class ChildCrashed(Exception):
    """The child died or broke the protocol; the message says how."""


def child_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT_ENVIRONMENT if name in os.environ}
    env.update(_ONE_THREAD)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def widen_pipe(fd: int) -> None:
    """1 MiB pipe buffers: a million-element array crosses in 8 writes instead of 128."""
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass  # the system limit (/proc/sys/fs/pipe-max-size) is lower: keep the default


def _limit_resources() -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


class Channel:
    """Two pipes to a child: send a request, wait for its answer until a deadline.

    Subclasses say how the child dies (:meth:`kill`) and how its death is described; they hand
    their two pipe ends to :meth:`_attach`."""

    isolated = False  # True only for a child confined by the OS sandbox
    _to_child = _from_child = -1

    _shared: messages.SharedRegion | None = None

    def _attach(self, to_child: int, from_child: int, shared: messages.SharedRegion | None) -> None:
        """Use these pipe ends and this shared region (large bodies): the pipes wide, the sending
        end non-blocking so that a child that stops reading cannot hold the judge past its deadline."""
        for fd in (to_child, from_child):
            widen_pipe(fd)
        os.set_blocking(to_child, False)
        self._to_child, self._from_child, self._shared = to_child, from_child, shared

    def request(self, document: dict, timeout: float):
        """Send one request and wait at most ``timeout`` seconds for its decoded answer."""
        deadline = time.monotonic() + timeout
        parts = encode_parts(document)
        try:
            messages.send(self._to_child, parts, lambda: self._wait(self._to_child, select.POLLOUT, deadline),
                          self._shared)
        except OSError as error:  # the child closed its end: it died
            raise ChildCrashed(self._death_note()) from error
        try:
            body = messages.thread_inbox().receive(self._from_child, MAX_MESSAGE_BYTES,
                                                   lambda: self._wait(self._from_child, select.POLLIN, deadline),
                                                   self._shared)
        except messages.TooLarge as error:
            self.kill()
            raise ChildCrashed(f"the answer announced {error.length} bytes, over the cap of {MAX_MESSAGE_BYTES}") from None
        if body is None:
            raise ChildCrashed(self._death_note())
        try:
            return decode(body)
        except WireError as error:
            self.kill()
            raise ChildCrashed(f"the answer was not valid plain data: {error}") from error

    def _wait(self, fd: int, event: int, deadline: float) -> None:
        """Return once ``fd`` is ready (or closed at the other end); past the deadline, kill the child."""
        poller = select.poll()
        poller.register(fd, event)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ChildTimeout()
            if poller.poll(max(1, math.ceil(remaining * 1000))):
                return

    def _close_pipes(self) -> None:
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._to_child = self._from_child = -1
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def _death_note(self) -> str:
        raise NotImplementedError

    def terminate(self) -> None:
        """Kill the child's processes, from any thread; the grading thread then sees it die."""
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError


def describe_exit(code: int) -> str:
    """A wait status as words: 'killed by SIGKILL', 'exited with status 3'."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            return f"the process was killed by {name} (it used up its CPU time)"
        return f"the process was killed by {name}"
    return f"the process exited with status {code}"


class ChildProcess(Channel):
    """An unconfined child (``--insecure``): a fresh interpreter with rlimits and a scrubbed
    environment, but no namespaces. Used only when the OS sandbox is explicitly declined."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="dlgrade-child-")
        to_child_r, to_child = os.pipe()
        from_child, from_child_w = os.pipe()
        shared = messages.SharedRegion.create()
        self._attach(to_child, from_child, shared)
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.sandbox.child", str(to_child_r), str(from_child_w), str(shared.fd)],
            pass_fds=(to_child_r, from_child_w, shared.fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=child_environment(),
            start_new_session=True,
            preexec_fn=_limit_resources,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        # Read and drop what the child prints, so that a full pipe never blocks it.
        threading.Thread(target=self._drain_output, daemon=True).start()

    def _drain_output(self) -> None:
        stream = self.process.stdout
        while stream.read1(65536):
            pass

    def _death_note(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the process stopped answering"
        return describe_exit(code)

    def terminate(self) -> None:
        """Kill the child's processes only (safe from another thread; the pipes stay open)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """Kill the child and every process it started, and remove its working folder."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self._to_child >= 0 and self.process.poll() is None
