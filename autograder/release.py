"""Build the student release from the course's solutions: stubs, notebooks and public checks.

One source per assignment, ``solutions/<a>/<a>.py``, gives both files of the release:
``<a>/<a>.py`` (the solution regions stripped) and ``<a>/<a>.ipynb``, the student version of the
nbgrader notebook generated from the same source (answer cells, test cells worth the rubric's
points), written by nbgrader's own ``generate_assignment`` (see :mod:`autograder.nbgrader_bridge`).
The public checks travel too: ``<a>/public_checks.py`` verbatim, and ``<a>/public_checks.json``
with their inputs and expected values frozen, so that ``dlgrade check`` needs no hidden file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from autograder.course import Course
from autograder.curriculum import check_assignment_names
from autograder.errors import DlgradeError


def release_files(course: Course, assignments=()) -> dict[str, str]:
    """The release as ``{relative path: text}``, for the given assignments (all when empty).

    Built by nbgrader's generate_assignment in a throw-away course directory.
    """
    from autograder.nbgrader_bridge.course_dir import release_through_nbgrader

    with tempfile.TemporaryDirectory(prefix="dlgrade-course-") as root:
        return release_through_nbgrader(course, Path(root), check_assignment_names(assignments))


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
    result = grade(course.answer_source(assignment), Plan({assignment: (rubric, oracle)}, PUBLIC_SEED))
    if result.status == NOT_GRADABLE:
        raise ReleaseError(f"the model answer does not load: {result.reason}")
    for test in result.tests:
        if test.outcome != PASSED:
            raise ReleaseError(f"{assignment}: public check {test.name!r} fails on the model answer "
                               f"({test.outcome}: {test.message})")
    return json.dumps(oracle.frozen_document(assignment), indent=1, sort_keys=True) + "\n"


def write_release(files: dict[str, str], out: Path) -> list[Path]:
    """Write the release under ``out``; return the paths written.

    A symlink in the way is replaced, never followed, so a planted link cannot redirect a write.
    """
    written = []
    for relative, text in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def release_drift(files: dict[str, str], out: Path) -> list[str]:
    """How ``out`` differs from the release: files missing, stale, or not part of it.

    Only the folders of the released assignments are compared.
    """
    problems = []
    for relative, text in sorted(files.items()):
        path = out / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {relative}")
    for folder in sorted({Path(relative).parts[0] for relative in files}):
        for path in sorted((out / folder).rglob("*")):
            relative = path.relative_to(out).as_posix()
            if path.is_file() and relative not in files and "__pycache__" not in path.parts \
                    and ".ipynb_checkpoints" not in path.parts:
                problems.append(f"not in the release: {relative}")
    return problems
