"""The gradebook keeps the graded files: once per content hash, in the grading's transaction, with
a constant number of statements; nothing for a file too large to keep; an older gradebook gets the
table and column on open, and its gradings have no file. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, inspect, select

from autograder.gradebook import Gradebook, GradebookError, StudentInfo
from autograder.gradebook.models import SubmittedFile
from autograder.gradebook.store import GradebookWriteError, StagedFile
from autograder.states import State
from autograder.submission import MAX_SOURCE_BYTES, content_sha256

PERCEPTRON = StagedFile("perceptron.py", b"import numpy as np\n\ndef perceptron_predict(w, x):\n    return x @ w\n")
MLP = StagedFile("mlp.ipynb", b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')


@pytest.fixture(params=["sqlite", "postgresql"])
def gradebook(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'grades.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres")()
    book = Gradebook.open(url)
    yield book
    book.close()


def document(*assignments: str) -> dict:
    """A native result of ``assignments``, each half right."""
    entries = [{"assignment": a, "score": 50.0, "max_score": 100.0, "status": "graded", "file": f"{a}.py"}
               for a in assignments]
    return {"student": "", "seed": 1, "score": 50.0 * len(entries), "max_score": 100.0 * len(entries),
            "status": "graded", "tests": [], "assignments": entries, "checks_version": {a: "v1" for a in assignments}}


def record(book: Gradebook, student: str, files: dict[str, StagedFile] | None, *assignments: str,
           hashes: dict[str, str] | None = None, verdict: str = "graded") -> list[int]:
    hashes = hashes if hashes is not None else {a: f.sha256 for a, f in (files or {}).items()}
    return book.record(StudentInfo(student), "s" * 64, student, [], verdict, document(*assignments), hashes=hashes,
                       files=files)


def kept(book: Gradebook) -> list[tuple[str, str, bytes, int]]:
    with book.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(
            select(SubmittedFile.content_sha256, SubmittedFile.name, SubmittedFile.content, SubmittedFile.size)))


def file_kept(book: Gradebook) -> list[tuple[str, str, bool | None]]:
    return [(g.student_id, g.assignment, g.file_kept) for g in book.gradings()]


def test_each_graded_file_is_kept_once_by_its_content_hash(gradebook):
    record(gradebook, "ann", {"perceptron": PERCEPTRON, "mlp": MLP}, "perceptron", "mlp")
    assert kept(gradebook) == sorted([(PERCEPTRON.sha256, "perceptron.py", PERCEPTRON.content, len(PERCEPTRON.content)),
                                      (MLP.sha256, "mlp.ipynb", MLP.content, len(MLP.content))])
    assert PERCEPTRON.sha256 == content_sha256("perceptron.py", PERCEPTRON.content)  # the intake's hash
    assert {g.assignment: g.content_sha256 for g in gradebook.gradings()} == {"perceptron": PERCEPTRON.sha256,
                                                                              "mlp": MLP.sha256}
    before = kept(gradebook)
    record(gradebook, "ann", {"perceptron": PERCEPTRON}, "perceptron")  # a regrade of the same file
    record(gradebook, "bob", {"perceptron": PERCEPTRON}, "perceptron")  # another student, the same bytes
    assert kept(gradebook) == before
    assert len(gradebook.gradings()) == 4 and all(k for _, _, k in file_kept(gradebook))
    (graded,) = [f for f in gradebook.graded_files(["perceptron"]) if f.student == "bob"]
    assert (graded.name, graded.content, graded.kept, graded.verdict) == ("perceptron.py", PERCEPTRON.content, True,
                                                                          State.GRADED)


def test_keeping_files_takes_one_query_and_one_insert_per_submission(gradebook):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "submitted_files" in statement:
            statements.append(statement.split()[0].upper())

    event.listen(gradebook.engine, "before_cursor_execute", seen)
    files = {a: StagedFile(f"{a}.py", f"def {a}(): return {n}\n".encode())
             for n, a in enumerate(("perceptron", "mlp", "losses", "dropout"))}
    record(gradebook, "ann", files, *files)
    assert statements == ["SELECT", "INSERT"]
    statements.clear()
    record(gradebook, "ann", files, *files)  # all present already: nothing to write
    assert statements == ["SELECT"]
    event.remove(gradebook.engine, "before_cursor_execute", seen)
    assert len(kept(gradebook)) == 4


def test_a_file_another_run_kept_in_the_meantime_is_no_conflict(gradebook, monkeypatch):
    """Two runs recording the same bytes at once: the second one's INSERT skips the file."""
    record(gradebook, "ann", {"perceptron": PERCEPTRON}, "perceptron")
    monkeypatch.setattr(Gradebook, "_kept_already", staticmethod(lambda session, hashes: set()))
    record(gradebook, "bob", {"perceptron": PERCEPTRON}, "perceptron")
    assert len(kept(gradebook)) == 1 and len(gradebook.gradings()) == 2


def test_a_file_too_large_or_missing_keeps_nothing(gradebook):
    """The intake stages no file over its limit: the grading says it kept none; a file over the limit
    given anyway is not kept either."""
    too_large = {"perceptron": "t" * 64}  # the intake's hash of why there is no file
    record(gradebook, "ann", {}, "perceptron", hashes=too_large)
    huge = StagedFile("mlp.py", b"#" * (MAX_SOURCE_BYTES + 1))
    record(gradebook, "bob", {"mlp": huge}, "mlp")
    record(gradebook, "cat", None, "perceptron", hashes={"perceptron": "c" * 64})  # as before files were kept
    assert kept(gradebook) == []
    assert file_kept(gradebook) == [("ann", "perceptron", False), ("bob", "mlp", False), ("cat", "perceptron", None)]
    assert [(f.student, f.kept, f.name, f.content) for f in gradebook.graded_files(["perceptron", "mlp"])] == [
        ("ann", False, None, None), ("bob", False, None, None), ("cat", None, None, None)]


def test_a_file_that_is_not_the_content_graded_is_refused(gradebook):
    with pytest.raises(GradebookError, match="perceptron: the file given to keep is not the content graded"):
        record(gradebook, "ann", {"perceptron": PERCEPTRON}, "perceptron", hashes={"perceptron": "0" * 64})
    assert gradebook.gradings() == [] and kept(gradebook) == []


def test_graded_files_are_those_of_the_latest_grading_of_each_student_and_assignment(gradebook):
    newer = StagedFile("perceptron.py", PERCEPTRON.content + b"# again\n")
    record(gradebook, "ann", {"perceptron": PERCEPTRON, "mlp": MLP}, "perceptron", "mlp")
    record(gradebook, "ann", {"perceptron": newer}, "perceptron")
    record(gradebook, "bob", {"perceptron": PERCEPTRON}, "perceptron")
    found = [(f.student, f.assignment, f.content) for f in gradebook.graded_files(["perceptron", "mlp"])]
    assert found == [("ann", "mlp", MLP.content), ("ann", "perceptron", newer.content),
                     ("bob", "perceptron", PERCEPTRON.content)]
    assert [f.assignment for f in gradebook.graded_files(["mlp"])] == ["mlp"]


def test_a_write_that_fails_keeps_no_file_and_no_grading(gradebook, monkeypatch):
    """The files are part of the grading's transaction."""
    def fail(session, files):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Gradebook, "_keep_files", staticmethod(fail))
    with pytest.raises(GradebookWriteError):
        record(gradebook, "ann", {"perceptron": PERCEPTRON}, "perceptron")
    assert gradebook.gradings() == [] and gradebook.audit_trail() == []


def test_an_older_gradebook_gets_the_table_and_column_on_open(tmp_path):
    """A gradebook an older dlgrade wrote (no submitted_files table, no gradings.file_kept) opens:
    both are added in place, its gradings keep their grades and have no file, and new ones keep theirs."""
    path = tmp_path / "old.db"
    with Gradebook.open(str(path)) as book:
        record(book, "ann", None, "perceptron", hashes={"perceptron": "a" * 64})
    with sqlite3.connect(path) as connection:  # as the older dlgrade left it
        connection.execute("DROP TABLE submitted_files")
        connection.execute("ALTER TABLE gradings DROP COLUMN file_kept")
    with Gradebook.open(str(path), create=False) as book:
        inspector = inspect(book.engine)
        assert inspector.has_table("submitted_files")
        assert "file_kept" in {c["name"] for c in inspector.get_columns("gradings")}
        assert [(g.student_id, g.score, g.file_kept) for g in book.gradings()] == [("ann", 50.0, None)]
        record(book, "bob", {"perceptron": PERCEPTRON}, "perceptron")
        assert [(f.student, f.kept, f.content) for f in book.graded_files(["perceptron"])] == [
            ("ann", None, None), ("bob", True, PERCEPTRON.content)]
