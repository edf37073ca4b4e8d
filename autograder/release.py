"""Build the student release from the course's solutions: stubs, notebooks and public checks.

One source per assignment, ``solutions/<a>/<a>.py``, gives both files of the release:
``<a>/<a>.py`` (the solution regions stripped) and ``<a>/<a>.ipynb``, the student version of the
nbgrader notebook generated from the same source (answer cells, test cells worth the rubric's
points), written by nbgrader's own ``generate_assignment`` (see :mod:`autograder.nbgrader_bridge`).
The public checks travel too: ``<a>/public_checks.py`` verbatim, and ``<a>/public_checks.json``
with their inputs and expected values frozen, so that ``dlgrade check`` needs no hidden file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder.course import Course
from autograder.files import release_drift, write_release
from autograder.judge.frozen import ReleaseError, freeze_public_checks

__all__ = ["ReleaseError", "freeze_public_checks", "release_drift", "release_files", "write_release"]


def release_files(course: Course, assignments=()) -> dict[str, str]:
    """The release as ``{relative path: text}``, for the given assignments (all of the course's when empty).

    Built by nbgrader's generate_assignment in a throw-away course directory.
    """
    from autograder.nbgrader_bridge.course_dir import release_through_nbgrader

    with tempfile.TemporaryDirectory(prefix="dlgrade-course-") as root:
        return release_through_nbgrader(course, Path(root), course.select(assignments))
