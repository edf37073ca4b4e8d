"""ValueCheck and GradientCheck on their own, in-process and fast (no sandbox, no torch reference).

The student's functions live in this process behind :class:`KernelChild` (values still cross the
plain-data wire format); the reference is a small NumPy module behind a :class:`LiveOracle`. These
tests pin what the judge decides (the tolerance used against the reference's value or gradient; the
threshold and the sentences of the numeric diagnostic that explains a wrong gradient; what a hidden
check may show; which known mistake is named), so that a broken judge fails them: ``benchmarks/mutation.py`` runs them against mutants of ``autograder/judge/checks.py``.
"""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

from autograder.judge import feedback
from autograder.judge.checks import GradientCheck, Sighting, Trial, ValueCheck, Verdict, zeroed_inputs
from autograder.judge.compare import numeric_array
from autograder.judge.mutants import Mutant
from autograder.judge.oracle import LiveOracle, Namespace
from autograder.judge.session import Session
from autograder.nbgrader_bridge.kernel import KernelChild

ASSIGNMENT = "unit"


class NumpyOracle(LiveOracle):
    """A live oracle whose reference is a dict of NumPy functions; a mutant replaces some of them."""

    def __init__(self, functions: dict, mutants: tuple[Mutant, ...]):
        super().__init__(types.ModuleType(f"{ASSIGNMENT}_reference"), mutants)
        self.functions = functions

    def namespace(self, mutant: Mutant | None = None) -> Namespace:
        module = types.ModuleType(f"{ASSIGNMENT}_reference")
        module.__dict__.update(self.functions | (mutant.overrides if mutant else {}))
        return Namespace(module)


def run(check, student: dict, reference: dict, mutants=(), seed: int = 0, grouped: bool | None = None) -> Verdict:
    """``check`` on the ``student`` functions against the ``reference`` ones (both NumPy, by name).

    ``grouped``: None runs the check as one trial (:meth:`Check.run`); True/False prepares it with
    that flag, fetches once, and concludes (what the grader does for a group of checks)."""
    oracle = NumpyOracle(reference, tuple(mutants))
    with Session(lambda: KernelChild(dict(student))) as session:
        session.load(ASSIGNMENT, [], "<unit>", True)
        with session.test(ASSIGNMENT, 600):
            trial = Trial(check, session, oracle, seed)
            if grouped is None:
                return check.run(trial)
            prepared = check.prepare(trial, grouped=grouped)
            return check.conclude(trial, prepared, trial.fetch(prepared.fetch))


def draw_x(rng):
    return {"x": rng.normal(size=(3, 4))}


def value_check(**kwargs) -> ValueCheck:
    settings = {"name": "double", "exercise": f"{ASSIGNMENT}.double", "points": 1.0, "visibility": "public",
                "inputs": draw_x} | kwargs
    return ValueCheck(**settings)


def double(x):
    return 2 * x


# ---------------------------------------------------------------- ValueCheck

def test_a_right_value_passes_whatever_the_parameters_are_called():
    def student_double(values):  # the default call passes the inputs by position
        return values + values

    assert run(value_check(), {"double": student_double}, {"double": double}).passed


def test_a_wrong_value_fails_with_the_function_named():
    verdict = run(value_check(), {"double": lambda x: 3 * x}, {"double": double})
    assert not verdict.passed
    assert verdict.message.startswith("double(...) differs from the expected value at 12 of 12 entries")


def test_the_given_call_is_used_on_both_sides():
    check = value_check(call=lambda ns, x: ns.double(x)[0])
    assert run(check, {"double": lambda x: np.vstack([2 * x[:1], 0 * x[1:]])}, {"double": double}).passed
    assert not run(value_check(), {"double": lambda x: np.vstack([2 * x[:1], 0 * x[1:]])}, {"double": double}).passed


def test_the_reference_runs_on_a_copy_of_the_inputs():
    def doubling_in_place(x):  # a reference that reuses its input's memory must not change the student's
        x *= 2
        return x

    assert run(value_check(), {"double": double}, {"double": doubling_in_place}).passed


def test_inputs_are_drawn_from_the_seeded_generator():
    seen = []

    def student(x):
        seen.append(x)
        return 2 * x

    for seed in (1, 1, 2):
        assert run(value_check(), {"double": student}, {"double": double}, seed=seed).passed
    assert np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[0], seen[2])


def test_values_use_the_default_float64_tolerance():
    assert run(value_check(), {"double": lambda x: 2 * x * (1 + 5e-8)}, {"double": double}).passed
    assert not run(value_check(), {"double": lambda x: 2 * x * (1 + 5e-7)}, {"double": double}).passed


def test_float32_values_get_float32_tolerances():
    assert run(value_check(), {"double": lambda x: (2 * x).astype(np.float32)}, {"double": double}).passed


def test_exact_means_bit_for_bit():
    check = value_check(exact=True)
    assert run(check, {"double": double}, {"double": double}).passed
    verdict = run(check, {"double": lambda x: 2 * x * (1 + 1e-15)}, {"double": double})
    assert not verdict.passed and "differs" in verdict.message


def test_an_explicit_tolerance_replaces_the_default():
    five_percent_off = {"double": lambda x: 2.1 * x}
    assert run(value_check(tolerance=(0.1, 0.0)), five_percent_off, {"double": double}).passed
    assert not run(value_check(tolerance=(0.01, 0.0)), five_percent_off, {"double": double}).passed
    assert not run(value_check(), five_percent_off, {"double": double}).passed


def test_a_public_failure_shows_inputs_and_values_and_a_hidden_one_does_not():
    triple = {"double": lambda x: 3 * x}
    public = run(value_check(), triple, {"double": double})
    assert public.details.startswith("inputs:") and "expected:" in public.details and "received:" in public.details
    assert "first at [0, 0]: expected" in public.message
    hidden = run(value_check(visibility="hidden"), triple, {"double": double})
    assert not hidden.passed and hidden.details == ""
    assert "expected" not in hidden.message.replace("the expected value", "")
    assert "times 3/2" in hidden.message  # the symptom is still described


# ---------------------------------------------------------------- known mistakes (Trial.diagnose)

TRIPLED = Mutant(f"{ASSIGNMENT}.double.tripled", f"{ASSIGNMENT}.double", "tripled", "multiply by 2",
                 overrides={"double": lambda x: 3 * x})
SAME = Mutant(f"{ASSIGNMENT}.double.same", f"{ASSIGNMENT}.double", "no different here", "-",
              overrides={"double": lambda x: x + x})
HALVED = Mutant(f"{ASSIGNMENT}.double.halved", f"{ASSIGNMENT}.double", "halved", "multiply by 2",
                overrides={"double": lambda x: x})
ELSEWHERE = Mutant(f"{ASSIGNMENT}.other.tripled", f"{ASSIGNMENT}.other", "another exercise", "-",
                   overrides={"double": lambda x: 3 * x})


def test_the_matching_mistake_is_the_candidate_and_every_discriminating_one_is_sighted():
    mutants = (SAME, HALVED, TRIPLED, ELSEWHERE)
    verdict = run(value_check(), {"double": lambda x: 3 * x}, {"double": double}, mutants)
    assert verdict.mistake == TRIPLED
    # SAME equals the reference on these inputs (nothing to learn); ELSEWHERE grades another exercise
    assert [(s.mutant, s.matched) for s in verdict.sightings] == [(HALVED, False), (TRIPLED, True)]
    assert len({s.key for s in verdict.sightings}) == 1


def test_no_candidate_when_no_mistake_matches():
    verdict = run(value_check(), {"double": lambda x: 5 * x}, {"double": double}, (HALVED, TRIPLED))
    assert verdict.mistake is None and [s.matched for s in verdict.sightings] == [False, False]


def test_a_right_value_sights_nothing():
    verdict = run(value_check(), {"double": double}, {"double": double}, (HALVED, TRIPLED))
    assert verdict == Verdict(True)


def test_the_sighting_key_is_a_fingerprint_of_the_input_and_the_value():
    def key(student, seed):
        return run(value_check(), {"double": student}, {"double": double}, (TRIPLED,), seed=seed).sightings[0].key

    triple, quadruple = (lambda x: 3 * x), (lambda x: 4 * x)
    assert key(triple, 1) == key(triple, 1)
    assert key(triple, 1) != key(triple, 2)  # another input
    assert key(triple, 1) != key(quadruple, 1)  # another value


def test_a_mismatch_within_a_mistakes_tolerance_still_names_it():
    verdict = run(value_check(), {"double": lambda x: 3 * x * (1 + 1e-9)}, {"double": double}, (TRIPLED,))
    assert verdict.sightings == (Sighting(TRIPLED, True, verdict.sightings[0].key),)


# ---------------------------------------------------------------- GradientCheck

def cube_inputs(rng):
    """W (3, 4) away from zero, where the cube's gradient W^2 is of order 1."""
    return {"params": {"W": rng.uniform(0.5, 1.5, (3, 4))}}


def total(output, **inputs) -> float:
    """The trusted objective: the sum of the forward output (which must be numbers)."""
    return float(numeric_array(output, "the forward output")[0].sum())


def cube_forward(params):
    return params["W"] ** 3 / 3


def cube_gradient(params):
    return params["W"] ** 2


def gradient_check(**kwargs) -> GradientCheck:
    settings = {"name": "cube_grad", "exercise": f"{ASSIGNMENT}.grad", "points": 1.0, "visibility": "public",
                "inputs": cube_inputs, "wrt": ("params", "W"), "objective": total,
                "analytic": lambda ns, params: ns.grad(params),
                "forward": lambda ns, params: ns.forward(params)} | kwargs
    return GradientCheck(**settings)


REFERENCE = {"grad": cube_gradient, "forward": cube_forward}


def scaled_forward(factor: float):
    """A forward whose central differences are ``factor`` times the true gradient."""
    return lambda params: factor * cube_forward(params)


@pytest.mark.parametrize("grouped", [None, False, True])
def test_a_consistent_gradient_passes(grouped):
    assert run(gradient_check(), REFERENCE, REFERENCE, grouped=grouped) == Verdict(True)


AGREES = ("it agrees with central differences of your own forward pass, so your forward computes something "
          "else too: fix the forward's checks first")
CANNOT = "your forward pass could not be differentiated numerically to explain this"


def disagrees(error: str) -> str:
    """The diagnostic sentence of a wrong gradient that is also wrong for the student's own forward."""
    return (f"it also disagrees with central differences of your own forward pass (relative error {error}): "
            "the gradient itself is wrong")


def counting(forward, calls: list):
    """``forward``, recording each call in ``calls``."""
    def counted(params):
        calls.append(1)
        return forward(params)

    return counted


@pytest.mark.parametrize("grouped", [None, False, True])
@pytest.mark.parametrize("forward", ["scaled", "raises", "returns None"])
def test_a_right_gradient_passes_without_running_the_students_forward(grouped, forward):
    """The verdict is the analytic gradient against the reference's: the forward is only asked when
    the gradient is wrong (to explain it), so a wrong or broken forward costs a right gradient nothing."""
    def raises(params):
        raise ZeroDivisionError("the forward")

    forwards = {"scaled": scaled_forward(1.5), "raises": raises, "returns None": lambda params: None}
    calls = []
    student = {"grad": cube_gradient, "forward": counting(forwards[forward], calls)}
    assert run(gradient_check(), student, REFERENCE, grouped=grouped) == Verdict(True)
    assert calls == []


@pytest.mark.parametrize("grouped", [None, False, True])
def test_a_gradient_unlike_the_references_fails_and_is_explained_by_the_students_forward(grouped):
    calls = []
    verdict = run(gradient_check(), {"grad": lambda params: 2 * cube_gradient(params),
                                     "forward": counting(cube_forward, calls)}, REFERENCE, grouped=grouped)
    assert verdict.passed is False
    assert verdict.message.startswith("the gradient d/dW differs from the expected value at 12 of 12 entries: "
                                      "it is the expected value times 2")
    assert "first at [0, 0]" in verdict.message and verdict.details.startswith("inputs:")
    assert verdict.message.endswith("; " + disagrees("0.33"))  # |2 - 1| / (2 + 1)
    assert len(calls) == 24  # 12 entries, shifted up and down


def test_the_expected_gradient_comes_from_expect_when_given():
    doubled = {"grad": lambda params: 2 * cube_gradient(params), "forward": lambda params: 2 * cube_forward(params)}
    assert not run(gradient_check(), doubled, REFERENCE).passed
    assert run(gradient_check(expect=lambda ns, params: 2 * ns.grad(params)), doubled, REFERENCE).passed


@pytest.mark.parametrize("factor, passed", [(1 + 5e-8, True), (1 + 5e-7, False)])
def test_the_gradient_is_judged_with_the_float64_relative_tolerance(factor, passed):
    """rtol 1e-7: 5e-8 off passes, 5e-7 off fails (ten times looser or tighter decides the other way)."""
    student = {"grad": lambda params: cube_gradient(params) * factor, "forward": cube_forward}
    assert run(gradient_check(), student, REFERENCE).passed is passed


def zero_w(rng):
    return {"params": {"W": np.zeros((2, 3))}}


@pytest.mark.parametrize("offset, passed", [(5e-11, True), (5e-10, False)])
def test_the_gradient_is_judged_with_the_float64_absolute_tolerance(offset, passed):
    """At W = 0 the expected gradient is 0: atol 1e-10 alone decides (5e-11 passes, 5e-10 fails)."""
    student = {"grad": lambda params: cube_gradient(params) + offset, "forward": cube_forward}
    assert run(gradient_check(inputs=zero_w), student, REFERENCE).passed is passed


def test_a_checks_tolerance_replaces_the_default_as_rtol_then_atol():
    relative = {"grad": lambda params: cube_gradient(params) * (1 + 5e-4), "forward": cube_forward}
    assert run(gradient_check(tolerance=(1e-3, 0.0)), relative, REFERENCE).passed
    assert not run(gradient_check(tolerance=(1e-4, 0.0)), relative, REFERENCE).passed
    assert not run(gradient_check(tolerance=(0.0, 1e-3)), relative, REFERENCE).passed  # W^2 * 5e-4 > 1e-3 somewhere
    assert not run(gradient_check(), relative, REFERENCE).passed
    absolute = {"grad": lambda params: cube_gradient(params) + 5e-4, "forward": cube_forward}
    assert run(gradient_check(inputs=zero_w, tolerance=(0.0, 1e-3)), absolute, REFERENCE).passed
    assert not run(gradient_check(inputs=zero_w, tolerance=(0.0, 1e-4)), absolute, REFERENCE).passed


@pytest.mark.parametrize("factor, note", [(1 + 1e-6, AGREES), (1 + 6e-6, disagrees("3e-06"))])
def test_the_diagnostic_threshold_is_a_relative_error_of_1e_6(factor, note):
    """A gradient off the reference's by ``factor``, against central differences of a right forward:
    relative error (factor - 1) / (factor + 1), 5e-7 agrees and 3e-6 disagrees (a threshold ten times
    looser or tighter would say the other sentence). Both fail: the reference decides the verdict."""
    student = {"grad": lambda params: cube_gradient(params) * factor, "forward": cube_forward}
    verdict = run(gradient_check(), student, REFERENCE)
    assert verdict.passed is False and verdict.message.endswith("; " + note)


def test_an_explicit_threshold_replaces_the_default():
    student = {"grad": lambda params: cube_gradient(params) * (1 + 6e-6), "forward": cube_forward}
    assert run(gradient_check(threshold=1e-5), student, REFERENCE).message.endswith("; " + AGREES)
    assert run(gradient_check(threshold=1e-6), student, REFERENCE).message.endswith("; " + disagrees("3e-06"))


def test_a_wrong_gradient_that_matches_a_wrong_forward_points_to_the_forward():
    student = {"grad": lambda params: 1.5 * cube_gradient(params), "forward": scaled_forward(1.5)}
    verdict = run(gradient_check(), student, REFERENCE)
    assert verdict.passed is False and verdict.message.endswith("; " + AGREES)


def test_small_gradients_are_explained_by_relative_not_absolute_error():
    """Gradients of order 1e-4 off by 1%: an absolute error of 1e-6, a relative error of 5e-3."""
    def small(rng):
        return {"params": {"W": rng.uniform(0.01, 0.02, (3, 4))}}

    student = {"grad": lambda params: 1.01 * cube_gradient(params), "forward": cube_forward}
    verdict = run(gradient_check(inputs=small), student, REFERENCE)
    assert verdict.passed is False and verdict.message.endswith("; " + disagrees("0.005"))


def test_zero_gradients_agree_with_a_flat_forward():
    """0 analytic and 0 numeric: 0 / max(1e-8, 0) is no error (the reference's gradient is 1)."""
    flat = {"grad": lambda params: np.zeros_like(params["W"]), "forward": lambda params: np.zeros_like(params["W"])}
    reference = {"grad": lambda params: np.ones_like(params["W"]), "forward": lambda params: params["W"]}
    verdict = run(gradient_check(inputs=zero_w), flat, reference)
    assert verdict.passed is False and verdict.message.endswith("; " + AGREES)
    # a relative error of exactly the threshold still agrees (here 0 <= 0)
    assert run(gradient_check(inputs=zero_w, threshold=0.0), flat, reference).message.endswith("; " + AGREES)


def test_tiny_gradients_are_measured_against_a_floor_of_1e_8():
    """Analytic 1e-9 against numeric 0: 1e-9 / max(1e-8, 1e-9) = 0.1 (without the floor it would be 1)."""
    square = {"grad": lambda params: params["W"], "forward": lambda params: params["W"] ** 2 / 2}
    student = {"grad": lambda params: params["W"] + 1e-9, "forward": square["forward"]}
    verdict = run(gradient_check(inputs=zero_w), student, square)
    assert verdict.passed is False and verdict.message.endswith("; " + disagrees("0.1"))


def test_the_numeric_gradient_uses_a_small_central_step():
    """The cube's central difference is W^2 + step^2 / 3: only a small, symmetric step agrees with a
    gradient that is right for the forward, and every entry is moved on its own."""
    student = {"grad": lambda params: 2 * cube_gradient(params), "forward": scaled_forward(2.0)}
    assert run(gradient_check(step=1e-6), student, REFERENCE).message.endswith("; " + AGREES)
    verdict = run(gradient_check(step=1e-2), student, REFERENCE)
    assert verdict.passed is False and "): the gradient itself is wrong" in verdict.message


def test_float32_inputs_are_shifted_in_float64():
    def float32_inputs(rng):
        return {"params": {"W": rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32)}}

    # a float64 gradient, to be explained by central differences around the float32 W, shifted in float64
    student = {"grad": lambda params: 2 * params["W"].astype(np.float64) ** 2, "forward": scaled_forward(2.0)}
    assert run(gradient_check(inputs=float32_inputs), REFERENCE, REFERENCE).passed
    assert run(gradient_check(inputs=float32_inputs), student, REFERENCE).message.endswith("; " + AGREES)


@pytest.mark.parametrize("grouped", [None, True])
def test_float32_gradients_get_float32_tolerances_and_no_diagnostic(grouped):
    """float32 central differences are too coarse to explain anything: no forward pass is asked."""
    calls = []
    right = {"grad": lambda params: cube_gradient(params).astype(np.float32), "forward": counting(cube_forward, calls)}
    assert run(gradient_check(), right, REFERENCE, grouped=grouped) == Verdict(True)
    wrong = {"grad": lambda params: (2 * cube_gradient(params)).astype(np.float32),
             "forward": counting(cube_forward, calls)}
    verdict = run(gradient_check(), wrong, REFERENCE, grouped=grouped)
    assert verdict.passed is False and verdict.message.startswith("the gradient d/dW differs")
    assert ENDS_WITH_THE_VALUES.search(verdict.message), verdict.message  # nothing appended
    assert calls == []


ENDS_WITH_THE_VALUES = re.compile(r"; first at \[0, 0\]: expected [-\d.e+]+, got [-\d.e+]+$")


def test_a_float32_forward_gives_no_diagnostic():
    student = {"grad": lambda params: 2 * cube_gradient(params),
               "forward": lambda params: cube_forward(params).astype(np.float32)}
    verdict = run(gradient_check(), student, REFERENCE)
    assert verdict.passed is False and verdict.message.startswith("the gradient d/dW differs")
    assert ENDS_WITH_THE_VALUES.search(verdict.message), verdict.message  # nothing appended


def test_a_gradient_of_another_shape_gets_no_diagnostic():
    calls = []
    student = {"grad": lambda params: cube_gradient(params)[:2], "forward": counting(cube_forward, calls)}
    verdict = run(gradient_check(), student, REFERENCE)
    assert verdict.message == "the gradient d/dW has shape (2, 4), expected (3, 4)" and calls == []


def test_a_gradient_that_is_no_array_gets_no_diagnostic():
    verdict = run(gradient_check(), {"grad": lambda params: "text", "forward": cube_forward}, REFERENCE)
    assert verdict.passed is False and verdict.message == "the gradient d/dW is a str, expected a NumPy array"


@pytest.mark.parametrize("grouped", [None, True])
def test_more_forward_passes_than_one_fetch_carries(grouped):
    """A (6, 7) W needs 84 forward passes: 64 per round trip, the rest in a second one."""
    def wide(rng):
        return {"params": {"W": rng.uniform(0.5, 1.5, (6, 7))}}

    calls = []
    student = {"grad": lambda params: 2 * cube_gradient(params), "forward": counting(cube_forward, calls)}
    verdict = run(gradient_check(inputs=wide), student, REFERENCE, grouped=grouped)
    assert verdict.message.endswith("; " + disagrees("0.33")) and len(calls) == 84


@pytest.mark.parametrize("grouped", [None, True])
def test_a_forward_that_raises_only_loses_the_diagnostic(grouped):
    """Forward passes are tolerant calls: one that raises is no error of the test, only no explanation."""
    def forward(params):  # W[0, 1] is 0.5 in every forward pass but the two that shift it
        if params["W"][0, 1] != 0.5:
            raise ZeroDivisionError("the shifted entry")
        return cube_forward(params)

    def quarters(rng):
        return {"params": {"W": np.arange(1.0, 13.0).reshape(3, 4) / 4}}

    student = {"grad": lambda params: 2 * cube_gradient(params), "forward": forward}
    verdict = run(gradient_check(inputs=quarters), student, REFERENCE, grouped=grouped)
    assert verdict.passed is False and verdict.message.startswith("the gradient d/dW differs")
    assert verdict.message.endswith("; " + CANNOT)


@pytest.mark.parametrize("grouped", [None, True])
@pytest.mark.parametrize("output", [None, "text", {"a": 1.0}])
def test_a_forward_output_the_objective_cannot_use_only_loses_the_diagnostic(grouped, output):
    student = {"grad": lambda params: 2 * cube_gradient(params), "forward": lambda params: output}
    verdict = run(gradient_check(), student, REFERENCE, grouped=grouped)
    assert verdict.passed is False and verdict.message.endswith("; " + CANNOT)


def cached_check(**kwargs) -> GradientCheck:
    """A backward graded on its own: ``given`` runs the REFERENCE's forward for its cache, and the
    student's ``backward(cache)`` receives that cache."""
    return gradient_check(**{"given": lambda ns, params: {"cache": ns.cache(params)},
                             "analytic": lambda ns, params, cache: ns.backward(cache)} | kwargs)


def reference_cache(params):
    return {"W2": params["W"] ** 2}


CACHED_REFERENCE = {"cache": reference_cache, "backward": lambda cache: cache["W2"], "forward": cube_forward}


def test_given_inputs_come_from_the_reference_for_both_sides():
    caches, received = [], []

    def student_cache(params):  # never asked: the cache is the reference's
        caches.append(1)
        return {"W2": np.zeros_like(params["W"])}

    def backward(cache):
        received.append(cache)
        return cache["W2"]

    student = {"cache": student_cache, "backward": backward, "forward": cube_forward}
    assert run(cached_check(), student, CACHED_REFERENCE) == Verdict(True)
    assert caches == [] and len(received) == 1
    w = cube_inputs(Trial(cached_check(), None, None, 0).rng)["params"]["W"]
    assert np.array_equal(received[0]["W2"], w ** 2)


def test_a_wrong_backward_on_the_reference_cache_fails():
    student = {"cache": reference_cache, "backward": lambda cache: 2 * cache["W2"], "forward": cube_forward}
    verdict = run(cached_check(), student, CACHED_REFERENCE)
    assert verdict.passed is False and "times 2" in verdict.message
    assert verdict.message.endswith("; " + disagrees("0.33"))


def test_the_reference_computes_given_on_a_deep_copy_of_the_inputs():
    def squaring_in_place(params):  # a reference forward that reuses the nested array's memory
        w = params["W"]
        w **= 2
        return {"W2": w}

    reference = CACHED_REFERENCE | {"cache": squaring_in_place}
    seen = []
    student = {"backward": lambda cache: cache["W2"], "forward": cube_forward}
    check = cached_check(analytic=lambda ns, params, cache: (seen.append(params["W"].copy()), ns.backward(cache))[1])
    assert run(check, student, reference) == Verdict(True)
    w = cube_inputs(Trial(check, None, None, 0).rng)["params"]["W"]
    assert np.array_equal(seen[0], w)  # the student's call saw the inputs as drawn


def test_the_reference_gradient_runs_on_a_deep_copy_of_given():
    def halving_in_place(cache):  # the reference's backward reuses the cache's memory
        w2 = cache["W2"]
        w2 *= 2
        return w2 / 2

    student = {"backward": lambda cache: cache["W2"], "forward": cube_forward}
    assert run(cached_check(), student, CACHED_REFERENCE | {"backward": halving_in_place}) == Verdict(True)


def test_frozen_given_inputs_are_read_back_under_their_own_key():
    """Public checks ship their values frozen: the cache under "given", the gradient under "value"."""
    import json

    from autograder.judge.oracle import FrozenOracle, RecordingOracle

    class Recording(RecordingOracle, NumpyOracle):
        pass

    recorder = Recording(CACHED_REFERENCE, ())
    check = cached_check()
    student = {"backward": lambda cache: cache["W2"], "forward": cube_forward}
    with Session(lambda: KernelChild(dict(student))) as session:
        session.load(ASSIGNMENT, [], "<unit>", True)
        with session.test(ASSIGNMENT, 600):
            assert check.run(Trial(check, session, recorder, 0)) == Verdict(True)
        frozen = FrozenOracle(json.loads(json.dumps(recorder.frozen_document(ASSIGNMENT))))
        with session.test(ASSIGNMENT, 600):
            assert check.run(Trial(check, session, frozen, 0)) == Verdict(True)

def test_a_hidden_gradient_check_shows_no_values():
    verdict = run(gradient_check(visibility="hidden"), {"grad": lambda params: -cube_gradient(params),
                                                        "forward": cube_forward}, REFERENCE)
    assert not verdict.passed and verdict.details == "" and "first at" not in verdict.message
    assert "wrong sign" in verdict.message


def test_a_known_gradient_mistake_is_named():
    negated = Mutant(f"{ASSIGNMENT}.grad.sign", f"{ASSIGNMENT}.grad", "wrong sign", "check the sign",
                     overrides={"grad": lambda params: -cube_gradient(params)})
    verdict = run(gradient_check(), {"grad": lambda params: -cube_gradient(params), "forward": cube_forward},
                  REFERENCE, (negated,))
    assert verdict.mistake == negated and [s.matched for s in verdict.sightings] == [True]


# ---------------------------------------------------------------- what a failure carries (mutation-tested)

def test_a_failure_is_false_not_merely_falsy():
    assert run(value_check(), {"double": lambda x: 3 * x}, {"double": double}).passed is False
    assert run(gradient_check(), {"grad": lambda params: -cube_gradient(params), "forward": cube_forward},
               REFERENCE).passed is False


def test_the_details_show_the_expected_and_the_received_values():
    verdict = run(value_check(inputs=lambda rng: {"x": np.array([1.0, 2.0])}), {"double": lambda x: 3 * x},
                  {"double": double})
    lines = verdict.details.splitlines()
    assert lines[0] == "inputs:" and "1" in lines[1] and "2" in lines[1]
    assert lines[-2].startswith("expected: ") and "4" in lines[-2] and "None" not in lines[-2]
    assert lines[-1].startswith("received: ") and "6" in lines[-1] and "None" not in lines[-1]


def test_the_symptom_sees_the_inputs_and_hides_their_values_in_hidden_checks():
    times_batch = {"double": lambda x: 2 * x * x.shape[0]}  # a sum over the batch where a mean was due
    assert "the batch size N = 3" in run(value_check(), times_batch, {"double": double}).message
    hidden = run(value_check(visibility="hidden"), times_batch, {"double": double}).message
    assert "the batch size N (" in hidden and "N = 3" not in hidden


def test_the_sighting_key_depends_on_the_input_even_for_the_same_value():
    def key(seed):
        verdict = run(value_check(), {"double": lambda x: np.zeros_like(x)}, {"double": double}, (TRIPLED,), seed=seed)
        return verdict.sightings[0].key

    assert key(1) == key(1) and key(1) != key(2)


def test_frozen_mistakes_are_named_as_live_ones():
    """Public checks ship their mistakes' values frozen: recorded under the check's key, read back under it."""
    import json

    from autograder.judge.oracle import FrozenOracle, RecordingOracle

    class Recording(RecordingOracle, NumpyOracle):
        pass

    recorder = Recording({"double": double}, (TRIPLED, HALVED))
    check = value_check()
    with Session(lambda: KernelChild({"double": lambda x: 3 * x})) as session:
        session.load(ASSIGNMENT, [], "<unit>", True)
        with session.test(ASSIGNMENT, 600):
            assert check.run(Trial(check, session, recorder, 0)).mistake == TRIPLED
        frozen = FrozenOracle(json.loads(json.dumps(recorder.frozen_document(ASSIGNMENT))))
        with session.test(ASSIGNMENT, 600):
            verdict = check.run(Trial(check, session, frozen, 0))
    assert verdict.mistake == TRIPLED and [s.matched for s in verdict.sightings] == [True, False]


def test_the_reference_gradient_runs_on_a_deep_copy_of_the_inputs():
    def squaring_in_place(params):  # the reference reuses the nested array's memory
        w = params["W"]
        w **= 2
        return w

    assert run(gradient_check(), REFERENCE, {"grad": squaring_in_place, "forward": cube_forward}).passed


@pytest.mark.parametrize("grouped", [False, True])
def test_grouped_or_not_only_the_gradient_is_asked_for(grouped):
    """The forward passes of the diagnostic are asked for only after a wrong gradient came back, so a
    shared round trip carries the gradient alone."""
    oracle = NumpyOracle(REFERENCE, ())
    calls = []
    with Session(lambda: KernelChild({"grad": cube_gradient, "forward": counting(cube_forward, calls)})) as session:
        session.load(ASSIGNMENT, [], "<unit>", True)
        with session.test(ASSIGNMENT, 600):
            check = gradient_check()
            trial = Trial(check, session, oracle, 0)
            prepared = check.prepare(trial, grouped=grouped)
            assert list(prepared.fetch) == ["analytic"]
            assert check.conclude(trial, prepared, trial.fetch(prepared.fetch)) == Verdict(True)
    assert calls == []


def test_a_flat_path_names_its_parameter():
    def flat(rng):
        return {"W": rng.uniform(0.5, 1.5, (2, 3))}

    check = gradient_check(inputs=flat, wrt=("W",), analytic=lambda ns, W: ns.grad(W), forward=lambda ns, W: ns.forward(W))
    reference = {"grad": lambda W: W ** 2, "forward": lambda W: W ** 3 / 3}
    assert run(check, reference, reference).passed
    assert run(check, {"grad": lambda W: -W ** 2, "forward": reference["forward"]}, reference).message.startswith(
        "the gradient d/dW differs")
    assert run(check, {"grad": reference["grad"], "forward": lambda W: W ** 3 / 2}, reference).passed
    verdict = run(check, {"grad": lambda W: 1.5 * W ** 2, "forward": lambda W: W ** 3 / 2}, reference)
    assert verdict.message.startswith("the gradient d/dW differs") and verdict.message.endswith("; " + AGREES)


def test_an_integer_gradient_is_checked_in_float64():
    """d/dW sum(W * C) = C: a right integer answer, against central differences that are C up to 1e-10."""
    c = np.array([[3, -1, 2], [1, 4, -2]])

    def draw(rng):
        return {"params": {"W": rng.uniform(0.5, 1.5, (2, 3))}}

    linear = {"grad": lambda params: c.copy(), "forward": lambda params: params["W"] * c}
    assert run(gradient_check(inputs=draw), linear, {"grad": lambda params: c.astype(float),
                                                    "forward": linear["forward"]}) == Verdict(True)


def test_integer_inputs_are_shifted_as_floats():
    def integers(rng):
        return {"params": {"W": np.array([[1, 2, 3], [2, 1, 3]])}}

    assert run(gradient_check(inputs=integers), REFERENCE, REFERENCE) == Verdict(True)


def test_the_objective_receives_the_inputs():
    """loss = sum(forward * dout): the upstream gradient is an input the trusted objective reads."""
    def draw(rng):
        return {"params": {"W": rng.uniform(0.5, 1.5, (2, 3))}, "dout": rng.normal(size=(2, 3))}

    def objective(output, params, dout):
        return float(np.sum(numeric_array(output)[0] * dout))

    check = gradient_check(inputs=draw, objective=objective, analytic=lambda ns, params, dout: ns.grad(params, dout),
                           forward=lambda ns, params, dout: ns.forward(params))
    reference = {"grad": lambda params, dout: params["W"] ** 2 * dout, "forward": cube_forward}
    assert run(check, reference, reference) == Verdict(True)
    # a gradient without dout is explained against sum(forward * dout), not sum(forward)
    student = {"grad": lambda params, dout: params["W"] ** 2, "forward": cube_forward}
    assert run(check, student, reference).message.endswith("): the gradient itself is wrong")


def test_an_empty_parameter_has_nothing_to_check():
    def empty(rng):
        return {"params": {"W": np.zeros((0, 3))}}

    assert run(gradient_check(inputs=empty), REFERENCE, REFERENCE) == Verdict(True)


def test_an_exact_gradient_meets_a_zero_threshold():
    def zeros(rng):
        return {"params": {"W": np.zeros((2, 3))}}

    square = {"grad": lambda params: params["W"], "forward": lambda params: params["W"] ** 2 / 2}
    assert run(gradient_check(inputs=zeros, threshold=0.0), square, square) == Verdict(True)


# ---------------------------------------------------------------- an input left out (Trial.ignored_input)

def step_inputs(rng):
    return {"w": rng.normal(size=(3, 4)), "g": rng.normal(size=(3, 4)), "lr": 0.375, "epochs": 3}


def sgd_step(w, g, lr, epochs):
    """Each float input changes the result its own way (zeroing w, g or lr gives three different values)."""
    return w * (1 - lr) - g * epochs


def affine_inputs(rng):
    return {"x": rng.normal(size=(3, 2)), "params": {"W": rng.normal(size=(2, 4)), "b": rng.normal(size=4)}}


def affine(x, params):
    return x @ params["W"] + params["b"][None, :]  # the bias indexed as the vector it is


@pytest.mark.parametrize("visibility", ["public", "hidden"])
def test_a_result_as_if_a_float_input_were_zero_names_that_input_only(visibility):
    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs, visibility=visibility)
    verdict = run(check, {"sgd_step": lambda w, g, lr, epochs: w - g * epochs}, {"sgd_step": sgd_step})
    assert verdict.passed is False
    assert "the result is what lr = 0 gives: is lr left out or ignored?" in verdict.message
    assert "0.375" not in verdict.message  # the argument's name, never its value


def test_an_array_inside_a_dict_input_is_named_by_its_key():
    check = value_check(name="affine", exercise=f"{ASSIGNMENT}.affine", inputs=affine_inputs)
    verdict = run(check, {"affine": lambda x, params: x @ params["W"]}, {"affine": affine})
    assert "the result is what params['b'] = 0 gives: is params['b'] left out or ignored?" in verdict.message
    verdict = run(check, {"affine": lambda x, params: params["b"] + 0 * (x @ params["W"])}, {"affine": affine})
    assert "the result is what x = 0 gives: is x left out or ignored?" in verdict.message


def test_no_input_is_blamed_when_zeroing_none_explains_the_result():
    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs)
    verdict = run(check, {"sgd_step": lambda w, g, lr, epochs: w * (1 + lr) - g * epochs}, {"sgd_step": sgd_step})
    assert verdict.passed is False and "left out or ignored" not in verdict.message
    # integers (epochs) are never zeroed: a result as if epochs were 0 is not blamed on it
    assert [where for where, _ in zeroed_inputs(step_inputs(np.random.default_rng(0)))] == ["w", "g", "lr"]
    assert [where for where, _ in zeroed_inputs({"x": np.zeros(3), "p": 0.0, "d": {"a": np.ones(2), "n": np.ones(2, int)}})] \
        == ["d['a']"]


def test_an_input_that_changes_nothing_is_never_blamed():
    """An exact check failing by rounding: zeroing ``lr`` (unused here) gives the expected value,
    which the submission matches within tolerance; lr is not what is wrong."""
    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs, exact=True)
    reference = {"sgd_step": lambda w, g, lr, epochs: w - g * epochs}
    student = {"sgd_step": lambda w, g, lr, epochs: (w - g * epochs) * (1 + 1e-15)}
    verdict = run(check, student, reference)
    assert verdict.passed is False and "left out or ignored" not in verdict.message


def test_inputs_are_zeroed_on_deep_copies():
    """A reference that updates its inputs in place must not change the inputs the next zeroed
    input is tried on, nor the inputs shown."""
    def in_place(w, g, lr, epochs):
        w *= 1 - lr
        w -= g * epochs
        return w

    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs)
    verdict = run(check, {"sgd_step": lambda w, g, lr, epochs: w - g * epochs}, {"sgd_step": in_place})
    assert "the result is what lr = 0 gives: is lr left out or ignored?" in verdict.message
    w = step_inputs(Trial(check, None, None, 0).rng)["w"]
    assert f"w = {feedback.preview(w)}" in verdict.details


def test_a_reference_that_refuses_one_zeroed_input_still_tries_the_others():
    def refuses_zero_w(w, g, lr, epochs):
        if not w.any():
            raise ZeroDivisionError("w = 0")
        return sgd_step(w, g, lr, epochs)

    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs)
    verdict = run(check, {"sgd_step": lambda w, g, lr, epochs: w - g * epochs}, {"sgd_step": refuses_zero_w})
    assert "the result is what lr = 0 gives: is lr left out or ignored?" in verdict.message


def test_frozen_checks_name_an_ignored_input_too():
    """The values with one input zeroed are recorded with the check's others, under their own keys."""
    import json

    from autograder.judge.oracle import FrozenOracle, RecordingOracle

    class Recording(RecordingOracle, NumpyOracle):
        pass

    recorder = Recording({"sgd_step": sgd_step}, ())
    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs)
    with Session(lambda: KernelChild({"sgd_step": lambda w, g, lr, epochs: w - g * epochs})) as session:
        session.load(ASSIGNMENT, [], "<unit>", True)
        with session.test(ASSIGNMENT, 600):
            check.run(Trial(check, session, recorder, 0))
        frozen = FrozenOracle(json.loads(json.dumps(recorder.frozen_document(ASSIGNMENT))))
        with session.test(ASSIGNMENT, 600):
            verdict = check.run(Trial(check, session, frozen, 0))
    assert "the result is what lr = 0 gives: is lr left out or ignored?" in verdict.message


def test_a_matched_known_mistake_is_not_also_blamed_on_an_input():
    ignores_lr = Mutant(f"{ASSIGNMENT}.sgd_step.no_lr", f"{ASSIGNMENT}.sgd_step", "no learning rate", "scale by lr",
                        overrides={"sgd_step": lambda w, g, lr, epochs: w - g * epochs})
    check = value_check(name="step", exercise=f"{ASSIGNMENT}.sgd_step", inputs=step_inputs)
    verdict = run(check, {"sgd_step": lambda w, g, lr, epochs: w - g * epochs}, {"sgd_step": sgd_step}, (ignores_lr,))
    assert verdict.mistake == ignores_lr and "left out or ignored" not in verdict.message
