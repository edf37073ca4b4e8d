"""Assertions shared by the tests: compare NumPy answers, torch references and oracles."""

import numpy as np

from autograder.tensors import to_numpy

# Comfortable float64 tolerances (grading-facts, section 2).
RTOL, ATOL = 1e-7, 1e-10


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
