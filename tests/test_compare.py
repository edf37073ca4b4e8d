"""Strict comparison: no broadcasting, no lying types, NaN never passes, float32 tolerances."""

import numpy as np
import pytest

from autograder.judge.compare import compare_values, matches
from autograder.wire import Unsupported

EXPECTED = np.array([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("received, fragment", [
    (np.array([1.0, 2.0, 3.0]), "shape (3,)"),
    (np.array([[1.0], [2.0], [3.0]]), "shape (3, 1)"),
    (np.zeros((0,)), "shape (0,)"),
    (np.array([[True, True, True]]), "boolean"),
    (np.array([[1 + 0j, 2, 3]]), "complex"),
    (np.array([["1", "2", "3"]]), "dtype <U1"),
    (np.array([[1.0, 2.0, 3.0]], dtype=np.float16), "float16"),
    (Unsupported("Liar"), "Liar"),
    (None, "None"),
    (np.array([[1.0, np.nan, 3.0]]), "NaN at index [0, 1]"),
    (np.array([[1.0, 2.0, np.inf]]), "inf"),
    (np.array([[1.0, 2.0, 3.001]]), "differs"),
])
def test_wrong_or_lying_results_are_refused(received, fragment):
    comparison = compare_values(received, EXPECTED)
    assert not comparison.ok
    assert fragment in comparison.problem


def test_broadcastable_shapes_are_named_as_such():
    assert "broadcasting" in compare_values(np.array([1.0, 2.0, 3.0]), EXPECTED).problem


def test_float32_results_get_float32_tolerances_and_float64_results_do_not():
    expected = np.array([0.1, 1 / 3, 1e3 / 7])
    off = expected * (1 + 1e-6)  # within float32's rtol 1.3e-6, far outside float64's 1e-7
    assert compare_values(off.astype(np.float32), expected).ok
    assert not compare_values(off, expected).ok


def test_ints_lists_and_scalars_are_numbers():
    assert compare_values([1, 2, 3], np.array([1.0, 2.0, 3.0])).ok
    assert compare_values(2, np.float64(2.0)).ok
    assert not compare_values(np.array([2.0]), np.float64(2.0)).ok


def test_structures_compare_by_keys_and_items():
    expected = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    assert compare_values({"W": np.ones((2, 2)), "b": np.zeros(2)}, expected).ok
    missing = compare_values({"W": np.ones((2, 2))}, expected)
    assert "keys" in missing.problem
    wrong = compare_values({"W": np.ones((2, 2)), "b": np.ones(2)}, expected)
    assert "['b']" in wrong.where
    assert "2 items" in compare_values((1.0, 2.0), (np.ones(1), np.ones(1), np.ones(1))).problem


def test_mistake_matching_lets_nan_match_nan_but_passing_never_does():
    mutant = np.array([np.nan, 1.0])
    assert matches(np.array([np.nan, 1.0]), mutant)
    assert not compare_values(np.array([np.nan, 1.0]), np.array([0.5, 1.0])).ok
