"""The same notebooks graded by plain nbgrader and by nbgrader + dlgrade, scores side by side.

Why the integration exists: on plain nbgrader, test cells run in the student's own kernel, so a
notebook can skip them, swallow their errors, or write its own grades. The hostile students
below all submit *stub* answers (worth 0) plus one bypass each (tests/nbgrader_students.py).

Two nbgrader course directories are made under /tmp (the gradebook writer looks for them there),
the perceptron assignment is released into each with `dlgrade release --course`, and
`nbgrader autograde` grades the same submissions: once with nbgrader's default preprocessors,
once with DlgradeAutograde. Prints the gradebook totals (out of 100) and the wall time.

    python benchmarks/nbgrader_bypasses.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))

import nbformat  # noqa: E402
import nbgrader  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.nbgrader_bridge import NBGRADER_CONFIG  # noqa: E402
from nbgrader_students import TARGET_PREFIX, students  # noqa: E402

SEED = 4242
ASSIGNMENT = "perceptron"


def make_course(with_dlgrade: bool, course: Course) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"{TARGET_PREFIX}-{'dlgrade' if with_dlgrade else 'plain'}-"))
    config = ["c = get_config()", 'c.CourseDirectory.course_id = "dl101"', f"c.CourseDirectory.root = {str(root)!r}"]
    if with_dlgrade:
        config += [NBGRADER_CONFIG, f"c.DlgradeAutograde.seed = {SEED}",
                   f"c.DlgradeAutograde.solutions = {str(course.solutions)!r}"]
    (root / "nbgrader_config.py").write_text("\n".join(config) + "\n")
    subprocess.run([sys.executable, str(REPOSITORY / "cli.py"), "release", ASSIGNMENT, "--course", str(root)],
                   check=True, capture_output=True, cwd=root)
    released = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for student, notebook in students(course, released).items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return root


def autograde(root: Path, course: Course) -> tuple[dict[str, float], float]:
    # Plain nbgrader runs the hidden test cells in the kernel: they find the course's solutions here.
    env = dict(os.environ, DLGRADE_SOLUTIONS=str(course.solutions), DLGRADE_SEED=str(SEED))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=root, env=env,
                   capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.id: gb.find_submission(ASSIGNMENT, s.id).score for s in gb.students}, elapsed


def main() -> None:
    course = Course.locate(REPOSITORY / "solutions")
    results = {}
    for with_dlgrade in (False, True):
        root = make_course(with_dlgrade, course)
        try:
            results[with_dlgrade] = autograde(root, course)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    (plain, plain_s), (secure, secure_s) = results[False], results[True]
    print(f"nbgrader {nbgrader.__version__}, assignment {ASSIGNMENT} (100 points); hostile students submit stubs")
    print(f"{'student':<20} {'plain nbgrader':>15} {'nbgrader+dlgrade':>17}")
    for student in sorted(plain, key=lambda s: (s not in ("correct", "buggy", "warning_on_stderr"), s)):
        print(f"{student:<20} {plain[student]:>15g} {secure[student]:>17g}")
    print(f"{'autograde wall time':<20} {plain_s:>14.1f}s {secure_s:>16.1f}s  ({len(plain)} notebooks)")


if __name__ == "__main__":
    main()
