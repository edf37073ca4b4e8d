"""The judge's side withstands whatever a child answers, and its own work on an answer is bounded:
an answer of the wrong kind is a verdict for its test alone; shapes, dtypes and sizes are checked
before any conversion; known mistakes share one conversion; each test's deadline covers the
judge's work, and each submission has a CPU budget of the judge's time."""

from __future__ import annotations

import time
import tracemalloc
import types

import numpy as np
import pytest

from autograder.judge import compare, grader
from autograder.judge.checks import BehaviourCheck, OneFetchProbe, Trial, ValueCheck, fixed_inputs
from autograder.judge.compare import compare_arrays, matches, numeric_array
from autograder.judge.mutants import Mutant
from autograder.judge.results import ERROR, FAILED, PASSED, TIMEOUT
from autograder.judge import session as judge_session
from autograder.judge.session import BudgetExceeded, Session


class ScriptedChild:
    """A child that answers every batch with the next scripted document (its value, or a whole answer)."""

    isolated = True
    alive = True

    def __init__(self, *answers):
        self.answers = list(answers)

    def request(self, document, timeout):
        if document["op"] == "load":
            return {"ok": True, "warnings": []}
        answer = self.answers.pop(0)
        return answer if isinstance(answer, Whole) else {"ok": True, "warnings": [], "value": answer}

    def kill(self):
        pass


class Whole(dict):
    """A scripted document that is the whole answer, not only its value."""


class Oracle:
    def __init__(self, mutants=(), delay=0.0):
        self.reference = types.SimpleNamespace(square=lambda x: x ** 2)
        self.mutants, self.delay = mutants, delay

    def inputs(self, check, key, draw, rng):
        return draw(rng)

    def expected(self, check, key, compute):
        return compute(self.reference)

    def variants(self, check, key, compute):
        time.sleep(self.delay)
        return [(mutant, np.array([0.0, 0.0])) for mutant in self.mutants]


def square_check(name="square", timeout=5.0):
    return ValueCheck(name=name, exercise="m.square", points=1, inputs=fixed_inputs(x=np.array([3.0, 4.0])),
                      call=lambda ns, x: ns.square(x), timeout=timeout)


def run_alone(child, checks, oracle=None, cpu_seconds=60.0):
    with Session(lambda: child, cpu_seconds) as session:
        session.load("m", ["pass"], "m.py")
        return [grader.run_check(check, session, oracle or Oracle(), 1, "m") for check in checks]


RIGHT = np.array([9.0, 16.0])


@pytest.mark.parametrize("answer", [
    Whole({"ok": True, "value": 1, "warnings": 5, "answers": "x"}),  # warnings not a list: ignored, the value is used
    ["not", "a", "dict"],
], ids=["odd-fields", "value-is-a-list"])
def test_values_of_the_wrong_kind_are_failures_of_their_test(answer):
    first, second = run_alone(ScriptedChild(answer, RIGHT), [square_check("a"), square_check("b")])
    assert first.outcome in (FAILED, ERROR) and second.outcome == PASSED


@pytest.mark.parametrize("answer", [
    Whole({"ok": False, "error": ["not", "a", "dict"]}),
    Whole({"ok": False, "error": {"kind": 7, "type": ["x"], "message": {"a": 1}, "where": "line 3"}}),
    Whole({"ok": False, "error": {"kind": "raised", "type": "ValueError", "where": {"line": "3", "function": 5}}}),
    Whole({"ok": 1}),
], ids=["error-not-a-dict", "error-fields-of-other-types", "where-of-other-types", "ok-not-a-boolean"])
def test_answers_that_break_the_protocol_are_a_verdict_for_that_test_alone(answer):
    first, second = run_alone(ScriptedChild(answer, RIGHT), [square_check("a"), square_check("b")])
    assert first.outcome == ERROR and second.outcome == PASSED


def test_a_check_that_fails_on_what_an_answer_holds_is_an_error_of_that_test_alone():
    probe = OneFetchProbe(lambda trial: (trial.student.square(np.array([1.0])), None),
                          lambda trial, state, value: None if value[0] + 1 > 0 else "wrong")  # breaks on a string
    check = BehaviourCheck(name="probe", exercise="m.square", points=1, probe=probe)
    first, second = run_alone(ScriptedChild("a string", RIGHT), [check, square_check("b")])
    assert first.outcome == ERROR and "could not use the answer (TypeError)" in first.message
    assert second.outcome == PASSED


# ---------------------------------------------------------------- conversions, bounded by what is expected

def peak_bytes(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_int8_array_of_the_wrong_shape_is_refused_before_conversion():
    received = np.zeros(20_000_000, dtype=np.int8)  # 20 MB; as float64, 160 MB
    comparison = None

    def work():
        nonlocal comparison
        comparison = compare_arrays(received, np.zeros(3))
    assert peak_bytes(work) < 1 << 20
    assert "has shape (20000000,), expected (3,)" in comparison.problem


def test_a_list_of_a_million_numbers_is_refused_by_its_shape_without_touching_its_items():
    received = [0.0] * 1_000_000
    assert peak_bytes(lambda: compare_arrays(received, np.zeros(3))) < 1 << 20


def test_a_ragged_list_is_refused_after_reading_no_more_than_the_expected_shape():
    received = [[1.0, 2.0, 3.0], [0.0] * 1_000_000]
    comparison = None

    def work():
        nonlocal comparison
        comparison = compare_arrays(received, np.zeros((2, 3)))
    assert peak_bytes(work) < 1 << 20
    assert "ragged" in comparison.problem


def test_a_value_without_an_expected_shape_is_converted_only_up_to_a_bound():
    with pytest.raises(compare.Rejected, match="more than"):
        numeric_array(np.zeros(compare.MAX_ELEMENTS + 1, dtype=np.int8))


def test_known_mistakes_share_one_conversion_of_the_answer(monkeypatch):
    conversions = []
    received = [1.0, 2.0]  # a list: converting it is real work
    real = compare.numeric_array
    monkeypatch.setattr(compare, "numeric_array",
                        lambda value, *a, **k: conversions.append(value is received) or real(value, *a, **k))
    mutants = [Mutant(f"m{i}", "m.square", f"mistake {i}", "", lambda ns: ns) for i in range(5)]
    session = types.SimpleNamespace(checkpoint=lambda: None)
    trial = Trial(square_check(), session, Oracle(mutants), 1)
    assert not any(sighting.matched for sighting in trial.diagnose(received, RIGHT, compute=None))
    assert conversions.count(True) == 1


def test_matching_a_mistake_of_another_shape_converts_nothing(monkeypatch):
    monkeypatch.setattr(compare, "numeric_array", lambda *a, **k: pytest.fail("converted"))
    assert not matches(np.zeros(1000, dtype=np.int8), np.zeros(3), conversions={})


# ---------------------------------------------------------------- deadlines and the CPU budget

def test_a_tests_deadline_covers_the_judges_work_on_its_answer():
    """The known mistakes take longer than the test's whole time limit: the test times out."""
    mutants = [Mutant("m0", "m.square", "mistake", "", lambda ns: ns)]
    (result,) = run_alone(ScriptedChild(np.array([1.0, 2.0])), [square_check(timeout=0.05)],
                          Oracle(mutants, delay=0.2))
    assert result.outcome == TIMEOUT


def test_past_the_judges_cpu_budget_every_remaining_test_is_a_verdict_not_an_exception():
    results = run_alone(ScriptedChild(RIGHT, RIGHT), [square_check("a"), square_check("b")], cpu_seconds=0.0)
    assert [r.outcome for r in results] == [TIMEOUT, TIMEOUT]
    assert all("CPU budget" in r.message for r in results)


def test_the_budget_counts_the_judges_cpu_time_not_the_wall_clock():
    session = Session(lambda: ScriptedChild(), cpu_seconds=0.05)
    time.sleep(0.2)  # waiting costs no CPU
    session.checkpoint()
    spent = time.thread_time() + 0.2
    while time.thread_time() < spent:
        pass
    with pytest.raises(BudgetExceeded):
        session.checkpoint()


def test_checkpoint_refuses_work_past_the_tests_deadline():
    session = Session(lambda: ScriptedChild())
    with pytest.raises(judge_session.TestTimeout):
        with session.test("m", 0.01):
            time.sleep(0.05)
            session.checkpoint()
