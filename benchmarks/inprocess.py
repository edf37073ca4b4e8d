"""The in-process lower bound: the judge's own checks, with the child's request handler run in the
grader's process (no fork, no pipes, no isolation, no time limits).

:class:`InProcessChild` (the engine's :class:`~autograder.nbgrader_bridge.kernel.KernelChild`)
stands in for the sandboxed child: the same requests, answered by
:class:`autograder.sandbox.child.Child` in this process. Requests and
answers still go through the plain-data wire (encode then decode), because the checks rely on
the submission getting copies of their inputs. FOR BENCHMARKS ONLY: student code runs in the
grader's interpreter, so only benign submissions may be graded this way.
"""

from __future__ import annotations

import os
import time

from autograder.nbgrader_bridge.kernel import KernelChild


# The engine's in-process child (a student's own Jupyter kernel uses it for self-checks).
InProcessChild = KernelChild


# ---------------------------------------------------------------- a pool of in-process graders
_PLAN = None


def init_worker(assignments: tuple[str, ...], seed: int) -> None:
    """Pool initializer: build the plan (rubrics, torch references) once per worker process."""
    global _PLAN
    from autograder.course import Course
    from autograder.judge.grader import Plan
    from autograder.sandbox import heap
    from synthetic import REPOSITORY

    heap.retain_freed_memory()  # as grade-batch's workers do

    _PLAN = Plan.for_course(Course.locate(REPOSITORY / "solutions"), assignments, seed)


def grade_in_process(path: str) -> tuple[str, float, float, int]:
    """Grade one submission in this worker's process: (path, score, seconds, worker pid)."""
    from autograder.judge.grader import grade

    started = time.perf_counter()
    result = grade(path, _PLAN, start_child=InProcessChild)
    return path, result.score, time.perf_counter() - started, os.getpid()
