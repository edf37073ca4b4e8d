"""Every attack of :mod:`batch_attacks` in ONE grade-batch run with honest classmates: the run
finishes, each attack gets its verdict and 0 points, nothing leaks to the TA's terminal, the
disk or the exports, and every honest student keeps exactly the grade a run without attackers
gives them."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from autograder.batch.run import print_summary, run_batch
from autograder.batch.worker import GradingSettings
from autograder.console import print_self_check, print_summary as print_result
from autograder.gradebook import Gradebook
from autograder.gradebook.export import document_result, export
from autograder.judge.rubric import load_rubric
from redteam.batch_attacks import BATCH_ATTACKS, MARKUP
from redteam.harness import HONEST

SEED = 4343
TIME_LIMIT = 120.0  # per submission: generous, so that a loaded machine changes no verdict
FORBIDDEN = ("\x1b", "\x07", "\u202e", "\x9b")  # ESC, BEL, RLO, CSI: nothing that drives a terminal
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def honest_class(root: Path, course) -> None:
    answer = HONEST.read_text()
    mutant = load_rubric(course, "perceptron").mutants[0]
    for name, text in {"alice": answer, "carol": answer + "\n\n" + mutant.submission_source, "José": answer}.items():
        (root / name).mkdir(parents=True)
        (root / name / "perceptron.py").write_text(text)


def grade_class(root: Path, course, out: Path) -> dict:
    gradebook = Gradebook.open(root.parent / f"{root.name}.db")
    console = Console(record=True, width=200, file=open(os.devnull, "w"), force_terminal=True)
    settings = GradingSettings(str(course.solutions), ("perceptron",), SEED, time_limit=TIME_LIMIT)
    summary = run_batch(root, settings, gradebook, out=out, workers=2, console=console)
    print_summary(summary, console)
    documents = {d["student"]: d for d in gradebook.result_documents()}
    for document in documents.values():
        print_result(document_result(document), console)
        print_self_check(document_result(document), console)
    exports = [export(gradebook, kind, out.parent / f"{out.name}-{kind}.csv")[0] for kind in ("csv", "canvas")]
    gradebook.close()
    return {"root": root, "summary": summary, "rows": {r["student"]: r for r in summary.rows}, "documents": documents,
            "shown": console.export_text(styles=False), "exports": exports, "out": out,
            "db_bytes": (root.parent / f"{root.name}.db").stat().st_size}


def grade_of(document: dict) -> tuple:
    return document["score"], [(t["name"], t["outcome"], t["score"]) for t in document["tests"]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, course):
    base = tmp_path_factory.mktemp("batch-redteam")
    honest_class(base / "honest", course)
    honest_class(base / "attacked", course)
    for attack in BATCH_ATTACKS:
        attack.plant(base / "attacked")
    return {"baseline": grade_class(base / "honest", course, base / "honest-out"),
            "attacked": grade_class(base / "attacked", course, base / "attacked-out")}


@pytest.mark.parametrize("attack", BATCH_ATTACKS, ids=lambda attack: attack.name)
def test_the_batch_attack_earns_nothing_leaks_nothing_and_costs_no_one(attack, runs):
    run, baseline = runs["attacked"], runs["baseline"]
    assert attack.students
    for student in attack.students:
        row = run["rows"][student]
        assert row["verdict"] == attack.verdict, (student, row["reason"], row["notes"])
        assert row["score"] == 0
        assert attack.says in " ".join([row["reason"]] + list(row["notes"])), (row["reason"], row["notes"])
        document = run["documents"][student]
        assert len(json.dumps(document)) < 1_000_000, "a submission's output is unbounded"
        assert not any(c in json.dumps(document, ensure_ascii=False) for c in FORBIDDEN)
    if attack.check is not None:
        attack.check(run)
    # Nothing leaked to the terminal, the exports or the disk.
    assert not any(c in run["shown"] for c in FORBIDDEN)
    for path in run["exports"]:
        with path.open(newline="", encoding="utf-8") as stream:
            cells = [cell for row in csv.reader(stream) for cell in row]
        assert not [c for c in cells if c.startswith(FORMULA)], "a formula reached an export"
    assert run["db_bytes"] < 50 << 20
    # Every honest student kept the exact grade of a run without attackers.
    for student in ("alice", "carol", "José"):
        assert grade_of(run["documents"][student]) == grade_of(baseline["documents"][student]), student
    assert baseline["documents"]["José"]["score"] == baseline["documents"]["José"]["max_score"]


def test_markup_in_a_message_is_shown_as_written(runs):
    assert MARKUP[:30] in runs["attacked"]["shown"]


def test_there_are_at_least_twelve_batch_attacks():
    assert len({attack.name for attack in BATCH_ATTACKS}) == len(BATCH_ATTACKS) >= 12
