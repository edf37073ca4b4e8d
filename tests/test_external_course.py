"""An instructor's own course, kept outside the repository: the course is data.

A course folder in a temporary directory gets the bundled ``losses`` assignment with one function
added (``mae_loss``: a declaration line, an answer cell, a reference function, a public and a
hidden check, a known mistake) and a new assignment made by ``dlgrade new``. It then goes through
``validate``, ``release``, ``check``, ``grade``, ``grade-batch``, nbgrader's autograde and
``export``, with ``dlgrade`` run by its full path and no file under ``autograder/`` changed.
"""

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPOSITORY

pytestmark = pytest.mark.nbgrader

DLGRADE = Path(sys.executable).parent / "dlgrade"
SEED = 77

MAE_DECLARATION = 'mae_loss = "mean absolute error over all elements, as torch\'s l1_loss"\n'
MAE_ANSWER = '''

# %%
def mae_loss(y_hat, y):
    """Mean absolute error over ALL elements, as torch's ``F.l1_loss`` (reduction 'mean').

    Args:
        y_hat, y: ndarrays of the same shape.

    Returns:
        float: the mean of |y_hat - y|.
    """
    ### BEGIN SOLUTION
    return float(np.mean(np.abs(np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float))))
    ### END SOLUTION
'''
MAE_REFERENCE = '''

def mae_loss(y_hat, y, device=None, dtype=DEFAULT_DTYPE):
    """y_hat, y (same shape) -> 0-d: mean over all elements of |y_hat - y|."""
    y_hat, y = as_tensor(y_hat, device, dtype), as_tensor(y, device, dtype)
    return (y_hat - y).abs().mean()
'''
MAE_PUBLIC = '''
CHECKS.append(ValueCheck(name="mae_loss of a (2, 2) batch", exercise="mae_loss", points=4,
                         inputs=fixed_inputs(y_hat=np.array([[1.0, 2.0], [3.0, 5.0]]),
                                             y=np.array([[1.5, 2.0], [2.0, 4.0]]))))
'''
MAE_HIDDEN = '''
CHECKS.append(ValueCheck(name="mae_loss of a random non-square batch", exercise="mae_loss", points=6,
                         description="MAE of seeded random (N, K) predictions, N != K",
                         inputs=lambda rng: {"y_hat": rng.standard_normal((5, 3)), "y": rng.standard_normal((5, 3))}))
'''
MAE_MUTANT = '''

def _mae_per_sample(y_hat, y, device=None, dtype=DEFAULT_DTYPE):
    y_hat, y = as_tensor(y_hat, device, dtype), as_tensor(y, device, dtype)
    return (y_hat - y).abs().sum() / y_hat.shape[0]


def mae_loss__per_sample(y_hat, y):
    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)
    return float(np.abs(d).sum() / d.shape[0])


MUTANTS.append(Mutant(
    id="losses.mae_loss.per_sample", exercise="losses.mae_loss",
    title="MAE divided by the batch size N instead of the number of elements",
    hint="mae_loss averages over ALL elements, like torch's l1_loss.",
    overrides={"mae_loss": _mae_per_sample}, submission=mae_loss__per_sample))
'''
BUGGY_MAE = """
def mae_loss(y_hat, y):
    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)
    return float(np.abs(d).sum() / d.shape[0])
"""
CORRECT_MAE = MAE_ANSWER.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _engine_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPOSITORY / "autograder").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run(*args, cwd, check=True):
    result = subprocess.run([str(DLGRADE), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200"})
    if check and result.returncode != 0:
        raise AssertionError(f"dlgrade {args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    """The instructor's course: losses with mae_loss added, and a new assignment `metrics`."""
    if not DLGRADE.is_file():
        pytest.skip(f"no dlgrade script next to {sys.executable}: install the project (pip install -e .)")
    before = _engine_digest()
    root = tmp_path_factory.mktemp("instructor-course")
    solutions = root / "solutions"
    shutil.copytree(REPOSITORY / "solutions" / "losses", solutions / "losses",
                    ignore=shutil.ignore_patterns("__pycache__"))
    losses = solutions / "losses"
    declaration = (losses / "assignment.toml").read_text(encoding="utf-8")
    (losses / "assignment.toml").write_text(declaration.replace("total = 100", "total = 110") + MAE_DECLARATION,
                                            encoding="utf-8")
    _append(losses / "losses.py", MAE_ANSWER)
    _append(losses / "reference.py", MAE_REFERENCE)
    _append(losses / "public_checks.py", MAE_PUBLIC)
    _append(losses / "hidden_checks.py", MAE_HIDDEN)
    _append(losses / "mutants.py", MAE_MUTANT)
    run("new", "metrics", "--title", "Regression metrics", "--function", "mean_error", "--solutions", solutions,
        cwd=root)
    (root / "dlgrade.toml").write_text(f'solutions = "solutions"\nseed = {SEED}\n', encoding="utf-8")
    yield root
    assert _engine_digest() == before, "the course changed a file under autograder/"


def test_assignments_come_from_the_course(course_root):
    listing = run("assignments", cwd=course_root).stdout
    assert "losses" in listing and "metrics" in listing and "perceptron" not in listing
    assert "mae_loss" in listing and "110 pts" in listing
    refused = run("grade", course_root, "-a", "perceptron", cwd=course_root, check=False)
    assert refused.returncode != 0 and "the course has: losses, metrics" in refused.stderr


def test_validate_release_check_grade(course_root, tmp_path):
    validated = run("validate", "losses", "metrics", "--no-run", cwd=course_root)
    assert validated.stdout.count("✔") == 8 and "✘" not in validated.stdout, validated.stdout
    assert "every known mistake loses points and is named" in validated.stdout

    release = course_root / "release"
    run("release", "--out", release, cwd=course_root)
    assert {p.name for p in (release / "losses").iterdir()} >= {"losses.py", "losses.ipynb", "assignment.toml",
                                                                 "public_checks.py", "public_checks.json"}
    stub = (release / "losses" / "losses.py").read_text(encoding="utf-8")
    assert "def mae_loss(y_hat, y):" in stub and "np.abs" not in stub  # the answer stays hidden

    # The student checks their own work: the public mae_loss check runs, with frozen values.
    student = tmp_path / "student" / "losses"
    shutil.copytree(release / "losses", student)
    (student / "losses.py").write_text(stub + "\n\n" + CORRECT_MAE, encoding="utf-8")
    checked = run("check", "losses", cwd=student)
    assert "✔ losses.mae_loss: mae_loss of a (2, 2) batch" in checked.stdout, checked.stdout

    # The TA grades: the model answers get full marks, the stubs 0.
    answers = tmp_path / "answers"
    answers.mkdir()
    for name in ("losses", "metrics"):
        shutil.copy(course_root / "solutions" / name / f"{name}.py", answers / f"{name}.py")
    graded = json.loads(run("grade", answers, "--json", "-", cwd=course_root).stdout)
    assert {a["assignment"]: (a["score"], a["max_score"]) for a in graded["assignments"]} == {
        "losses": (110.0, 110.0), "metrics": (10.0, 10.0)}
    stubs = json.loads(run("grade", release / "losses" / "losses.py", "--json", "-", cwd=course_root).stdout)
    assert stubs["score"] == 0.0


def test_grade_batch_and_export(course_root, tmp_path):
    submissions = tmp_path / "submissions"
    answer = (course_root / "solutions" / "losses" / "losses.py").read_text(encoding="utf-8")
    (submissions / "alice").mkdir(parents=True)
    (submissions / "alice" / "losses.py").write_text(answer, encoding="utf-8")
    (submissions / "bob").mkdir()
    (submissions / "bob" / "losses.py").write_text(answer + "\n\n" + BUGGY_MAE, encoding="utf-8")
    db = tmp_path / "gradebook.db"
    run("grade-batch", submissions, "--db", db, "--workers", "1", "-a", "losses", cwd=course_root)
    out = tmp_path / "grades.csv"
    run("export", "--db", db, "--format", "csv", "--out", out, cwd=course_root)
    rows = {row["student"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert float(rows["alice"]["losses"]) == 110.0
    assert float(rows["bob"]["losses"]) == 100.0  # the mae_loss checks lost, nothing else
    assert float(rows["bob"]["losses.mae_loss"]) == 0.0


def test_nbgrader_autograde(course_root, tmp_path):
    from autograder.nbgrader_bridge import NBGRADER_CONFIG

    nbcourse = tmp_path / "nbcourse"
    nbcourse.mkdir()
    (nbcourse / "nbgrader_config.py").write_text(
        "c = get_config()\n" + 'c.CourseDirectory.course_id = "dl101"\n' + f"c.CourseDirectory.root = {str(nbcourse)!r}\n"
        + NBGRADER_CONFIG + f"c.DlgradeAutograde.seed = {SEED}\n"
        + f"c.DlgradeAutograde.solutions = {str(course_root / 'solutions')!r}\n", encoding="utf-8")
    run("release", "metrics", "--course", nbcourse, "--solutions", course_root / "solutions", cwd=course_root)
    released = nbformat.read(nbcourse / "release" / "metrics" / "metrics.ipynb", as_version=4)
    answer = (course_root / "solutions" / "metrics" / "metrics.py").read_text(encoding="utf-8")
    body = answer.split("### BEGIN SOLUTION\n")[1].split("    ### END SOLUTION")[0]
    for cell in released.cells:
        if cell.cell_type == "code" and "raise NotImplementedError" in cell.source:
            cell.source = re.sub(r"    raise NotImplementedError(\(\))?\n?", body, cell.source)
    folder = nbcourse / "submitted" / "carol" / "metrics"
    folder.mkdir(parents=True)
    nbformat.write(released, folder / "metrics.ipynb")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "metrics", "--force"], cwd=nbcourse,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{nbcourse / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission("metrics", "carol")
        assert (submission.score, submission.max_score) == (10.0, 10.0)
