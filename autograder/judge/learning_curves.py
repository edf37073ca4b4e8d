"""Training curves read back from a result document: cleaned, then read the way a TA would.

A training check stores per-epoch losses in a test's ``"curves"`` (:class:`~autograder.judge.results.Curves`
as JSON). By the time a feedback page or the course report draws them, that JSON has been through a
file or a database, and the values are the student's own losses: untrusted. :func:`clean_curves`
makes them bounded and plain, never raising:

- at most :data:`MAX_SERIES` series, each at most ``Curves.MAX_EPOCHS`` epochs (longer ones are cut,
  with a note);
- names without control characters, at most :data:`NAME_CHARS` characters (escaping for HTML, SVG or
  Markdown is left to whoever writes those);
- values are finite numbers of magnitude at most :data:`MAX_MAGNITUDE`; a series is cut at its first
  value that is not (NaN, inf, or a loss beyond 1e9: the run diverged), with a note; a series that
  holds something other than numbers is refused, with a note;
- a band is kept only when it belongs to a kept series, its two edges have the same length, every
  value is finite and ``low <= high`` at each epoch; otherwise it is refused, with a note.

:func:`read_run` then reads one run's training and validation losses (1-based epochs throughout):

- **best epoch**: the epoch of the lowest validation loss (the first one, on a tie);
- **overfitting**: the validation loss rose, by at least :data:`RISE` of its lowest value, in the
  :data:`STALL_EPOCHS` or more epochs after its lowest, while the training loss kept falling (by at
  least :data:`STILL_FALLING` of its value at the best epoch): the network keeps fitting its training
  data better and new data worse. A validation loss that only levels off (epoch-to-epoch noise on a
  plateau, as correct runs show near their end) is not overfitting;
- **not converged**: the training loss diverged (a value cut above), or it ended more than
  :data:`NOT_CONVERGED_FACTOR` times above the top of the reference's band at that epoch (the band's
  last epoch for a longer run), or (without a band) it fell by less than :data:`HARDLY` of its first
  value. The band is the spread of the reference's own runs (a 10th to 90th percentile, say), so a
  correct run ends above it now and then: only far above it is a loop that does not converge;
- **stopped early**: the run has fewer epochs than the reference's band covers (the epochs the check
  allows), which is what early stopping does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from autograder.judge.results import Band, Curves
from autograder.untrusted import cap, inert

MAX_SERIES = 8
NAME_CHARS = 80
MAX_MAGNITUDE = 1e9  # a loss beyond this is a diverged run, not a value to draw
STALL_EPOCHS = 2
STILL_FALLING = 0.01
RISE = 0.05
NOT_CONVERGED_FACTOR = 2.0
HARDLY = 0.05  # a training loss that fell by less than 5 % of its first value "hardly changed"
TRAINING, VALIDATION = "training loss", "validation loss"


@dataclass(frozen=True)
class Curve:
    """One cleaned series: ``values[i]`` is the loss after epoch ``i + 1``; ``band`` the reference's spread.

    ``cut_at``: the 1-based epoch whose value was not finite (or too large), where the series was cut.
    """

    name: str
    values: tuple[float, ...]
    band: Band | None = None
    cut_at: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class RunCurves:
    """The cleaned curves of one test, and what cleaning had to do (one note per change)."""

    curves: tuple[Curve, ...]
    notes: tuple[str, ...] = ()

    def named(self, name: str) -> Curve | None:
        """The curve called ``name`` (case-insensitive), if any."""
        return next((c for c in self.curves if c.name.casefold() == name.casefold()), None)


def _number(value) -> float | None:
    """``value`` as a float, or None when it is not a number (a bool, a string, a list...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int too large for a float
        return math.inf


def _drawable(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= MAX_MAGNITUDE


def _clean_name(raw, index: int) -> str:
    name = inert(cap(raw, 4 * NAME_CHARS)) if isinstance(raw, str) else ""
    name = " ".join(name.split())
    return cap(name, NAME_CHARS) if name else f"series {index}"


def _clean_values(raw, name: str, notes: list[str]) -> tuple[tuple[float, ...], int | None] | None:
    """The series' values (cut where needed), and the epoch it was cut at; None when refused."""
    if not isinstance(raw, (list, tuple)):
        notes.append(f"{name}: not a list of numbers; not drawn")
        return None
    limit = Curves.MAX_EPOCHS
    if len(raw) > limit:
        notes.append(f"{name}: {len(raw)} epochs; only the first {limit} are drawn")
    values: list[float] = []
    for epoch, item in enumerate(raw[:limit], start=1):
        number = _number(item)
        if number is None:
            notes.append(f"{name}: epoch {epoch} holds something other than a number; not drawn")
            return None
        if not _drawable(number):
            shown = "NaN" if math.isnan(number) else "infinite" if math.isinf(number) else "beyond 1e9"
            drawn = f"drawn up to epoch {epoch - 1}" if epoch > 1 else "not drawn"
            notes.append(f"{name}: the loss is {shown} at epoch {epoch}; {drawn}")
            return tuple(values), epoch
        values.append(number)
    return tuple(values), None


def _clean_band(raw, name: str, notes: list[str]) -> Band | None:
    if raw is None:
        return None
    limit = Curves.MAX_EPOCHS
    edges = [raw.get(key) if isinstance(raw, dict) else None for key in ("low", "high")]
    if not all(isinstance(edge, (list, tuple)) for edge in edges):
        notes.append(f"{name}: the reference's band is not two lists of numbers; not drawn")
        return None
    low, high = ([_number(v) for v in edge[:limit]] for edge in edges)
    if (len(low) != len(high) or not low
            or not all(a is not None and b is not None and _drawable(a) and _drawable(b) and a <= b
                       for a, b in zip(low, high))):
        notes.append(f"{name}: the reference's band is not a finite low <= high per epoch; not drawn")
        return None
    return Band(low=list(low), high=list(high))


def clean_curves(raw) -> RunCurves | None:
    """The curves of a test's ``"curves"`` JSON value, cleaned (see the module docstring).

    None when ``raw`` is None or holds no series at all (the test is not a training check, or its
    document is not one dlgrade wrote); a :class:`RunCurves` otherwise, possibly with no curve left.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("series"), dict) or not raw["series"]:
        return None
    bands = raw.get("band") if isinstance(raw.get("band"), dict) else {}
    notes: list[str] = []
    curves: list[Curve] = []
    items = list(raw["series"].items())
    if len(items) > MAX_SERIES:
        notes.append(f"{len(items)} series; only the first {MAX_SERIES} are drawn")
    for index, (raw_name, raw_values) in enumerate(items[:MAX_SERIES], start=1):
        name = _clean_name(raw_name, index)
        if any(c.name == name for c in curves):
            name = cap(f"{name} ({index})", NAME_CHARS + 5)
        cleaned = _clean_values(raw_values, name, notes)
        if cleaned is None:
            continue
        values, cut_at = cleaned
        band = _clean_band(bands.get(raw_name), name, notes)
        curves.append(Curve(name, values, band, cut_at))
    return RunCurves(tuple(curves), tuple(notes))


@dataclass(frozen=True)
class RunReading:
    """What one run's curves show; epochs are 1-based, ``None`` where the curves cannot say.

    ``reference_epochs``: the epochs the reference's band covers (the longest of the bands).
    """

    epochs: int
    best_epoch: int | None
    overfit: bool
    diverged: bool
    not_converged: bool
    stopped_early: bool
    reference_epochs: int | None


def _best_epoch(values: tuple[float, ...]) -> int | None:
    return min(range(len(values)), key=values.__getitem__) + 1 if values else None


def _overfits(training: Curve | None, validation: Curve | None, best: int | None) -> bool:
    if training is None or validation is None or best is None:
        return False
    last = min(training.epochs, validation.epochs)
    if last - best < STALL_EPOCHS:
        return False
    lowest, at_last = validation.values[best - 1], validation.values[last - 1]
    at_best, at_end = training.values[best - 1], training.values[last - 1]
    return at_last >= lowest + RISE * abs(lowest) and at_end < at_best - STILL_FALLING * abs(at_best)


def _not_converged(training: Curve | None) -> bool:
    if training is None or not training.values:
        return False
    if training.band is not None:
        top = training.band.high[min(training.epochs, len(training.band.high)) - 1]
        return training.values[-1] > NOT_CONVERGED_FACTOR * top
    first = training.values[0]
    return training.epochs > 1 and training.values[-1] > first - HARDLY * abs(first)


def read_run(run: RunCurves) -> RunReading:
    """Read the training and validation losses of one run (see the module docstring)."""
    training, validation = run.named(TRAINING), run.named(VALIDATION)
    best = _best_epoch(validation.values) if validation is not None else None
    diverged = training is not None and training.cut_at is not None
    bands = [len(c.band.high) for c in run.curves if c.band is not None]
    reference_epochs = max(bands) if bands else None
    drawn = [c for c in (training, validation) if c is not None]
    epochs = max((c.epochs for c in drawn), default=0)
    cut = any(c.cut_at is not None for c in drawn)
    return RunReading(
        epochs=epochs,
        best_epoch=best,
        overfit=_overfits(training, validation, best),
        diverged=diverged,
        not_converged=diverged or _not_converged(training),
        # A run cut where it diverged did not stop: its missing epochs are not early stopping.
        stopped_early=not cut and reference_epochs is not None and 0 < epochs < reference_epochs,
        reference_epochs=reference_epochs,
    )


def _g(value: float) -> str:
    return f"{value:.3g}"


def _band_sentence(curve: Curve, epoch: int) -> str | None:
    """Where ``curve`` is against its band at ``epoch`` (1-based), as a sentence; None without a band there."""
    if curve.band is None or epoch > len(curve.band.high) or epoch > curve.epochs:
        return None
    low, high, value = curve.band.low[epoch - 1], curve.band.high[epoch - 1], curve.values[epoch - 1]
    where = "above" if value > high else "below" if value < low else "inside"
    common = min(curve.epochs, len(curve.band.high))
    inside = sum(lo <= v <= hi for v, lo, hi in zip(curve.values, curve.band.low, curve.band.high))
    return (f"At epoch {epoch} your {curve.name} ({_g(value)}) is {where} the reference's band "
            f"({_g(low)} to {_g(high)}); it is inside the band at {inside} of {common} epochs.")


def describe_run(run: RunCurves, reading: RunReading) -> str:
    """One paragraph that reads the curves, every number taken from them (nothing canned)."""
    training, validation = run.named(TRAINING), run.named(VALIDATION)
    sentences: list[str] = []
    if training is not None and training.values:
        first, last = training.values[0], training.values[-1]
        span = f"{_g(first)} at epoch 1 to {_g(last)} at epoch {training.epochs}"
        if last > first:
            sentences.append(f"Your training loss rose from {span}.")
        elif last < first - HARDLY * abs(first):
            sentences.append(f"Your training loss fell from {span}.")
        else:
            sentences.append(f"Your training loss hardly changed: from {span}.")
    if reading.diverged and training is not None:
        sentences.append(f"At epoch {training.cut_at} it stopped being a finite number: the run diverged "
                         "(look at the learning rate and the gradients).")
    best = reading.best_epoch
    if validation is not None and best is not None:
        value = _g(validation.values[best - 1])
        if reading.overfit and training is not None:
            last = min(training.epochs, validation.epochs)
            sentences.append(
                f"Your validation loss stopped improving at epoch {best} ({value}) and rose to "
                f"{_g(validation.values[last - 1])} by epoch {last} while your training loss kept falling "
                f"({_g(training.values[best - 1])} to {_g(training.values[last - 1])}): that is overfitting.")
        elif best == validation.epochs:
            sentences.append(f"Your validation loss was still at its lowest at the last epoch, {best} ({value}).")
        else:
            sentences.append(f"Your validation loss was lowest at epoch {best} ({value}).")
    if reading.stopped_early:
        after = f", {reading.epochs - best} epochs after the lowest validation loss" if best is not None else ""
        restore = f"; early stopping should restore the weights of epoch {best}" if best is not None else ""
        sentences.append(f"Training stopped after epoch {reading.epochs} of the reference's {reading.reference_epochs}"
                         f"{after}{restore}.")
    for curve in (training, validation):
        if curve is not None and curve.epochs:
            sentence = _band_sentence(curve, curve.epochs)
            if sentence:
                sentences.append(sentence)
    if reading.not_converged and not reading.diverged:
        where = (f"more than {NOT_CONVERGED_FACTOR:g} times above the top of the reference's band"
                 if training is not None and training.band else "hardly lower than where it started")
        sentences.append(f"Your training loss ended {where}: the loop has not converged as it should.")
    return " ".join(sentences) if sentences else "No training or validation loss to read."
