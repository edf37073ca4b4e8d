"""Hand adjustments that say what they do: late penalties and overrides replace or stack, as the
command says and the audit records; an override holds for the submission it was made on; commands
that read a gradebook refuse one that does not exist. SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from autograder.batch.run import print_summary, run_batch
from autograder.batch.worker import GradingSettings
from autograder.gradebook import Gradebook, GradebookError, StudentInfo
from autograder.gradebook.export import export
from autograder.gradebook.feedback import feedback_markdown
from cli import main
from grading import SEED, grade, plan_for, write_submission

REPOSITORY = Path(__file__).resolve().parents[1]
ANSWER = (REPOSITORY / "tests" / "fixtures" / "submissions" / "vectorized" / "perceptron.py").read_text()
A, B = "a" * 64, "b" * 64  # two submissions of one student






@pytest.fixture
def gradebook(db_url):
    book = Gradebook.open(db_url)
    yield book
    book.close()


@pytest.fixture(scope="module")
def documents(course, tmp_path_factory):
    """The correct perceptron (100 points) and one with a known mistake (fewer)."""
    plan = plan_for(course, "perceptron")
    folder = tmp_path_factory.mktemp("subs")
    mutant = plan.rubrics["perceptron"][0].mutants[0]
    good = grade(write_submission(folder / "good", "perceptron", ANSWER), plan).to_json()
    bad = grade(write_submission(folder / "bad", "perceptron", ANSWER + "\n" + mutant.submission_source), plan).to_json()
    assert good["score"] == 100 and bad["score"] < 100
    return {"good": good, "bad": bad}


def record(book, student, document, sha=A):
    return book.record(StudentInfo(student), sha, f"/subs/{student}", [], "graded", document)


def score(book, student="ann") -> float:
    (document,) = book.result_documents(student=student)
    return document["score"]


def audit(book, student="ann", action=None) -> list[tuple[str, str]]:
    return [(e.action, e.new) for e in book.audit_trail(student) if action in (None, e.action)]


# ------------------------------------------------------------ late penalties

def test_a_late_penalty_replaces_the_earlier_one_unless_added_and_the_audit_says_which(gradebook, documents):
    record(gradebook, "ann", documents["good"])
    assert gradebook.late_penalty("ann", "perceptron", "10%", "1 day late", "ta") == "90 (-10%)"
    assert gradebook.late_penalty("ann", "perceptron", "20%", "2 days late after all", "ta") == \
        "80 (-20%; replaces -10%)"
    assert score(gradebook) == 80  # not 72: the second replaced the first
    assert gradebook.late_penalty("ann", "perceptron", "5", "resubmitted late", "ta", mode="add") == \
        "75 (-5 points; stacks on -20%)"
    (document,) = gradebook.result_documents()
    assert [(j["kind"], j["mode"], j["old"], j["new"]) for j in document["adjustments"]] == [
        ("late_penalty", "replace", 100, 80), ("late_penalty", "add", 80, 75)]
    gradebook.late_penalty("ann", "perceptron", "0", "waived by the instructor", "prof")
    assert score(gradebook) == 100
    assert audit(gradebook, action="late_penalty") == [
        ("late_penalty", "90 (-10%)"), ("late_penalty", "80 (-20%; replaces -10%)"),
        ("late_penalty", "75 (-5 points; stacks on -20%)"), ("late_penalty", "100 (-0 points; replaces -20%, -5 points)")]
    with pytest.raises(GradebookError, match="not dropped"):
        gradebook.late_penalty("ann", "perceptron", "0", "x", "ta", mode="drop")


# ------------------------------------------------------------ overrides

def test_an_override_replaces_adds_or_drops_and_the_audit_says_which(gradebook, documents):
    record(gradebook, "ann", documents["bad"])
    graded = documents["bad"]["score"]
    gradebook.override("ann", "perceptron", 80, "oral exam", "prof")
    gradebook.override("ann", "perceptron", 70, "oral exam, second look", "prof")
    assert score(gradebook) == 70
    gradebook.override("ann", "perceptron", 5, "bonus for the report", "ta", mode="add")
    assert score(gradebook) == 75
    with pytest.raises(GradebookError, match=r"between 0 and 100 \(it would be 105\)"):
        gradebook.override("ann", "perceptron", 30, "too much", "ta", mode="add")
    gradebook.override("ann", "perceptron", None, "the oral exam does not count", "prof", mode="drop")
    assert score(gradebook) == graded
    with pytest.raises(GradebookError, match="no override of perceptron to drop"):
        gradebook.override("ann", "perceptron", None, "again", "prof", mode="drop")
    assert audit(gradebook, action=None)[1:] == [
        ("override", "80 (set to 80 by prof)"),
        ("override", "70 (set to 70 by prof; replaces set to 80 by prof)"),
        ("override", "75 (+5 points added by ta; on top of set to 70 by prof)"),
        ("override_dropped", f"dropped (set to 70 by prof; +5 points added by ta); back to {graded:g}")]


def test_an_override_of_one_test_adds_points_to_that_test(gradebook, documents):
    record(gradebook, "ann", documents["bad"])
    failed = next(t for t in documents["bad"]["tests"] if t["max_score"] - t["score"] >= 2)
    gradebook.override("ann", failed["name"], 1, "partly right", "ta", mode="add")
    gradebook.override("ann", failed["name"], 1, "and the edge case too", "ta", mode="add")
    (document,) = gradebook.result_documents()
    test = next(t for t in document["tests"] if t["name"] == failed["name"])
    assert test["score"] == failed["score"] + 2 and document["score"] == documents["bad"]["score"] + 2
    # points added to the whole assignment come on top of the test's, and are checked against that
    with pytest.raises(GradebookError, match=r"it would be 101"):
        gradebook.override("ann", "perceptron", 101 - document["score"], "too much", "ta", mode="add")
    gradebook.override("ann", "perceptron", 100 - document["score"], "full marks after all", "prof", mode="add")
    assert score(gradebook) == 100


def test_an_override_holds_for_its_submission_and_a_newer_one_shows_it_until_redone(gradebook, documents, tmp_path):
    record(gradebook, "ann", documents["bad"], sha=A)
    gradebook.override("ann", "perceptron", 50, "oral exam", "prof")
    assert score(gradebook) == 50
    record(gradebook, "ann", documents["good"], sha=B)  # a newer submission: graded without the override
    (document,) = gradebook.result_documents()
    assert document["score"] == 100 and document["adjustments"] == []
    (stale,) = document["stale_overrides"]
    assert stale == {"target": "perceptron", "mode": "replace", "score": 50, "by": "prof", "reason": "oral exam",
                     "submission": A[:12]}
    assert gradebook.stale_overrides("ann", {"perceptron": B}) == [stale]
    assert gradebook.stale_overrides("ann", {"perceptron": A}) == []
    (entry,) = [e for e in gradebook.audit_trail("ann") if e.action == "override_not_applied"]
    assert (entry.target, entry.new) == ("perceptron", f"not applied to submission {B[:12]}")
    assert A[:12] in entry.reason
    # the feedback and the exports say so
    assert "was made on an earlier submission" in feedback_markdown(document, "ann")
    export(gradebook, "csv", tmp_path / "grades.csv")
    (row,) = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert row["perceptron"] == "100" and "not applied: an override of perceptron" in row["adjustments"]
    export(gradebook, "gradescope", tmp_path / "gs")
    results = json.loads((tmp_path / "gs" / "ann" / "results.json").read_text())
    assert results["score"] == 100 and "was made on an earlier submission" in results["output"]
    # regrading the same newer content does not repeat the audit entry
    record(gradebook, "ann", documents["good"], sha=B)
    assert len([e for e in gradebook.audit_trail("ann") if e.action == "override_not_applied"]) == 1
    # a person makes it again on the newer submission: it applies, and nothing is stale any more
    gradebook.override("ann", "perceptron", 60, "oral exam, confirmed", "prof")
    (document,) = gradebook.result_documents()
    assert document["score"] == 60 and document["stale_overrides"] == []


def test_a_dropped_override_is_no_longer_shown(gradebook, documents):
    record(gradebook, "ann", documents["bad"], sha=A)
    gradebook.override("ann", "perceptron", 50, "oral exam", "prof")
    record(gradebook, "ann", documents["good"], sha=B)
    gradebook.override("ann", "perceptron", None, "the new work stands", "prof", mode="drop")
    (document,) = gradebook.result_documents()
    assert document["score"] == 100 and document["stale_overrides"] == [] and document["adjustments"] == []


def test_a_gradebook_made_before_overrides_had_a_mode_and_a_submission_gets_them(tmp_path, documents):
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("SQLite before 3.35 cannot drop a column to make the older gradebook")
    path = tmp_path / "old.db"
    with Gradebook.open(path) as book:
        record(book, "ann", documents["good"])
        book.late_penalty("ann", "perceptron", "10%", "late", "ta")
        book.override("ann", "perceptron", 50, "oral exam", "prof")
        with book.engine.begin() as connection:  # as the older version made them
            for table, column in (("overrides", "mode"), ("overrides", "sha256"), ("late_penalties", "mode")):
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    with Gradebook.open(path, create=False) as book:
        assert score(book) == 45  # the older override (any submission) and penalty (replace) still apply
        record(book, "ann", documents["bad"], sha=B)
        assert score(book) == 45 and book.result_documents()[0]["stale_overrides"] == []


# ------------------------------------------------------------ the command line

def test_the_commands_say_how_adjustments_combine(tmp_path, documents):
    db = tmp_path / "g.db"
    with Gradebook.open(db) as book:
        record(book, "ann", documents["good"])
    runner = CliRunner()
    for command in ("late", "override"):
        helptext = " ".join(runner.invoke(main, [command, "--help"]).output.split())
        assert "--replace" in helptext and "--add" in helptext and "(the default" in helptext
    common = ["--reason", "late", "--by", "ta", "--db", str(db)]
    assert runner.invoke(main, ["late", "ann", "perceptron", "10%", *common]).exit_code == 0
    stacked = runner.invoke(main, ["late", "ann", "perceptron", "10%", "--add", *common])
    assert stacked.exit_code == 0 and "now 81 (-10%; stacks on -10%)" in stacked.output
    deducted = runner.invoke(main, ["override", "ann", "perceptron", "-2", "--add", *common])
    assert deducted.exit_code == 0, deducted.output
    assert "perceptron -2 points" in deducted.output
    assert runner.invoke(main, ["override", "ann", "perceptron", *common]).exit_code == 2  # no SCORE, no --drop
    trail = runner.invoke(main, ["audit", "ann", "--db", str(db)]).output
    assert "-> 81 (-10%; stacks on -10%)" in trail and "98 (-2 points added by ta)" in trail


@pytest.mark.parametrize("command", [
    ["export", "--format", "csv", "--out", "{tmp}/grades.csv"],
    ["report", "--out", "{tmp}/report.html"],
    ["override", "ann", "perceptron", "50", "--reason", "x", "--by", "ta"],
    ["late", "ann", "perceptron", "10%", "--reason", "x", "--by", "ta"],
    ["audit", "ann"],
])
def test_commands_that_read_a_gradebook_refuse_one_that_does_not_exist(tmp_path, command):
    typo = tmp_path / "typo.db"
    args = [part.replace("{tmp}", str(tmp_path)) for part in command] + ["--db", str(typo)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: no gradebook at {typo}: check --db (a grading run with "
                                                  "`dlgrade grade-batch` makes one)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no empty database, no header-only CSV


def test_a_database_without_a_gradebook_is_refused_and_left_as_it_was(db_url):
    if db_url.startswith("sqlite:///"):  # another program's database file where the gradebook should be
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
            connection.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(GradebookError, match="holds no dlgrade gradebook"):
        Gradebook.open(db_url, create=False)
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        assert not inspect(engine).has_table("gradings")  # the refusal made nothing
    finally:
        engine.dispose()
    probe = Gradebook.open(db_url)  # made only now, by a run that may create it
    probe.close()
    with Gradebook.open(db_url, create=False) as book:
        assert book.gradings() == []


def test_a_grading_run_shows_an_override_left_on_an_older_submission(monkeypatch, tmp_path, course, documents):
    from test_tool_failures import thread_pool

    root = tmp_path / "subs"
    write_submission(root / "ann", "perceptron", ANSWER)
    thread_pool(monkeypatch, documents["good"])
    settings = GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=60)
    out = tmp_path / "out"
    with Gradebook.open(tmp_path / "g.db") as book:
        run_batch(root, settings, book, workers=1)
        book.override("ann", "perceptron", 50, "oral exam", "prof")
        write_submission(root / "ann", "perceptron", ANSWER + "\n# resubmitted\n")
        summary = run_batch(root, settings, book, workers=1, out=out)
    (row,) = summary.rows
    assert any("an override of perceptron (a score of 50, by prof: oral exam) was made on an earlier submission"
               in note for note in row["notes"])
    assert "was made on an earlier submission" in (out / "ann" / "feedback.md").read_text()
    (stale,) = json.loads((out / "ann" / "result.json").read_text())["stale_overrides"]
    assert (stale["target"], stale["score"], stale["by"]) == ("perceptron", 50, "prof")
    from rich.console import Console

    console = Console(record=True, width=400)
    print_summary(summary, console)
    assert "was made on an earlier submission" in console.export_text()
