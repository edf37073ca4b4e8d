"""Strict comparison of what a submission returned with what was expected, in the judge.

Rules (grading-facts, section 2): values become float64 arrays; the shape must match exactly
(no broadcasting); object, bool, complex, string and float16 data are refused; an empty result
where data is expected is refused; NaN and inf never pass. The tolerance follows the dtype the
student returned: float32 results get float32 tolerances against the float64 expectation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from autograder.wire import Unsupported

TOLERANCES = {
    "float64": (1e-7, 1e-10),
    "float32": (1.3e-6, 1e-5),
}


@dataclass
class Comparison:
    """The outcome of comparing one value (possibly nested); ``problem`` is None when it matches."""

    problem: str | None = None
    where: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    index: tuple | None = None
    expected_at: float | None = None
    received_at: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


class Rejected(Exception):
    """A value that cannot be compared at all (wrong type, dtype or shape)."""


class ShapeMismatch(Rejected):
    """A value whose shape (read without converting it) is not the one asked for."""

    def __init__(self, what: str, shape: tuple, expected: tuple):
        super().__init__(f"{what} has shape {shape}, expected {expected}")
        self.shape, self.expected = shape, expected


MAX_ELEMENTS = 1 << 22  # a value converted without a known expected shape: at most 4M numbers (32 MB)
MAX_DIMENSIONS = 32


def value_shape(value) -> tuple:
    """The shape ``value`` would have as an array, read without converting anything: an array's
    own shape; a list followed through its first items (``[[1, 2], [3]]`` reads as (2, 2), and the
    conversion then finds it ragged); () for anything else. Costs O(dimensions)."""
    shape = []
    while isinstance(value, (list, tuple)) and len(shape) <= MAX_DIMENSIONS:
        shape.append(len(value))
        if not value:
            return tuple(shape)
        value = value[0]
    if isinstance(value, np.ndarray):
        return tuple(shape) + value.shape
    return tuple(shape)


def numeric_array(value, what: str = "the result", shape: tuple | None = None) -> tuple[np.ndarray, str]:
    """``value`` as a float64 array and the name of its precision ('float64' or 'float32').

    Everything is checked before anything is converted: the type, the dtype, and the shape, which
    must be ``shape`` when given (:class:`ShapeMismatch` otherwise) and hold at most
    ``MAX_ELEMENTS`` numbers when not. The work and memory of a conversion are thus bounded by
    what the check expects, never by what the submission sent (an int8 array of 500 MB, a list
    of a million numbers)."""
    if isinstance(value, Unsupported):
        raise Rejected(f"{what} is {value}, expected numbers (a NumPy array or a float)")
    if value is None:
        raise Rejected(f"{what} is None: did the function forget to return its result?")
    if isinstance(value, (bool, np.bool_)):
        raise Rejected(f"{what} is a boolean, expected a number")
    if isinstance(value, np.ndarray):
        _check_dtype(value, what)
    elif not isinstance(value, (int, float, list, tuple)):
        raise Rejected(f"{what} is a {type(value).__name__}, expected a NumPy array")
    got = value_shape(value)
    if shape is not None and got != tuple(shape):
        raise ShapeMismatch(what, got, tuple(shape))
    if math.prod(got) > MAX_ELEMENTS:
        raise Rejected(f"{what} has {math.prod(got)} entries, more than the {MAX_ELEMENTS} the judge converts")
    if isinstance(value, (int, float)):
        return np.asarray(float(value), dtype=np.float64), "float64"
    if isinstance(value, (list, tuple)):
        out = np.empty(got, dtype=np.float64)
        _fill(out, value, what)
        return out, "float64"
    precision = "float32" if value.dtype == np.float32 else "float64"
    return value.astype(np.float64, copy=False), precision


def _check_dtype(value: np.ndarray, what: str) -> None:
    kind = value.dtype.kind
    if kind == "b":
        raise Rejected(f"{what} is a boolean array, expected numbers: convert with .astype(float)")
    if kind == "c":
        raise Rejected(f"{what} is a complex array, expected real numbers")
    if kind not in "fiu":
        raise Rejected(f"{what} has dtype {value.dtype}, expected a numeric array")
    if value.dtype == np.float16:
        raise Rejected(f"{what} is float16, which is too coarse to grade: use float32 or float64")


def _fill(out: np.ndarray, value, what: str) -> None:
    """Copy a nested list into ``out`` (float64), refusing any item whose shape differs from
    ``out``'s: the work is bounded by ``out.size``, however the list is nested."""
    if out.ndim == 0 or isinstance(value, np.ndarray):
        if isinstance(value, (list, tuple)) or value_shape(value) != out.shape:
            raise Rejected(f"{what} is a ragged nested list, expected a rectangular array")
        out[...] = numeric_array(value, what)[0]
        return
    if not isinstance(value, (list, tuple)) or len(value) != out.shape[0]:
        raise Rejected(f"{what} is a ragged nested list, expected a rectangular array")
    if out.ndim == 1:
        for i, item in enumerate(value):
            if isinstance(item, (list, tuple, np.ndarray)) and value_shape(item) != ():
                raise Rejected(f"{what} is a ragged nested list, expected a rectangular array")
            out[i] = numeric_array(item, what)[0]
        return
    for i, item in enumerate(value):
        _fill(out[i], item, what)


def compare_values(received, expected, where: str = "the result", exact: bool = False,
                   tolerance: tuple[float, float] | None = None) -> Comparison:
    """Compare a (nested) received value with the expected one: tuples, lists and dicts recurse."""
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            return Comparison(f"{where} should be a dict with keys {sorted(expected)}, got {_kind(received)}", where)
        if set(received) != set(expected):
            return Comparison(f"{where} has keys {sorted(map(str, received))}, expected {sorted(expected)}", where)
        for key in expected:
            result = compare_values(received[key], expected[key], f"{where}[{key!r}]", exact, tolerance)
            if not result.ok:
                return result
        return Comparison(where=where)
    if isinstance(expected, (tuple, list)) and not _is_numeric_sequence(expected):
        if not isinstance(received, (tuple, list)):
            return Comparison(f"{where} should be a sequence of {len(expected)} items, got {_kind(received)}", where)
        if len(received) != len(expected):
            return Comparison(f"{where} has {len(received)} items, expected {len(expected)}", where)
        for i, (r, e) in enumerate(zip(received, expected)):
            result = compare_values(r, e, f"{where}[{i}]", exact, tolerance)
            if not result.ok:
                return result
        return Comparison(where=where)
    return compare_arrays(received, expected, where, exact, tolerance)


def compare_arrays(received, expected, where: str = "the result", exact: bool = False,
                   tolerance: tuple[float, float] | None = None) -> Comparison:
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got, precision = numeric_array(received, where, expected.shape)
    except ShapeMismatch as mismatch:
        hint = " (it would only match by broadcasting)" if _broadcastable(mismatch.shape, expected.shape) else ""
        return Comparison(f"{where} has shape {mismatch.shape}, expected {expected.shape}{hint}", where)
    except Rejected as rejection:
        return Comparison(str(rejection), where)
    if got.size == 0:
        return Comparison(where=where)  # both empty, same shape
    rtol, atol = (0.0, 0.0) if exact else (tolerance or TOLERANCES[precision])
    finite = np.isfinite(got)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        bad = got[index]
        word = "NaN" if np.isnan(bad) else "inf"
        return Comparison(f"{where} contains {word} at index {_index(index)} ({int((~finite).sum())} "
                          f"non-finite of {got.size})", where, index=index,
                          expected_at=float(expected[index]), received_at=float(bad))
    error = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    wrong = ~(error <= allowed)
    scale = np.maximum(np.abs(expected), 1e-300)
    max_abs = float(error.max())
    max_rel = float((error / scale).max())
    if not wrong.any():
        return Comparison(where=where, max_abs=max_abs, max_rel=max_rel)
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    count = "" if got.size == 1 else f" at {int(wrong.sum())} of {got.size} entries"
    return Comparison(
        f"{where} differs from the expected value{count}",
        where, max_abs=max_abs, max_rel=max_rel, index=index,
        expected_at=float(expected[index]), received_at=float(got[index]),
        details={"rtol": rtol, "atol": atol, "precision": precision},
    )


def matches(received, expected, tolerance: tuple[float, float] | None = None,
            conversions: dict | None = None) -> bool:
    """True when ``received`` equals ``expected`` within tolerance, NaN matching NaN at the same places.

    Used to recognise a known mistake (whose output may legitimately hold NaN), never to pass a test.
    ``conversions``: a dict shared by calls with the same ``received`` (one per known mistake), so
    that each of its values is converted once, not once per mistake.
    """
    if isinstance(expected, dict):
        return isinstance(received, dict) and set(received) == set(expected) and all(
            matches(received[k], expected[k], tolerance, conversions) for k in expected)
    if isinstance(expected, (tuple, list)) and not _is_numeric_sequence(expected):
        return isinstance(received, (tuple, list)) and len(received) == len(expected) and all(
            matches(r, e, tolerance, conversions) for r, e in zip(received, expected))
    expected = np.asarray(expected, dtype=np.float64)
    converted = _converted(received, expected.shape, {} if conversions is None else conversions)
    if converted is None:
        return False
    got, precision = converted
    rtol, atol = tolerance or TOLERANCES[precision]
    with np.errstate(invalid="ignore", over="ignore"):
        both_nan = np.isnan(got) & np.isnan(expected)
        same_inf = np.isinf(got) & (got == expected)
        # finite on both sides: |-inf - inf| <= rtol * inf would otherwise let opposite infinities match
        close = np.isfinite(got) & np.isfinite(expected) & (np.abs(got - expected) <= atol + rtol * np.abs(expected))
    return bool(np.all(both_nan | same_inf | close))


def _converted(value, shape: tuple, conversions: dict) -> tuple[np.ndarray, str] | None:
    """``numeric_array(value, shape=shape)``, remembered in ``conversions`` by the value's identity
    (the caller keeps ``value`` alive); None when it cannot be compared with that shape."""
    if value_shape(value) != shape:
        return None  # read without converting, so a mistake of another shape costs nothing
    key = id(value)
    if key not in conversions:
        try:
            conversions[key] = numeric_array(value, shape=shape)
        except Rejected:
            conversions[key] = None
    return conversions[key]


def _is_numeric_sequence(value) -> bool:
    return all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value) and len(value) > 0


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return str(value) if isinstance(value, Unsupported) else f"a {type(value).__name__}"


def _index(index: tuple) -> str:
    return "[" + ", ".join(map(str, index)) + "]" if index else "[]"
