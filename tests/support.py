"""Assertions shared by the tests: compare NumPy answers, torch references and oracles."""

import contextlib
import warnings

import numpy as np
import torch

from autograder.tensors import to_numpy

# Comfortable float64 tolerances (grading-facts, section 2).
RTOL, ATOL = 1e-7, 1e-10
# float32 answers against the float64 reference: torch.testing's float32 defaults.
F32 = dict(rtol=1.3e-6, atol=1e-5)


def assert_close(actual, expected, rtol=RTOL, atol=ATOL, what=""):
    """Same shape exactly (no broadcasting), finite, and within tolerance; tensors are accepted."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.all(np.isfinite(actual)), f"{what}: non-finite values in {actual}"
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol, err_msg=what)


def untouched(*arrays):
    """Copies of the inputs, to assert afterwards that a function did not modify them."""
    return [np.array(a, copy=True) for a in arrays]


def assert_unchanged(before, arrays):
    """Each of ``arrays`` still equals its copy in ``before`` (made by ``untouched``)."""
    for original, now in zip(before, arrays, strict=True):
        np.testing.assert_array_equal(original, now)


@contextlib.contextmanager
def strict_numerics():
    """Every warning is an error, and so is every overflow, division by zero and invalid operation.

    Underflow stays allowed (NumPy's default): exp(-2000) -> 0 is exactly what stable softmax,
    tanh and sigmoid rely on; np.errstate(all="raise") would reject every correct stable form.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


def t64(x):
    """A float64 CPU tensor, for the torch oracle."""
    return torch.tensor(np.asarray(x), dtype=torch.float64)


# The bundled course, as the engine discovers it from solutions/*/assignment.toml.
def _bundled_course():
    from pathlib import Path

    from autograder.course import Course

    return Course.locate(Path(__file__).resolve().parents[1] / "solutions")


BUNDLED = _bundled_course()
ASSIGNMENTS = BUNDLED.assignments
CONTRACT = {a: BUNDLED.spec(a).functions for a in ASSIGNMENTS}
