"""Runs inside the Jupyter kernel of the benchmark's nbgrader notebooks: dlgrade's checks, in-kernel.

A plain nbgrader course asserts its checks in test cells, in the student's kernel. The
benchmark's notebooks do the same with dlgrade's own checks, so that nbgrader and dlgrade grade
exactly the same things: ``checker(assignment, seed, globals())`` returns ``check(i)`` for the
test cell of the rubric's i-th check. ``check`` returns nothing when the check passes (full
points), a float for partial credit (nbgrader reads an ``execute_result`` float as the score),
and raises ``AssertionError`` with dlgrade's message otherwise (0 points).
"""

from __future__ import annotations

from autograder.course import Course
from autograder.judge.grader import run_check
from autograder.judge.results import PASSED
from autograder.judge.rubric import live_oracle, load_rubric
from autograder.judge.session import Session
from inprocess import InProcessChild
from synthetic import REPOSITORY


def checker(assignment: str, seed: int, namespace: dict):
    course = Course.locate(REPOSITORY / "solutions")
    rubric = load_rubric(course, assignment)
    oracle = live_oracle(course, rubric)
    # One session per notebook, started at the first test cell: it sees the kernel's globals as
    # they are after the student's cells ran.
    session = Session(lambda: InProcessChild(namespace))
    loaded = []

    def check(index: int):
        if not loaded:  # the kernel's globals as they are at the first test cell
            session.load(assignment, [], "<notebook>", True)
            loaded.append(True)
        result = run_check(rubric.checks[index], session, oracle, seed, assignment)
        if result.outcome == PASSED:
            return None
        if result.score > 0:
            return result.score
        raise AssertionError(f"{result.outcome}: {result.message}")

    return check
