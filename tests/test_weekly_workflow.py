"""A TA's week, end to end with real files and the real CLI (SQLite and PostgreSQL).

The week: the LMS's roster is imported; a Canvas download of ONE assignment for ten students
arrives (a resubmission whose original is broken, browser copies, an upper-case name, a known
mistake, a file that does not parse), and one student on the roster hands nothing in. A first
run with ``--device cuda`` on a machine without a GPU records nothing and fails loudly; the
next plain run grades everything. Exports are parsed back: one assignment column, no zero for
the six assignments never collected, the missing student at 0 with the reason. Adjustments are
made by name, and the course report covers the one assignment.
"""

import csv
import zipfile
from pathlib import Path

import torch
from click.testing import CliRunner

from autograder.gradebook import Gradebook
from cli import main

ASSIGNMENT = "losses"
SEED = 4242
# (Canvas user id, "Last, First", login, section)
ROSTER = [
    ("5001", "Lovelace, Ada", "alovelace", "A"), ("5002", "Turing, Alan", "aturing", "A"),
    ("5003", "Hopper, Grace", "ghopper", "A"), ("5004", "Knuth, Donald", "dknuth", "B"),
    ("5005", "Liskov, Barbara", "bliskov", "B"), ("5006", "Dijkstra, Edsger", "edijkstra", "B"),
    ("5007", "Hamilton, Margaret", "mhamilton", "A"), ("5008", "Ritchie, Dennis", "dritchie", "B"),
    ("5009", "Allen, Frances", "fallen", "A"), ("5010", "Backus, John", "jbackus", "B"),
    ("5011", "García Márquez, José", "jgarcia", "A"),  # on the roster, hands nothing in
]
MISSING = "5011"


def canvas_roster(path: Path) -> Path:
    """Canvas's gradebook export (Grades > Export): BOM, Points Possible row, one column per assignment."""
    rows = ["\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Losses (9001),Current Score",
            "    Points Possible,,,,,100.00,(read only)"]
    rows += [f'"{name}",{uid},S{uid},{login},"DL 2026, Section {section}",,' for uid, name, login, section in ROSTER]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def canvas_download(folder: Path, course) -> dict[str, str]:
    """Canvas's "Download Submissions" zip: ``<login><first>_<user id>_<submission id>_<file as uploaded>``.

    Returns what each student's grade must show: "full", "partial" (a named mistake) or "not gradable"."""
    from autograder.judge.rubric import load_rubric

    answer = course.answer_source(ASSIGNMENT).read_text()
    mutant = next(m for m in load_rubric(course, ASSIGNMENT).mutants if m.exercise.endswith(".cross_entropy"))
    wrong = answer + "\n\n" + mutant.submission_source
    files = {
        "lovelaceada_5001_70001_losses.py": answer,
        "turingalan_5002_70002_losses.py": "def softmax(z):\n    return z +\n",  # does not parse...
        "turingalan_5002_70002_losses-1.py": answer,  # ...and the resubmission (-1) wins at the same time
        "hoppergrace_5003_70003_Losses (1).py": answer,  # a browser's copy
        "knuthdonald_5004_70004_LOSSES.py": answer,  # upper case
        "liskovbarbara_5005_70005_losses.py": wrong,  # a known mistake: partial credit, named
        "dijkstraedsger_5006_70006_losses.py": "def softmax(z:\n",  # never parses: not gradable
        "hamiltonmargaret_5007_70007_losses_1.py": answer,
        "ritchiedennis_5008_70008_losses.py": answer,
        "allenfrances_LATE_5009_70009_losses.py": answer,
        "backusjohn_5010_70010_losses.py": answer,
    }
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "submissions.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 23, 59, 0)), text)
    expected = {uid: "full" for uid, *_ in ROSTER}
    expected.update({"5005": "partial", "5006": "not gradable", MISSING: "missing"})
    return expected



def dlgrade(*args) -> "CliRunner.invoke":
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_a_week_of_one_assignment(tmp_path, db_url, course):
    expected = canvas_download(tmp_path / "download", course)
    roster = canvas_roster(tmp_path / "roster.csv")

    result = dlgrade("roster", "import", roster, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "Canvas" in result.output and "11 added" in result.output

    # A tool failure is never a grade: --device cuda without a GPU records nothing, exit 1.
    if not torch.cuda.is_available():
        result = dlgrade("grade-batch", tmp_path / "download", "--db", db_url, "--device", "cuda", "--workers", 1,
                         "--seed", SEED)
        assert result.exit_code == 1
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output
        with Gradebook.open(db_url) as book:
            assert book.gradings() == []

    # The plain run grades what was collected: one assignment, ten submissions.
    result = dlgrade("grade-batch", tmp_path / "download", "--db", db_url, "--workers", 1, "--seed", SEED,
                     "--out", tmp_path / "graded")
    assert result.exit_code == 0, result.output
    assert "10 submissions: 9 graded, 1 not gradable" in result.output, result.output
    assert "missing: 1 on the roster without a submission: García Márquez, José (5011)" in result.output
    assert "Canvas resubmission" in result.output  # the note says which of Turing's two files won, and why
    for other in ("perceptron", "mlp", "initializers", "optimizers", "dropout", "activations"):
        assert other not in result.output

    # What the gradebook holds: only (student, losses), each with the state the file deserves.
    with Gradebook.open(db_url) as book:
        documents = {d["student"]: d for d in book.result_documents()}
    assert {a["assignment"] for d in documents.values() for a in d["assignments"]} == {ASSIGNMENT}
    for student, kind in expected.items():
        (entry,) = documents[student]["assignments"]
        assert entry["max_score"] == 100
        if kind == "full":
            assert (entry["status"], entry["score"]) == ("graded", 100), (student, entry)
        elif kind == "partial":
            assert entry["status"] == "graded" and 0 < entry["score"] < 100
            assert any(t["mistake"] for t in documents[student]["tests"])
        else:
            assert (entry["status"], entry["score"]) == (kind.replace(" ", "_"), 0), (student, entry)
            assert entry["reason"]

    # Feedback folders carry the names; a week of one assignment gives short feedback.
    folders = sorted(p.name for p in (tmp_path / "graded").iterdir())
    assert "Turing, Alan_5002" in folders and len(folders) == 10
    feedback = (tmp_path / "graded" / "Turing, Alan_5002" / "feedback.md").read_text()
    assert "perceptron" not in feedback and len(feedback.splitlines()) < 120

    # Adjustments by name and by login, as the TA types them.
    result = dlgrade("override", "barbara liskov", ASSIGNMENT, 90, "--reason", "regrade request", "--by", "TA Kim",
                     "--db", db_url)
    assert result.exit_code == 0 and "Liskov, Barbara (5005)" in result.output, result.output
    result = dlgrade("late", "fallen", ASSIGNMENT, "10%", "--reason", "1 day late", "--by", "TA Kim", "--db", db_url)
    assert result.exit_code == 0 and "now 90" in result.output, result.output
    result = dlgrade("late", "Frances Alen", ASSIGNMENT, "10%", "--reason", "x", "--by", "TA Kim", "--db", db_url)
    assert result.exit_code == 1 and "Allen, Frances (5009)" in result.output  # a typo: the closest match

    # Exports parsed back: one assignment column, nothing for the six never collected.
    result = dlgrade("export", "--db", db_url, "--format", "csv", "--out", tmp_path / "grades.csv")
    assert result.exit_code == 0, result.output
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    assert set(rows) == {uid for uid, *_ in ROSTER}
    header = list(next(iter(rows.values())))
    assert not [h for h in header if any(other in h for other in ("perceptron", "mlp", "dropout", "activations"))]
    assert rows["5005"][ASSIGNMENT] == "90" and rows["5009"][ASSIGNMENT] == "90"
    assert rows[MISSING][ASSIGNMENT] == "0" and "missing" in rows[MISSING][f"{ASSIGNMENT} state"]
    assert rows["5001"]["name"] == "Lovelace, Ada"

    result = dlgrade("export", "--db", db_url, "--format", "canvas", "--out", tmp_path / "canvas.csv")
    assert result.exit_code == 0, result.output
    with (tmp_path / "canvas.csv").open(newline="", encoding="utf-8-sig") as stream:
        table = list(csv.reader(stream))
    header, points, body = table[0], table[1], table[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert len(header) == 6 and header[5].lower().startswith(ASSIGNMENT), header  # one assignment column only
    assert points[0].strip() == "Points Possible" and float(points[5]) == 100
    scores = {row[1]: row[5] for row in body}
    assert scores[MISSING] == "0" and scores["5002"] == "100" and scores["5006"] == "0"

    # The course report covers the one assignment.
    result = dlgrade("report", "--db", db_url, "--out", tmp_path / "report.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert ASSIGNMENT in page and "perceptron" not in page and "dropout" not in page

    # The next run with the same files grades nothing again (each (student, assignment) is skipped).
    result = dlgrade("grade-batch", tmp_path / "download", "--db", db_url, "--workers", 1, "--seed", SEED)
    assert result.exit_code == 0 and "already graded" in result.output, result.output
