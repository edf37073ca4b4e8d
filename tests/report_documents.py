"""Native result documents for the report and feedback tests: real gradings of a small perceptron batch,
and documents with training curves built here (the training check that records them is not in this tree)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

from autograder.judge.rubric import load_rubric
from grading import grade, plan_for, write_submission

NO_BIAS = "perceptron.perceptron_predict.no_bias"


def graded_batch(course, folder: Path) -> list[dict]:
    """Five students on perceptron: two correct styles, two with the no-bias mistake, one syntax error,
    and a copy of a correct one whose first test timed out (as the grader writes a timeout)."""
    plan = plan_for(course, "perceptron")
    (mutant,) = [m for m in load_rubric(course, "perceptron").mutants if m.id == NO_BIAS]
    answer = course.answer_source("perceptron").read_text()
    fixtures = Path(__file__).parent / "fixtures" / "submissions"
    sources = {
        "ada": (fixtures / "vectorized" / "perceptron.py").read_text(),
        "bob": (fixtures / "loops" / "perceptron.py").read_text(),
        "cy": answer + "\n" + mutant.submission_source,
        "dee": answer + "\n" + mutant.submission_source,
        "eve": "def step(x:\n    return x\n",
    }
    documents = []
    for student, source in sources.items():
        document = grade(write_submission(folder / student, "perceptron", source), plan).to_json()
        document["student"] = student
        documents.append(document)
    slow = copy.deepcopy(documents[0])
    slow["student"] = "fay"
    first = slow["tests"][0]
    first.update(outcome="timeout", score=0.0, message="did not finish within 5 s: is there an infinite loop?")
    slow["assignments"][0]["score"] -= first["max_score"]
    slow["score"] -= first["max_score"]
    slow["duration_s"] = 5.2
    documents.append(slow)
    return documents


# ---------------------------------------------------------------- training curves
# A training check as the outcome check records it: the student's per-epoch losses, and the
# reference's band over seeds (its spread per epoch). Shapes follow a softmax classifier on 10
# classes: the losses start near ln(10) = 2.3 and fall towards a floor.
TRAINING_CHECK = "training of the MLP on digits, seed 0"
REFERENCE_EPOCHS = 30


def _decay(epoch: int, floor: float) -> float:
    return floor + (2.3 - floor) * math.exp(-epoch / 5)


def reference_band(epochs: int = REFERENCE_EPOCHS) -> dict:
    """The reference's spread per epoch, as JSON: 10 % around a falling training and validation loss."""
    band = {}
    for name, floor in (("training loss", 0.05), ("validation loss", 0.25)):
        centre = [_decay(e, floor) for e in range(1, epochs + 1)]
        band[name] = {"low": [0.9 * c for c in centre], "high": [1.1 * c for c in centre]}
    return band


def loss_curves(kind: str, epochs: int = REFERENCE_EPOCHS) -> dict[str, list[float]]:
    """A run's losses per epoch, as JSON: ``good`` (inside the band), ``overfit`` (validation lowest at
    epoch 12, rising after, training falling all along), ``early`` (the same, stopped by early stopping
    at epoch 17), ``flat`` (hardly learns: never converges) or ``diverged`` (NaN from epoch 8)."""
    training = [_decay(e, 0.05) * 1.02 for e in range(1, epochs + 1)]
    validation = [_decay(e, 0.25) * 0.98 for e in range(1, epochs + 1)]
    if kind in ("overfit", "early"):
        training = [_decay(e, 0.0) for e in range(1, epochs + 1)]
        validation = [_decay(min(e, 12), 0.25) + 0.02 * max(e - 12, 0) for e in range(1, epochs + 1)]
        if kind == "early":
            training, validation = training[:17], validation[:17]
    elif kind == "flat":
        training = [2.3 - 0.001 * e for e in range(1, epochs + 1)]
        validation = [2.31 - 0.001 * e for e in range(1, epochs + 1)]
    elif kind == "diverged":
        training = [_decay(e, 0.05) * 1.5 ** max(e - 4, 0) for e in range(1, 8)] + [float("nan")] * (epochs - 7)
        validation = [_decay(e, 0.25) * 1.5 ** max(e - 4, 0) for e in range(1, 8)] + [float("nan")] * (epochs - 7)
    elif kind != "good":
        raise ValueError(kind)
    return {"training loss": training, "validation loss": validation}


def training_document(student: str, series: dict | None, band: dict | None = None, *,
                      assignment: str = "training", test: str = TRAINING_CHECK, score: float = 40.0) -> dict:
    """A native result document of one student with one training check (``series`` None: a document of
    the same assignment without curves), and a plain value check beside it."""
    curves = None if series is None else {"series": series, "band": reference_band() if band is None else band}
    tests = [
        {"name": "train_val_test_split of 100 samples", "assignment": assignment, "exercise": f"{assignment}.split",
         "score": 10.0, "max_score": 10.0, "outcome": "passed", "message": "", "mistake": None,
         "visibility": "public", "hint": "", "details": "", "advice": [], "mistake_title": "", "curves": None},
        {"name": test, "assignment": assignment, "exercise": f"{assignment}.train", "score": score,
         "max_score": 50.0, "outcome": "passed" if score == 50.0 else "failed",
         "message": "" if score == 50.0 else f"test accuracy below the full-marks line ({score:g} of 50 points)",
         "mistake": None, "visibility": "hidden", "hint": "", "details": "", "advice": [], "mistake_title": "",
         "curves": curves},
    ]
    total = sum(t["score"] for t in tests)
    return {"student": student, "submission": f"{student}/{assignment}.py", "score": total, "max_score": 60.0,
            "status": "graded", "reason": "",
            "assignments": [{"assignment": assignment, "status": "graded", "reason": "", "file": f"{assignment}.py",
                             "score": total, "max_score": 60.0, "notes": []}],
            "tests": tests, "seed": 1234, "device": "cpu", "checks_version": {assignment: "test"},
            "dlgrade_version": "0.1.0", "insecure": False, "duration_s": 3.5, "timing_s": {}}
