"""Strict comparison of what a submission returned with what was expected, in the judge.

Rules (grading-facts, section 2): values become float64 arrays; the shape must match exactly
(no broadcasting); object, bool, complex, string and float16 data are refused; an empty result
where data is expected is refused; NaN and inf never pass. The tolerance follows the dtype the
student returned: float32 results get float32 tolerances against the float64 expectation.
"""

from __future__ import annotations

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


def numeric_array(value, what: str = "the result") -> tuple[np.ndarray, str]:
    """``value`` as a float64 array and the name of its precision ('float64' or 'float32')."""
    if isinstance(value, Unsupported):
        raise Rejected(f"{what} is {value}, expected numbers (a NumPy array or a float)")
    if value is None:
        raise Rejected(f"{what} is None: did the function forget to return its result?")
    if isinstance(value, (bool, np.bool_)):
        raise Rejected(f"{what} is a boolean, expected a number")
    if isinstance(value, (int, float)):
        return np.asarray(float(value), dtype=np.float64), "float64"
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in value):
            parts = [numeric_array(v, what)[0] for v in value]
            if len({p.shape for p in parts}) > 1:
                raise Rejected(f"{what} is a ragged nested list, expected a rectangular array")
            return (np.stack(parts) if parts else np.zeros((0,))), "float64"
        array = np.asarray([numeric_array(v, what)[0] for v in value], dtype=np.float64)
        return array, "float64"
    if not isinstance(value, np.ndarray):
        raise Rejected(f"{what} is a {type(value).__name__}, expected a NumPy array")
    kind = value.dtype.kind
    if kind == "b":
        raise Rejected(f"{what} is a boolean array, expected numbers: convert with .astype(float)")
    if kind == "c":
        raise Rejected(f"{what} is a complex array, expected real numbers")
    if kind not in "fiu":
        raise Rejected(f"{what} has dtype {value.dtype}, expected a numeric array")
    if value.dtype == np.float16:
        raise Rejected(f"{what} is float16, which is too coarse to grade: use float32 or float64")
    precision = "float32" if value.dtype == np.float32 else "float64"
    return value.astype(np.float64), precision


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
        got, precision = numeric_array(received, where)
    except Rejected as rejection:
        return Comparison(str(rejection), where)
    if got.shape != expected.shape:
        hint = " (it would only match by broadcasting)" if _broadcastable(got.shape, expected.shape) else ""
        return Comparison(f"{where} has shape {got.shape}, expected {expected.shape}{hint}", where)
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


def matches(received, expected, tolerance: tuple[float, float] | None = None) -> bool:
    """True when ``received`` equals ``expected`` within tolerance, NaN matching NaN at the same places.

    Used to recognise a known mistake (whose output may legitimately hold NaN), never to pass a test.
    """
    if isinstance(expected, dict):
        return isinstance(received, dict) and set(received) == set(expected) and all(
            matches(received[k], expected[k], tolerance) for k in expected)
    if isinstance(expected, (tuple, list)) and not _is_numeric_sequence(expected):
        return isinstance(received, (tuple, list)) and len(received) == len(expected) and all(
            matches(r, e, tolerance) for r, e in zip(received, expected))
    try:
        got, precision = numeric_array(received)
    except Rejected:
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return False
    rtol, atol = tolerance or TOLERANCES[precision]
    with np.errstate(invalid="ignore", over="ignore"):
        both_nan = np.isnan(got) & np.isnan(expected)
        same_inf = np.isinf(got) & (got == expected)
        # finite on both sides: |-inf - inf| <= rtol * inf would otherwise let opposite infinities match
        close = np.isfinite(got) & np.isfinite(expected) & (np.abs(got - expected) <= atol + rtol * np.abs(expected))
    return bool(np.all(both_nan | same_inf | close))


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
