"""Dask backend: a LocalCluster on loopback (2 worker processes) grades like the local pool."""

import os
from pathlib import Path

import pytest

from autograder.batch.run import run_batch
from autograder.batch.worker import GradingSettings
from autograder.gradebook import Gradebook

distributed = pytest.importorskip("distributed", reason='Dask is not installed: pip install "dlgrade[cluster]"')

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "submissions"


def comparable(document):
    """What must agree between backends: scores, outcomes, mistakes, messages (not timings)."""
    return (document["score"], document["status"], document["seed"], document["checks_version"],
            [(t["name"], t["outcome"], t["score"], t["mistake"], t["message"]) for t in document["tests"]])


def test_dask_cluster_results_equal_the_local_run(tmp_path, course):
    from autograder.judge.rubric import load_rubric

    mutant = load_rubric(course, "perceptron").mutants[1]
    sources = {
        "alice": (FIXTURES / "vectorized" / "perceptron.py").read_text(),
        "bob": (FIXTURES / "loops" / "perceptron.py").read_text() + "\n" + mutant.submission_source,
        "carol": "def step(z):\n    raise ValueError('no')\n",
    }
    for student, source in sources.items():
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / "perceptron.py").write_text(source)
    settings = GradingSettings(str(course.solutions), ("perceptron",), 99, time_limit=120)
    with Gradebook.open(tmp_path / "local.db") as book:
        run_batch(tmp_path / "subs", settings, book, workers=1)
        local = {d["student"]: comparable(d) for d in book.result_documents()}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with Gradebook.open(tmp_path / "dask.db") as book:
            summary = run_batch(tmp_path / "subs", settings, book, scheduler=cluster.scheduler_address)
            remote = {d["student"]: comparable(d) for d in book.result_documents()}
        with distributed.Client(cluster) as client:
            worker_pids = {str(pid) for pid in client.run(os.getpid).values()}
    assert remote == local and set(local) == set(sources)
    assert local["alice"][0] == 100 and local["bob"][0] < 100
    assert {row["worker"].rsplit(":", 1)[1] for row in summary.rows} <= worker_pids  # graded on the cluster
