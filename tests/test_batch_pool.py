"""The local pool's hand-offs and the coordinator's torch-free plan.

The pool tests stand a thread with a pipe in for each worker process (``LocalPool._start`` is
replaced), so they watch the order of the coordinator's messages without grading anything.
"""

import os
import subprocess
import sys
import threading
from multiprocessing import Pipe

import pytest
import torch

from autograder.batch.pool import LocalPool, _Slot
from autograder.batch.worker import GradingSettings, GradingWorker, build_plan, outline_plan
from support import ASSIGNMENTS

WAIT_S = 10.0  # how long a test waits for a message that must come


class FakeWorker:
    """A worker thread on the far end of a pipe: 'ready', then 'done' for each job, until None."""

    def __init__(self, index: int):
        self.index = index
        self.connection, theirs = Pipe()
        self.received: list[str] = []
        self.got_job = threading.Condition()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(theirs,), daemon=True)
        self.thread.start()

    def _serve(self, connection) -> None:
        connection.send(("ready", f"fake:{self.index}"))
        while True:
            job = connection.recv()
            if job is None:
                self.stopped.set()
                return
            with self.got_job:
                self.received.append(job["student"])
                self.got_job.notify_all()
            connection.send(("done", {"student": job["student"], "verdict": "graded", "document": {}}))

    def wait_for(self, student: str) -> bool:
        with self.got_job:
            return self.got_job.wait_for(lambda: student in self.received, timeout=WAIT_S)

    # the Process interface the pool uses
    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout=None) -> None:
        self.thread.join(timeout)

    def kill(self) -> None:
        pass


def fake_pool(monkeypatch, workers: int) -> tuple[LocalPool, list[FakeWorker]]:
    fakes: list[FakeWorker] = []

    def start(self, index):
        fake = FakeWorker(index)
        fakes.append(fake)
        return _Slot(fake, fake.connection, index)

    monkeypatch.setattr(LocalPool, "_start", start)
    return LocalPool(GradingSettings("unused"), workers), fakes


def jobs(*students):
    return [{"student": s, "sha256": s} for s in students]


def test_a_worker_gets_its_next_job_before_its_last_answer_is_recorded(monkeypatch):
    pool, fakes = fake_pool(monkeypatch, workers=1)
    handed_out_first = {}

    def on_result(job, answer):
        if job["student"] == "ann":  # recording ann's answer: bea must already be on the worker
            handed_out_first["bea"] = fakes[0].wait_for("bea")

    pool.run(jobs("ann", "bea"), on_result)
    assert handed_out_first == {"bea": True}
    assert fakes[0].received == ["ann", "bea"]


def test_every_worker_is_asked_to_stop_before_the_pool_waits_for_any(monkeypatch):
    pool, fakes = fake_pool(monkeypatch, workers=2)
    asked_together = []
    join = FakeWorker.join

    def join_after_all_were_asked(self, timeout=None):
        asked_together.append(all(f.stopped.wait(WAIT_S) for f in fakes))
        join(self, timeout)

    monkeypatch.setattr(FakeWorker, "join", join_after_all_were_asked)
    answers = []
    pool.run(jobs("ann", "bea", "cid"), lambda job, answer: answers.append(job["student"]))
    assert sorted(answers) == ["ann", "bea", "cid"]
    assert asked_together and all(asked_together)
    assert not any(f.is_alive() for f in fakes)


def test_the_coordinators_plan_has_the_workers_rubrics_without_torch(course):
    settings = GradingSettings(str(course.solutions), ASSIGNMENTS, seed=7)
    outline, full = outline_plan(settings), build_plan(settings)
    assert list(outline.rubrics) == list(full.rubrics)
    for assignment, (rubric, oracle) in outline.rubrics.items():
        full_rubric = full.rubrics[assignment][0]
        assert oracle is None and rubric.mutants == () and full_rubric.mutants
        assert rubric.version == full_rubric.version  # the gradebook's "same checks" key does not change
        assert [(c.name, c.points, c.visibility) for c in rubric.checks] == \
               [(c.name, c.points, c.visibility) for c in full_rubric.checks]
    assert (outline.seed, outline.device) == (full.seed, full.device)

    # In a fresh interpreter: building the outline (as grade-batch's coordinator does) never imports torch.
    code = ("import sys; from autograder.batch.worker import GradingSettings, outline_plan; "
            f"outline_plan(GradingSettings({str(course.solutions)!r})); "
            "sys.exit('torch was imported' if 'torch' in sys.modules else 0)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to tell the worker's from the others")
def test_a_pinned_worker_keeps_its_sandbox_server_on_its_own_cpu(course):
    cpu = max(os.sched_getaffinity(0))
    seen, threads = {}, torch.get_num_threads()

    def in_a_worker_thread():  # affinity is per thread: the test's own thread stays unpinned
        worker = GradingWorker(GradingSettings(str(course.solutions), ("perceptron",)), cpu)
        try:
            seen["worker"] = os.sched_getaffinity(0)
            seen["server"] = os.sched_getaffinity(worker.sandbox.server.process.pid)
            child = worker.sandbox.start_child()
            seen["child answers"] = child.request({"op": "get", "value": 7}, 10.0).get("value")
            child.kill()
        finally:
            worker.close()

    thread = threading.Thread(target=in_a_worker_thread)
    thread.start()
    thread.join()
    torch.set_num_threads(threads)
    assert seen == {"worker": {cpu}, "server": {cpu}, "child answers": 7}
