"""`dlgrade similarity --db` over the files the gradebook keeps: grade-batch keeps each graded file
(once: a regrade keeps nothing new), the download can go, and the gradebook alone ranks the same
pairs with the same scores; students graded before it kept files are named in one note; it never
writes to the gradebook."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from autograder.gradebook import Gradebook
from autograder.gradebook.models import SubmittedFile
from autograder.gradebook.store import GradedFile
from autograder.similarity import analyse_graded
from autograder.similarity.extract import read_student, stored_student
from autograder.states import State
from autograder.submission import MAX_SOURCE_BYTES
from cli import main
from similarity_cohort import renamed, with_comments

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
HONEST = ("float32", "loops", "vectorized")


def dlgrade(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def download_folder(root: Path) -> Path:
    """The three fixtures' perceptron.py, mallory's disguised copy of vectorized's (renamed, reordered,
    commented, under a browser's copy name), and frank's file over the intake's limit."""
    for student in HONEST:
        (root / student).mkdir(parents=True)
        shutil.copy(FIXTURES / student / "perceptron.py", root / student / "perceptron.py")
    (root / "mallory").mkdir()
    vectorized = (FIXTURES / "vectorized" / "perceptron.py").read_text()
    (root / "mallory" / "Perceptron (1).py").write_text(with_comments(renamed(vectorized, 11, helpers=True, reverse=True)))
    (root / "frank").mkdir()
    with (root / "frank" / "perceptron.py").open("wb") as stream:
        stream.truncate(MAX_SOURCE_BYTES + 1)  # sparse
    return root


def state_of(db: Path) -> tuple:
    """What a reader must not change: the gradings, the audit trail, the kept files, the students."""
    with Gradebook.open(str(db), create=False) as book:
        with book.engine.connect() as connection:
            files = sorted(connection.execute(select(SubmittedFile.content_sha256, SubmittedFile.name,
                                                     SubmittedFile.size)).all())
        return ([(g.id, g.student_id, g.assignment, g.score, g.content_sha256, g.file_kept) for g in book.gradings()],
                [(a.id, a.action, a.student_id, a.new) for a in book.audit_trail()], files,
                sorted((s.id, s.name) for s in book.students().values()))


def pairs(csv_file: Path) -> list[dict]:
    return list(csv.DictReader(csv_file.open(encoding="utf-8")))


@pytest.fixture(scope="module")
def course_run(tmp_path_factory):
    """Grade the download into a gradebook, grade it again (--regrade), compare over the folder, then
    delete the download and compare over the gradebook alone."""
    root = tmp_path_factory.mktemp("simdb")
    download = download_folder(root / "download")
    db = root / "course.db"
    roster = root / "roster.csv"
    roster.write_text("id,name,email,section\nmallory,Mallory Evil,m@example.org,A\n", encoding="utf-8")
    run = {"db": db, "root": root}
    assert dlgrade("roster", "import", roster, "--db", db).exit_code == 0
    graded = dlgrade("grade-batch", download, "--db", db, "-a", "perceptron", "--workers", 1, "--seed", 7)
    assert graded.exit_code == 0, graded.output
    assert "5 submissions: 4 graded, 1 not gradable" in graded.output, graded.output
    run["first"] = state_of(db)
    regraded = dlgrade("grade-batch", download, "--db", db, "-a", "perceptron", "--workers", 1, "--seed", 7, "--regrade")
    assert regraded.exit_code == 0, regraded.output
    run["regraded"] = state_of(db)
    run["folder"] = dlgrade("similarity", download, "--db", db, "-a", "perceptron", "--out", root / "by-folder")
    assert run["folder"].exit_code == 0, run["folder"].output
    shutil.rmtree(download)
    run["before"] = state_of(db)
    run["db_only"] = dlgrade("similarity", "--db", db, "-a", "perceptron", "--out", root / "by-gradebook")
    run["after"] = state_of(db)
    return run


def test_grade_batch_keeps_each_graded_file_and_a_regrade_keeps_no_duplicate(course_run):
    gradings, _, files, _ = course_run["first"]
    assert sorted(name for _, name, _ in files) == ["perceptron.py"] * 4  # frank's file was too large to keep
    assert {sha for sha, _, _ in files} == {g[4] for g in gradings if g[1] != "frank"}
    assert {g[1]: g[5] for g in gradings} == {"float32": True, "loops": True, "vectorized": True, "mallory": True,
                                              "frank": False}
    regraded, audit, files_after, _ = course_run["regraded"]
    assert len(regraded) == 10 and files_after == files
    assert [entry[1] for entry in audit].count("regraded") == 5


def test_the_gradebook_alone_ranks_the_same_pairs_with_the_same_scores(course_run):
    result = course_run["db_only"]
    assert result.exit_code == 0, result.output
    root = course_run["root"]
    by_folder, by_gradebook = pairs(root / "by-folder" / "similarity.csv"), pairs(root / "by-gradebook" / "similarity.csv")
    assert len(by_gradebook) == 6  # four students' files: frank's was too large to keep
    assert by_gradebook == by_folder
    assert (root / "by-gradebook" / "similarity.html").read_text(encoding="utf-8").count("<mark>") > 0
    top = by_gradebook[0]
    assert {top["student_a"], top["student_b"]} == {"mallory", "vectorized"} and top["status"] == "flagged"
    assert [row["status"] for row in by_gradebook].count("flagged") == 1
    assert "Mallory Evil (mallory)" in result.output  # the roster's name
    assert "frank: perceptron: the gradebook kept no file of this grading" in result.output
    assert "graded before the gradebook kept files" not in result.output


def test_similarity_never_writes_to_the_gradebook(course_run):
    assert course_run["db_only"].exit_code == 0
    assert course_run["after"] == course_run["before"]
    assert "no grade was changed" in course_run["db_only"].output


def test_students_graded_before_the_gradebook_kept_files_are_named_in_one_note(course_run, tmp_path):
    """float32 and loops as an older dlgrade graded them: no kept file, file_kept NULL."""
    old = tmp_path / "old.db"
    shutil.copy(course_run["db"], old)
    with sqlite3.connect(old) as connection:
        for student in ("float32", "loops"):
            (sha,) = connection.execute("SELECT content_sha256 FROM gradings WHERE student_id = ? LIMIT 1",
                                        (student,)).fetchone()
            connection.execute("DELETE FROM submitted_files WHERE content_sha256 = ?", (sha,))
            connection.execute("UPDATE gradings SET file_kept = NULL WHERE student_id = ?", (student,))
    before = state_of(old)
    result = dlgrade("similarity", "--db", old, "-a", "perceptron", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "graded before the gradebook kept files" in line]
    assert notes == ["2 students not compared, graded before the gradebook kept files: give the download folder "
                     "(dlgrade similarity DOWNLOADS --db ...) to compare them: perceptron: float32, loops"]
    assert "perceptron: 2 students, 1 pair" in result.output  # vectorized and mallory
    assert state_of(old) == before


def test_a_gradebook_without_any_kept_file_is_one_line_and_exit_1(course_run, tmp_path):
    """A gradebook an older dlgrade wrote: no table of files, no column."""
    old = tmp_path / "older.db"
    shutil.copy(course_run["db"], old)
    with sqlite3.connect(old) as connection:
        connection.execute("DROP TABLE submitted_files")
        connection.execute("ALTER TABLE gradings DROP COLUMN file_kept")
    result = dlgrade("similarity", "--db", old, "-a", "perceptron", "--out", tmp_path / "s")
    assert result.exit_code == 1
    assert result.output == ("Error: the gradebook keeps no graded file of perceptron (5 graded before it kept files): "
                             "give the folder of the downloaded submissions\n")
    with Gradebook.open(str(old), create=False) as book:
        assert len(book.gradings()) == 10  # opened and read as any gradebook
    assert not (tmp_path / "s").exists()


def test_without_submissions_or_gradebook_it_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DLGRADE_DB", raising=False)
    result = dlgrade("similarity", "--out", tmp_path / "s")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: give SUBMISSIONS (the downloaded submissions), --db URL (the gradebook's graded files), "
                      "or both"]


# ---------------------------------------------------------------- the kept files read as the folder's
def test_a_kept_notebook_is_read_as_the_same_file_in_a_folder(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell((FIXTURES / "loops" / "perceptron.py").read_text())])
    path = tmp_path / "perceptron.ipynb"
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    from_folder = read_student("ann", "ann", "perceptron", path)
    kept = stored_student("ann", "ann", "perceptron", "perceptron.ipynb", path.read_bytes())
    assert kept == from_folder and any(u.name == "perceptron_fit" for u in kept.units)  # a notebook's cells


def graded_file(student: str, fixture: str | None, verdict: State = State.GRADED, kept: bool | None = True
                ) -> GradedFile:
    content = None if fixture is None else (FIXTURES / fixture / "perceptron.py").read_bytes()
    return GradedFile(student, "perceptron", verdict, kept, None if content is None else "perceptron.py", content)


def test_who_is_compared_and_who_is_named_in_a_note(course):
    files = [graded_file("ann", "loops"), graded_file("bob", "vectorized"), graded_file("cy", "float32"),
             graded_file("dan", None, State.MISSING, False),  # not handed in: not compared, no note
             graded_file("eve", None, State.NOT_GRADABLE, False),  # too large: a note of her own
             graded_file("fay", None, State.GRADED, None),  # graded before the gradebook kept files
             GradedFile("gus", "perceptron", State.GRADED, True, "perceptron.py", b"caf\xe9 = 1\n")]
    names = {"fay": "Fay \x1b[2J[red]Evil[/]"}
    cohorts, notes = analyse_graded(files, names, course, ("perceptron",))
    (cohort,) = cohorts
    assert sorted(s.student for s in cohort.students) == ["ann", "bob", "cy"]
    assert notes[0].startswith("eve: perceptron: the gradebook kept no file of this grading")
    assert notes[1] == "gus: perceptron: perceptron.py is not UTF-8 text (byte 3): save it as UTF-8"
    assert notes[2].endswith("to compare them: perceptron: Fay [2J[red]Evil[/]") and "\x1b" not in notes[2]
    assert notes[2].startswith("1 student not compared, graded before the gradebook kept files")
    assert len(notes) == 3 and not any("dan" in note for note in notes)
