"""The symptom finder: what is wrong with a value, in terms a student can act on.

When a result differs from the expected one and no known mistake matches, "differs from the
expected value" tells a student little. :func:`describe` looks at the received and expected
values (and the inputs, when given) for the usual shapes of a bug and returns one phrase:

- off by a constant factor: -1 (wrong sign), 2, 1/2, the batch size N, 1/(1-p) or (1-p) for a
  probability input p, or any clean ratio (3/4...); shifted by a constant;
- transposed, or the axes permuted; the right values in the wrong order;
- normalised over the wrong axis (rows sum to 1 along another axis);
- shifted by one sample along the first axis;
- NaN or inf that first appears at inputs of a kind: large magnitude, exactly 0, exactly 0 or 1,
  or a probability input of 0 or 1;
- wrong only where an input is negative, zero or positive;
- integers returned where fractions are expected.

``public=False`` (hidden checks): the phrase names kinds ("the batch size", "large inputs"),
never a number taken from the inputs. Every function here is pure and cheap (a few passes over
the arrays); it never raises on odd values, it returns None instead.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

# Relative agreement for "this is the same number" in a symptom (looser than grading tolerances:
# a symptom is a description, and float32 results must be described too).
CLOSE = 1e-5
LARGE_INPUT = 50.0  # |x| at or above this is a "large input" (exp overflows beyond ~709)


def describe(received, expected, inputs: dict | None = None, public: bool = True) -> str | None:
    """One phrase describing how ``received`` differs from ``expected``, or None if nothing fits.

    ``received``/``expected``: numbers or arrays (nested values: the first differing leaf is
    described); ``inputs``: the call's named inputs (arrays, numbers), or None.
    """
    try:
        got, want = _first_differing_leaf(received, expected)
        if got is None:
            return None
        got_array, want_array = np.asarray(got), np.asarray(want, dtype=np.float64)
        if got_array.dtype.kind not in "fiu" or got_array.dtype.kind == "c":
            return None
        return _describe_arrays(got_array, want_array, _arrays(inputs), public)
    except Exception:  # a description must never break grading
        return None


def _describe_arrays(got: np.ndarray, want: np.ndarray, inputs: dict, public: bool) -> str | None:
    integer = got.dtype.kind in "iu"
    got = got.astype(np.float64)
    if got.shape != want.shape:
        return layout(got, want) or wrong_reduction_axis(got, want, inputs)
    if not np.isfinite(want).all():
        return None
    if not np.isfinite(got).all():
        return non_finite(got, inputs, public)
    if integer and not np.allclose(want, np.round(want)):
        return "it holds integers where the expected values have fractions (integer division, or astype(int)?)"
    return (constant_factor(got, want, inputs, public) or constant_offset(got, want)
            or layout(got, want) or wrong_normalisation_axis(got, want)
            or shifted_by_one(got, want) or where_wrong(got, want, inputs))


# ---------------------------------------------------------------- one symptom each

def constant_factor(got: np.ndarray, want: np.ndarray, inputs: dict, public: bool = True) -> str | None:
    """received = c * expected for one constant c != 1 (entries where expected is ~0 must be ~0)."""
    scale = np.abs(want).max() if want.size else 0.0
    if scale == 0:
        return None
    big = np.abs(want) > 1e-6 * scale
    ratios = got[big] / want[big]
    ratio = float(np.median(ratios))
    if not np.isfinite(ratio) or ratio == 0 or _same(ratio, 1.0):
        return None
    if not np.allclose(got, ratio * want, rtol=CLOSE, atol=CLOSE * scale * abs(ratio)):
        return None
    return "it is " + factor_words(ratio, inputs, public)


def factor_words(ratio: float, inputs: dict, public: bool = True) -> str:
    """Words for ``received / expected == ratio``: the sign, then what the factor is."""
    if _same(ratio, -1.0):
        return "the expected value with the wrong sign"
    sign = "the negative of " if ratio < 0 else ""
    size = abs(ratio)
    for _name, value, words in _named_factors(inputs, public):
        if _same(size, value):
            return f"{sign}the expected value times {words}"
        if _same(size, 1 / value):
            return f"{sign}the expected value divided by {words}"
    fraction = Fraction(size).limit_denominator(12)
    if _same(size, float(fraction)) and fraction != 1:
        return f"{sign}the expected value times {fraction} (a constant factor)"
    return f"{sign}the expected value times a constant factor{f' of {size:.4g}' if public else ''}"


def _named_factors(inputs: dict, public: bool):
    """(name, value, words) for the factors a student commonly gets wrong, most telling first."""
    yield "2", 2.0, "2 (a missing or extra factor 1/2 or 2)"
    batch = _batch_size(inputs)
    if batch and batch > 2:
        yield "N", float(batch), f"the batch size N{f' = {batch}' if public else ''} (a sum instead of a mean, or the reverse?)"
    for name, value in inputs.items():
        if value.ndim == 0 and 0 < float(value) < 1:
            p = float(value)
            yield "1/(1-p)", 1 / (1 - p), f"1/(1-{name}) (the inverted-dropout scale applied or missing?)"
            yield "p", 1 / p, f"1/{name} (keep probability and drop probability swapped?)"


def constant_offset(got: np.ndarray, want: np.ndarray) -> str | None:
    """received = expected + c for one constant c (e.g. a missing bias or a missing max shift)."""
    difference = got - want
    offset = float(np.median(difference))
    scale = max(float(np.abs(want).max()), 1.0)
    if got.size < 2 or abs(offset) <= CLOSE * scale or not np.allclose(difference, offset, atol=CLOSE * scale, rtol=0):
        return None
    return "every entry is off by the same constant (a missing or extra additive term?)"


def layout(got: np.ndarray, want: np.ndarray) -> str | None:
    """The expected values, transposed or with axes permuted, or in another order. None when
    ``got`` is already close to ``want`` as it is (off by less than ``CLOSE``, e.g. a gradient off by
    1e-6 relative): no reordering is needed to get there, so none is to blame."""
    if got.size != want.size or got.size < 2 or _close(got, want):
        return None
    if want.ndim >= 2:
        for order in itertools.permutations(range(want.ndim)):
            if order == tuple(range(want.ndim)) or len(order) > 4:
                continue
            moved = np.transpose(want, order)
            if moved.shape == got.shape and _close(got, moved):
                return ("it holds the expected values transposed" if want.ndim == 2
                        else f"it holds the expected values with the axes permuted as {order}")
    if got.shape == want.shape and _close(np.sort(got, axis=None), np.sort(want, axis=None)):
        if want.ndim >= 2 and _close(np.sort(got, axis=0), np.sort(want, axis=0)):
            return "it holds the expected rows in a different order (are samples shuffled or misaligned?)"
        return "it holds the expected values in a different order"
    return None


def wrong_normalisation_axis(got: np.ndarray, want: np.ndarray) -> str | None:
    """Expected sums are constant along one axis; the received ones along another axis instead."""
    if want.ndim < 2:
        return None
    axes = range(want.ndim)
    want_axis = next((a for a in axes if _constant_sums(want, a)), None)
    got_axis = next((a for a in axes if _constant_sums(got, a)), None)
    if want_axis is None or got_axis is None or want_axis == got_axis or _constant_sums(got, want_axis):
        return None
    return f"it is normalised over axis {got_axis} instead of axis {want_axis} (check the axis= of the sum or max)"


def wrong_reduction_axis(got: np.ndarray, want: np.ndarray, inputs: dict) -> str | None:
    """A reduction over another axis: received has the shape of an input reduced along another axis."""
    for value in inputs.values():
        if value.ndim < 2:
            continue
        reduced = [tuple(np.delete(value.shape, a)) for a in range(value.ndim)]
        if want.shape in reduced and got.shape in reduced and got.shape != want.shape:
            return (f"it is reduced over axis {reduced.index(got.shape)} instead of axis "
                    f"{reduced.index(want.shape)} (check axis=)")
    return None


def shifted_by_one(got: np.ndarray, want: np.ndarray) -> str | None:
    """The expected values moved one place along the first axis (an off-by-one index)."""
    if got.ndim < 1 or got.shape[0] < 3:
        return None
    if _close(got[1:], want[:-1]) or _close(got[:-1], want[1:]):
        return "it is shifted by one sample along the first axis (an off-by-one index?)"
    return None


def non_finite(got: np.ndarray, inputs: dict, public: bool = True) -> str | None:
    """Where NaN or inf first appears, described by the kind of input there."""
    bad = ~np.isfinite(got)
    word = "NaN" if np.isnan(got[bad]).any() else "inf"
    for name, value in inputs.items():
        if value.ndim == 0 and float(value) in (0.0, 1.0):
            shown = f" = {float(value):g}" if public else " at its limit (0 or 1)"
            return f"{word} appears when {name}{shown}: handle that edge case"
    for name, value in inputs.items():
        at = _values_at(value, bad)
        if at is None or at.size == 0:
            continue
        if np.all(np.abs(at) >= LARGE_INPUT):
            return (f"{word} appears where {name} has large values (|{name}| >= {LARGE_INPUT:g}): "
                    "use a numerically stable formulation (subtract the max, clip)")
        if np.all(at == 0):
            return f"{word} appears where {name} is exactly 0 (a division by zero or log(0)?)"
        if np.all((at == 0) | (at == 1)):
            return f"{word} appears where {name} is exactly 0 or 1 (log(0)? clip the probabilities)"
    return f"it contains {word} where the expected values are finite"


def where_wrong(got: np.ndarray, want: np.ndarray, inputs: dict) -> str | None:
    """The wrong entries are exactly those where an input of the same shape is negative, zero or positive."""
    wrong = ~np.isclose(got, want, rtol=CLOSE, atol=CLOSE * max(float(np.abs(want).max()), 1e-300))
    if not wrong.any() or wrong.all():
        return None
    for name, value in inputs.items():
        if value.shape != got.shape:
            continue
        for words, region in (("negative", value < 0), ("zero", value == 0), ("positive", value > 0)):
            if region.any() and np.array_equal(wrong, region):
                return f"it is wrong exactly where {name} is {words}, and right elsewhere"
    return f"it is wrong at {int(wrong.sum())} of {wrong.size} entries and right at the others"


# ---------------------------------------------------------------- helpers

def _first_differing_leaf(received, expected):
    """The first (received, expected) pair of leaves, walking dicts and sequences alike."""
    if isinstance(expected, dict):
        if not isinstance(received, dict) or set(received) != set(expected):
            return None, None
        for key in expected:
            got, want = _first_differing_leaf(received[key], expected[key])
            if got is not None:
                return got, want
        return None, None
    if isinstance(expected, (list, tuple)) and any(isinstance(e, (list, tuple, dict, np.ndarray)) for e in expected):
        if not isinstance(received, (list, tuple)) or len(received) != len(expected):
            return None, None
        for r, e in zip(received, expected):
            got, want = _first_differing_leaf(r, e)
            if got is not None:
                return got, want
        return None, None
    try:
        got = np.asarray(received)
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None, None
    if got.shape == want.shape and got.dtype.kind in "fiu" and np.array_equal(got.astype(np.float64), want):
        return None, None
    return got, want


def _arrays(inputs: dict | None) -> dict[str, np.ndarray]:
    """The numeric inputs as float64 arrays (others are left out)."""
    found = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, (bool, np.bool_)):
            continue
        if isinstance(value, (int, float, np.number, np.ndarray)):
            array = np.asarray(value)
            if array.dtype.kind in "fiu":
                found[name] = array.astype(np.float64)
    return found


def _batch_size(inputs: dict) -> int | None:
    sizes = {value.shape[0] for value in inputs.values() if value.ndim >= 1}
    return sizes.pop() if len(sizes) == 1 else None


def _values_at(value: np.ndarray, bad: np.ndarray):
    """The input's values where the output is bad: same shape elementwise, or whole rows."""
    if value.shape == bad.shape:
        return value[bad]
    if value.ndim >= 1 and bad.ndim >= 1 and value.shape[0] == bad.shape[0]:
        rows = bad.reshape(bad.shape[0], -1).any(axis=1)
        return np.abs(value[rows]).reshape(int(rows.sum()), -1).max(axis=1)
    return None


def _constant_sums(value: np.ndarray, axis: int) -> bool:
    sums = value.sum(axis=axis)
    return sums.size > 1 and bool(np.allclose(sums, sums.flat[0], rtol=CLOSE, atol=CLOSE)) and abs(sums.flat[0]) > CLOSE


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(float(np.abs(b).max()) if b.size else 0.0, 1e-300)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=CLOSE, atol=CLOSE * scale))


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= CLOSE * max(abs(a), abs(b))
