"""Strict comparison: no broadcasting, no lying types, NaN never passes, float32 tolerances."""

import numpy as np
import pytest

from autograder.judge.compare import Comparison, compare_values, matches
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


# ---------------------------------------------------------------- exact tolerances (mutation-tested)

def test_exact_means_bit_for_bit():
    assert compare_values(np.array([1.0 + 1e-15]), np.array([1.0])).ok
    assert not compare_values(np.array([1.0 + 2.3e-16]), np.array([1.0]), exact=True).ok
    assert compare_values(np.array([1.0]), np.array([1.0]), exact=True).ok


@pytest.mark.parametrize("precision, rtol, atol", [(np.float64, 1e-7, 1e-10), (np.float32, 1.3e-6, 1e-5)])
def test_each_precision_has_its_rtol_and_atol_not_swapped(precision, rtol, atol):
    """Near zero only atol allows a difference; far from zero rtol does: each bound tested from both sides."""
    zero = np.array([0.0])
    assert compare_values(np.array([0.9 * atol], dtype=precision), zero).ok
    assert not compare_values(np.array([1.2 * atol], dtype=precision), zero).ok
    big = np.array([1e6])
    assert compare_values(np.array([1e6 * (1 + 0.8 * rtol)], dtype=np.float64).astype(precision), big).ok
    assert not compare_values(np.array([1e6 * (1 + 3 * rtol)]).astype(precision), big).ok


def test_an_explicit_tolerance_replaces_the_default():
    assert compare_values(np.array([1.05]), np.array([1.0]), tolerance=(0.1, 0.0)).ok
    assert not compare_values(np.array([1.05]), np.array([1.0]), tolerance=(0.01, 0.0)).ok
    assert not compare_values({"a": np.array([1.05])}, {"a": np.array([1.0])}, tolerance=(0.01, 0.0)).ok
    assert compare_values([np.array([1.05])], [np.array([1.0])], tolerance=(0.1, 0.0)).ok
    assert not compare_values({"a": np.array([1.0 + 1e-12])}, {"a": np.array([1.0])}, exact=True).ok
    assert not compare_values((np.array([1.0 + 1e-12]),), (np.array([1.0]),), exact=True).ok


def test_the_mismatch_says_where_and_by_how_much():
    comparison = compare_values(np.array([[1.0, 2.5, 3.0], [4.0, 5.0, 7.0]]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert comparison.problem == "the result differs from the expected value at 2 of 6 entries"
    assert comparison.index == (0, 1) and comparison.expected_at == 2.0 and comparison.received_at == 2.5
    assert comparison.max_abs == 1.0 and comparison.max_rel == pytest.approx(1 / 4)
    scalar = compare_values(3.0, 2.0, "f(...)")
    assert scalar.problem == "f(...) differs from the expected value" and scalar.index == ()
    ok = compare_values(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert ok.ok and ok.max_abs == pytest.approx(1e-12) and ok.max_rel == pytest.approx(5e-13)
    nan = compare_values(np.array([1.0, np.nan, np.nan]), np.array([1.0, 2.0, 3.0]))
    assert "NaN at index [1] (2 non-finite of 3)" in nan.problem and nan.expected_at == 2.0


@pytest.mark.parametrize("received, ok", [
    (np.array([1, 2], dtype=np.int64), True), (np.array([1, 2], dtype=np.uint8), True), ([1, 2], True),
    ([[1.0], [2.0]], False), ((1.0, 2.0), True), (np.float32(1.0), False), (True, False), (np.bool_(True), False),
    ("12", False), ([np.array([1.0]), np.array([2.0, 3.0])], False),
])
def test_numbers_in_every_form_and_nothing_else(received, ok):
    assert compare_values(received, np.array([1.0, 2.0])).ok is ok


def test_nested_lists_of_arrays_stack_and_empty_results_match_only_empty():
    assert compare_values([np.array([1.0, 2.0]), np.array([3.0, 4.0])], np.array([[1.0, 2.0], [3.0, 4.0]])).ok
    assert "ragged" in compare_values([[1.0], [2.0, 3.0]], np.array([[1.0], [2.0]])).problem
    assert compare_values(np.zeros((0, 2)), np.zeros((0, 2))).ok
    assert "should be a dict" in compare_values(np.ones(2), {"a": np.ones(2)}).problem
    assert "should be a sequence" in compare_values(np.ones(2), (np.ones(1), np.ones(1))).problem


def test_matching_a_known_mistake():
    assert matches(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))
    assert not matches(np.array([-np.inf, 1.0]), np.array([np.inf, 1.0]))
    assert not matches(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))
    assert not matches(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    assert not matches(None, np.array([1.0]))
    assert matches(np.array([1.0 + 1e-9]), np.array([1.0])) and not matches(np.array([1.001]), np.array([1.0]))
    assert matches(np.array([1.001]), np.array([1.0]), tolerance=(0.01, 0.0))
    assert matches(np.array([1e-6], dtype=np.float32), np.array([0.0])) and not matches(np.array([1e-6]), np.array([0.0]))
    assert matches({"a": [np.ones(1)]}, {"a": [np.ones(1)]}) and not matches({"a": np.ones(1)}, {"b": np.ones(1)})
    assert not matches([np.ones(1)], [np.ones(1), np.ones(1)]) and not matches(np.ones(1), {"a": np.ones(1)})


# ---------------------------------------------------------------- every field of every outcome (mutation-tested)

def test_rejections_name_the_value_and_keep_where():
    for received, fragment in [(None, "f(...) is None: did the function forget to return its result?"),
                               (True, "f(...) is a boolean, expected a number"),
                               ("12", "f(...) is a str, expected a NumPy array"),
                               (np.array([1 + 0j, 2]), "f(...) is a complex array"),
                               ([1.0, None], "f(...) is None"),
                               # the shape is read (through the first items) before any item is converted
                               ([np.ones(1), None], "f(...) has shape (2, 1), expected (2,) (it would only match by "
                                                    "broadcasting)"),
                               ([1.0, np.ones(1)], "f(...) is a ragged nested list, expected a rectangular array")]:
        comparison = compare_values(received, np.array([1.0, 2.0]), "f(...)")
        assert comparison.problem.startswith(fragment) and comparison.where == "f(...)", (received, comparison)


def test_the_defaults_name_the_result_and_are_not_exact():
    from autograder.judge.compare import Rejected, compare_arrays, numeric_array

    with pytest.raises(Rejected, match="^the result is None"):
        numeric_array(None)
    assert compare_arrays(None, 1.0).problem.startswith("the result is None")
    assert compare_arrays(1.0 + 1e-15, 1.0) == compare_values(1.0 + 1e-15, 1.0)
    assert compare_arrays(1.0 + 1e-15, 1.0).ok and compare_arrays(2.0, 1.0).where == "the result"


@pytest.mark.parametrize("received, expected, ends", [
    (np.ones(3), np.ones((1, 3)), "has shape (3,), expected (1, 3) (it would only match by broadcasting)"),
    (np.ones(3), np.ones(4), "has shape (3,), expected (4,)"),
    (np.ones((2, 3)), np.ones((3, 2)), "has shape (2, 3), expected (3, 2)"),
])
def test_a_shape_hint_only_where_broadcasting_would_match(received, expected, ends):
    comparison = compare_values(received, expected, "g(...)")
    assert comparison.problem == f"g(...) {ends}" and comparison.where == "g(...)"


def test_outcomes_carry_where_and_the_tolerance_used():
    assert compare_values(np.ones(2), np.ones(2), "h") == Comparison(where="h", max_abs=0.0, max_rel=0.0)
    assert compare_values(np.zeros((0, 2)), np.zeros((0, 2)), "h") == Comparison(where="h")
    assert compare_values({"a": np.ones(1)}, {"a": np.ones(1)}, "h") == Comparison(where="h")
    assert compare_values((np.ones(1), np.ones(1)), (np.ones(1), np.ones(1)), "h") == Comparison(where="h")
    wrong32 = compare_values(np.array([1.0, 3.0], dtype=np.float32), np.array([1.0, 2.0]), "h")
    assert wrong32.details == {"rtol": 1.3e-6, "atol": 1e-5, "precision": "float32"} and wrong32.where == "h"
    wrong64 = compare_values(np.array([1.0, 3.0]), np.array([1.0, 2.0]), exact=True)
    assert wrong64.details == {"rtol": 0.0, "atol": 0.0, "precision": "float64"}


def test_non_finite_values_are_located():
    inf = compare_values(np.array([1.0, 2.0, -np.inf]), np.array([1.0, 2.0, 3.0]), "k")
    assert inf == Comparison("k contains inf at index [2] (1 non-finite of 3)", "k", index=(2,),
                             expected_at=3.0, received_at=-np.inf)
    scalar = compare_values(np.nan, 1.0, "k")
    assert scalar.problem == "k contains NaN at index [] (1 non-finite of 1)" and scalar.index == ()


def test_the_relative_error_of_small_expected_values_is_relative():
    comparison = compare_values(np.array([2e-3]), np.array([1e-3]))
    assert comparison.max_rel == pytest.approx(1.0) and comparison.max_abs == pytest.approx(1e-3)


def test_structures_say_what_they_got_and_where():
    assert compare_values(1.0, {"a": 1.0}, "s") == Comparison("s should be a dict with keys ['a'], got a float", "s")
    assert compare_values({"b": 1.0}, {"a": 1.0}, "s") == Comparison("s has keys ['b'], expected ['a']", "s")
    assert compare_values(np.ones(2), (np.ones(1), np.ones(1)), "s") == Comparison(
        "s should be a sequence of 2 items, got an array of shape (2,)", "s")
    assert compare_values(Unsupported("a Liar"), [np.ones(1)], "s").problem.endswith("got " + str(Unsupported("a Liar")))
    assert compare_values([np.ones(1)], (np.ones(1), np.ones(1)), "s") == Comparison("s has 1 items, expected 2", "s")
    assert compare_values((np.ones(1), np.zeros(1)), (np.ones(1), np.ones(1)), "s").where == "s[1]"
    assert compare_values({"a": np.zeros(1)}, {"a": np.ones(1)}, "s").where == "s['a']"


def test_a_tolerance_reaches_every_level_of_a_structure():
    loose = (0.1, 0.0)
    assert compare_values({"a": np.array([1.05])}, {"a": np.array([1.0])}, tolerance=loose).ok
    assert compare_values([{"a": np.array([1.05])}], [{"a": np.array([1.0])}], tolerance=loose).ok
    assert matches({"a": np.array([1.05])}, {"a": np.array([1.0])}, tolerance=loose)
    assert matches([np.array([1.05]), np.ones(1)], [np.array([1.0]), np.ones(1)], tolerance=loose)
    assert not matches([np.array([1.05]), np.ones(1)], [np.array([1.0]), np.ones(1)])


def test_lists_of_numbers_are_arrays_not_structures():
    assert compare_values(np.array([1.0, 2.0]), [1.0, 2.0]).ok and compare_values(np.array([1.0]), [1.0]).ok
    assert matches(np.array([1.0, 2.0]), [1.0, 2.0]) and matches(np.ones((2, 2)), np.ones((2, 2)))
    assert not compare_values(np.zeros(0), []).ok  # an empty list is an empty structure
    assert not compare_values([True, False], [1.0, 0.0]).ok


def test_numbers_beyond_int64_still_compare_as_numbers():
    assert compare_values(2.0 ** 70, 2 ** 70).ok and matches(2.0 ** 70, 2 ** 70)


def test_a_difference_equal_to_the_tolerance_matches():
    assert matches(np.array([1.0]), np.array([0.0]), tolerance=(0.0, 1.0))
    assert compare_values(np.array([1.0]), np.array([0.0]), tolerance=(0.0, 1.0)).ok


def test_matching_infinities_and_huge_values_raises_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert matches(np.array([np.inf, np.nan]), np.array([np.inf, np.nan]))
        assert not matches(np.array([1.7e308]), np.array([-1.7e308]))


def test_a_float32_expectation_gets_its_tolerance_computed_in_float64():
    """float64 rtol 1e-7 + atol 1e-10 around 1.0 allows 1.001e-7; the same sum in float32 is 3e-15 wider."""
    allowed = 1e-10 + 1e-7 * 1.0
    in_float32 = float(np.float32(1e-10) + np.float32(1e-7) * np.float32(1.0))
    received = np.array([1.0 + (allowed + in_float32) / 2])
    assert in_float32 > allowed and not compare_values(received, np.array([1.0], dtype=np.float32)).ok
    assert compare_values(np.array([1.0 + allowed * 0.99]), np.array([1.0], dtype=np.float32)).ok


# ---------------------------------------------------------------- the shape first, one conversion (mutation-tested)

RAGGED = "f(...) is a ragged nested list, expected a rectangular array"


@pytest.mark.parametrize("received", [
    [np.ones(2), np.ones(3)],  # an array item of another shape than the first
    [[1.0, 2.0], [1.0]],  # a shorter row
    [[1.0, 2.0], [1.0, [2.0]]],  # a list where a number is due
])
def test_ragged_lists_are_refused_by_name(received):
    assert compare_values(received, np.ones((2, 2)), "f(...)").problem == RAGGED


def test_items_of_a_list_are_checked_under_the_lists_name():
    assert compare_values([np.ones(2), np.array(["a", "b"])], np.ones((2, 2)), "f(...)").problem == \
        "f(...) has dtype <U1, expected a numeric array"
    assert compare_values([np.array(1.0), np.array(2.0)], np.array([1.0, 2.0])).ok  # 0-d arrays are numbers


def test_value_shape_reads_without_converting():
    from autograder.judge.compare import value_shape

    assert value_shape([]) == (0,) and value_shape([[], []]) == (2, 0) and value_shape(((1.0, 2.0),)) == (1, 2)
    assert value_shape([np.ones((2, 3)), None]) == (2, 2, 3) and value_shape(np.ones((4, 1))) == (4, 1)
    assert value_shape(3.0) == () and value_shape("text") == ()


def test_a_shape_mismatch_names_the_value_and_both_shapes():
    from autograder.judge.compare import ShapeMismatch, numeric_array

    with pytest.raises(ShapeMismatch, match=r"^the gradient has shape \(3,\), expected \(2,\)$") as raised:
        numeric_array([1.0, 2.0, 3.0], "the gradient", (2,))
    assert raised.value.shape == (3,) and raised.value.expected == (2,)


def test_at_most_max_elements_are_converted_without_an_expected_shape():
    from autograder.judge.compare import MAX_ELEMENTS, Rejected, numeric_array

    assert numeric_array(np.zeros(MAX_ELEMENTS))[0].size == MAX_ELEMENTS
    with pytest.raises(Rejected, match=rf"^the result has {MAX_ELEMENTS + 1} entries, more than the {MAX_ELEMENTS} "):
        numeric_array(np.zeros(MAX_ELEMENTS + 1))


def test_matches_converts_each_received_value_once_into_the_shared_dict():
    """One dict per received value, shared by the comparisons with every known mistake: each leaf is
    converted once, remembered by its identity, and a leaf that cannot be converted is remembered as such."""
    a, b = np.zeros(2), np.ones(2)
    conversions: dict = {}
    assert matches({"a": a, "b": [b, b]}, {"a": np.zeros(2), "b": [np.ones(2), np.ones(2)]}, conversions=conversions)
    assert set(conversions) == {id(a), id(b)}
    assert not matches({"a": a, "b": [b, b]}, {"a": np.zeros(2), "b": [np.zeros(2), np.ones(2)]},
                       conversions=conversions)
    text = np.array(["a"])
    assert not matches(text, np.array([1.0]), conversions=conversions) and conversions[id(text)] is None
    assert not matches(text, np.array([1.0]), conversions=conversions)
    assert not matches(np.array(["a"]), np.array([1.0]))
