"""A course collected one assignment at a time: (student, assignment) is the unit of grading.

Two weekly Canvas-style downloads, graded into one gradebook (SQLite and PostgreSQL): only the
assignments collected (or named with -a) are graded and stored; a student without the file is
missing (0, with the reason); an assignment never collected is blank in the exports, the
feedback and the report; a second week keeps the first week's grades.
"""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from autograder.batch.run import run_batch, summary_line
from autograder.batch.worker import GradingSettings
from autograder.console import make_console
from autograder.gradebook import Gradebook, GradebookError
from autograder.gradebook.export import export
from autograder.identity import student_folder
from autograder.judge.rubric import load_rubric
from autograder.report.stats import assignment_scores
from cli import main
from test_batch_run import FIXTURES

SEED = 777
ALICE, BOB, CAROL, DAVE, ERIN = "101", "102", "103", "104", "105"




def canvas_download(folder, files: dict[str, str]):
    """Canvas's flat submissions folder: ``<name>_<user id>_<submission id>_<file>``."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def settings(course, *assignments):
    return GradingSettings(str(course.solutions), tuple(assignments), SEED, time_limit=120)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def weeks(request, course, tmp_path_factory):
    """Week 1: perceptron (-a perceptron); carol handed in losses only, dave an unrelated file.
    Week 2: activations, collected without -a, from alice and erin."""
    root = tmp_path_factory.mktemp(f"weeks-{request.param}")
    url = (f"sqlite:///{root / 'grades.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres")())
    answer = (FIXTURES / "vectorized" / "perceptron.py").read_text()
    mutant = load_rubric(course, "perceptron").mutants[0]
    week1 = canvas_download(root / "week1", {
        f"alice_{ALICE}_9001_perceptron.py": answer,
        f"bob_{BOB}_9002_perceptron.py": answer + "\n\n" + mutant.submission_source,
        f"carol_{CAROL}_9003_losses.py": (FIXTURES / "vectorized" / "losses.py").read_text(),
        f"dave_{DAVE}_9004_notes.txt": "I could not do it\n",
    })
    week2 = canvas_download(root / "week2", {
        f"alice_{ALICE}_9101_activations.py": (FIXTURES / "vectorized" / "activations.py").read_text(),
        f"erin_{ERIN}_9105_activations.py": (FIXTURES / "vectorized" / "activations.py").read_text() + "\n# erin\n",
    })
    progress = io.StringIO()
    with Gradebook.open(url) as gradebook:
        first = run_batch(week1, settings(course, "perceptron"), gradebook, workers=1,
                          console=make_console(file=progress))
        after_week1 = {(g.student_id, g.assignment): (g.id, g.score, g.verdict) for g in gradebook.gradings()}
        second = run_batch(week2, settings(course), gradebook, workers=1)
        again = run_batch(week2, settings(course), gradebook, workers=1)
        yield {"url": url, "root": root, "week1": week1, "week2": week2, "first": first, "second": second,
               "again": again, "after_week1": after_week1, "gradebook": gradebook, "progress": progress.getvalue()}


def states(summary):
    return {row["student"]: row["verdict"] for row in summary.rows}


def test_only_the_named_assignment_is_graded_and_stored(weeks):
    first = weeks["first"]
    assert first.assignments == ("perceptron",)
    assert states(first) == {ALICE: "graded", BOB: "graded", CAROL: "missing", DAVE: "not_gradable"}
    assert all(row["assignments"] == ["perceptron"] and row["max_score"] == 100 for row in first.rows)
    # carol's losses.py was not graded, and nothing of losses was stored
    assert set(weeks["after_week1"]) == {(s, "perceptron") for s in (ALICE, BOB, CAROL, DAVE)}
    scores = {student: score for (student, _), (_, score, _) in weeks["after_week1"].items()}
    assert scores[ALICE] == 100 and 0 < scores[BOB] < 100 and scores[CAROL] == 0


def test_a_student_without_the_file_is_missing_with_the_reason(weeks):
    (carol,) = [d for d in weeks["gradebook"].result_documents() if d["student"] == CAROL]
    (entry,) = carol["assignments"]
    assert (entry["assignment"], entry["status"], entry["score"]) == ("perceptron", "missing", 0)
    assert entry["reason"].startswith("not handed in")


def test_without_a_the_batch_grades_what_was_collected_and_keeps_earlier_weeks(weeks):
    second = weeks["second"]
    assert second.assignments == ("activations",)
    assert states(second) == {ALICE: "graded", ERIN: "graded"}
    gradings = weeks["gradebook"].gradings()
    now = {(g.student_id, g.assignment): (g.id, g.score, g.verdict) for g in gradings}
    for key, value in weeks["after_week1"].items():  # week 1's gradings untouched, not superseded
        assert now[key] == value
    assert {key for key in now if key not in weeks["after_week1"]} == {(ALICE, "activations"), (ERIN, "activations")}
    documents = {d["student"]: d for d in weeks["gradebook"].result_documents()}
    assert [a["assignment"] for a in documents[ALICE]["assignments"]] == ["perceptron", "activations"]
    assert documents[ALICE]["score"] == 200 and documents[ALICE]["max_score"] == 200
    assert [a["assignment"] for a in documents[BOB]["assignments"]] == ["perceptron"]


def test_the_skip_is_per_student_and_assignment(weeks):
    again = weeks["again"]
    assert again.rows == [] and sorted(again.skipped) == [ALICE, ERIN]


def test_regrading_one_assignment_touches_only_it(weeks, course):
    gradebook = weeks["gradebook"]
    before = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    summary = run_batch(weeks["week2"], settings(course, "activations"), gradebook, workers=1, regrade=True)
    assert states(summary) == {ALICE: "graded", ERIN: "graded"}
    after = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {(ALICE, "activations"), (ERIN, "activations")}
    trail = [(e.action, e.target) for e in gradebook.audit_trail(ALICE)]
    assert trail == [("graded", "perceptron"), ("graded", "activations"), ("regraded", "activations")]


def test_a_resubmission_regrades_only_the_files_that_changed(weeks, course):
    """Alice sends both files again: perceptron unchanged (skipped), activations changed (graded)."""
    gradebook = weeks["gradebook"]
    before = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    week3 = canvas_download(weeks["root"] / "week3", {
        f"alice_{ALICE}_9201_perceptron.py": (weeks["week1"] / f"alice_{ALICE}_9001_perceptron.py").read_text(),
        f"alice_{ALICE}_9202_activations.py": (FIXTURES / "vectorized" / "activations.py").read_text() + "\n# v2\n",
    })
    summary = run_batch(week3, settings(course), gradebook, workers=1)
    assert summary.assignments == ("perceptron", "activations")
    assert [row["assignments"] for row in summary.rows] == [["activations"]]
    after = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    assert {key for key in after if after[key] != before.get(key)} == {(ALICE, "activations")}


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_csv_export_has_columns_for_graded_assignments_only(weeks, tmp_path):
    (path,) = export(weeks["gradebook"], "csv", tmp_path / "grades.csv")
    header, *rows = read_csv(path)
    assignments = [c for c in header if "." not in c and c not in ("student", "name", "login", "email", "section", "total", "adjustments")
                   and not c.endswith(" state")]
    assert assignments == ["perceptron", "activations"]
    assert not any(c.split(".")[0].split(" ")[0] in ("losses", "mlp", "dropout", "optimizers", "initializers")
                   for c in header)
    table = {row[0]: dict(zip(header, row)) for row in rows}
    carol = table[CAROL]
    assert carol["perceptron"] == "0" and carol["perceptron state"].startswith("missing: not handed in")
    assert carol["activations"] == "" and carol["activations state"] == ""  # never collected from her: blank
    assert table[ALICE]["perceptron state"] == "graded" and table[ALICE]["total"] == "200"
    assert table[DAVE]["perceptron state"].startswith("not gradable: ")


def test_canvas_export_has_columns_for_graded_assignments_only(weeks, tmp_path):
    (path,) = export(weeks["gradebook"], "canvas", tmp_path / "canvas.csv")
    header, points, *rows = read_csv(path)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "perceptron", "activations"]
    assert points[5:] == ["100", "100"]
    by_id = {row[1]: row for row in rows}
    assert by_id[CAROL][5:] == ["0", ""]  # missing is 0; activations never collected from her is blank
    assert by_id[ERIN][5:] == ["", "100"]


def folder(weeks, student: str) -> str:
    """The student's output folder: ``<name>_<id>`` once the name is known (from the LMS's file names)."""
    return student_folder(student, weeks["gradebook"].students()[student].name)


def test_feedback_shows_graded_assignments_only_and_a_missing_one_in_a_line(weeks, tmp_path):
    export(weeks["gradebook"], "feedback", tmp_path / "fb")
    carol = (tmp_path / "fb" / folder(weeks, CAROL) / "feedback.md").read_text()
    assert "Missing: not handed in" in carol and "| test |" not in carol
    assert len(carol.splitlines()) < 12
    alice = (tmp_path / "fb" / folder(weeks, ALICE) / "feedback.md").read_text()
    headings = [line for line in alice.splitlines() if line.startswith("## ")]
    assert headings == ["## perceptron: 100 / 100", "## activations: 100 / 100"]
    assert "not attempted" not in alice


def test_gradescope_export_holds_graded_assignments_only(weeks, tmp_path):
    export(weeks["gradebook"], "gradescope", tmp_path / "gs")
    carol = json.loads((tmp_path / "gs" / folder(weeks, CAROL) / "results.json").read_text())
    assert carol["output"].startswith("perceptron: 0/100 (missing: not handed in")
    assert {test["tags"][0] for test in carol["tests"]} == {"perceptron"}
    alice = json.loads((tmp_path / "gs" / folder(weeks, ALICE) / "results.json").read_text())
    assert alice["output"].splitlines() == ["perceptron: 100/100", "activations: 100/100"] and alice["score"] == 200


def test_report_means_cover_graded_assignments_only(weeks):
    scores = assignment_scores(weeks["gradebook"].result_documents())
    assert [s.assignment for s in scores] == ["perceptron", "activations"]
    perceptron = scores[0]
    assert perceptron.missing == 1 and perceptron.not_gradable == 1 and len(perceptron.scores) == 2


def test_summary_and_progress(weeks):
    assert summary_line(weeks["first"]) == "4 submissions: 2 graded, 1 not gradable, 1 missing"
    assert summary_line(weeks["again"]) == "0 submissions graded; 2 already graded (skipped)"
    progress = weeks["progress"]
    assert "4/4" in progress and "ETA 0:00:00" in progress  # the total was known: a real estimate, done


def test_a_download_without_a_file_never_zeroes_an_earlier_grade(weeks, course):
    """Week 2's download named with -a perceptron too: alice and erin have no perceptron file in it.
    Alice's week-1 perceptron grade stands; erin, who never handed perceptron in, is missing."""
    gradebook = weeks["gradebook"]
    before = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    summary = run_batch(weeks["week2"], settings(course, "perceptron", "activations"), gradebook, workers=1,
                        regrade=True)
    assert {row["student"]: row["assignments"] for row in summary.rows} == {
        ALICE: ["activations"], ERIN: ["perceptron", "activations"]}
    after = {(g.student_id, g.assignment): g.id for g in gradebook.gradings()}
    assert after[(ALICE, "perceptron")] == before[(ALICE, "perceptron")]
    documents = {d["student"]: d for d in gradebook.result_documents("perceptron")}
    assert documents[ALICE]["score"] == 100 and documents[ERIN]["assignments"][0]["status"] == "missing"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_old_gradebook_is_refused_with_what_to_do(backend, tmp_path, request):
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite" else request.getfixturevalue("postgres")()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:  # the layout before (student, assignment): one grading per submission
        connection.execute(text("CREATE TABLE gradings (id INTEGER PRIMARY KEY, submission_id INTEGER, "
                                "student_id VARCHAR(200), checks_key VARCHAR(64), document TEXT)"))
    engine.dispose()
    with pytest.raises(GradebookError, match="older dlgrade .*one grading per whole submission; no column gradings.assignment.* new gradebook"):
        Gradebook.open(url)
    result = CliRunner().invoke(main, ["export", "--db", url, "--format", "csv", "--out", str(tmp_path / "g.csv")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "older dlgrade" in result.output and not (tmp_path / "g.csv").exists()
