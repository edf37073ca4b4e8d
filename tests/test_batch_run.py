"""grade-batch end to end on a small class: verdicts, the gradebook rows, --out files, skip and regrade."""

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from autograder.batch.run import run_batch
from autograder.batch.worker import GradingSettings
from autograder.gradebook import Gradebook
from autograder.judge.rubric import load_rubric
from autograder.judge.schemas import NATIVE
from cli import main

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "tests" / "fixtures" / "submissions"
SEED = 4242
TIME_LIMIT = 8.0


def class_folder(root: Path, course) -> Path:
    """Nine students: correct, a named mistake, broken in every way the issue lists, slow, hostile."""
    answer = (FIXTURES / "vectorized" / "perceptron.py").read_text()
    mutant = load_rubric(course, "perceptron").mutants[0]
    files = {
        "alice/perceptron.py": answer,
        "Bob, Jr._4712_assignsubmission_file_/perceptron.py": (FIXTURES / "loops" / "perceptron.py").read_text(),
        "carol/perceptron.py": answer + "\n\n" + mutant.submission_source,
        "dave/perceptron.py": "def step(z)\n    return z\n",
        "gina/perceptron.py": "import time\ntime.sleep(60)\n",
        "hank/perceptron.py": "import os\nos._exit(3)\n",
        "ivan/perceptron.ipynb": '{"cells": [ not json',
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "erin").mkdir()
    (root / "erin" / "perceptron.py").write_bytes(b"def step(z):\n    return '\xe9t\xe9'\n")
    (root / "frank").mkdir()
    with (root / "frank" / "perceptron.py").open("wb") as stream:
        stream.truncate(2 << 30)  # a sparse 2 GiB file
    return mutant


@pytest.fixture(scope="module")
def batch(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("class")
    mutant = class_folder(root / "subs", course)
    out = root / "out"
    gradebook = Gradebook.open(root / "grades.db")
    settings = GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=TIME_LIMIT)
    summary = run_batch(root / "subs", settings, gradebook, out=out, workers=2)
    yield {"root": root, "summary": summary, "gradebook": gradebook, "settings": settings, "out": out,
           "mutant": mutant}
    gradebook.close()


def verdicts(summary):
    return {row["student"]: row["verdict"] for row in summary.rows}


def test_every_submission_gets_its_own_verdict(batch):
    summary = batch["summary"]
    assert verdicts(summary) == {
        "alice": "graded", "4712": "graded", "carol": "graded", "dave": "not_gradable", "erin": "not_gradable",
        "frank": "not_gradable", "gina": "timeout", "hank": "not_gradable",
        "ivan": "not_gradable",
    }
    rows = {row["student"]: row for row in summary.rows}
    assert rows["alice"]["score"] == rows["4712"]["score"] == 100
    assert 0 < rows["carol"]["score"] < 100
    assert "SyntaxError" in rows["dave"]["reason"]
    assert "not UTF-8" in rows["erin"]["reason"]
    assert "2.0 GiB, over the 5 MiB limit" in rows["frank"]["reason"]
    assert "longer than the limit of 8 s" in rows["gina"]["reason"]
    assert "stopped the process" in rows["hank"]["reason"]
    assert "not a readable Jupyter notebook" in rows["ivan"]["reason"]
    # two warm workers graded all nine: each reused its sandbox for several submissions
    assert len({row["worker"] for row in summary.rows}) <= 2


def test_gradebook_holds_per_test_rows_hash_seed_and_checks(batch, course):
    gradebook = batch["gradebook"]
    gradings = {g.student_id: g for g in gradebook.gradings()}
    assert len(gradings) == 9
    alice = gradings["alice"]
    assert alice.seed == SEED and alice.verdict == "graded" and alice.device == "cpu" and not alice.insecure
    assert alice.checks_version == {"perceptron": load_rubric(course, "perceptron").version}
    rows = gradebook.test_rows(alice.id)
    assert len(rows) == len(load_rubric(course, "perceptron").checks)
    assert all(r.outcome == "passed" and r.score == r.max_score for r in rows)
    carol = gradebook.test_rows(gradings["carol"].id)
    assert any(r.mistake == batch["mutant"].id for r in carol)
    assert gradebook.students()["4712"].name == "Bob, Jr."
    assert [e.action for e in gradebook.audit_trail()] == ["graded"] * 9


def test_out_folder_has_result_json_and_feedback(batch):
    out = batch["out"]
    folders = {"Bob, Jr._4712" if student == "4712" else student for student in verdicts(batch["summary"])}
    assert sorted(p.name for p in out.iterdir()) == sorted(folders)  # <name>_<id> where the name is known
    for folder in out.iterdir():
        assert sorted(p.name for p in folder.iterdir()) == ["feedback.html", "feedback.md", "result.json"]
        jsonschema.validate(json.loads((folder / "result.json").read_text()), NATIVE)
    assert "2.0 GiB" in (out / "frank" / "feedback.md").read_text()


def test_rerun_skips_what_is_graded(batch):
    summary = run_batch(batch["root"] / "subs", batch["settings"], batch["gradebook"], workers=2)
    assert summary.rows == [] and sorted(summary.skipped) == sorted(verdicts(batch["summary"]))
    assert len(batch["gradebook"].gradings()) == 9


def test_regrade_forces_and_new_content_or_seed_grade_again(tmp_path, course):
    root = tmp_path / "subs"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "perceptron.py").write_text((FIXTURES / "float32" / "perceptron.py").read_text())
    settings = GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=60)
    with Gradebook.open(tmp_path / "g.db") as gradebook:
        assert len(run_batch(root, settings, gradebook, workers=1).rows) == 1
        assert len(run_batch(root, settings, gradebook, workers=1).rows) == 0
        assert len(run_batch(root, settings, gradebook, workers=1, regrade=True).rows) == 1
        (root / "alice" / "perceptron.py").write_text("raise SystemExit\n")  # new content: graded again
        assert len(run_batch(root, settings, gradebook, workers=1).rows) == 1
        actions = [(e.action, e.reason) for e in gradebook.audit_trail("alice")]
        assert actions == [("graded", "new submission"), ("regraded", "--regrade"),
                           ("graded", "new content or new checks")]
        latest = gradebook.result_documents()[0]
        assert latest["student"] == "alice" and latest["status"] == "not_gradable"


def test_cli_grade_batch_and_bad_folders(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["grade-batch", str(tmp_path / "nowhere"), "--db", str(tmp_path / "g.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(main, ["grade-batch", str(tmp_path / "empty"), "--db", str(tmp_path / "g.db"),
                                 "-a", "perceptron"])
    assert empty.exit_code == 0 and "is empty: no submissions to grade" in empty.output
    assert "0 submissions graded" in empty.output
