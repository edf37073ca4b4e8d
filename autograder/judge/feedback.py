"""Feedback text: what failed, in words a student can act on.

Public checks show their inputs, the expected and received values (abbreviated), the largest
absolute and relative errors and the first mismatching entry. Hidden checks say what was checked
and how it failed, and never show an input or an expected value.
"""

from __future__ import annotations

import numpy as np

from autograder.judge.compare import Comparison

PREVIEW_CHARS = 400


def preview(value, limit: int = PREVIEW_CHARS) -> str:
    """A short, readable rendering of a value (arrays are summarized)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=24, edgeitems=3, separator=", ")
        text = f"array{value.shape} {value.dtype}: {text}" if value.ndim else repr(value.item())
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k!r}: {preview(v, limit // 2)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        inner = ", ".join(preview(v, limit // 2) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        text = f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def mismatch_message(comparison: Comparison, public: bool, symptom: str | None = None) -> str:
    """One line: what differs, and how (``symptom``, from :mod:`autograder.judge.symptoms`).
    Hidden checks get no index and no values."""
    message = comparison.problem or ""
    if symptom:
        message += f": {symptom}"
    if comparison.max_abs is not None and comparison.index is not None:
        scalar = comparison.index == ()
        word = "" if scalar else "max "
        message += f" ({word}abs error {comparison.max_abs:.3g}, {word}rel error {comparison.max_rel:.3g})"
        if public:
            where = "" if scalar else f"first at [{', '.join(map(str, comparison.index))}]: "
            message += f"; {where}expected {comparison.expected_at:.10g}, got {comparison.received_at:.10g}"
    elif public and comparison.index is not None and comparison.expected_at is not None:
        message += f"; expected {comparison.expected_at:.10g} there"
    return message


def mismatch_details(comparison: Comparison, inputs: dict, expected, received) -> str:
    """Several lines for a public check: the inputs, then expected and received values."""
    lines = ["inputs:"]
    lines += [f"  {name} = {preview(value)}" for name, value in inputs.items()]
    lines.append(f"expected: {preview(expected)}")
    lines.append(f"received: {preview(received)}")
    return "\n".join(lines)
