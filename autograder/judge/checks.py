"""The kinds of check, each a small reusable piece. Assignments compose them into rubrics.

Every check names its exercise (``<assignment>.<function>``), its points and whether it is
``public`` (released, with full feedback) or ``hidden`` (its inputs and expected values are never
shown). A check's ``call`` is written once and runs on both sides: on the student's namespace
(calls go to the sandboxed child and return remote handles) and on the reference's namespace
(calls run the torch reference in the judge). The judge compares the results.

- :class:`ValueCheck`: the result equals the reference's on seeded or fixed inputs;
- :class:`GradientCheck`: an analytic gradient equals central differences of the student's own
  forward (float64, CS231n relative error) and the reference's gradient;
- :class:`StatisticalCheck`: a random function's output has the right distribution;
- :class:`BehaviourCheck`: a property (learns AND, uses only the given rng, leaves inputs alone).
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograder.judge import feedback
from autograder.judge.compare import Rejected, compare_values, matches, numeric_array
from autograder.judge.mutants import Mutant
from autograder.judge.session import Remote, Rng, Session
from autograder.wire import Unsupported
from autograder.judge.statistics import distribution_problem, mask_problem

PUBLIC = "public"
HIDDEN = "hidden"
FORWARDS_PER_FETCH = 64  # a numeric gradient's forward passes, sent to the child together


@dataclass
class Verdict:
    """How one check went. ``message`` is safe to show for hidden checks; ``details`` only for public ones."""

    passed: bool
    message: str = ""
    details: str = ""
    mistake: Mutant | None = None
    fraction: float | None = None  # partial credit in [0, 1]; None means all (passed) or nothing


class StudentNamespace:
    """The submission's module as seen by a check: ``ns.softmax(z)`` calls into the child.

    ``tolerant``: a call that raises does not stop the calls queued after it; its value arrives
    as an :class:`~autograder.wire.Unsupported` marker instead."""

    def __init__(self, session: Session, tolerant: bool = False):
        self._session, self._tolerant = session, tolerant

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._session.call(name, *args, _tolerant=self._tolerant, **kwargs)

    def rng(self, seed: int) -> Rng:
        return Rng(int(seed))

    def keep(self, value) -> Remote:
        return self._session.put(value)

    def reseed_global(self, seed: int) -> None:
        self._session.reseed_global(seed)


class Trial:
    """One check running against one submission: its inputs, the oracle, the student, the seed."""

    def __init__(self, check: "Check", session: Session, oracle, seed: int):
        self.check, self.session, self.oracle = check, session, oracle
        self.rng = np.random.default_rng([int(seed) % 2**63, zlib.crc32(check.name.encode())])
        self.student = StudentNamespace(session)
        self.tolerant_student = StudentNamespace(session, tolerant=True)

    @property
    def public(self) -> bool:
        return self.check.visibility == PUBLIC

    def inputs(self, draw: Callable[[np.random.Generator], dict], key: str = "inputs") -> dict:
        return self.oracle.inputs(self.check, key, draw, self.rng)

    def expected(self, compute: Callable, key: str = "value"):
        return self.oracle.expected(self.check, key, compute)

    def fetch(self, value):
        return self.session.fetch(value)

    def variants(self, compute: Callable, key: str = "value") -> list[tuple[Mutant, Any]]:
        """``compute`` on every known mistake of this check's exercise."""
        return self.oracle.variants(self.check, key, compute)

    def diagnose(self, received, expected, compute: Callable, key: str = "value") -> Mutant | None:
        """The known mistake whose output the submission reproduces (and the reference does not).

        ``received`` is converted once, for all the mistakes (a mistake whose output has another
        shape costs no conversion at all), and the test's deadline and the submission's budget are
        checked between mistakes."""
        conversions: dict = {}
        for mutant, value in self.variants(compute, key):
            self.session.checkpoint()
            if matches(received, value, conversions=conversions) and not matches(value, expected):
                return mutant
        return None

    def mismatch(self, comparison, inputs: dict, expected, received, compute: Callable) -> Verdict:
        """The failed verdict of a comparison: what differs, the details (public only), the named mistake."""
        details = feedback.mismatch_details(comparison, inputs, expected, received) if self.public else ""
        return Verdict(False, feedback.mismatch_message(comparison, self.public), details,
                       self.diagnose(received, expected, compute))


@dataclass
class Prepared:
    """A check's first half, done: the student calls are queued, ``fetch`` names the values they
    return (remote), ``state`` is what the second half needs (inputs, expected value...)."""

    fetch: Any
    state: dict


@dataclass(kw_only=True)
class Check:
    name: str
    exercise: str
    points: float
    visibility: str = HIDDEN
    description: str = ""  # what is checked, in words (shown for hidden checks)
    timeout: float = 5.0

    def __post_init__(self):
        if self.visibility not in (PUBLIC, HIDDEN):
            raise ValueError(f"check {self.name!r}: visibility must be 'public' or 'hidden'")
        if self.exercise.count(".") != 1:
            raise ValueError(f"check {self.name!r}: exercise must be '<assignment>.<function>'")

    @property
    def assignment(self) -> str:
        return self.exercise.split(".")[0]

    @property
    def function(self) -> str:
        return self.exercise.split(".")[1]

    def run(self, trial: Trial) -> Verdict:
        prepared = self.prepare(trial)
        return self.conclude(trial, prepared, trial.fetch(prepared.fetch))

    # A check made of one round trip (queue the calls, fetch once, judge) can share that round
    # trip with its neighbours (grader.run_checks); a check that fetches several times cannot.
    groupable = True

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        """Compute the inputs and the expected value, queue the student's calls. ``grouped``: the
        round trip is shared, so queue now what a later round trip would otherwise fetch."""
        raise NotImplementedError

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        """Judge what the student's calls returned (``received``, plain data)."""
        raise NotImplementedError


@dataclass(kw_only=True)
class ValueCheck(Check):
    """``call(ns, **inputs)`` on the submission equals the same call on the reference."""

    inputs: Callable[[np.random.Generator], dict]
    call: Callable[..., Any]
    tolerance: tuple[float, float] | None = None
    exact: bool = False

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        inputs = trial.inputs(self.inputs)
        compute = lambda ns: self.call(ns, **copy.deepcopy(inputs))  # noqa: E731
        expected = trial.expected(compute)
        return Prepared(self.call(trial.student, **inputs), {"inputs": inputs, "compute": compute, "expected": expected})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        inputs, compute, expected = (prepared.state[k] for k in ("inputs", "compute", "expected"))
        comparison = compare_values(received, expected, f"{self.function}(...)", self.exact, self.tolerance)
        if comparison.ok:
            return Verdict(True)
        return trial.mismatch(comparison, inputs, expected, received, compute)


@dataclass(kw_only=True)
class GradientCheck(Check):
    """An analytic gradient against central differences of the student's own forward and the reference.

    ``analytic(ns, **inputs)`` returns the gradient with respect to ``inputs`` at path ``wrt``
    (e.g. ``("params", "W1")``); ``forward(ns, **inputs)`` returns the forward output, and the
    trusted ``objective(output, **inputs)`` turns it into the scalar being differentiated.
    ``expect(ns, **inputs)`` is the reference's gradient (default: ``analytic`` on the reference).
    """

    inputs: Callable[[np.random.Generator], dict]
    analytic: Callable[..., Any]
    forward: Callable[..., Any]
    objective: Callable[..., float]
    wrt: tuple
    expect: Callable[..., Any] | None = None
    step: float = 1e-6
    threshold: float = 1e-6  # CS231n relative error; correct code <= 1e-8, typical bugs >= 0.3

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        """The analytic gradient; grouped, also the shifted forward passes of the numeric check, as
        tolerant calls: one that raises is asked again on its own, and only if the analytic
        gradient is right, as when the forwards run after it."""
        inputs = trial.inputs(self.inputs)
        reference = self.expect or self.analytic
        compute = lambda ns: reference(ns, **copy.deepcopy(inputs))  # noqa: E731
        expected = trial.expected(compute)
        analytic = self.analytic(trial.student, **inputs)
        shifts = self._shifts(inputs)
        forwards = [self.forward(trial.tolerant_student, **shifted)
                    for _, _, shifted in shifts[:FORWARDS_PER_FETCH]] if grouped else []
        return Prepared({"analytic": analytic, "forwards": forwards},
                        {"inputs": inputs, "compute": compute, "expected": expected, "shifts": shifts})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        inputs, compute, expected = (prepared.state[k] for k in ("inputs", "compute", "expected"))
        analytic = received["analytic"]
        label = f"d/d{self.wrt[-1]}"
        comparison = compare_values(analytic, expected, f"the gradient {label}")
        if not comparison.ok:
            return trial.mismatch(comparison, inputs, expected, analytic, compute)
        _, precision = numeric_array(analytic)
        if precision == "float32":
            return Verdict(True, "the numeric gradient check was skipped: it needs float64 (your code returned float32)")
        return self._numeric(trial, inputs, np.asarray(analytic, dtype=np.float64), label,
                             prepared.state["shifts"], received["forwards"])

    def _shifts(self, inputs: dict) -> list[tuple[tuple, int, dict]]:
        """(index, sign, inputs with that one entry moved by sign * step), for every entry."""
        shifts = []
        for index in np.ndindex(*np.shape(_get_path(inputs, self.wrt))):
            for sign in (+1, -1):
                shifted = copy.deepcopy(inputs)
                target = np.array(_get_path(shifted, self.wrt), dtype=np.float64)
                target[index] += sign * self.step
                _set_path(shifted, self.wrt, target)
                shifts.append((index, sign, shifted))
        return shifts

    def _numeric(self, trial: Trial, inputs: dict, analytic: np.ndarray, label: str, shifts: list, fetched: list) -> Verdict:
        """Central differences of the student's forward; ``fetched``: the first forwards' outputs."""
        outputs = list(fetched)
        for start in range(len(outputs), len(shifts), FORWARDS_PER_FETCH):  # the rest, many per round trip
            outputs += trial.fetch([self.forward(trial.student, **shifted)
                                    for _, _, shifted in shifts[start:start + FORWARDS_PER_FETCH]])
        values = {}
        for number, ((index, sign, shifted), output) in enumerate(zip(shifts, outputs)):
            if number < len(fetched) and isinstance(output, Unsupported):  # raised, or an object: ask alone
                output = trial.fetch(self.forward(trial.student, **shifted))
            try:
                values[index, sign] = float(self.objective(output, **shifted))
            except (Rejected, TypeError, ValueError, KeyError, IndexError) as error:
                return Verdict(False, f"the forward pass returned something unusable for the numeric check: {error}")
        numeric = np.zeros_like(analytic)
        for index in np.ndindex(*np.shape(_get_path(inputs, self.wrt))):
            numeric[index] = (values[index, +1] - values[index, -1]) / (2 * self.step)
        error = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape)) if error.size else ()
        if error.size and error[worst] > self.threshold:
            where = f"{self.wrt[-1]}{list(worst)}"
            return Verdict(False, f"{label} disagrees with central differences of your own forward pass at "
                                  f"{where}: relative error {error[worst]:.2g} (allowed {self.threshold:g}); "
                                  f"analytic {analytic[worst]:.6g}, numeric {numeric[worst]:.6g}")
        return Verdict(True)


@dataclass(kw_only=True)
class StatisticalCheck(Check):
    """A random function's output against the distribution the reference describes.

    ``sample(ns, **inputs)`` draws from the submission; ``expect(ns, **inputs)`` is the target,
    a spec for ``test`` (:func:`distribution_problem` for initializers, :func:`mask_problem` for
    dropout, which also receives ``inputs[data]``).
    """

    inputs: Callable[[np.random.Generator], dict]
    sample: Callable[..., Any]
    expect: Callable[..., dict]
    test: str = "distribution"  # or "mask"
    data: str = "x"

    def _problem(self, received, spec, inputs) -> str | None:
        if self.test == "mask":
            return mask_problem(received, inputs[self.data], spec)
        return distribution_problem(received, spec)

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        inputs = trial.inputs(self.inputs)
        compute = lambda ns: self.expect(ns, **copy.deepcopy(inputs))  # noqa: E731
        spec = trial.expected(compute)
        return Prepared(self.sample(trial.student, **inputs), {"inputs": inputs, "compute": compute, "spec": spec})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        inputs, compute, spec = (prepared.state[k] for k in ("inputs", "compute", "spec"))
        problem = self._problem(received, spec, inputs)
        if problem is None:
            return Verdict(True)
        if isinstance(received, (list, tuple)):  # converted once here, not again for every known mistake
            try:
                received = numeric_array(received, "the sample", np.shape(inputs[self.data]) if self.test == "mask"
                                         else tuple(spec["shape"]))[0]
            except Rejected:
                return Verdict(False, problem)
        mistake = None
        for mutant, candidate in trial.variants(compute):
            trial.session.checkpoint()
            if candidate != spec and self._problem(received, candidate, inputs) is None:
                mistake = mutant
                break
        return Verdict(False, problem, mistake=mistake)


@dataclass(frozen=True)
class OneFetchProbe:
    """A probe made of one round trip: ``ask(trial)`` queues the student's calls and returns (what
    to fetch, state); ``judge(trial, state, fetched)`` returns what is wrong, or None. Unlike a
    probe that fetches again after looking at an answer, it can share its round trip."""

    ask: Callable[[Trial], tuple[Any, Any]]
    judge: Callable[[Trial, Any, Any], str | None]

    def __call__(self, trial: Trial) -> str | None:
        fetch, state = self.ask(trial)
        return self.judge(trial, state, trial.fetch(fetch))


@dataclass(kw_only=True)
class BehaviourCheck(Check):
    """A property of the submission: ``probe(trial)`` returns what is wrong, or None."""

    probe: Callable[[Trial], str | None]

    @property
    def groupable(self) -> bool:  # any other probe may fetch several times, each fetch depending on the last
        return isinstance(self.probe, OneFetchProbe)

    def run(self, trial: Trial) -> Verdict:
        if self.groupable:
            return super().run(trial)
        problem = self.probe(trial)
        return Verdict(problem is None, problem or "")

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        fetch, state = self.probe.ask(trial)
        return Prepared(fetch, {"probe": state})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        problem = self.probe.judge(trial, prepared.state["probe"], received)
        return Verdict(problem is None, problem or "")


# ---------------------------------------------------------------- reusable pieces

def fixed_inputs(**inputs) -> Callable[[np.random.Generator], dict]:
    """The ``inputs`` of a check that uses the same, literal inputs on every run (public checks)."""
    return lambda rng: inputs


def leaves_inputs_unchanged(draw: Callable, call: Callable, names: tuple[str, ...]) -> OneFetchProbe:
    """A probe: after ``call(ns, **inputs)``, the inputs ``names`` still hold their original values."""

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        remote = {k: (trial.student.keep(v) if k in names else v) for k, v in inputs.items()}
        call(trial.student, **remote)
        return {name: remote[name] for name in names}, inputs

    def judge(trial: Trial, inputs: dict, after: dict) -> str | None:
        for name in names:
            comparison = compare_values(after[name], inputs[name], f"the argument {name}", exact=True)
            if not comparison.ok:
                return f"the function modified its argument {name!r} in place; work on a copy instead"
        return None

    return OneFetchProbe(ask, judge)


def uses_only_given_rng(draw: Callable, call: Callable) -> OneFetchProbe:
    """A probe: ``call(ns, rng=..., **inputs)`` depends on the rng passed in, and on nothing else.

    Two calls with equal-seeded generators, after seeding NumPy's global generator differently,
    must agree exactly; a differently seeded generator must change the result.
    """

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        seed = int(trial.rng.integers(2**31))
        calls = []
        for global_seed, rng_seed in ((1, seed), (2, seed), (1, seed + 1)):
            trial.student.reseed_global(global_seed)
            calls.append(call(trial.student, rng=trial.student.rng(rng_seed), **inputs))
        return calls, None  # the three calls, in order, in one round trip

    def judge(trial: Trial, _, results: list) -> str | None:
        try:
            first, again, other = (numeric_array(r)[0] for r in results)
        except Rejected as rejection:
            return str(rejection)
        if first.shape != again.shape or not np.array_equal(first, again):
            return ("two calls with identically seeded generators gave different results: use the rng argument "
                    "for every random draw (not np.random.* or the random module)")
        if first.shape == other.shape and np.array_equal(first, other):
            return "the result does not depend on the rng passed in: draw your random numbers from it"
        return None

    return OneFetchProbe(ask, judge)


def _get_path(value, path):
    for key in path:
        value = value[key]
    return value


def _set_path(value, path, new):
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new
