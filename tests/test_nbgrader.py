"""End to end with the real nbgrader: release, autograde through DlgradeAutograde, feedback, export.

One course directory (the perceptron assignment only, to stay fast) is released with
``dlgrade release --course``; nine fake students submit notebooks: a correct one, a buggy one
(step fires at 0), one correct but warning on stderr, and six hostile ones, each with a bypass
that works on plain nbgrader (see benchmarks/nbgrader_bypasses.py) on stub answers. One
``nbgrader autograde`` run grades them all; the gradebook must then hold exactly the scores
``dlgrade grade`` gives the same files.
"""

import csv
import json
import subprocess
import sys

import nbformat
import pytest

from autograder.nbgrader_bridge import NBGRADER_CONFIG
from autograder.submission import is_autograder_test

from conftest import REPOSITORY
from nbgrader_students import HOSTILE, TARGET_PREFIX, students

nbgrader_api = pytest.importorskip("nbgrader.api", reason="nbgrader is a test dependency: pip install -e '.[test]'")
pytestmark = pytest.mark.nbgrader

SEED = 4242
ASSIGNMENT = "perceptron"
GRADE_IDS = ("test_step", "test_perceptron_fit", "test_perceptron_predict")


def run(command, cwd, check=True):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def nbgrader(*args, cwd):
    return run([sys.executable, "-m", "nbgrader", *args], cwd)


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory, course):
    """An nbgrader course with the perceptron released and nine submissions autograded by dlgrade."""
    root = tmp_path_factory.mktemp(TARGET_PREFIX)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        'c.CourseDirectory.course_id = "dl101"\n'
        f"c.CourseDirectory.root = {str(root)!r}\n"
        + NBGRADER_CONFIG
        + f"c.DlgradeAutograde.seed = {SEED}\n"
        f"c.DlgradeAutograde.solutions = {str(course.solutions)!r}\n")
    run([sys.executable, str(REPOSITORY / "cli.py"), "release", ASSIGNMENT, "--course", str(root)], root)
    released = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for student, notebook in students(course, released).items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    result = nbgrader("autograde", ASSIGNMENT, cwd=root)
    (root / "autograde.log").write_text(result.stdout + result.stderr)
    return root


@pytest.fixture(scope="module")
def gradebook(course_dir):
    """``{student: (total score, {grade_id: (auto_score, manual_score)})}`` read from nbgrader's gradebook."""
    scores = {}
    with nbgrader_api.Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in gb.students:
            grades = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id).grades
            scores[student.id] = (gb.find_submission(ASSIGNMENT, student.id).score,
                                  {g.name: (g.auto_score, g.manual_score) for g in grades})
    return scores


def guarded(course_dir):
    """Keep this course's gradebook as autograde left it while the hostile files are graded again.

    `dlgrade grade` runs them in dlgrade's sandbox; until that sandbox hides the file system, the
    gradebook writer can reach this course's gradebook from there too.
    """
    import logging

    from autograder.nbgrader_bridge.autograde import GradebookGuard

    return GradebookGuard(f"sqlite:///{course_dir / 'gradebook.db'}", logging.getLogger("test"))


def dlgrade_grade(course_dir, student) -> dict:
    """`dlgrade grade` on the file the student submitted, with the course's seed."""
    path = course_dir / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    with guarded(course_dir):
        result = run([sys.executable, str(REPOSITORY / "cli.py"), "grade", str(path), "-a", ASSIGNMENT,
                      "--seed", str(SEED), "--json", "-"], course_dir)
    return json.loads(result.stdout)


def exercise_scores(document: dict) -> dict[str, float]:
    sums = {grade_id: 0.0 for grade_id in GRADE_IDS}
    for test in document["tests"]:
        sums["test_" + test["exercise"].split(".")[1]] += test["score"]
    return sums


def test_release_is_the_committed_one(course_dir):
    released = course_dir / "release" / ASSIGNMENT
    names = sorted(p.name for p in released.iterdir())
    assert names == sorted(p.name for p in (REPOSITORY / "assignments" / ASSIGNMENT).iterdir() if p.is_file())
    for name in names:
        assert (released / name).read_bytes() == (REPOSITORY / "assignments" / ASSIGNMENT / name).read_bytes()


@pytest.mark.parametrize("student", ["correct", "buggy", "hostile"])
def test_gradebook_equals_dlgrade_grade(course_dir, gradebook, student):
    document = dlgrade_grade(course_dir, student)
    total, grades = gradebook[student]
    assert total == pytest.approx(document["score"])
    expected = exercise_scores(document)
    assert {name: auto for name, (auto, _) in grades.items()} == pytest.approx(expected)
    assert all(manual is None for _, manual in grades.values())


def test_scores_tell_the_students_apart(gradebook):
    assert gradebook["correct"][0] == 100
    assert 0 < gradebook["buggy"][0] < 100
    assert gradebook["buggy"][1]["test_step"][0] == 0  # the bug is in step
    assert gradebook["warning_on_stderr"][0] == 100  # a warning costs no points


@pytest.mark.parametrize("student", HOSTILE)
def test_bypasses_get_no_points(course_dir, gradebook, student):
    """Each bypass scores on plain nbgrader; with dlgrade its stub answers score what they are worth: 0."""
    total, grades = gradebook[student]
    assert set(grades) == set(GRADE_IDS)
    assert total == 0, grades
    assert all(manual is None for _, manual in grades.values())


def test_bypass_scores_equal_dlgrade_grade(course_dir, gradebook, course):
    """The same engine on the submitted files (in process, one plan for all) gives the same zeros."""
    from autograder.judge.grader import Plan, grade
    from autograder.sandbox import open_sandbox

    plan = Plan.for_course(course, [ASSIGNMENT], SEED)
    with guarded(course_dir), open_sandbox() as sandbox:
        for student in HOSTILE + ("warning_on_stderr",):
            result = grade(course_dir / "submitted" / student / ASSIGNMENT, plan, start_child=sandbox.start_child)
            assert gradebook[student][0] == pytest.approx(result.score), student


def test_edited_and_deleted_test_cells_are_restored_from_the_source(course_dir):
    notebook = nbformat.read(course_dir / "autograded" / "edited_tests" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                             as_version=4)
    tests = [cell for cell in notebook.cells if is_autograder_test(cell)]
    assert [cell.metadata.nbgrader.grade_id for cell in tests] == list(GRADE_IDS)
    for cell in tests:
        assert "_dlgrade.public()" in cell.source and "all tests pass" not in cell.source
        assert cell.outputs and cell.outputs[-1].output_type == "error"


def test_skip_execution_and_hidden_code_leave_no_trace(course_dir):
    """The autograded notebooks carry dlgrade's outcomes and no hidden test code."""
    for path in (course_dir / "autograded").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"):
        text = path.read_text()
        assert "HIDDEN TESTS" not in text and ".hidden()" not in text, path


def test_gradebook_writes_are_undone(course_dir, gradebook):
    """As autograde left it: no manual score, whatever the writer reached (the log says if it did)."""
    manual = [score for _, grades in gradebook.values() for _, score in grades.values()]
    assert len(manual) == 3 * 9 and all(score is None for score in manual)
    log = (course_dir / "autograde.log").read_text()
    assert "Traceback" not in log


def test_gradebook_guard_restores_a_changed_database(tmp_path):
    import logging
    import sqlite3

    from autograder.nbgrader_bridge.autograde import GradebookGuard

    db = tmp_path / "gradebook.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE grade (manual_score REAL)")
        connection.execute("INSERT INTO grade VALUES (NULL)")
    before = db.read_bytes()
    with GradebookGuard(f"sqlite:///{db}", logging.getLogger("test")) as guard:
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE grade SET manual_score = 1000")
        (tmp_path / "gradebook.db-journal").write_bytes(b"forged")
    assert guard.tampered and db.read_bytes() == before
    assert not (tmp_path / "gradebook.db-journal").exists()
    with GradebookGuard(f"sqlite:///{db}", logging.getLogger("test")) as guard:
        pass
    assert not guard.tampered


def test_feedback_shows_messages_but_no_hidden_tests(course_dir):
    nbgrader("generate_feedback", ASSIGNMENT, cwd=course_dir)
    buggy = (course_dir / "feedback" / "buggy" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Likely mistake" in buggy and "step fires at exactly 0" in buggy
    for path in (course_dir / "feedback").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"):
        html = path.read_text()
        assert "HIDDEN TESTS" not in html and "_dlgrade.hidden" not in html, path


def test_export_holds_the_gradebook_scores(course_dir, gradebook):
    nbgrader("export", cwd=course_dir)
    with open(course_dir / "grades.csv") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {student: total for student, (total, _) in gradebook.items()}
