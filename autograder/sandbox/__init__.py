"""The process boundary: student code runs in a sandboxed child process, never in the judge.

Use::

    with open_sandbox() as sandbox:
        result = grade(path, plan, start_child=sandbox.start_child)

``open_sandbox`` starts a warm fork server in bubblewrap (:mod:`.forkserver`, :mod:`.zygote`),
proves with a self-test that it holds (:mod:`.selftest`) and refuses to grade otherwise
(:class:`SandboxUnavailable`). ``start_child()`` then returns a fresh, individually confined
child (:mod:`.confine`) for one submission. ``open_sandbox(insecure=True)`` is the explicit,
recorded exception for a laptop without namespaces.

The pieces: :mod:`.bubblewrap` (what the sandbox sees), :mod:`.cgroups` (memory and process
bounds per slot), :mod:`.launcher` (the pipes, and the unconfined ``--insecure`` child),
:mod:`.child` (the code that serves the judge's requests inside).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import threading
from pathlib import Path

from autograder.sandbox.confine import PR_SET_DUMPABLE, Limits
from autograder.sandbox.forkserver import ForkServer, SandboxError
from autograder.sandbox.launcher import ChildProcess
from autograder.sandbox.selftest import HOW_TO_FIX, run_self_test

INSECURE_WARNING = (
    "WARNING: --insecure: student code runs WITHOUT OS isolation. A hostile submission can read "
    "hidden tests and solutions, forge its grade and harm this machine. Every result is marked "
    "insecure. Use this only on your own code, never on real submissions."
)


class SandboxUnavailable(SandboxError):
    """The sandbox failed its self-test or could not start: grading is refused."""


class Sandbox:
    """A self-tested fork server; ``start_child()`` per submission, ``close()`` when done."""

    insecure = False

    def __init__(self, limits: Limits = Limits(), hidden: list[str] | None = None):
        # The caller's course (wherever its folder is) and the default places of hidden material.
        self.hidden = sorted(set(default_hidden_paths()) | {str(Path(p).resolve()) for p in hidden or ()})
        self.server = ForkServer(limits, self.hidden)
        self.owner = os.getpid()

    def open(self) -> "Sandbox":
        return self.launch().prove()

    def launch(self) -> "Sandbox":
        """Start the fork server (from a thread that lives as long as it: see ForkServer.launch)."""
        protect_judge()
        try:
            self.server.launch()
        except SandboxError as error:
            self.close()
            raise SandboxUnavailable(f"the sandbox cannot run here: {error}\n{HOW_TO_FIX}") from None
        return self

    def prove(self) -> "Sandbox":
        """Wait for the launched server, then run the self-test: the sandbox, or SandboxUnavailable."""
        try:
            self.server.await_ready()
            problems = run_self_test(self.server.start_child, self.hidden)
        except SandboxError as error:
            self.close()
            raise SandboxUnavailable(f"the sandbox cannot run here: {error}\n{HOW_TO_FIX}") from None
        if problems:
            self.close()
            raise SandboxUnavailable("the sandbox self-test failed, so dlgrade refuses to grade:\n  - "
                                     + "\n  - ".join(problems) + "\n" + HOW_TO_FIX)
        return self

    def start_child(self):
        return self.server.start_child()

    def close(self) -> None:
        self.server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InsecureSandbox(Sandbox):
    """``--insecure``: plain child processes (rlimits, scrubbed environment), no namespaces."""

    insecure = True

    def __init__(self):
        self.owner = os.getpid()

    def launch(self) -> "InsecureSandbox":
        protect_judge()
        return self

    def prove(self) -> "InsecureSandbox":
        return self

    def start_child(self):
        return ChildProcess()

    def close(self) -> None:
        pass


def open_sandbox(insecure: bool = False, hidden: list[str] | None = None, limits: Limits = Limits()) -> Sandbox:
    """A ready sandbox, or :class:`SandboxUnavailable` saying why and how to fix it."""
    return InsecureSandbox().open() if insecure else Sandbox(limits, hidden).open()


class SandboxStarting:
    """A launched sandbox proving itself in a background thread while the caller does other work.

    The fork server is another process (bubblewrap, an interpreter importing numpy) and the
    self-test mostly waits on its pipes, so both overlap the caller's imports and course loading (a
    torch import) instead of following them. :meth:`wait` returns the proven sandbox or raises what
    the proof raised (:class:`SandboxUnavailable`); leaving the ``with`` block closes it either way.
    """

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._prove, name="dlgrade-sandbox-start", daemon=True)
        self._thread.start()

    def _prove(self) -> None:
        try:
            self.sandbox.prove()
        except BaseException as error:  # handed to the caller of wait(), in its own thread
            self._error = error

    def wait(self) -> Sandbox:
        """The sandbox, once it has passed its self-test."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.sandbox

    def close(self) -> None:
        self._thread.join()
        self.sandbox.close()

    def __enter__(self) -> "SandboxStarting":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_sandbox_in_background(insecure: bool = False, hidden: list[str] | None = None,
                               limits: Limits = Limits()) -> SandboxStarting:
    """:func:`open_sandbox` with its wait and self-test in a background thread (``.wait()`` for the
    sandbox). The server is launched here, in the calling thread, which must outlive it."""
    sandbox = InsecureSandbox() if insecure else Sandbox(limits, hidden)
    return SandboxStarting(sandbox.launch())


_shared: Sandbox | None = None


def shared_sandbox() -> Sandbox:
    """One sandbox per process, opened on first use and closed at exit (for ``grade()``'s default)."""
    global _shared
    if _shared is None or _shared.owner != os.getpid():
        _shared = open_sandbox()
        atexit.register(_shared.close)
    return _shared


def default_hidden_paths() -> list[str]:
    """The hidden material the sandbox must never show: the course's solutions."""
    paths = [Path(__file__).resolve().parents[2] / "solutions"]
    if os.environ.get("DLGRADE_SOLUTIONS"):
        paths.append(Path(os.environ["DLGRADE_SOLUTIONS"]))
    return [str(p.resolve()) for p in paths if p.is_dir()]


def protect_judge() -> None:
    """No process of the same user may ptrace the judge or read its memory and environment."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the sandbox cannot start there anyway
