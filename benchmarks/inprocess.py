"""The in-process lower bound: the judge's own checks, with the child's request handler run in the
grader's process (no fork, no pipes, no isolation, no time limits).

:class:`InProcessChild` stands in for :class:`autograder.sandbox.launcher.ChildProcess`: the same
requests, answered by :class:`autograder.sandbox.child.Child` in this process. Requests and
answers still go through the plain-data wire (encode then decode), because the checks rely on
the submission getting copies of their inputs. FOR BENCHMARKS ONLY: student code runs in the
grader's interpreter, so only benign submissions may be graded this way.
"""

from __future__ import annotations

import os
import time
import types

from autograder.judge.wire import WireError, decode, encode
from autograder.sandbox.child import Child, _describe
from autograder.sandbox.launcher import ChildCrashed


class InProcessChild:
    """A child that is this process. ``namespace``: an already-run module (a notebook kernel's globals)."""

    isolated = False

    def __init__(self, module: str | None = None, namespace: dict | None = None):
        self._child = Child()
        if module is not None:
            self._child.modules[module] = types.SimpleNamespace(**(namespace or {}))

    def request(self, document: dict, timeout: float):  # the time limit cannot be enforced in-process
        """As the real child and launcher do: a reply that cannot be encoded is a protocol error,
        one the judge cannot decode means the child is broken (ChildCrashed)."""
        try:
            data = encode(self._child.handle(decode(encode(document))))
        except Exception as error:
            data = encode({"ok": False, "error": _describe(error, "<judge>") | {"kind": "protocol"}})
        try:
            return decode(data)
        except WireError as error:
            raise ChildCrashed(f"the answer was not valid plain data: {error}") from error

    @property
    def alive(self) -> bool:
        return True

    def kill(self) -> None:
        self._child.handles.clear()


# ---------------------------------------------------------------- a pool of in-process graders
_PLAN = None


def init_worker(assignments: tuple[str, ...], seed: int) -> None:
    """Pool initializer: build the plan (rubrics, torch references) once per worker process."""
    global _PLAN
    from autograder.course import Course
    from autograder.judge.grader import Plan
    from autograder.judge.rubric import live_oracle, load_rubric
    from synthetic import REPOSITORY

    course = Course.locate(REPOSITORY / "solutions")
    rubrics = {}
    for assignment in assignments:
        rubric = load_rubric(course, assignment)
        rubrics[assignment] = (rubric, live_oracle(course, rubric))
    _PLAN = Plan(rubrics, seed)


def grade_in_process(path: str) -> tuple[str, float, float, int]:
    """Grade one submission in this worker's process: (path, score, seconds, worker pid)."""
    from autograder.judge.grader import grade

    started = time.perf_counter()
    result = grade(path, _PLAN, start_child=InProcessChild)
    return path, result.score, time.perf_counter() - started, os.getpid()
