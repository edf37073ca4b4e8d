"""The statistical tests themselves: correct samplers pass, known-wrong ones fail, every time."""

import math

import numpy as np
import pytest

from autograder.judge.statistics import distribution_problem, mask_problem

SHAPE = (512, 128)  # non-square, 65,536 samples
FAN_IN, FAN_OUT = SHAPE
HE_STD = math.sqrt(2 / FAN_IN)
HE_NORMAL = {"family": "normal", "mean": 0.0, "std": HE_STD, "shape": list(SHAPE)}
HE_UNIFORM = {"family": "uniform", "low": -math.sqrt(3) * HE_STD, "high": math.sqrt(3) * HE_STD, "shape": list(SHAPE)}


@pytest.mark.parametrize("spec, draw", [
    (HE_NORMAL, lambda rng: rng.standard_normal(SHAPE) * HE_STD),
    (HE_UNIFORM, lambda rng: rng.uniform(HE_UNIFORM["low"], HE_UNIFORM["high"], SHAPE)),
    (HE_NORMAL, lambda rng: (rng.standard_normal(SHAPE) * HE_STD).astype(np.float32)),
])
def test_correct_samples_pass_every_time(spec, draw):
    rng = np.random.default_rng(0)
    rejected = [problem for _ in range(300) if (problem := distribution_problem(draw(rng), spec))]
    assert rejected == []


@pytest.mark.parametrize("spec, wrong", [
    (HE_NORMAL, lambda rng: rng.standard_normal(SHAPE) * math.sqrt(2 / FAN_OUT)),  # fan_out
    (HE_NORMAL, lambda rng: rng.standard_normal(SHAPE) * (2 / FAN_IN)),  # variance used as std
    (HE_NORMAL, lambda rng: rng.standard_normal(SHAPE) * math.sqrt(1 / FAN_IN)),  # LeCun for He
    (HE_NORMAL, lambda rng: rng.uniform(-math.sqrt(3) * HE_STD, math.sqrt(3) * HE_STD, SHAPE)),  # uniform for normal
    (HE_UNIFORM, lambda rng: rng.standard_normal(SHAPE) * HE_STD),  # normal for uniform
    (HE_UNIFORM, lambda rng: rng.uniform(-HE_STD, HE_STD, SHAPE)),  # bound = std instead of sqrt(3) std
    (HE_NORMAL, lambda rng: np.clip(rng.standard_normal(SHAPE), -2, 2) * HE_STD / 0.8796),  # truncated-ish
    (HE_NORMAL, lambda rng: rng.standard_normal(SHAPE[::-1]) * HE_STD),  # transposed shape
])
def test_known_wrong_samplers_are_rejected_every_time(spec, wrong):
    rng = np.random.default_rng(1)
    assert all(distribution_problem(wrong(rng), spec) for _ in range(30))


def test_dropout_masks_right_and_wrong():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 2.0, (1250, 800)) * rng.choice([-1.0, 1.0], (1250, 800))
    spec = {"keep": 0.7, "scale": 1 / 0.7}
    for _ in range(20):
        keep = rng.random(x.shape) >= 0.3
        assert mask_problem(x * keep / 0.7, x, spec) is None
    keep = rng.random(x.shape) >= 0.3
    assert "multiplied by 1" in mask_problem(x * keep, x, spec)  # not rescaled
    swapped = rng.random(x.shape) < 0.3
    assert mask_problem(x * swapped / 0.7, x, spec)  # keep probability used as drop probability
    assert "NaN" in mask_problem(np.full(x.shape, np.nan), x, spec)
    assert mask_problem(np.zeros(x.shape), x, {"keep": 0.0, "scale": 0.0}) is None


# ---------------------------------------------------------------- each test, both sides (mutation-tested)

def _standardised(rng, n=SHAPE):
    """A normal sample with mean exactly 0 and std (ddof=1) exactly 1."""
    x = rng.standard_normal(n)
    return (x - x.mean()) / x.std(ddof=1)


@pytest.mark.parametrize("sign", [+1, -1])
def test_the_mean_test_rejects_beyond_six_standard_errors_on_either_side(sign):
    x = _standardised(np.random.default_rng(3)) * HE_STD
    se = HE_STD / math.sqrt(x.size)
    assert distribution_problem(x + sign * 5.5 * se, HE_NORMAL) is None
    problem = distribution_problem(x + sign * 6.5 * se, HE_NORMAL)
    assert problem is not None and problem.startswith("the sample mean is")


@pytest.mark.parametrize("sign", [+1, -1])
def test_the_std_test_rejects_beyond_six_standard_errors_on_either_side(sign):
    x = _standardised(np.random.default_rng(4))
    se = 1 / math.sqrt(2 * (x.size - 1))
    assert distribution_problem(x * HE_STD * (1 + sign * 5.5 * se), HE_NORMAL) is None
    problem = distribution_problem(x * HE_STD * (1 + sign * 6.5 * se), HE_NORMAL)
    assert problem is not None and problem.startswith("the sample standard deviation is")


def test_the_ks_test_rejects_the_right_moments_in_the_wrong_shape():
    x = np.random.default_rng(5).uniform(-1, 1, SHAPE)
    x = (x - x.mean()) / x.std(ddof=1) * HE_STD
    assert "Kolmogorov-Smirnov" in distribution_problem(x, HE_NORMAL)


def test_uniform_bounds_are_exact_up_to_float32_rounding():
    rng = np.random.default_rng(6)
    low, high = HE_UNIFORM["low"], HE_UNIFORM["high"]
    x = rng.uniform(low, high, SHAPE)
    x[0, 0] = high + 0.5e-6 * (high - low)
    assert distribution_problem(x, HE_UNIFORM) is None
    x[0, 0] = high + 2e-6 * (high - low)
    assert "outside the bounds" in distribution_problem(x, HE_UNIFORM)
    x[0, 0] = low - 2e-6 * (high - low)
    assert "outside the bounds" in distribution_problem(x, HE_UNIFORM)


def test_samples_that_are_not_numbers_or_not_finite_or_misshapen():
    assert "None" in distribution_problem(None, HE_NORMAL)
    assert "NaN or inf" in distribution_problem(np.full(SHAPE, np.nan), HE_NORMAL)
    assert "shape (128, 512)" in distribution_problem(np.zeros(SHAPE[::-1]), HE_NORMAL)
    with pytest.raises(ValueError, match="unknown family"):
        distribution_problem(np.zeros(SHAPE), {"family": "cauchy", "shape": list(SHAPE)})


def test_truncated_normal():
    from scipy import stats

    spec = {"family": "normal", "mean": 0.0, "std": 0.88 * HE_STD, "scale": HE_STD, "truncate": 2.0, "shape": list(SHAPE)}
    law = stats.truncnorm(-2, 2, loc=0, scale=HE_STD)
    rng = np.random.default_rng(7)
    assert distribution_problem(law.rvs(size=SHAPE, random_state=rng), spec) is None
    assert "outside the truncation" in distribution_problem(rng.standard_normal(SHAPE) * HE_STD, spec)
    assert "moments" in distribution_problem(law.rvs(size=SHAPE, random_state=rng) * 0.9, spec)
    assert "wrong shape" in distribution_problem(np.zeros(SHAPE[::-1]), spec)


@pytest.mark.parametrize("sign", [+1, -1])
def test_the_kept_fraction_is_tested_on_both_sides(sign):
    rng = np.random.default_rng(8)
    n = 1_000_000
    x = rng.uniform(0.5, 2.0, n)
    band = 6 * math.sqrt(0.7 * 0.3 / n)
    for offset, ok in ((0.8 * band, True), (1.3 * band, False)):
        kept = np.zeros(n, dtype=bool)
        kept[: int(round((0.7 + sign * offset) * n))] = True
        problem = mask_problem(x * kept / 0.7, x, {"keep": 0.7, "scale": 1 / 0.7})
        assert (problem is None) is ok, problem


def test_mask_scale_tolerance_follows_the_precision_and_exact_keep():
    x = np.random.default_rng(9).uniform(0.5, 2.0, (100, 100))
    kept = np.ones(x.shape, dtype=bool)
    spec = {"keep": 1.0, "scale": 1.0}
    assert mask_problem((x * (1 + 5e-7)).astype(np.float32), x.astype(np.float32), spec) is None
    assert "multiplied by" in mask_problem(x * (1 + 5e-7), x, spec)
    assert mask_problem(x * kept, x, spec) is None
    half = x.copy()
    half[0, 0] = 0
    assert "expected exactly 100%" in mask_problem(half, x, spec)
    assert "shape" in mask_problem(x.T[:50], x, spec) and "None" in mask_problem(None, x, spec)
