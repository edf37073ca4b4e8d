"""A failure of dlgrade itself is never a grade: nothing is recorded, the run exits 1, the next run grades.

The run-level tests stand threads in for the pool's worker processes (``LocalPool._start`` is
replaced, as in test_batch_pool.py): a worker that dies mid-job, or that cannot start its sandbox,
is then one line of the test instead of a race. The device tests and the CLI run real workers.
"""

from __future__ import annotations

import copy
import errno
import json
import re
import threading
from multiprocessing import Pipe
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import event, text

from autograder.batch import run as batch_run
from autograder.batch.pool import LocalPool, _Slot
from autograder.batch.run import run_batch
from autograder.batch.worker import GradingSettings, GradingWorker
from autograder.gradebook import Gradebook, GradebookError, StudentInfo
from autograder.gradebook.models import Grading
from autograder.sandbox.forkserver import SandboxError
from autograder.states import State
from cli import main
from grading import SEED, grade, plan_for, write_submission

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "tests" / "fixtures" / "submissions"
STUDENTS = ("ann", "bob", "cid")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU: --device cuda works here")


def answer_source() -> str:
    return (FIXTURES / "vectorized" / "perceptron.py").read_text()


def class_folder(root: Path) -> Path:
    for number, student in enumerate(STUDENTS):
        write_submission(root / student, "perceptron", answer_source() + f"\n# {number}\n")
    return root


@pytest.fixture(scope="module")
def graded_document(course, tmp_path_factory):
    """A real native document: the correct perceptron, graded in this process."""
    folder = write_submission(tmp_path_factory.mktemp("one") / "ann", "perceptron", answer_source())
    return grade(folder, plan_for(course, "perceptron")).to_json()


@pytest.fixture
def settings(course):
    return GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=60)


@pytest.fixture(params=["sqlite", "postgresql"])
def gradebook(request, tmp_path):
    """An empty gradebook, on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'grades.db'}"
    else:
        from pg_cluster import postgres_bin

        if postgres_bin() is None:
            pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
        url = request.getfixturevalue("postgres")()
    book = Gradebook.open(url)
    yield book
    book.close()




class ThreadWorker:
    """A worker on the far end of a pipe: 'ready' (or a start failure), then one answer per job.

    ``die_on``: students whose job makes it close its pipe without answering, as a worker process
    killed mid-job does (each only once). ``start_failure``: what it reports instead of 'ready'.
    """

    def __init__(self, document: dict, die_on: set[str], start_failure: str | None = None):
        self.document, self.die_on, self.start_failure = document, die_on, start_failure
        self.connection, theirs = Pipe()
        self.thread = threading.Thread(target=self._serve, args=(theirs,), daemon=True)
        self.thread.start()

    def _serve(self, connection) -> None:
        if self.start_failure is not None:
            connection.send(("failed", self.start_failure))
            return
        connection.send(("ready", "thread"))
        while (job := connection.recv()) is not None:
            if job["student"] in self.die_on:
                self.die_on.discard(job["student"])
                connection.close()  # the coordinator reads EOF: the worker died holding this job
                return
            document = dict(copy.deepcopy(self.document), submission=job["student"])
            connection.send(("done", {"student": job["student"], "sha256": job["sha256"], "verdict": "graded",
                                      "document": document, "worker": "thread"}))

    def is_alive(self) -> bool:  # the Process interface the pool uses
        return self.thread.is_alive()

    def join(self, timeout=None) -> None:
        self.thread.join(timeout)

    def kill(self) -> None:
        pass


def thread_pool(monkeypatch, document: dict, die_on=(), start_failure: str | None = None) -> None:
    doomed = set(die_on)

    def start(self, index):
        worker = ThreadWorker(document, doomed, start_failure)
        return _Slot(worker, worker.connection, index)

    monkeypatch.setattr(LocalPool, "_start", start)


def recorded(gradebook: Gradebook) -> dict[str, str]:
    return {g.student_id: g.verdict for g in gradebook.gradings()}


def run(root, settings, gradebook, **kwargs):
    return run_batch(root, settings, gradebook, workers=1, **kwargs)


# ------------------------------------------------------------ a worker that dies, a sandbox that cannot start

def test_a_worker_killed_mid_job_records_nothing_and_the_next_run_grades_it(monkeypatch, tmp_path, settings,
                                                                            graded_document, gradebook):
    root = class_folder(tmp_path / "subs")
    thread_pool(monkeypatch, graded_document, die_on={"bob"})
    first = run(root, settings, gradebook)
    assert {r["student"]: r["verdict"] for r in first.rows} == {
        "ann": State.GRADED, "bob": State.TOOL_FAILURE, "cid": State.GRADED}
    assert [r["student"] for r in first.tool_failures] == ["bob"]
    assert "worker died" in first.tool_failures[0]["reason"] and first.tool_failures[0]["score"] is None
    assert recorded(gradebook) == {"ann": "graded", "cid": "graded"}  # no score of any kind for bob
    assert "bob" not in {d["student"] for d in gradebook.result_documents()}

    second = run(root, settings, gradebook)  # a plain run: no --regrade
    assert [r["student"] for r in second.rows] == ["bob"] and second.rows[0]["verdict"] == State.GRADED
    assert sorted(second.skipped) == ["ann", "cid"] and second.tool_failures == []
    assert recorded(gradebook) == {"ann": "graded", "bob": "graded", "cid": "graded"}


def test_workers_whose_sandbox_cannot_start_make_every_submission_a_tool_failure(monkeypatch, tmp_path, settings,
                                                                                 graded_document):
    root = class_folder(tmp_path / "subs")
    thread_pool(monkeypatch, graded_document,
                start_failure="SandboxUnavailable: the sandbox cannot run here: bwrap: No permissions")
    with Gradebook.open(tmp_path / "g.db") as gradebook:
        summary = run(root, settings, gradebook)
        assert [r["student"] for r in summary.tool_failures] == list(STUDENTS)
        assert all("the sandbox cannot run here" in r["reason"] for r in summary.rows)
        assert gradebook.gradings() == []
        thread_pool(monkeypatch, graded_document)  # the sandbox works again
        again = run(root, settings, gradebook)
        assert sorted(r["student"] for r in again.rows) == list(STUDENTS) and again.tool_failures == []


def test_a_sandbox_that_cannot_start_a_child_is_a_tool_failure_not_a_zero_and_is_restarted(course, tmp_path):
    worker = GradingWorker(GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=60))
    files = {"perceptron.py": answer_source().encode()}
    try:
        def refuse():
            raise SandboxError("the fork server is gone (it exited)")

        broken = worker.sandbox
        broken.start_child = refuse
        answer = worker.grade({"student": "ann", "sha256": "a" * 64, "files": files})
        assert answer["verdict"] == State.TOOL_FAILURE and answer["document"] is None
        assert "SandboxError: the fork server is gone" in answer["reason"]
        # the next submission gets a new sandbox: one failure of the server costs one submission
        following = worker.grade({"student": "bob", "sha256": "b" * 64, "files": files})
        assert following["verdict"] == State.GRADED and following["document"]["score"] == 100
        assert worker.sandbox is not broken
    finally:
        worker.close()


def test_files_that_cannot_be_staged_are_a_tool_failure(course, monkeypatch):
    worker = GradingWorker(GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=60))
    try:
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(Path, "write_bytes", full)
        answer = worker.grade({"student": "ann", "sha256": "a" * 64, "files": {"perceptron.py": b"x = 1\n"}})
    finally:
        worker.close()
    assert answer["verdict"] == State.TOOL_FAILURE and answer["document"] is None
    assert "No space left on device" in answer["reason"]


# ------------------------------------------------------------ a full disk

def test_outputs_that_cannot_be_written_record_nothing(monkeypatch, tmp_path, settings, graded_document):
    root = class_folder(tmp_path / "subs")
    out = tmp_path / "out"
    thread_pool(monkeypatch, graded_document)
    write_outputs = batch_run._write_outputs

    def disk_full_for_bob(where, student, document, name=""):
        if student == "bob":
            raise OSError(errno.ENOSPC, "No space left on device", str(where / student / "feedback.html"))
        write_outputs(where, student, document, name)

    monkeypatch.setattr(batch_run, "_write_outputs", disk_full_for_bob)
    with Gradebook.open(tmp_path / "g.db") as gradebook:
        summary = run(root, settings, gradebook, out=out)
        assert [r["student"] for r in summary.tool_failures] == ["bob"]
        assert "No space left on device" in summary.tool_failures[0]["reason"]
        assert set(recorded(gradebook)) == {"ann", "cid"}
        monkeypatch.setattr(batch_run, "_write_outputs", write_outputs)  # space again
        again = run(root, settings, gradebook, out=out)
        assert [r["student"] for r in again.rows] == ["bob"] and set(recorded(gradebook)) == set(STUDENTS)
        assert json.loads((out / "bob" / "result.json").read_text())["score"] == graded_document["score"]


def test_a_full_gradebook_records_nothing_half_and_the_next_run_grades_it(monkeypatch, tmp_path, settings,
                                                                          graded_document, gradebook):
    """SQLite's own "database or disk is full" (SQLITE_FULL), from a page limit at the current size;
    on PostgreSQL, a server that refuses every write (a read-only transaction)."""
    root = class_folder(tmp_path / "subs")
    thread_pool(monkeypatch, graded_document)
    sqlite = gradebook.engine.dialect.name == "sqlite"
    with gradebook.engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar() if sqlite else 0

    def full(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}" if sqlite else "SET default_transaction_read_only = on")
        cursor.close()
        dbapi_connection.commit()  # PostgreSQL: a SET in a transaction rolled back would be undone

    event.listen(gradebook.engine, "connect", full)
    gradebook.engine.dispose()  # every new connection has the limit
    summary = run(root, settings, gradebook)
    assert [r["student"] for r in summary.tool_failures] == list(STUDENTS)
    assert all(("full" if sqlite else "read-only") in r["reason"] for r in summary.rows)
    event.remove(gradebook.engine, "connect", full)
    gradebook.engine.dispose()
    assert gradebook.gradings() == []
    with gradebook.engine.connect() as connection:  # no half-written student or submission row either
        assert connection.execute(text("SELECT count(*) FROM submissions")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM students")).scalar() == 0
    again = run(root, settings, gradebook)
    assert again.tool_failures == [] and set(recorded(gradebook)) == set(STUDENTS)


# ------------------------------------------------------------ the gradebook itself never holds a tool failure

def test_the_gradebook_refuses_to_record_a_tool_failure(gradebook, graded_document):
    with pytest.raises(GradebookError, match="tool failure is not a grade"):
        gradebook.record(StudentInfo("ann"), "a" * 64, "x", [], State.TOOL_FAILURE, graded_document)
    assert gradebook.gradings() == [] and gradebook.audit_trail() == []


def test_a_tool_failure_an_older_version_recorded_is_graded_again(gradebook, graded_document):
    """Before states had one vocabulary, a crashed worker was recorded as verdict "error" with 0 points."""
    gradebook.record(StudentInfo("ann"), "a" * 64, "x", [], State.GRADED, graded_document)
    with gradebook.engine.begin() as connection:  # as the older version wrote it
        connection.execute(Grading.__table__.update().values(verdict="error", score=0.0))
    (grading,) = gradebook.gradings()  # one assignment, one grading: the unit is (student, assignment)
    key, assignment = grading.checks_key, grading.assignment
    assert not gradebook.is_graded("ann", assignment, "a" * 64, key, SEED)
    assert not gradebook.graded_index().is_graded("ann", assignment, "a" * 64, key, SEED)  # the batch's index
    assert gradebook.graded_index().recorded_assignments("ann") == set()
    assert gradebook.result_documents() == []
    gradebook.record(StudentInfo("ann"), "a" * 64, "x", [], State.GRADED, graded_document)
    assert gradebook.is_graded("ann", assignment, "a" * 64, key, SEED)
    assert gradebook.graded_index().is_graded("ann", assignment, "a" * 64, key, SEED)
    (document,) = gradebook.result_documents()
    assert document["verdict"] == State.GRADED and document["score"] == graded_document["score"]
    # the new grading is recorded as a first grading, not as a regrade of the tool's failure
    assert [(e.action, e.old) for e in gradebook.audit_trail("ann")] == [("graded", ""), ("graded", "")]


# ------------------------------------------------------------ the command line

@no_gpu
def test_grade_batch_on_cuda_without_a_gpu_records_nothing_exits_1_and_a_plain_run_grades_all(tmp_path):
    root = class_folder(tmp_path / "subs")
    db = tmp_path / "g.db"
    args = ["grade-batch", str(root), "--db", str(db), "-a", "perceptron", "--workers", "1", "--seed", "7"]
    refused = CliRunner().invoke(main, args + ["--device", "cuda"])
    assert refused.exit_code == 1 and "CUDA" in refused.output
    assert "graded" not in refused.output and "/100" not in refused.output
    assert not db.exists()  # nothing recorded, not even an empty gradebook
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    with Gradebook.open(db) as gradebook:
        assert recorded(gradebook) == {s: "graded" for s in STUDENTS}
        assert all(g.score == 100 for g in gradebook.gradings())


@no_gpu
def test_workers_without_the_device_record_nothing_and_the_next_run_grades_all(tmp_path, course):
    """The check the workers make themselves (a cluster's, or a run that skipped the command's)."""
    root = class_folder(tmp_path / "subs")
    on_gpu = GradingSettings(str(course.solutions), ("perceptron",), 7, device="cuda", time_limit=60)
    with Gradebook.open(tmp_path / "g.db") as gradebook:
        summary = run(root, on_gpu, gradebook)
        assert [r["student"] for r in summary.tool_failures] == list(STUDENTS)
        assert all("CUDA" in r["reason"] for r in summary.rows)
        assert gradebook.gradings() == []
        again = run(root, GradingSettings(str(course.solutions), ("perceptron",), 7, time_limit=60), gradebook)
        assert again.tool_failures == [] and recorded(gradebook) == {s: "graded" for s in STUDENTS}


def test_grade_batch_exits_1_and_lists_each_tool_failure(monkeypatch, tmp_path, graded_document):
    root = class_folder(tmp_path / "subs")
    thread_pool(monkeypatch, graded_document, die_on={"bob"})
    db = tmp_path / "g.db"
    result = CliRunner().invoke(main, ["grade-batch", str(root), "--db", str(db), "-a", "perceptron",
                                       "--workers", "1", "--seed", str(SEED)])
    text_out = " ".join(result.output.split())  # rich wraps at the terminal's width
    assert result.exit_code == 1
    assert "tool failure: bob: dlgrade could not grade this submission: its grading worker died" in text_out
    assert "3 submissions: 2 graded, 1 tool failure in " in text_out  # each state once, tool failures too
    assert re.search(r"│ bob\s+│\s+—\s+│ tool failure", result.output)  # a tool failure has no score
    assert result.output.strip().splitlines()[-1].startswith("Error: dlgrade failed on 1 submission ")
    with Gradebook.open(db) as gradebook:
        assert set(recorded(gradebook)) == {"ann", "cid"}


def test_grade_prints_no_score_and_exits_1_when_the_sandbox_fails(monkeypatch, tmp_path):
    import cli

    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def wait(self):
            raise SandboxError("the sandbox cannot run here: bwrap: No permissions")

    monkeypatch.setattr(cli, "start_sandbox", lambda insecure, course=None: Broken())
    folder = write_submission(tmp_path / "ann", "perceptron", answer_source())
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "perceptron", "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: the sandbox cannot run here: bwrap: No permissions"]
    assert not (tmp_path / "r.json").exists()
