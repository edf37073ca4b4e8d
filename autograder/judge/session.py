"""The judge's side of a conversation with the child that runs one submission.

A :class:`Session` loads the submission's modules into a child and makes calls on its behalf.
Calls return :class:`Remote` handles: the result stays in the child (a student's ``cache`` may be
any object) until :meth:`Session.fetch` brings it back as plain data. Calls are queued and sent
with the next fetch, in one round trip. Every test runs under its own deadline
(:meth:`Session.test`); when it expires the child is killed, the test is a timeout, and the next
test gets a fresh child with the same modules loaded again.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import time
from dataclasses import dataclass, field

from autograder import untrusted
from autograder.sandbox.launcher import Channel, ChildCrashed, ChildTimeout

LOAD_SECONDS = 20.0
JUDGE_CPU_SECONDS = 120.0  # the judge's own CPU time for one submission (decoding, comparing, references)
MAX_TEXT = 2000  # characters kept of any string an answer carries (an exception's message...)
MAX_WARNINGS = 20


class StudentError(Exception):
    """Student code raised (or was missing). ``kind`` is 'raised', 'not_implemented', 'missing' or
    'forbidden' (it used a package its assignment does not allow)."""

    def __init__(self, kind: str, type_name: str, message: str, where: dict | None = None):
        super().__init__(f"{type_name}: {message}")
        self.kind, self.type_name, self.message, self.where = kind, type_name, message, where

    def describe(self) -> str:
        text = f"{self.type_name}: {self.message}" if self.message else self.type_name
        if self.where and self.where.get("line"):
            text += f" (line {self.where['line']}"
            text += f", in {self.where['function']})" if self.where.get("function") else ")"
        return text




class TestTimeout(Exception):
    """The test ran out of time (the child was killed)."""


class WorkerCrashed(Exception):
    """The child died during the test (os._exit, a segfault, a kill by a resource limit)."""


class LoadError(Exception):
    """The module could not be loaded; the message says why (file, line, exception)."""


class BudgetExceeded(Exception):
    """The judge has spent this submission's CPU budget (its own work: decoding, comparing)."""

    def __init__(self, seconds: float):
        super().__init__(f"the grader spent its CPU budget of {seconds:g} s on this submission "
                         "(are the answers far larger than the inputs?)")
        self.seconds = seconds


class ErrorKind(enum.Enum):
    """Why a child's answer carries no value."""

    RAISED = "raised"
    NOT_IMPLEMENTED = "not_implemented"
    MISSING = "missing"
    FORBIDDEN = "forbidden"  # it used a package its assignment does not allow
    PROTOCOL = "protocol"  # the child's serving code could not answer (a value that cannot travel...)


@dataclass(frozen=True)
class ChildError:
    """An exception the child reports: checked and capped, whatever the child sent."""

    kind: ErrorKind
    type_name: str
    message: str
    line: int | None = None
    function: str | None = None

    def where(self) -> dict | None:
        return {"line": self.line, "function": self.function} if self.line is not None else None


@dataclass(frozen=True)
class Answer:
    """One answer of the child, as the judge uses it. The child runs student code and may send
    any plain data: :func:`read_answer` turns whatever arrived into this or a :class:`WorkerCrashed`."""

    ok: bool
    error: ChildError | None = None
    warnings: tuple[str, ...] = ()
    has_value: bool = False
    value: object = None
    answers: tuple = ()  # a group's answers (documents, read one by one)


_NO_VALUE = object()


def _text(value, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def read_answer(document) -> Answer:
    """Check the shape of a decoded answer; :class:`WorkerCrashed` when it is not an answer at all."""
    if not isinstance(document, dict):
        raise WorkerCrashed(f"the judge could not use the answer: a {type(document).__name__}, not a dict")
    warnings = document.get("warnings")
    kept = tuple(dict.fromkeys(_text(w, 300) for w in warnings[:MAX_WARNINGS] if isinstance(w, str))) \
        if isinstance(warnings, list) else ()
    answers = document.get("answers")
    answers = tuple(answers) if isinstance(answers, list) else ()
    if document.get("ok") is True:
        value = document.get("value", _NO_VALUE)
        return Answer(True, None, kept, value is not _NO_VALUE, None if value is _NO_VALUE else value, answers)
    error = document.get("error")
    error = error if isinstance(error, dict) else {}
    try:
        kind = ErrorKind(error.get("kind", "raised"))
    except (ValueError, TypeError):
        kind = ErrorKind.RAISED
    where = error.get("where") if isinstance(error.get("where"), dict) else {}
    line = where.get("line")
    line = line if type(line) is int and 0 < line < 10**7 else None
    function = _text(where.get("function"), 100) or None
    type_name = _text(error.get("type"), 100) or "Exception"
    return Answer(False, ChildError(kind, type_name, _text(error.get("message")), line, function), kept)


@dataclass(frozen=True)
class Remote:
    """A value living in the child: a call's result, or a part of one (``value[1]``, ``value.step``)."""

    session: "Session" = field(repr=False, compare=False)
    handle: str
    path: tuple = ()

    def __getitem__(self, key) -> "Remote":
        return Remote(self.session, self.handle, self.path + (("item", key),))

    def __getattr__(self, name: str) -> "Remote":
        if name.startswith("__"):
            raise AttributeError(name)
        return Remote(self.session, self.handle, self.path + (("attr", name),))

    def __call__(self, *args, **kwargs) -> "Remote":
        return self.session.call(self, *args, **kwargs)

    def wire(self) -> dict:
        return {"$ref": [self.handle, [list(step) for step in self.path]]}


@dataclass(frozen=True)
class Rng:
    """A fresh ``numpy.random.default_rng(seed)`` made in the child."""

    seed: int

    def wire(self) -> dict:
        return {"$rng": int(self.seed)}


def _to_wire(value):
    if isinstance(value, (Remote, Rng)):
        return value.wire()
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_wire(v) for v in value)
    return value


class Session:
    """One submission's child process, its loaded modules, and the current test's deadline."""

    def __init__(self, start_child, cpu_seconds: float = JUDGE_CPU_SECONDS):
        """``cpu_seconds``: the judge's CPU budget for this submission (this thread's CPU time, from
        now): past it, every test of the submission ends with :class:`BudgetExceeded`."""
        self._start_child = start_child
        self.cpu_seconds = cpu_seconds
        self._cpu_start = time.thread_time()
        self._child: Channel | None = None
        self.insecure = False  # set once any child ran without the OS sandbox
        self._sources: dict[str, dict] = {}
        self._counter = itertools.count()
        self._deadline = float("inf")
        self.module = ""
        self.warnings: list[str] = []
        self.timed_out: set[str] = set()  # functions that hung once: later tests skip them
        self._current: list[str] = []
        self._pending: list[dict] = []
        # Every string the child sends is capped, counted and made inert here, as it arrives.
        self.budget = untrusted.Budget()

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ensure_child(self) -> Channel:
        if self._child is None or not self._child.alive:
            if self._child is not None:
                self._child.kill()
            self._child = self._start_child()
            self.insecure |= not self._child.isolated
            for request in self._sources.values():
                answer = read_answer(self._child.request(request, LOAD_SECONDS))
                if not answer.ok:
                    raise WorkerCrashed(f"reloading {request['filename']} failed: "
                                        f"{self.budget.take(answer.error.type_name)}: "
                                        f"{self.budget.take(answer.error.message, untrusted.MESSAGE)}")
        return self._child

    def start(self) -> None:
        """Start the child now (it starts on first use otherwise)."""
        self._ensure_child()

    # ------------------------------------------------------------ loading
    def load(self, module: str, cells: list[str], filename: str, tolerant: bool = False,
             timeout: float = LOAD_SECONDS, numbers=(), allowed_imports=None) -> list[str]:
        """Run the submission's code cells as module ``module`` in the child; return its warnings.
        ``tolerant`` (a notebook): a failing cell is noted and the next runs; ``numbers``: each
        cell's number among the notebook's code cells, for those notes; ``allowed_imports``: the
        packages the assignment allows besides the standard library (None: any)."""
        request = {"op": "load", "module": module, "cells": list(cells), "filename": filename, "tolerant": tolerant,
                   "numbers": list(numbers), "allowed_imports": None if allowed_imports is None else list(allowed_imports)}
        try:
            child = self._ensure_child()
            answer = read_answer(child.request(request, timeout))
        except ChildTimeout:
            self._child = None
            raise LoadError(f"loading {filename} did not finish within {timeout:g} s "
                            "(is there a training loop or input() at the top level?)") from None
        except (ChildCrashed, WorkerCrashed) as crash:
            self.close()
            raise LoadError(f"{filename} stopped the process while loading: "
                            f"{self.budget.take(str(crash), untrusted.MESSAGE)}") from None
        if not answer.ok:
            error = self._student_error(answer.error)
            line = f" (line {error.where['line']})" if error.where.get("line") else ""
            raise LoadError(f"{filename}{line}: {error.type_name}: {error.message}")
        self._sources[module] = request
        return self.budget.take_list(list(answer.warnings), untrusted.NOTE)

    # ------------------------------------------------------------ tests
    @contextlib.contextmanager
    def test(self, module: str, seconds: float):
        """Run one test's calls against ``module`` with a deadline of ``seconds``."""
        self.module, self.warnings, self._current = module, [], []
        self._pending = [{"op": "forget"}]  # the previous test's values go with the first request
        self._deadline = time.monotonic() + seconds
        try:
            self.checkpoint()
            yield self
        except TestTimeout:
            named = {name for name in self._current if name}
            if len(named) == 1:  # only then is it certain which function hung
                self.timed_out.update(named)
            if self._child is not None and not self._child.alive:
                self._child = None  # killed at the deadline (a skipped call leaves the child running)
            raise
        finally:
            self._deadline = float("inf")
            self._pending = []

    def checkpoint(self) -> None:
        """Raise if the judge's work may not go on: the submission's CPU budget is spent
        (:class:`BudgetExceeded`) or the current test is past its deadline (:class:`TestTimeout`).
        The judge calls it between bounded steps of its own work on an answer (after decoding it,
        between known mistakes), so a test's deadline covers that work too, not only the child."""
        if time.thread_time() - self._cpu_start > self.cpu_seconds:
            raise BudgetExceeded(self.cpu_seconds)
        if time.monotonic() > self._deadline:
            raise TestTimeout("the judge's work on this test's answers ran past its time limit")

    def _request(self, document: dict) -> Answer:
        self.checkpoint()
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.close()
            raise TestTimeout()
        try:
            answer = read_answer(self._ensure_child().request(_to_wire(document), remaining))
        except ChildTimeout:
            raise TestTimeout() from None
        except ChildCrashed as crash:
            self.close()
            raise WorkerCrashed(self.budget.take(str(crash), untrusted.MESSAGE)) from None
        self.checkpoint()  # decoding counts against the test's deadline and the budget
        return answer

    def _student_error(self, error: "ChildError") -> StudentError:
        """The child's description of an exception, every field capped, counted and inert."""
        return StudentError(
            error.kind.value,
            self.budget.take(error.type_name) or "Exception",
            self.budget.take(error.message, untrusted.MESSAGE, multiline=True),
            {"line": error.line, "function": self.budget.take(error.function) if error.function else None})

    def _raise_for(self, answer: Answer) -> None:
        if not answer.ok:
            if answer.error.kind is ErrorKind.PROTOCOL:
                described = self._student_error(answer.error)
                raise WorkerCrashed(f"the judge could not use the answer: {described.type_name}: {described.message}")
            raise self._student_error(answer.error)

    def call(self, target, *args, _tolerant: bool = False, **kwargs) -> Remote:
        """Call a function of the module (by name) or a remote callable; the result stays remote.

        The call is queued: it runs, in order, when the next value is fetched (and its errors
        surface there). ``_tolerant``: if it raises, the calls after it still run, and its value
        arrives as an :class:`~autograder.wire.Unsupported` marker.
        """
        name = target if isinstance(target, str) else None
        if name in self.timed_out:
            raise TestTimeout(f"{name} ran out of time in an earlier test")
        handle = f"h{next(self._counter)}"
        request = {"op": "call", "module": self.module, "target": target,
                   "args": list(args), "kwargs": kwargs, "keep": handle, "name": name}
        if _tolerant:
            request["tolerant"] = True
        self._pending.append(request)
        return Remote(self, handle)

    def put(self, value) -> Remote:
        """Store plain data in the child (for example parameters an optimizer updates in place)."""
        handle = f"h{next(self._counter)}"
        self._pending.append({"op": "put", "value": value, "keep": handle})
        return Remote(self, handle)

    def reseed_global(self, seed: int) -> None:
        """Seed numpy's and Python's global generators in the child (to catch code that uses them)."""
        self._pending.append({"op": "reseed", "seed": seed})

    # ------------------------------------------------------------ several tests, one round trip
    def take_queued(self) -> list[dict]:
        """The calls queued so far (one test's, when its checks are grouped), leaving the queue empty."""
        queued, self._pending = self._pending, []
        return queued

    def fetch_group(self, module: str, seconds: float, members: list[tuple[list[dict], object]]) -> list[dict]:
        """Run several tests in one round trip: each member is (its queued calls, the value to fetch).

        The members are independent: one that raises does not stop the next. Returns one answer
        per member, to hand to :meth:`member_value`. Raises TestTimeout (the child was killed at
        the deadline) or WorkerCrashed for the group as a whole: which member did it is unknown.
        """
        self.module, self.warnings, self._current = module, [], []
        batches = [queued + [{"op": "get", "value": value}] for queued, value in members]
        batches[0].insert(0, {"op": "forget"})
        self._deadline = time.monotonic() + seconds
        try:
            answer = self._request({"op": "group", "batches": batches})
        finally:
            self._deadline = float("inf")
        if not (answer.ok and len(answer.answers) == len(members)):
            raise WorkerCrashed("the judge could not use the answer: not one answer per test of the group")
        return list(answer.answers)

    def member_value(self, answer: dict, asked):
        """One group member's value as :meth:`fetch` would return it (or raise); sets ``warnings``."""
        self.warnings = []
        answer = read_answer(answer)
        self._note_warnings(answer)
        self._raise_for(answer)
        if not answer.has_value:
            raise WorkerCrashed("the judge could not use the answer: it carries no value")
        problem = _shape_problem(asked, answer.value)
        if problem:
            raise WorkerCrashed(f"the judge could not use the answer: {problem}")
        return answer.value

    def _note_warnings(self, answer: Answer) -> None:
        for warning in self.budget.take_list(list(answer.warnings), untrusted.NOTE):
            if warning not in self.warnings and len(self.warnings) < MAX_WARNINGS:
                self.warnings.append(warning)

    def fetch(self, value):
        """Run the queued calls, then bring a remote value (or a structure of them) back as plain data."""
        requests, self._pending = self._pending + [{"op": "get", "value": value}], []
        self._current = [r.get("name") for r in requests if r["op"] == "call"]
        answer = self._request({"op": "batch", "requests": requests})
        self._note_warnings(answer)
        self._raise_for(answer)
        self._current = []
        if not answer.has_value:
            raise WorkerCrashed("the judge could not use the answer: it carries no value")
        problem = _shape_problem(value, answer.value)
        if problem:  # only a child whose serving code was tampered with answers another shape
            raise WorkerCrashed(f"the judge could not use the answer: {problem}")
        return answer.value


def _shape_problem(asked, answered) -> str | None:
    """How a fetched structure of remote values differs from the structure asked for, or None."""
    if isinstance(asked, (list, tuple)):
        if type(answered) is not type(asked) or len(answered) != len(asked):
            return f"asked for a {type(asked).__name__} of {len(asked)} values, got {type(answered).__name__}"
        return next((p for a, b in zip(asked, answered) if (p := _shape_problem(a, b))), None)
    if isinstance(asked, dict):
        if not isinstance(answered, dict) or set(answered) != set(asked):
            return f"asked for the values {sorted(map(str, asked))}, got {type(answered).__name__}"
        return next((p for k in asked if (p := _shape_problem(asked[k], answered[k]))), None)
    return None
