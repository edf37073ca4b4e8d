"""Outcome checks: grade what a submission's training run ACHIEVES, not the numbers it computes.

A training loop has no single right output: its weights depend on every random draw, and two
correct loops differ in the last digit of every weight. What a correct loop does reliably is reach
a good accuracy on data it never saw. An :class:`OutcomeCheck`:

1. calls the submission's training function in the sandbox (the child's CPU-time, memory and
   process limits apply, and the check's own wall-clock ``timeout``, longer than an ordinary
   check's), with the data the check's ``train`` callable hands it: the course material decides
   what the submission sees (a training and a validation part); the held-out part never leaves
   the judge;
2. receives the trained parameters and the per-epoch history as plain data, and validates them
   before any use (:func:`validated_run`): the declared names and shapes exactly, real floating
   dtypes, finite values, at most :data:`~autograder.judge.results.Curves.MAX_EPOCHS` epochs. An
   answer that fails is a verdict (0 points), never an exception;
3. evaluates the parameters on the held-out part with the trusted reference's forward, through
   the oracle (so on the run's ``--device``);
4. awards points by :class:`Bands` calibrated from the reference's own accuracy over many seeds:
   full marks at or above a line the reference reaches in nearly every seed, partial credit
   (linear) down to a floor, nothing below it. Up to ``seeds`` runs (new seeds) while the time
   allows; the best counts, so a correct loop does not fail by one unlucky seed, and a run at or
   above the full-marks line ends the check early.

The check's verdict carries the best run's curves (the submission's per-epoch losses) beside the
reference's band, for the feedback. The engine names no assignment: the data, the call, the
shapes, the bands and the band of the curves all come from the course's hidden checks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder.judge.checks import PUBLIC, Check, Finding, Prepared, Trial, Verdict, found
from autograder.judge.compare import Rejected, numeric_array
from autograder.judge.results import Band, Curves

MAX_SEEDS = 5
SEED_SPACE = 2**31


@dataclass(frozen=True)
class Bands:
    """Points by accuracy, as a fraction of the check's points: 1 at or above ``full``, 0 below
    ``floor``, linear in between. Both are accuracies in [0, 1] with ``floor < full``."""

    full: float
    floor: float

    def __post_init__(self):
        if not 0.0 <= self.floor < self.full <= 1.0:
            raise ValueError(f"bands: need 0 <= floor < full <= 1, got floor {self.floor}, full {self.full}")

    def fraction(self, accuracy: float) -> float:
        """The share of the points an ``accuracy`` earns, in [0, 1]."""
        if accuracy >= self.full:
            return 1.0
        if accuracy < self.floor:
            return 0.0
        return (accuracy - self.floor) / (self.full - self.floor)

    def describe(self) -> str:
        return (f"full marks at a test accuracy >= {self.full:.3f}, partial credit down to {self.floor:.3f}, "
                f"none below")


@dataclass(frozen=True)
class Run:
    """One training run of the submission, validated: its seed, the trained ``params`` (name ->
    float64 array of the declared shape, finite) and ``curves`` (history key -> per-epoch finite
    floats, 1 to MAX_EPOCHS of them), and the held-out ``accuracy`` the judge measured."""

    seed: int
    params: dict[str, np.ndarray]
    curves: dict[str, list[float]]
    accuracy: float = math.nan


class Unusable(Exception):
    """A training run's answer the judge cannot use; the message says what is wrong with it."""


def validated_run(seed: int, received, shapes: dict[str, tuple[int, ...]], curves: tuple[str, ...],
                  max_epochs: int) -> Run:
    """``received`` (what the child sent for one run: ``(params, history)``) as a :class:`Run`.

    Raises :class:`Unusable` for anything but a pair of a dict with exactly the names of
    ``shapes`` (real floating arrays of those shapes, finite) and a dict holding each of
    ``curves`` as a list of 1 to ``min(max_epochs, Curves.MAX_EPOCHS)`` finite numbers."""
    if not isinstance(received, (tuple, list)) or len(received) != 2:
        raise Unusable(f"the result should be a pair (params, history), got {_kind(received)}")
    params, history = received
    if not isinstance(params, dict) or set(params) != set(shapes):
        names = sorted(map(str, params))[:10] if isinstance(params, dict) else _kind(params)
        raise Unusable(f"params should be a dict with the keys {sorted(shapes)}, got {names}")
    checked = {}
    for name, shape in shapes.items():
        try:
            array, _ = numeric_array(params[name], f"params[{name!r}]", tuple(shape))
        except Rejected as rejection:
            raise Unusable(str(rejection)) from None
        if not np.isfinite(array).all():
            raise Unusable(f"params[{name!r}] contains NaN or inf")
        checked[name] = np.asarray(array, dtype=np.float64)
    if not isinstance(history, dict) or not all(key in history for key in curves):
        raise Unusable(f"history should be a dict with the keys {list(curves)}, got {_kind(history)}")
    limit = min(int(max_epochs), Curves.MAX_EPOCHS)
    series = {}
    for key in curves:
        values = history[key]
        if not isinstance(values, (list, tuple, np.ndarray)) or not 1 <= len(values) <= limit:
            size = len(values) if isinstance(values, (list, tuple, np.ndarray)) else _kind(values)
            raise Unusable(f"history[{key!r}] should hold one value per epoch run (1 to {limit}), got {size}")
        try:
            array, _ = numeric_array(values, f"history[{key!r}]", (len(values),))
        except Rejected as rejection:
            raise Unusable(str(rejection)) from None
        if not np.isfinite(array).all():
            raise Unusable(f"history[{key!r}] contains NaN or inf")
        series[key] = [float(v) for v in array]
    if len({len(v) for v in series.values()}) > 1:
        raise Unusable(f"the history's curves have different lengths {[len(v) for v in series.values()]}")
    return Run(seed, checked, series)


def _kind(value) -> str:
    return f"a {type(value).__name__}"


@dataclass(kw_only=True)
class OutcomeCheck(Check):
    """A training run of the submission, graded by what its trained parameters achieve.

    - ``data()``: the trusted data (any dict; the same object on every call is fine);
    - ``train(ns, data, rng)``: the student's call (``ns.train(...)``) with what the submission may
      see of ``data`` and ``rng``, a fresh generator in the child; it returns ``(params, history)``;
    - ``shapes(data)``: the parameters' names and shapes the run must return;
    - ``curves``: history key -> the curve's name in the feedback (``"train_loss": "training loss"``);
    - ``measure(ns, params, data)``: on the reference's namespace (the oracle's device), the
      held-out accuracy of ``params``, a float in [0, 1];
    - ``bands``: the points by accuracy; ``band``: the reference's per-epoch spread of each curve
      (curve name -> Band), shown with the student's curves;
    - ``diagnose(runs)``: optional; a :class:`~autograder.judge.checks.Finding` naming the known
      mistake whose symptom the runs show (or None);
    - ``seeds``: at most this many runs (1 to MAX_SEEDS), while ``timeout`` allows another;
    - ``max_epochs``: the most epochs a history may hold (the epochs the call asks for).
    Hidden only: the held-out data and the reference stay in the judge.
    """

    data: Callable[[], Any]
    train: Callable[..., Any]
    shapes: Callable[[Any], dict[str, tuple[int, ...]]]
    curves: dict[str, str]
    measure: Callable[..., float]
    bands: Bands
    band: dict[str, Band] = field(default_factory=dict)
    diagnose: Callable[[list[Run]], Finding | None] | None = None
    seeds: int = 3
    max_epochs: int = Curves.MAX_EPOCHS
    timeout: float = 90.0

    groupable = False  # one round trip per run, each deciding whether another run fits

    def __post_init__(self):
        super().__post_init__()
        if self.visibility == PUBLIC:
            raise ValueError(f"check {self.name!r}: an outcome check is hidden (its held-out data stays in the judge)")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"check {self.name!r}: seeds must be 1 to {MAX_SEEDS}")

    def prepare(self, trial: Trial, grouped: bool = False) -> Prepared:  # pragma: no cover - never grouped
        raise NotImplementedError("an outcome check runs on its own (run)")

    def run(self, trial: Trial) -> Verdict:
        data = self.data()
        shapes = self.shapes(data)
        started, runs = time.monotonic(), []
        seeds = [int(s) for s in trial.rng.integers(0, SEED_SPACE, size=self.seeds)]
        for number, seed in enumerate(seeds):
            elapsed = time.monotonic() - started
            if number and elapsed / number * (number + 1.5) > self.timeout:
                break  # another run would not fit in the time left: grade the runs made
            received = trial.fetch(self.train(trial.student, data, trial.student.rng(seed)))
            trial.session.checkpoint()
            try:
                run = validated_run(seed, received, shapes, tuple(self.curves), self.max_epochs)
            except Unusable as unusable:
                return Verdict(False, f"the training run's result cannot be graded: {unusable}")
            accuracy = float(trial.oracle.expected(self, f"accuracy {seed}",
                                                   lambda ns, run=run: self.measure(ns, run.params, data)))
            runs.append(Run(run.seed, run.params, run.curves, accuracy))
            if self.bands.fraction(accuracy) == 1.0:
                break
        best = max(runs, key=lambda r: r.accuracy)
        fraction = self.bands.fraction(best.accuracy)
        accuracies = ", ".join(f"{r.accuracy:.3f}" for r in runs)
        message = (f"test accuracy {best.accuracy:.3f} (best of {len(runs)} run{'s' if len(runs) > 1 else ''}: "
                   f"{accuracies}); {self.bands.describe()}")
        curves = Curves({self.curves[key]: best.curves[key] for key in self.curves},
                        {name: band for name, band in self.band.items() if name in self.curves.values()})
        if fraction == 1.0:
            return Verdict(True, curves=curves)
        finding = self.diagnose(runs) if self.diagnose else None
        verdict = found(trial, Finding(f"{message}; {finding.message}" if finding else message,
                                       finding.mistake if finding else None))
        verdict.fraction, verdict.curves = fraction, curves
        return verdict
