"""The symptom finder on its own: each kind of bug gets its phrase; right values get none."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from autograder.judge.symptoms import describe

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))
SOFT = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("received, expected, inputs, fragment", [
    (-X, X, {}, "wrong sign"),
    (2 * X, X, {}, "times 2"),
    (X / 2, X, {}, "divided by 2"),
    (X * 4, X, {"x": X}, "batch size N = 4"),
    (X / 4, X, {"x": X}, "divided by the batch size N = 4"),
    (X / 0.7, X, {"x": X, "p": 0.3}, "1/(1-p)"),
    (X * 0.7, X, {"x": X, "p": 0.3}, "divided by 1/(1-p)"),
    (X * 0.75, X, {}, "times 3/4"),
    (-3 * X, X, {}, "the negative of the expected value times 3"),
    (X + 0.5, X, {}, "off by the same constant"),
    (X.T.copy(), X, {}, "transposed"),
    (np.transpose(np.arange(24.0).reshape(2, 3, 4), (1, 0, 2)), np.arange(24.0).reshape(2, 3, 4), {}, "permuted"),
    (X[[1, 0, 2, 3]], X, {}, "rows in a different order"),
    (np.exp(X) / np.exp(X).sum(axis=0, keepdims=True), SOFT, {"z": X}, "normalised over axis 0 instead of axis 1"),
    (X.sum(axis=0), X.sum(axis=1), {"x": X}, "reduced over axis 0 instead of axis 1"),
    (np.r_[[0.0], (np.arange(1.0, 6.0) ** 2)[:-1]], np.arange(1.0, 6.0) ** 2, {}, "shifted by one sample"),
    (np.array([1.0, np.nan]), np.array([1.0, 1000.0]), {"z": np.array([1.0, 1000.0])}, "large values"),
    (np.array([np.inf, 2.0]), np.array([-100.0, 2.0]), {"y_hat": np.array([0.0, 0.5])}, "exactly 0 (a division"),
    (np.array([np.nan, np.nan, 1.0]), np.array([3.0, 4.0, 1.0]), {"y_hat": np.array([0.0, 1.0, 0.5])},
     "exactly 0 or 1"),
    (np.array([np.nan, 1.0]), np.array([0.0, 1.0]), {"x": np.ones(2), "p": 1.0}, "when p = 1"),
    (np.where(X < 0, 0.0, X), np.where(X < 0, 0.01 * X, X), {"x": X}, "wrong exactly where x is negative"),
    (np.array([1, 0, 2]), np.array([1.5, 0.5, 2.5]), {}, "integers where the expected values have fractions"),
    ({"W": X, "b": -np.ones(3)}, {"W": X, "b": np.ones(3)}, {}, "wrong sign"),
    ((X, 3 * X), (X, X), {}, "times 3"),
])
def test_each_symptom_is_described(received, expected, inputs, fragment):
    described = describe(received, expected, inputs)
    assert described is not None and fragment in described, described


def test_hidden_descriptions_name_kinds_not_input_values():
    assert describe(X * 4, X, {"x": X}, public=False) == \
        "it is the expected value times the batch size N (a sum instead of a mean, or the reverse?)"
    assert "= 1" not in describe(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), {"p": 1.0}, public=False)
    assert "0.123" not in describe(X * 0.123, X, {}, public=False)
    assert "0.123" in describe(X * 0.123, X, {}, public=True)


@pytest.mark.parametrize("received, expected", [
    (X, X),  # right
    (X + RNG.normal(size=X.shape), X),  # noise: no pattern to name
    (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0])),  # another length, nothing to say
    ("text", X),
    (None, X),
])
def test_no_symptom_is_made_up(received, expected):
    described = describe(received, expected, {})
    assert described is None or described.startswith("it is wrong at"), described


@pytest.mark.parametrize("received, expected", [
    (X * (1 + 1e-6), X),  # rows: was "the expected rows in a different order"
    (np.arange(4.0) * (1 + 1e-6), np.arange(4.0)),  # was "the expected values in a different order"
    (X.T @ X * (1 + 2e-6), X.T @ X),  # symmetric: was "transposed"
])
def test_values_already_close_are_not_said_to_be_reordered(received, expected):
    """Off by 1e-6 relative (outside the float64 tolerance, inside the symptoms' 1e-5): the values are
    in their place, so no layout (reordered rows or values, transposed) is to blame."""
    described = describe(received, expected, {})
    assert described is None or "order" not in described and "transposed" not in described, described


def test_partly_wrong_values_say_how_many():
    received = X.copy()
    received[0, 0] += 1
    assert describe(received, X, {}) == "it is wrong at 1 of 12 entries and right at the others"


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5),
                  elements=st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-3)),
       st.sampled_from([-1.0, 2.0, 0.5, 3.0, -0.25]))
def test_any_clean_factor_on_any_array_is_found(values, factor):
    described = describe(values * factor, values, {})
    assert described is not None and ("sign" in described or "times" in described or "divided" in described)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.none(), st.text(), st.integers(), st.lists(st.floats()), st.dictionaries(st.text(), st.floats())),
       st.one_of(st.floats(), hnp.arrays(np.float64, hnp.array_shapes(max_dims=2))))
def test_odd_values_never_raise(received, expected):
    describe(received, expected, {"x": received})
