"""Checks that share a round trip (grader.run_group) reach exactly the verdicts they reach one at
a time (grader.run_check), including when a member raises, hangs, or the child lies."""

from __future__ import annotations

import time
import types

import numpy as np
import pytest

from autograder.judge import grader
from autograder.judge.checks import GradientCheck, ValueCheck, fixed_inputs
from autograder.judge.rubric import load_rubric
from autograder.judge.session import Session
from autograder.sandbox import shared_sandbox
from grading import grade, plan_for, write_submission


class ReferenceOracle:
    """The smallest oracle: inputs as drawn, expected values from a plain namespace, no mutants."""

    def __init__(self, **functions):
        self.reference = types.SimpleNamespace(**functions)

    def inputs(self, check, key, draw, rng):
        return draw(rng)

    def expected(self, check, key, compute):
        return compute(self.reference)

    def variants(self, check, key, compute):
        return []


ORACLE = ReferenceOracle(square=lambda x: x ** 2, hang=lambda x: x ** 2, grad=lambda x: 2 * x, forward=lambda x: x ** 2)
# Integer inputs: the numeric check's shifted inputs are the only non-integer ones.
STUDENT = """
import numpy as np
def square(x):
    return x ** 2
def forward(x):
    if not np.all(x == np.round(x)):
        raise ValueError("shifted input")
    return x ** 2
def wrong_grad(x):
    return 3 * x
def grad(x):
    return 2 * x
def hang(x):
    while True:
        pass
"""


def gradient_check(name, function):
    return GradientCheck(name=name, exercise=f"m.{function}", points=2, inputs=fixed_inputs(x=np.array([1.0, 2.0])),
                         analytic=lambda ns, x: getattr(ns, function)(x), expect=lambda ns, x: ns.grad(x),
                         forward=lambda ns, x: ns.forward(x), objective=lambda out, x: float(np.sum(out)), wrt=("x",))


def value_check(name, function, timeout=5.0):
    return ValueCheck(name=name, exercise=f"m.{function}", points=1, inputs=fixed_inputs(x=np.array([3.0, 4.0])),
                      call=lambda ns, x: getattr(ns, function)(x), timeout=timeout)


def verdicts(results):
    return [(r.name, r.outcome, r.score, r.message) for r in results]


def run(checks, grouped: bool):
    with Session(shared_sandbox().start_child) as session:
        session.load("m", [STUDENT], "m.py")
        if grouped:
            return grader.run_checks(checks, session, ORACLE, 1, "m")
        return [grader.run_check(check, session, ORACLE, 1, "m") for check in checks]


def test_a_forward_that_raises_keeps_the_verdict_of_one_check_at_a_time():
    checks = [value_check("square", "square"),
              gradient_check("wrong analytic gradient, forward raises on shifted inputs", "wrong_grad"),
              gradient_check("right analytic gradient, forward raises on shifted inputs", "grad"),
              value_check("square again", "square")]
    grouped, alone = run(checks, True), run(checks, False)
    assert verdicts(grouped) == verdicts(alone)
    # A right gradient passes: the forward is not this check's business (it is graded on its own).
    assert [r.outcome for r in grouped] == ["passed", "failed", "passed", "passed"]
    assert "could not be differentiated numerically" in grouped[1].message
    # A hidden check: the forward's exception shows by its kind at most, never its message (it could carry the inputs).
    assert "shifted input" not in grouped[1].message


def test_a_hang_inside_a_group_times_out_that_test_only():
    checks = [value_check("square", "square"), value_check("hangs", "hang", timeout=1.0),
              value_check("square again", "square")]
    started = time.monotonic()
    results = run(checks, True)
    assert [r.outcome for r in results] == ["passed", "timeout", "passed"]
    assert time.monotonic() - started < 15


def test_a_child_that_answers_a_group_with_the_wrong_shape_gets_errors_not_a_crash():
    liar = STUDENT + ("\nimport autograder.sandbox.child as served\n"
                      "served.Child.handle = lambda self, request: {'ok': True, 'answers': [], 'value': None}\n")
    with Session(shared_sandbox().start_child) as session:
        session.load("m", [liar], "m.py")
        results = grader.run_checks([value_check("a", "square"), value_check("b", "square")], session, ORACLE, 1, "m")
    assert [r.outcome for r in results] == ["failed", "failed"]  # None is no square; nothing forged passes


def grade_with_bugs(tmp_path, course, monkeypatch, bugs: dict[str, list[tuple[str, str]]]):
    """The model answers with every (old, new) replacement made, graded grouped and then one check at a
    time: the grouped result, once both agree on every verdict."""
    folder = tmp_path / "student"
    for assignment, replacements in bugs.items():
        source = course.answer_source(assignment).read_text()
        for old, new in replacements:
            assert old in source, f"{assignment}: the bug's target {old!r} is not in the model answer"
            source = source.replace(old, new)
        write_submission(folder, assignment, source)
    plan = plan_for(course, *bugs)
    grouped = grade(folder, plan)
    monkeypatch.setattr(grader, "GROUP_SIZE", 1)
    alone = grade(folder, plan)
    assert verdicts(grouped.tests) == verdicts(alone.tests)
    return grouped


def test_every_check_of_a_buggy_submission_agrees_grouped_and_one_at_a_time(tmp_path, course, monkeypatch):
    grouped = grade_with_bugs(tmp_path, course, monkeypatch, {
        "mlp": [("dZ2 = (Y - T) / N * sigmoid_backward(Y)", "dZ2 = (Y - T) * sigmoid_backward(Y)")],
        "activations": [("return np.where(np.asarray(z) > 0, dout, 0)", "return np.where(np.asarray(z) >= 0, dout, 1)")]})
    assert 0 < grouped.score < grouped.max_score


@pytest.mark.parametrize("size", [2, 16])
def test_group_sizes_change_no_verdict(tmp_path, course, monkeypatch, size):
    plan = plan_for(course, "losses")
    folder = write_submission(tmp_path, "losses", course.answer_source("losses").read_text())
    monkeypatch.setattr(grader, "GROUP_SIZE", size)
    result = grade(folder, plan)
    assert result.score == result.max_score


def test_one_fetch_probes_share_round_trips_and_still_name_the_mistake(tmp_path, course, monkeypatch):
    grouped = grade_with_bugs(tmp_path, course, monkeypatch, {
        "activations": [("    z = _as_float(z)\n    return np.where(z > 0, z, 0)",
                         "    z = _as_float(z)\n    np.maximum(z, 0, out=z)\n    return z")],
        "initializers": [("    return rng.normal(0.0, std, size=(fan_in, fan_out))",
                          "    return np.random.normal(0.0, std, size=(fan_in, fan_out))")]})
    messages = {t.name: t.message for t in grouped.tests if t.outcome == "failed"}
    assert "modified its argument 'z' in place" in messages["relu leaves its inputs unchanged"]
    assert "use the rng argument" in messages["he_normal draws only from the rng it is given"]


def test_the_optimizers_in_place_probes_fetch_once_and_still_name_the_mistake(tmp_path, course, monkeypatch):
    probes = [c for c in load_rubric(course, "optimizers").checks if "in place" in c.name or "float32" in c.name]
    assert len(probes) == 8 and all(c.groupable for c in probes)
    grouped = grade_with_bugs(tmp_path, course, monkeypatch, {"optimizers": [
        ("            p -= self.lr * update\n", "            params[name] = p - self.lr * update\n"),  # SGD rebinds
        ("            g = _l2_gradient(grads[name], p, self.weight_decay)\n            state = self.state.setdefault(\n",
         "            grads[name] *= 1.001\n"  # Adam scales the caller's gradient
         "            g = _l2_gradient(grads[name], p, self.weight_decay)\n            state = self.state.setdefault(\n")]})
    messages = {t.name: t.message for t in grouped.tests if t.outcome == "failed"}
    assert "replaced params['W1'] by a new array" in messages["SGD.step updates params in place and leaves grads unchanged"]
    assert "no longer float32" in messages["SGD with float32 parameters"]
    assert "modified grads in place" in messages["Adam.step updates params in place and leaves grads unchanged"]
    passed = {t.name for t in grouped.tests if t.outcome == "passed"}
    assert {"Adagrad.step updates params in place and leaves grads unchanged",
            "RMSProp with float32 parameters"} <= passed  # the probes fail only what is wrong
