"""The public checks' values, frozen for the student release.

Public checks travel to students with their inputs and expected values recorded from the hidden
reference, so that ``dlgrade check`` needs no hidden file. Recording them doubles as a release
gate: every public check must pass on the model answer.
"""

from __future__ import annotations

import contextlib
import json

from autograder.course import Course
from autograder.errors import DlgradeError


class ReleaseError(DlgradeError, RuntimeError):
    """The release cannot be built: the message names the course file to fix."""


def freeze_public_checks(course: Course, assignment: str) -> str:
    """Run the public checks on the model answer and freeze their inputs and expected values.

    Doubles as a release gate: every public check must pass on the model answer.
    """
    from autograder.judge.grader import Plan, grade
    from autograder.judge.oracle import RecordingOracle
    from autograder.judge.results import NOT_GRADABLE, PASSED
    from autograder.judge.rubric import PUBLIC_SEED, load_rubric

    rubric = load_rubric(course, assignment).public()
    oracle = RecordingOracle(course.load_reference(assignment), rubric.mutants)
    with _one_torch_thread():
        result = grade(course.answer_source(assignment), Plan({assignment: (rubric, oracle)}, PUBLIC_SEED))
    if result.status == NOT_GRADABLE:
        raise ReleaseError(f"the model answer does not load: {result.reason}")
    for test in result.tests:
        if test.outcome != PASSED:
            raise ReleaseError(f"{assignment}: public check {test.name!r} fails on the model answer "
                               f"({test.outcome}: {test.message})")
    return json.dumps(oracle.frozen_document(assignment), indent=1, sort_keys=True) + "\n"




@contextlib.contextmanager
def _one_torch_thread():
    """The frozen values bit for bit the same on every machine: torch splits a reduction (a batch
    norm's mean, a sum) among its threads, and the last bits of the result depend on how many it
    has, so the release is recorded with one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
