"""The roster: Canvas, Moodle and plain CSV exports read, imported into the gradebook (SQLite and
PostgreSQL), students found by id, login or name with suggestions, and who handed nothing in."""

import sqlite3
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.batch.intake import Submission
from autograder.batch.run import file_under_roster
from autograder.batch.worker import failure_result
from autograder.gradebook import Gradebook, StudentInfo
from autograder.judge.results import ERROR
from autograder.roster import (
    RosterEntry, RosterError, RosterFormat, RosterIndex, StudentNotFound, find_student, parse_roster, read_roster,
)
from cli import main
from grading import plan_for

ROSTERS = Path(__file__).resolve().parent / "fixtures" / "rosters"
CANVAS, MOODLE, PLAIN = ROSTERS / "canvas_gradebook.csv", ROSTERS / "moodle_participants.csv", ROSTERS / "plain.csv"


# ------------------------------------------------------------------ reading the three formats

def test_canvas_gradebook_export():
    roster = read_roster(CANVAS)
    assert roster.format is RosterFormat.CANVAS
    ids = [e.id for e in roster.entries]
    assert ids == ["4711", "4712", "4713", "4714", "4715", "4716"]  # no Points Possible row, no Test Student
    (skipped,) = roster.skipped  # Canvas's own rows (Points Possible) are no student to report
    assert skipped == "line 10: Canvas's Test Student (Student View), not a student"
    ada = roster.entries[0]
    assert ada == RosterEntry("4711", "Lovelace, Ada", login="alovelace", lms_id="4711", sis_user_id="S0001",
                              section="DL 2026, Section A")  # the BOM is gone from "Student", the comma kept
    jose = roster.entries[2]
    assert jose.name == "García Márquez, José" and unicodedata.is_normalized("NFC", jose.name)  # the file has NFD
    assert roster.entries[3].name == "Nguyễn, Thị Minh Khai"


def test_moodle_participants_download():
    roster = read_roster(MOODLE)
    assert roster.format is RosterFormat.MOODLE
    by_id = {e.id: e for e in roster.entries}
    assert by_id["2026001"] == RosterEntry("2026001", "Ada Lovelace", email="ada.lovelace@uni.example.edu",
                                           sis_user_id="2026001", section="Group A, Monday")
    assert by_id["2026003"].name == "José García Márquez"
    assert by_id["grace.hopper@uni.example.edu"].name == "Grace Hopper"  # no ID number: known by the email


@pytest.mark.parametrize("header", [
    "First name,Surname,ID number,Email address",  # older Moodle sites
    "firstname,lastname,idnumber,email",  # Moodle's field names (bulk user download)
    "First name;Last name;ID number;Email address",  # a spreadsheet in a locale that separates with ";"
    "First name\tLast name\tID number\tEmail address",
])
def test_moodle_header_variants(header):
    separator = ";" if ";" in header else "\t" if "\t" in header else ","
    roster = parse_roster(header + "\n" + separator.join(["Ada", "Lovelace", "2026001", "ada@x.edu"]) + "\n")
    assert roster.format is RosterFormat.MOODLE
    assert roster.entries == [RosterEntry("2026001", "Ada Lovelace", email="ada@x.edu", sis_user_id="2026001")]


def test_plain_csv_with_empty_lines_quoted_commas_and_accents():
    roster = read_roster(PLAIN)
    assert roster.format is RosterFormat.PLAIN
    assert [(e.id, e.name, e.section) for e in roster.entries] == [
        ("ada", "Ada Lovelace", "A"), ("jr", "Doe, Jr., John", "B, evening"), ("zoe", "Zoë Ångström", "B")]
    assert roster.skipped == ["line 6: 'No Id' has no id"]


def test_a_canvas_export_without_sis_columns():
    roster = parse_roster("Student,ID,Section,Losses (1)\n    Points Possible,,,100\n\"Lovelace, Ada\",4711,A,\n")
    assert roster.format is RosterFormat.CANVAS and roster.entries == [
        RosterEntry("4711", "Lovelace, Ada", lms_id="4711", section="A")]


def test_a_repeated_id_is_one_student_the_later_row():
    roster = parse_roster("id,name\nada,Ada L\nada,Ada Lovelace\n")
    assert roster.entries == [RosterEntry("ada", "Ada Lovelace")] and "again" in roster.skipped[0]


def test_unknown_header_names_the_columns_expected(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("Name,Score\nAda,10\n")
    with pytest.raises(RosterError, match="unknown roster columns \\(Name, Score\\)"):
        read_roster(path)
    result = CliRunner().invoke(main, ["roster", "import", str(path), "--db", str(tmp_path / "g.db")])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert "First name, Last name" in line and "SIS Login ID" in line and "id,name,email,section" in line
    assert not (tmp_path / "g.db").exists()  # nothing opened (or created) for a file that is no roster


def test_a_file_that_is_not_utf8_says_how_to_export_it(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("id,name\nzoe,Zoë\n".encode("cp1252"))
    with pytest.raises(RosterError, match="not UTF-8.*CSV UTF-8"):
        read_roster(path)


# ------------------------------------------------------------------ finding a student

PEOPLE = [
    StudentInfo("4711", "Lovelace, Ada", "4711", login="alovelace"),
    StudentInfo("4713", "García Márquez, José", "4713", login="jgarcia"),
    StudentInfo("4715", "Smith, Alice", "4715", login="asmith"),
    StudentInfo("4716", "Smith, Alice", "4716", login="asmith2"),
    StudentInfo("zoe", "Zoë Ångström", email="zoe@example.edu"),
]


@pytest.mark.parametrize("query", ["4711", "alovelace", "ALovelace", "Lovelace, Ada", "ada lovelace", "Ada  Lovelace"])
def test_a_student_is_found_by_id_login_or_name_in_any_case(query):
    assert find_student(query, PEOPLE).id == "4711"


def test_email_finds_and_nfd_input_finds_the_nfc_name():
    assert find_student("ZOE@example.edu", PEOPLE).id == "zoe"
    assert find_student(unicodedata.normalize("NFD", "zoë ångström"), PEOPLE).id == "zoe"


def test_a_name_without_its_accents_is_only_a_suggestion():
    with pytest.raises(StudentNotFound) as caught:
        find_student("Jose Garcia Marquez", PEOPLE)
    assert "did you mean García Márquez, José (4713)?" in str(caught.value)


def test_a_typo_lists_the_closest_students():
    with pytest.raises(StudentNotFound) as caught:
        find_student("alovelance", PEOPLE)
    message = str(caught.value)
    assert message.startswith("no student 'alovelance'") and "Lovelace, Ada (4711)" in message
    assert "\n" not in message


def test_an_ambiguous_name_lists_the_candidates():
    with pytest.raises(StudentNotFound, match="fits 2 students.*Smith, Alice \\(4715\\); Smith, Alice \\(4716\\)"):
        find_student("alice smith", PEOPLE)
    assert find_student("asmith2", PEOPLE).id == "4716"


def test_roster_index_files_submissions_by_id_login_or_unique_name():
    index = RosterIndex(PEOPLE)
    assert index.owner("4711").id == "4711"
    assert index.owner("555", "Ada Lovelace", "555").id == "4711"  # a Moodle folder: by its full name
    assert index.owner("alovelace").id == "4711"  # a folder named by the login
    assert index.owner("999", "Alice Smith") is None  # two Alice Smiths: no guess
    assert index.owner("999", "Jose Garcia Marquez") is None  # accents are never ignored


# ------------------------------------------------------------------ the gradebook





@pytest.fixture(scope="module")
def failed_document(course):
    """A real native document of perceptron (every test failed by a worker that was lost): score 0 of 100."""
    return failure_result(plan_for(course, "perceptron"), "x", "the worker was lost", ERROR).to_json()


def test_import_upserts_and_never_duplicates(db_url, tmp_path):
    with Gradebook.open(db_url) as book:
        first = book.import_roster(read_roster(CANVAS))
        assert (len(first.added), first.updated, first.unchanged) == (6, [], [])
        again = book.import_roster(read_roster(CANVAS))
        assert (again.added, again.updated, len(again.unchanged)) == ([], [], 6)
        moved = tmp_path / "moved.csv"
        moved.write_text(CANVAS.read_text(encoding="utf-8-sig").replace("4712,S0002,aturing,canvas.example.edu,\"DL 2026, Section A\"",
                                                                        "4712,S0002,aturing,canvas.example.edu,\"DL 2026, Section C\""),
                         encoding="utf-8")
        third = book.import_roster(read_roster(moved))
        assert (third.added, third.updated) == ([], ["4712"])
        students = book.students()
        assert len(students) == 6 and students["4712"].section == "DL 2026, Section C"
        assert students["4711"].login == "alovelace" and students["4711"].on_roster
        assert [e.action for e in book.audit_trail("4712")] == ["roster", "roster"]


def test_a_graded_student_gets_the_roster_name_and_the_others_are_missing(db_url, failed_document):
    with Gradebook.open(db_url) as book:
        book.record(StudentInfo("4712", "turingalan", "4712"), "a" * 64, "x", [], "graded", failed_document)
        book.record(StudentInfo("stranger"), "b" * 64, "y", [], "graded", failed_document)
        book.import_roster(read_roster(CANVAS))
        assert book.students()["4712"].name == "Turing, Alan"  # the roster's name replaces the file name's
        missing = [s.id for s in book.missing_students()]
        assert missing == ["4711", "4713", "4714", "4715", "4716"]  # on the roster, nothing handed in
        assert [s.id for s in book.missing_students("perceptron")] == missing
        assert [s.id for s in book.missing_students("mlp")] == ["4711", "4712", "4713", "4714", "4715", "4716"]
        assert "stranger" not in {s.id for s in book.roster_students()}


def test_an_older_gradebook_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # the students table as dlgrade created it before the roster
        connection.execute("CREATE TABLE students (id VARCHAR(200) PRIMARY KEY, name VARCHAR(400), "
                           "lms_id VARCHAR(100), sis_user_id VARCHAR(100), section VARCHAR(200), created DATETIME)")
        connection.execute("INSERT INTO students VALUES ('ada', 'Ada', '', '', '', '2026-01-01 00:00:00')")
    with Gradebook.open(path) as book:
        assert book.students()["ada"].login == "" and not book.students()["ada"].on_roster
        book.import_roster(parse_roster("id,name,login\nada,Ada Lovelace,alovelace\n"))
        assert book.find_student("alovelace").name == "Ada Lovelace"


# ------------------------------------------------------------------ the command line

def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_roster_import_says_the_format_and_lists_missing(db_url):
    result = invoke("roster", "import", MOODLE, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert f"read {MOODLE} as a Moodle participants export: 4 students" in result.output
    assert "gradebook: 4 added, 0 updated, 0 unchanged" in result.output
    again = invoke("roster", "import", MOODLE, "--db", db_url)
    assert "0 added, 0 updated, 4 unchanged" in again.output
    listed = invoke("roster", "list", "--db", db_url)
    assert listed.exit_code == 0 and "José García Márquez" in listed.output
    assert "4 on the roster without a submission" in listed.output


@pytest.mark.parametrize("who", ["4712", "aturing", "Alan Turing", "TURING, ALAN"])
def test_override_and_late_by_id_login_or_name(db_url, failed_document, who):
    with Gradebook.open(db_url) as book:
        book.import_roster(read_roster(CANVAS))
        book.record(StudentInfo("4712"), "a" * 64, "x", [], "graded", failed_document)
    result = invoke("override", who, "perceptron", 80, "--reason", "oral exam", "--by", "Prof. Lee", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Turing, Alan (4712): perceptron set to 80")
    result = invoke("late", who, "perceptron", "10%", "--reason", "2 days", "--by", "Prof. Lee", "--db", db_url)
    assert result.exit_code == 0, result.output
    with Gradebook.open(db_url) as book:
        (document,) = book.result_documents()
        assert document["student"] == "4712" and document["score"] == 72
    trail = invoke("audit", who, "--db", db_url)
    assert "Turing, Alan (4712) override perceptron" in trail.output


def test_a_typo_is_one_line_with_suggestions_and_exit_1(db_url, failed_document):
    with Gradebook.open(db_url) as book:
        book.import_roster(read_roster(CANVAS))
        book.record(StudentInfo("4712"), "a" * 64, "x", [], "graded", failed_document)
    result = invoke("override", "Alan Turring", "perceptron", 80, "--reason", "r", "--by", "b", "--db", db_url)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line == "Error: no student 'Alan Turring' in the gradebook: did you mean Turing, Alan (4712)?"
    result = invoke("late", "Alice Smith", "perceptron", "5", "--reason", "r", "--by", "b", "--db", db_url)
    assert result.exit_code == 1 and "fits 2 students" in result.output and "(4715)" in result.output


# ------------------------------------------------------------------ a batch's submissions and the roster

def test_batch_submissions_are_filed_under_the_roster_student():
    index_people = [StudentInfo("2026001", "Ada Lovelace", on_roster=True, email="ada@x.edu"),
                    StudentInfo("2026002", "Alan Turing", on_roster=True)]

    class Book:
        def roster_index(self):
            return RosterIndex(index_people)

    moodle = Submission("555", None, [], "Ada Lovelace", "555")  # Moodle's folder: participant id and full name
    stranger = Submission("eve", None, [], "")
    twin = Submission("556", None, [], "Ada Lovelace", "556")  # a second folder of the same name: not merged
    file_under_roster([moodle, stranger, twin], Book())
    assert (moodle.student, moodle.name) == ("2026001", "Ada Lovelace")
    assert "filed under Ada Lovelace (2026001)" in moodle.notes[0]
    assert stranger.student == "eve" and "not on the roster" in stranger.notes[0]
    assert twin.student == "556" and "kept apart" in twin.notes[0]


# ------------------------------------------------------------------ names in folders

def test_a_students_folder_holds_the_name_and_the_id_and_is_never_shared():
    from autograder.gradebook.export import safe_name

    assert safe_name("4711", "Lovelace, Ada") == "Lovelace, Ada_4711"
    assert safe_name("4711") == "4711" and safe_name("../x", "") == "%2E.%2Fx"
    assert safe_name("4715", "Smith, Alice") != safe_name("4716", "Smith, Alice")
    # "_" in a name is escaped, so the first "_" always ends the name: these two never meet
    assert safe_name("b", "x_a") != safe_name("a_b", "x")
    assert safe_name("1", "../../etc") == "%2E.%2F..%2Fetc_1" and "/" not in safe_name("1", "a/b")
    long = safe_name("4711", "Ada " * 100)
    assert long.endswith("_4711") and len(long.encode()) < 255


def test_grade_batch_files_a_canvas_download_under_the_roster(tmp_path, course):
    """End to end: a Canvas roster, a Canvas download of two students (one resubmitted), grade-batch:
    names in the table and the folders, the roster's other students listed as missing."""
    import zipfile

    answer = (Path(__file__).resolve().parent / "fixtures/submissions/vectorized/perceptron.py").read_text()
    root = tmp_path / "dl"
    root.mkdir()
    with zipfile.ZipFile(root / "submissions.zip", "w") as archive:
        for name, text in {"lovelaceada_4711_9001_perceptron.py": "def step(z):\n    return z\n",
                           "lovelaceada_4711_9001_perceptron-1.py": answer,
                           "turingalan_4712_9002_PERCEPTRON (1).py": answer}.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 1, 12, 0, 0)), text)
    db = tmp_path / "grades.db"
    assert invoke("roster", "import", CANVAS, "--db", db).exit_code == 0
    result = invoke("grade-batch", root, "--db", db, "-a", "perceptron", "--out", tmp_path / "out", "--workers", 1,
                    "--seed", 7)
    assert result.exit_code == 0, result.output
    assert "Lovelace, Ada (4711)" in result.output and "Turing, Alan (4712)" in result.output
    assert "missing: 4 on the roster without a submission" in result.output
    assert "García Márquez, José (4713)" in result.output
    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert folders == ["Lovelace, Ada_4711", "Turing, Alan_4712"]
    html = (tmp_path / "out" / "Lovelace, Ada_4711" / "feedback.html").read_text()
    assert "<h1>Feedback for Lovelace, Ada (4711)</h1>" in html
    with Gradebook.open(db) as book:
        grades = {g.student.id: g for g in book.grades()}
        assert grades["4711"].total == 100  # the resubmission (-1) was graded, not the broken original
        assert [s.id for s in book.missing_students()] == ["4713", "4714", "4715", "4716"]


def test_exports_carry_the_roster_and_the_canvas_export_reads_back_as_a_roster(db_url, failed_document, tmp_path):
    import csv

    from autograder.gradebook.export import export

    with Gradebook.open(db_url) as book:
        book.import_roster(read_roster(CANVAS))
        book.record(StudentInfo("4713"), "a" * 64, "x", [], "graded", failed_document)
        book.override("4713", "perceptron", 70, "oral exam", "ta")
        (grades,) = export(book, "csv", tmp_path / "grades.csv")
        (canvas,) = export(book, "canvas", tmp_path / "canvas.csv")
    with grades.open(newline="", encoding="utf-8") as stream:
        (row,) = list(csv.DictReader(stream))
    assert (row["student"], row["name"], row["login"], row["section"], row["total"]) == (
        "4713", "García Márquez, José", "jgarcia", "DL 2026, Section B", "70")
    back = read_roster(canvas)  # what Canvas would read: its own format, the same student
    assert back.format is RosterFormat.CANVAS
    assert back.entries == [RosterEntry("4713", "García Márquez, José", login="jgarcia", lms_id="4713",
                                        sis_user_id="S0003", section="DL 2026, Section B")]


def canvas_download(root: Path, files: dict[str, str]) -> Path:
    """A Canvas "Download Submissions" zip of ``files`` (name -> text) in a fresh folder ``root``."""
    import zipfile

    root.mkdir()
    with zipfile.ZipFile(root / "submissions.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 1, 12, 0, 0)), text)
    return root


def test_a_roster_student_without_a_submission_is_missing_in_exports_and_never_over_a_grade(tmp_path, course):
    """The roster's students who handed nothing in are recorded missing for the assignment graded:
    0 with the state "missing" in the CSV, 0 in Canvas, "missing" in `roster list`; a later download
    without a student's file (late work only) neither replaces their grade with missing nor records
    missing twice."""
    import csv

    answer = (Path(__file__).resolve().parent / "fixtures/submissions/vectorized/perceptron.py").read_text()
    db = tmp_path / "grades.db"
    assert invoke("roster", "import", CANVAS, "--db", db).exit_code == 0
    week = canvas_download(tmp_path / "dl", {"lovelaceada_4711_9001_perceptron.py": answer,
                                             "turingalan_4712_9002_perceptron.py": answer})
    first = invoke("grade-batch", week, "--db", db, "--workers", 1, "--seed", 7)
    assert first.exit_code == 0, first.output
    assert "missing: 4 on the roster without a submission" in first.output
    assert invoke("export", "--db", db, "--format", "csv", "--out", tmp_path / "grades.csv").exit_code == 0
    assert invoke("export", "--db", db, "--format", "canvas", "--out", tmp_path / "canvas.csv").exit_code == 0
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    assert sorted(rows) == ["4711", "4712", "4713", "4714", "4715", "4716"]
    assert rows["4713"]["perceptron"] == "0" and rows["4713"]["perceptron state"].startswith("missing: not handed in")
    assert rows["4711"]["perceptron"] == "100" and rows["4711"]["perceptron state"] == "graded"
    with (tmp_path / "canvas.csv").open(newline="", encoding="utf-8") as stream:
        canvas = {row["ID"]: row for row in csv.DictReader(stream) if row["ID"]}
    assert canvas["4714"]["perceptron"] == "0" and canvas["4711"]["perceptron"] == "100"
    listed = invoke("roster", "list", "--db", db).output
    assert "4 on the roster without a submission" in listed
    assert [line.split("│")[-2].strip() for line in listed.splitlines() if "4715" in line] == ["missing"]

    late = canvas_download(tmp_path / "late", {"garciamarquezjose_4713_9003_perceptron.py": answer})
    second = invoke("grade-batch", late, "--db", db, "--workers", 1, "--seed", 7)
    assert second.exit_code == 0, second.output
    assert "missing: 3 on the roster without a submission" in second.output
    with Gradebook.open(db) as book:
        totals = {g.student.id: g.total for g in book.grades()}
        assert totals == {"4711": 100, "4712": 100, "4713": 100, "4714": 0, "4715": 0, "4716": 0}
        per_pair = Counter((g.student_id, g.assignment) for g in book.gradings())
        assert per_pair[("4714", "perceptron")] == 1 and per_pair[("4711", "perceptron")] == 1
        assert [s.id for s in book.missing_students("perceptron")] == ["4714", "4715", "4716"]
