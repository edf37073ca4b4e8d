"""Native result documents for the report tests: real gradings of a small perceptron batch."""

from __future__ import annotations

import copy
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
