"""The kinds of check, each a small reusable piece. Assignments compose them into rubrics.

Every check names its exercise (``<assignment>.<function>``), its points and whether it is
``public`` (released, with full feedback) or ``hidden`` (its inputs and expected values are never
shown). A check's ``call`` is written once and runs on both sides: on the student's namespace
(calls go to the sandboxed child and return remote handles) and on the reference's namespace
(calls run the torch reference in the judge). The judge compares the results.

- :class:`ValueCheck`: the result equals the reference's on seeded or fixed inputs;
- :class:`GradientCheck`: an analytic gradient equals the reference's (computed on the
  reference's inputs, e.g. its forward's cache, so a backward is graded on its own); central
  differences of the student's own forward only explain a failure;
- :class:`StatisticalCheck`: a random function's output has the right distribution;
- :class:`BehaviourCheck`: a property (learns AND, uses only the given rng, leaves inputs alone);
  a probe that recognizes the symptom of a known mistake says so (:class:`Finding`);
- :class:`~autograder.judge.outcome.OutcomeCheck` (its own module): what a training run of the
  submission achieves on held-out data, in points by bands.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograder.judge import feedback, symptoms
from autograder.judge.compare import Rejected, compare_values, matches, numeric_array
from autograder.judge.mutants import Mutant
from autograder.judge.results import Curves
from autograder.judge.session import Remote, Rng, Session
from autograder.judge.statistics import distribution_problem, mask_problem

PUBLIC = "public"
HIDDEN = "hidden"
MAX_FINGERPRINT_ITEMS = 10_000  # a longer list is fingerprinted by its length alone
FORWARDS_PER_FETCH = 64  # a numeric gradient's forward passes, sent to the child together


@dataclass(frozen=True)
class Sighting:
    """One known mistake seen against one input where it differs from the reference.

    ``matched``: the submission reproduces the mistake there; ``key``: a fingerprint of the input
    and the received value, so the same input seen twice counts once."""

    mutant: Mutant
    matched: bool
    key: int


@dataclass
class Verdict:
    """How one check went. ``message`` is safe to show for hidden checks; ``details`` only for public ones.

    ``mistake`` is a candidate: the grader names it only when ``sightings`` across the exercise's
    checks show the submission matching it on at least two discriminating inputs (see
    :func:`autograder.judge.grader.confirmed_mistake`)."""

    passed: bool
    message: str = ""
    details: str = ""
    mistake: Mutant | None = None
    fraction: float | None = None  # partial credit in [0, 1]; None means all (passed) or nothing
    sightings: tuple[Sighting, ...] = ()
    curves: Curves | None = None  # a training run's per-epoch curves, shown beside the verdict


@dataclass(frozen=True)
class Finding:
    """What a behaviour probe found wrong: ``message``, and ``mistake``, the id of the known mistake
    (``<assignment>.<function>.<mistake>``) whose symptom it is, when the probe recognizes one.

    A probe names a mistake by what the submission DOES (its folds overlap, its run went on past
    the best validation loss), never by reading its code. Like a matched mutant, a finding is a
    sighting: the grader names the mistake once it is seen on two inputs (two checks, or the same
    check on a second draw)."""

    message: str
    mistake: str | None = None


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
        self.check, self.session, self.oracle, self.seed = check, session, oracle, int(seed)
        self.rng = np.random.default_rng([int(seed) % 2**63, zlib.crc32(check.name.encode())])
        self.student = StudentNamespace(session)
        self.tolerant_student = StudentNamespace(session, tolerant=True)

    @property
    def public(self) -> bool:
        return self.check.public

    def inputs(self, draw: Callable[[np.random.Generator], dict], key: str = "inputs") -> dict:
        return self.oracle.inputs(self.check, key, draw, self.rng)

    def expected(self, compute: Callable, key: str = "value"):
        return self.oracle.expected(self.check, key, compute)

    def fetch(self, value):
        return self.session.fetch(value)

    def variants(self, compute: Callable, key: str = "value") -> list[tuple[Mutant, Any]]:
        """``compute`` on every known mistake of this check's exercise."""
        return self.oracle.variants(self.check, key, compute)

    def diagnose(self, received, expected, compute: Callable, key: str = "value",
                 inputs=None) -> tuple[Sighting, ...]:
        """Every known mistake that differs from the reference on these inputs (a discriminating
        input), and whether the submission reproduces it there.

        ``received`` is converted once, for all the mistakes (a mistake whose output has another
        shape costs no conversion at all), and the test's deadline and the submission's budget are
        checked between mistakes."""
        fingerprint = _fingerprint([inputs, received])
        conversions: dict = {}
        sightings = []
        for mutant, value in self.variants(compute, key):
            self.session.checkpoint()
            if not matches(value, expected):
                sightings.append(Sighting(mutant, matches(received, value, conversions=conversions), fingerprint))
        return tuple(sightings)

    def mismatch(self, comparison, inputs: dict, expected, received, compute: Callable,
                 recompute: Callable[[dict], Callable] | None = None) -> Verdict:
        """The failed verdict of a comparison: what differs and how (the symptom), the details
        (public only), the candidate mistake and what supports it. ``recompute(inputs)`` gives the
        reference computation on other inputs, to test whether an input was left out."""
        details = feedback.mismatch_details(comparison, inputs, expected, received) if self.public else ""
        sightings = self.diagnose(received, expected, compute, inputs=inputs)
        symptom = symptoms.describe(received, expected, inputs, public=self.public)
        if symptom is None and recompute is not None and not any(s.matched for s in sightings):
            symptom = self.ignored_input(inputs, expected, received, recompute)
        return Verdict(False, feedback.mismatch_message(comparison, self.public, symptom), details,
                       next((s.mutant for s in sightings if s.matched), None), sightings=sightings)


    def ignored_input(self, inputs: dict, expected, received, recompute: Callable[[dict], Callable]) -> str | None:
        """"as if <input> were 0": the reference, with one input (a float, a float array, or one
        array of a dict input) set to zero, gives what the submission returned, and differs from
        the expected value there. Names the argument only, never a value (hidden checks too)."""
        for where, zeroed in zeroed_inputs(inputs):
            try:
                value = self.oracle.expected(self.check, f"zeroed {where}", recompute(zeroed))
            except Exception:  # a frozen oracle has no such value; a reference that refuses zero
                continue
            if matches(received, value) and not matches(value, expected):
                return f"the result is what {where} = 0 gives: is {where} left out or ignored?"
        return None


def zeroed_inputs(inputs: dict):
    """(where, inputs with that one piece set to zero) for every non-zero float, float array, and
    float array inside a dict input; ints (epochs, seeds, labels) and booleans are left alone."""
    for name, value in inputs.items():
        if isinstance(value, float) and value != 0.0:
            yield name, {**inputs, name: 0.0}
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.any():
            yield name, {**inputs, name: np.zeros_like(value)}
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, np.ndarray) and item.dtype.kind == "f" and item.any():
                    yield f"{name}[{key!r}]", {**inputs, name: {**value, key: np.zeros_like(item)}}


class SecondDrawTrial(Trial):
    """A trial on a second input: a new draw of the check's inputs (another seed) with every batch
    reversed (each array's first axis), so that a check with fixed inputs (logits of 1000, BCE at
    exactly 0 and 1) also gets a different input with the same features. The reference is
    computed on the same reversed inputs, so it stays a valid check."""

    def inputs(self, draw: Callable[[np.random.Generator], dict], key: str = "inputs") -> dict:
        return _reversed_batches(super().inputs(draw, key))


def _reversed_batches(value):
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] >= 2:
        return value[::-1].copy()
    if isinstance(value, dict):
        return {k: _reversed_batches(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reversed_batches(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_reversed_batches(v) for v in value)
    return value


@dataclass
class Prepared:
    """A check's first half, done: the student calls are queued, ``fetch`` names the values they
    return (remote), ``state`` is what the second half needs (inputs, expected value...)."""

    fetch: Any
    state: dict


@dataclass(kw_only=True)
class Check:
    """What every check says: its name, the exercise it grades, its points.

    ``exercise`` is the function's name (``"softmax"``) or, qualified, ``"<assignment>.softmax"``; the
    rubric loader qualifies it with the assignment whose folder the check is in. ``visibility``
    comes from the file the check is in (``public_checks.py`` or ``hidden_checks.py``); a check
    never has to say it, and one that says the opposite of its file is refused.
    """

    name: str
    exercise: str
    points: float
    visibility: str | None = None
    description: str = ""  # what is checked, in words (shown for hidden checks)
    timeout: float = 5.0

    def __post_init__(self):
        if self.visibility not in (PUBLIC, HIDDEN, None):
            raise ValueError(f"check {self.name!r}: visibility must be 'public' or 'hidden'")
        if self.exercise.count(".") > 1 or not all(self.exercise.split(".")):
            raise ValueError(f"check {self.name!r}: exercise must be '<function>' or '<assignment>.<function>'")

    @property
    def assignment(self) -> str:
        """The assignment ("" until the rubric loader has qualified the exercise)."""
        return self.exercise.split(".")[0] if "." in self.exercise else ""

    @property
    def function(self) -> str:
        return self.exercise.split(".")[-1]

    @property
    def public(self) -> bool:
        return self.visibility == PUBLIC

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
    call: Callable[..., Any] | None = None  # default: the exercise's function, inputs in order
    tolerance: tuple[float, float] | None = None
    exact: bool = False

    def __post_init__(self):
        super().__post_init__()
        if self.call is None:
            self.call = calls(self.function)

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
        return trial.mismatch(comparison, inputs, expected, received, compute,
                              lambda other: lambda ns: self.call(ns, **copy.deepcopy(other)))


@dataclass(kw_only=True)
class GradientCheck(Check):
    """An analytic gradient against the reference's; central differences of the student's own
    forward only explain a failure (a diagnostic in the message, never a second penalty).

    ``analytic(ns, **inputs, **given)`` returns the gradient with respect to ``inputs`` at path
    ``wrt`` (e.g. ``("params", "W1")``). ``given(ns, **inputs)``, if set, runs on the REFERENCE only
    and returns extra inputs for ``analytic`` on both sides (e.g. ``{"cache": ...}`` from the
    reference's forward), so that a backward is graded on its own, never on the student's forward.
    ``forward(ns, **inputs)`` returns the forward output, and the trusted ``objective(output,
    **inputs)`` turns it into the scalar being differentiated (for the diagnostic).
    ``expect(ns, **inputs, **given)`` is the reference's gradient (default: ``analytic`` on the reference).
    """

    inputs: Callable[[np.random.Generator], dict]
    analytic: Callable[..., Any]
    forward: Callable[..., Any]
    objective: Callable[..., float]
    wrt: tuple
    given: Callable[..., dict] | None = None
    expect: Callable[..., Any] | None = None
    tolerance: tuple[float, float] | None = None  # (rtol, atol); default: by the dtype returned
    step: float = 1e-6
    threshold: float = 1e-6  # CS231n relative error; correct code <= 1e-8, typical bugs >= 0.3

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        """The analytic gradient, on the reference's ``given`` inputs; the numeric diagnostic
        (many forward passes) is computed only when the gradient is wrong."""
        inputs = trial.inputs(self.inputs)
        given = trial.expected(lambda ns: self.given(ns, **copy.deepcopy(inputs)), "given") if self.given else {}
        reference = self.expect or self.analytic
        compute = lambda ns: reference(ns, **copy.deepcopy(inputs), **copy.deepcopy(given))  # noqa: E731
        expected = trial.expected(compute)
        analytic = self.analytic(trial.student, **inputs, **given)
        return Prepared({"analytic": analytic}, {"inputs": inputs, "compute": compute, "expected": expected})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        inputs, compute, expected = (prepared.state[k] for k in ("inputs", "compute", "expected"))
        analytic = received["analytic"]
        label = f"d/d{self.wrt[-1]}"
        comparison = compare_values(analytic, expected, f"the gradient {label}", tolerance=self.tolerance)
        if comparison.ok:
            return Verdict(True)
        verdict = trial.mismatch(comparison, inputs, expected, analytic, compute)
        note = self.own_forward_note(trial, inputs, analytic)
        if note:
            verdict.message = f"{verdict.message}; {note}"
        return verdict

    def own_forward_note(self, trial: Trial, inputs: dict, analytic) -> str:
        """A sentence comparing the wrong gradient with central differences of the student's own
        forward (float64 only: float32 central differences are too coarse), or "" when that
        cannot be computed. It explains; it costs nothing."""
        try:
            values, precision = numeric_array(analytic)
        except Rejected:
            return ""
        if precision == "float32" or values.shape != np.shape(_get_path(inputs, self.wrt)):
            return ""
        try:
            numeric = self._numeric(trial, inputs)
        except (Rejected, TypeError, ValueError, KeyError, IndexError):
            return "your forward pass could not be differentiated numerically to explain this"
        if numeric is None:
            return ""
        error = np.abs(values - numeric) / np.maximum(1e-8, np.abs(values) + np.abs(numeric))
        worst = float(error.max()) if error.size else 0.0
        if worst <= self.threshold:
            return ("it agrees with central differences of your own forward pass, so your forward computes "
                    "something else too: fix the forward's checks first")
        return (f"it also disagrees with central differences of your own forward pass (relative error "
                f"{worst:.2g}): the gradient itself is wrong")

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

    def _numeric(self, trial: Trial, inputs: dict) -> np.ndarray | None:
        """Central differences of the student's forward, many forward passes per round trip; a
        forward that raises makes its value an Unsupported marker, which the objective refuses.
        None when the forward computes in float32 (its central differences say nothing)."""
        shifts = self._shifts(inputs)
        outputs = []
        for start in range(0, len(shifts), FORWARDS_PER_FETCH):
            outputs += trial.fetch([self.forward(trial.tolerant_student, **shifted)
                                    for _, _, shifted in shifts[start:start + FORWARDS_PER_FETCH]])
        if any(isinstance(o, np.ndarray) and o.dtype == np.float32 for o in outputs[:1]):
            return None
        values = {(index, sign): float(self.objective(output, **shifted))
                  for (index, sign, shifted), output in zip(shifts, outputs)}
        numeric = np.zeros(np.shape(_get_path(inputs, self.wrt)))
        for index in np.ndindex(*numeric.shape):
            numeric[index] = (values[index, +1] - values[index, -1]) / (2 * self.step)
        return numeric


@dataclass(kw_only=True)
class StatisticalCheck(Check):
    """A random function's output against the distribution the reference describes.

    ``sample(ns, **inputs)`` draws from the submission; ``expect(ns, **inputs)`` is the target,
    a spec for ``test`` (:func:`distribution_problem` for a sample of a distribution, :func:`mask_problem`
    for a random mask, which also receives ``inputs[data]``).
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
        fingerprint = _fingerprint([inputs, received])  # a new sample is a new draw, even on the same inputs
        sightings = []
        for mutant, candidate in trial.variants(compute):
            trial.session.checkpoint()
            if candidate != spec:
                sightings.append(Sighting(mutant, self._problem(received, candidate, inputs) is None, fingerprint))
        return Verdict(False, problem, mistake=next((s.mutant for s in sightings if s.matched), None),
                       sightings=tuple(sightings))


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
        return found(trial, self.probe(trial))

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:
        fetch, state = self.probe.ask(trial)
        return Prepared(fetch, {"probe": state})

    def conclude(self, trial: Trial, prepared: Prepared, received) -> Verdict:
        return found(trial, self.probe.judge(trial, prepared.state["probe"], received))


def found(trial: Trial, problem: str | Finding | None) -> Verdict:
    """The verdict of a probe's answer: None passes; a message or a :class:`Finding` fails, and a
    finding that recognizes a known mistake of the assignment adds a sighting of it, keyed by the
    check and the trial's seed (a second draw is a second input)."""
    if problem is None:
        return Verdict(True)
    if isinstance(problem, str):
        return Verdict(False, problem)
    mutant = known_mistake(trial.oracle, problem.mistake) if problem.mistake else None
    if mutant is None:
        return Verdict(False, problem.message)
    key = zlib.crc32(f"{trial.check.name}\0{trial.seed}".encode())
    return Verdict(False, problem.message, mistake=mutant, sightings=(Sighting(mutant, True, key),))


def known_mistake(oracle, mistake: str) -> Mutant | None:
    """The known mistake ``mistake`` (an id) among the oracle's (a live oracle holds a tuple of
    them, a frozen one a dict by id), or None."""
    mutants = getattr(oracle, "mutants", ())
    return next((m for m in (mutants.values() if isinstance(mutants, dict) else mutants) if m.id == mistake), None)


# ---------------------------------------------------------------- reusable pieces

def calls(function: str) -> Callable[..., Any]:
    """The call a check makes by default: ``ns.<function>(*inputs)``, the inputs passed by position
    in the order the check's ``inputs`` returns them (students may name their parameters freely)."""

    def call(ns, **inputs):
        return getattr(ns, function)(*inputs.values())

    call.__qualname__ = call.__name__ = f"calls_{function}"
    return call


def fixed_inputs(**inputs) -> Callable[[np.random.Generator], dict]:
    """The ``inputs`` of a check that uses the same, literal inputs on every run (public checks)."""
    return lambda rng: inputs


def _fingerprint(value) -> int:
    """A checksum of a (nested) received value: equal inputs give equal values, hence equal keys."""
    if isinstance(value, np.ndarray):
        return zlib.crc32(value.tobytes(), zlib.crc32(str((value.dtype, value.shape)).encode()))
    if isinstance(value, dict):
        return zlib.crc32(repr(sorted((str(k), _fingerprint(v)) for k, v in value.items())).encode())
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_FINGERPRINT_ITEMS:  # bounded work for whatever a submission sends
            return zlib.crc32(f"{type(value).__name__}:{len(value)}".encode())
        return zlib.crc32(repr([_fingerprint(v) for v in value]).encode())
    if callable(value) or isinstance(value, np.random.Generator):
        return zlib.crc32(type(value).__name__.encode())
    return zlib.crc32(repr(value).encode())


def _get_path(value, path):
    for key in path:
        value = value[key]
    return value


def _set_path(value, path, new):
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new
