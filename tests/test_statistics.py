"""The statistical tests themselves: correct samplers pass, known-wrong ones fail, every time."""

import math

import numpy as np
import pytest
from scipy import special

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


# ---------------------------------------------------------------- exact boundaries, off-centre targets (mutation-tested)
#
# The samples below are quantiles of the target law (a sample with the law's exact shape), then
# moved so that the mean or the std lands a hair (1e-6 of the tolerance) inside or outside the
# 6-standard-error band: the band's formula is pinned, not only its order of magnitude. Moving only
# the inner values keeps a bounded sample inside its bounds and leaves the KS test satisfied.

N = SHAPE[0] * SHAPE[1]
HAIR = 1e-6


def quantiles(law) -> np.ndarray:
    return law.ppf((np.arange(N) + 0.5) / N).reshape(SHAPE)


def with_mean(x, center: float, inner: float, target: float) -> np.ndarray:
    """``x`` with the values within ``inner`` of ``center`` shifted so that the mean is ``target``."""
    moved = np.abs(x - center) < inner
    out = x.copy()
    out[moved] += (target - x.mean()) * x.size / moved.sum()
    return out


def with_std(x, center: float, reach: float, target: float) -> np.ndarray:
    """``x`` stretched about ``center`` by ``d -> d (1 + e (1 - (d / reach)^2))`` (monotone, the values
    at +-``reach`` stay put, so a bounded sample stays in its bounds) with ``e`` such that the
    standard deviation (ddof=1) is ``target``; ``x`` must lie within ``reach`` of ``center``."""
    d = x - center
    taper = d * np.clip(1 - (d / reach) ** 2, 0, None)

    def std(e):
        return (x + e * taper).std(ddof=1)

    e, step = 0.0, 1e-3
    for _ in range(6):  # Newton on a function that is almost linear in e
        slope = (std(e + step) - std(e)) / step
        e -= (std(e) - target) / slope
        step = max(abs(e) * 1e-3, 1e-9)
    return x + e * taper


def test_helpers_hit_their_targets():
    from scipy import stats

    x = quantiles(stats.norm(0.5, 2.0))
    assert with_mean(x, 0.5, 3.0, 0.6).mean() == pytest.approx(0.6, rel=1e-12)
    assert with_std(x, 0.5, 20.0, 2.1).std(ddof=1) == pytest.approx(2.1, rel=1e-12)


OFF_NORMAL = {"family": "normal", "mean": 0.5, "std": 2.0, "shape": list(SHAPE)}
OFF_UNIFORM = {"family": "uniform", "low": -0.3, "high": 0.9, "shape": list(SHAPE)}


def _normal_laws():
    from scipy import stats

    return stats.norm(0.5, 2.0)


@pytest.mark.parametrize("sign", [+1, -1])
def test_normal_mean_band_is_exactly_six_standard_errors(sign):
    x = quantiles(_normal_laws())
    tolerance = 6 * 2.0 / math.sqrt(N)
    assert distribution_problem(x + sign * tolerance * (1 - HAIR), OFF_NORMAL) is None
    beyond = x + sign * tolerance * (1 + HAIR)
    assert distribution_problem(beyond, OFF_NORMAL) == (
        f"the sample mean is {beyond.mean():.4g}; N(0.5, std 2) has mean 0.5 (tolerance {tolerance:.2g})")


@pytest.mark.parametrize("sign", [+1, -1])
def test_normal_std_band_is_exactly_six_standard_errors(sign):
    x = quantiles(_normal_laws())
    tolerance = 6 * 2.0 / math.sqrt(2 * (N - 1))
    inside = with_std(x, 0.5, 20.0, 2.0 + sign * tolerance * (1 - HAIR))
    assert distribution_problem(inside, OFF_NORMAL) is None
    beyond = with_std(x, 0.5, 20.0, 2.0 + sign * tolerance * (1 + HAIR))
    std = beyond.std(ddof=1)
    assert distribution_problem(beyond, OFF_NORMAL) == (
        f"the sample standard deviation is {std:.4g}; N(0.5, std 2) has {2.0:.4g} "
        f"(ratio {std / 2.0:.3f}, tolerance {tolerance:.2g})")


def _uniform_tolerances():
    width = 1.2
    sigma = width / math.sqrt(12)
    se_std = math.sqrt((width**4 / 80 - sigma**4) / N) / (2 * sigma)
    return 6 * sigma / math.sqrt(N), 6 * se_std, sigma


@pytest.mark.parametrize("sign", [+1, -1])
def test_uniform_mean_band_is_exactly_six_standard_errors(sign):
    from scipy import stats

    x = quantiles(stats.uniform(-0.3, 1.2))
    mean_tolerance, _, _ = _uniform_tolerances()
    assert distribution_problem(with_mean(x, 0.3, 0.5, 0.3 + sign * mean_tolerance * (1 - HAIR)), OFF_UNIFORM) is None
    beyond = with_mean(x, 0.3, 0.5, 0.3 + sign * mean_tolerance * (1 + HAIR))
    assert distribution_problem(beyond, OFF_UNIFORM) == (
        f"the sample mean is {beyond.mean():.4g}; U(-0.3, 0.9) has mean {0.3:.4g} (tolerance {mean_tolerance:.2g})")


@pytest.mark.parametrize("sign", [+1, -1])
def test_uniform_std_band_is_exactly_six_standard_errors(sign):
    from scipy import stats

    x = quantiles(stats.uniform(-0.3, 1.2))
    _, std_tolerance, sigma = _uniform_tolerances()
    assert distribution_problem(with_std(x, 0.3, 0.6, sigma + sign * std_tolerance * (1 - HAIR)), OFF_UNIFORM) is None
    beyond = with_std(x, 0.3, 0.6, sigma + sign * std_tolerance * (1 + HAIR))
    assert distribution_problem(beyond, OFF_UNIFORM).startswith("the sample standard deviation is")


def test_uniform_bounds_on_both_sides_with_their_exact_slack():
    from scipy import stats

    low, high = OFF_UNIFORM["low"], OFF_UNIFORM["high"]
    slack = 1e-6 * (high - low)
    x = quantiles(stats.uniform(-0.3, 1.2))
    x[0, 0], x[-1, -1] = low - slack, high + slack  # exactly at the slack: still inside
    assert distribution_problem(x, OFF_UNIFORM) is None
    x[0, 0] = low - 2 * slack
    assert distribution_problem(x, OFF_UNIFORM) == (
        f"values fall outside the bounds [{low:.4g}, {high:.4g}] of the target uniform (min {x.min():.4g}, max {x.max():.4g})")


def test_rejected_samples_say_what_they_are():
    assert distribution_problem(None, HE_NORMAL).startswith("the sample is None")
    assert distribution_problem(np.full(SHAPE, np.inf), HE_NORMAL) == "the sample contains NaN or inf"
    assert mask_problem(None, np.ones(3), {"keep": 0.5, "scale": 2.0}).startswith("the output is None")
    assert mask_problem(np.array([np.nan, 1.0]), np.ones(2), {"keep": 0.5, "scale": 2.0}) == "the output contains NaN or inf"


TRUNCATED = {"family": "normal", "mean": 0.3, "std": 0.88 * 2.0, "scale": 2.0, "truncate": 2.0, "shape": list(SHAPE)}


def _truncated():
    from scipy import stats

    law = stats.truncnorm(-2.0, 2.0, loc=0.3, scale=2.0)
    sigma = float(law.std())
    se_std = sigma * math.sqrt((float(law.stats(moments="k")) + 2.0) / (4.0 * (N - 1)))
    return quantiles(law), sigma, 6 * sigma / math.sqrt(N), 6 * se_std


@pytest.mark.parametrize("sign", [+1, -1])
def test_truncated_normal_moment_bands_off_centre(sign):
    x, sigma, mean_tolerance, std_tolerance = _truncated()
    assert distribution_problem(x, TRUNCATED) is None
    assert distribution_problem(with_mean(x, 0.3, 3.0, 0.3 + sign * mean_tolerance * (1 - HAIR)), TRUNCATED) is None
    assert distribution_problem(with_mean(x, 0.3, 3.0, 0.3 + sign * mean_tolerance * (1 + HAIR)), TRUNCATED) == (
        "the moments differ from the truncated normal's")
    assert distribution_problem(with_std(x, 0.3, 4.0, sigma + sign * std_tolerance * (1 - HAIR)), TRUNCATED) is None
    assert distribution_problem(with_std(x, 0.3, 4.0, sigma + sign * std_tolerance * (1 + HAIR)), TRUNCATED) == (
        "the moments differ from the truncated normal's")


def test_truncated_normal_bounds_and_messages():
    x, _, _, _ = _truncated()
    bound = 2.0 * 2.0
    for sign in (+1, -1):
        inside = x.copy()
        inside[0, 0] = 0.3 + sign * bound * (1 + 0.5e-6)
        assert distribution_problem(inside, TRUNCATED) is None
        inside[0, 0] = 0.3 + sign * bound * (1 + 2e-6)
        assert distribution_problem(inside, TRUNCATED) == "values fall outside the truncation bounds"
    centred = dict(TRUNCATED, mean=0.0)
    at_bound = x - 0.3
    at_bound[0, 0] = bound * (1 + 1e-6)  # exactly at the slack: inside
    assert distribution_problem(at_bound, centred) is None
    assert distribution_problem(None, TRUNCATED).startswith("the sample is None")
    assert distribution_problem(np.zeros(3), TRUNCATED) == "the sample has the wrong shape or non-finite values"
    from scipy import stats

    half_width = math.sqrt(3) * _truncated()[1]  # a uniform with the truncated normal's mean and std
    flat = quantiles(stats.uniform(0.3 - half_width, 2 * half_width))
    assert distribution_problem(flat, TRUNCATED) == "the values are not distributed like the truncated normal"


def test_mask_scale_tolerance_is_relative_to_the_scale():
    """Scale 1/0.7 in float32: kept units may be off by 1e-6 of the scale, not of 1 or of 2."""
    x = np.random.default_rng(10).uniform(0.5, 2.0, (100, 100))
    scale = 1 / 0.7
    spec = {"keep": 1.0, "scale": scale}
    assert mask_problem(x * scale * (1 + 0.9e-6), x, dict(spec)) is not None  # float64: 1e-12
    assert mask_problem((x * scale * (1 + 0.9e-6)).astype(np.float32), x, spec) is None
    assert "multiplied by" in mask_problem((x * scale * (1 + 1.2e-6)).astype(np.float32), x, spec)
    assert "multiplied by" in mask_problem((x * scale * 1.01).astype(np.float32), x, spec)


# ---------------------------------------------------------------- the KS test's pieces, pinned fast (mutation-tested)
# (tests/test_ks_pvalue.py compares them with scipy.stats over whole ranges; these pin each branch
# and boundary with a few exact values, fast enough to run against every mutant)

def test_ks_statistic_by_hand():
    """U(0, 1): D = max(max(i/n - x_(i)), max(x_(i) - (i-1)/n)), the sample sorted first."""
    from autograder.judge.statistics import ks_statistic

    uniform = lambda v: np.clip(v, 0.0, 1.0)  # noqa: E731
    assert ks_statistic(np.array([0.1, 0.4, 0.7]), uniform) == pytest.approx(0.3, abs=1e-15)  # 1 - 0.7, above
    assert ks_statistic(np.array([0.9, 0.5]), uniform) == pytest.approx(0.5, abs=1e-15)  # 0.5 - 0, below
    assert ks_statistic(np.array([0.25, 0.75]), uniform) == pytest.approx(0.25, abs=1e-15)
    assert ks_statistic(np.array([0.2, 0.9]), uniform) == pytest.approx(0.4, abs=1e-15)  # 0.9 - 1/2, below


def test_ks_pvalue_refuses_only_impossible_arguments():
    from autograder.judge.statistics import ks_pvalue

    for statistic, n in ((0.1, 0), (-0.1, 5), (1.5, 5), (1.0 + 1e-12, 5)):
        with pytest.raises(ValueError, match=r"^a KS statistic is in \[0, 1\] with n >= 1 \(got D = "):
            ks_pvalue(statistic, n)
    assert ks_pvalue(0.0, 5) == 1.0 and ks_pvalue(1.0, 5) == 0.0  # D = 1 is possible, with probability 0
    assert ks_pvalue(0.1, 1) == pytest.approx(float(special.kolmogorov(0.1)), rel=1e-15)


def test_ks_pvalue_branches_and_their_boundaries():
    """Body: kolmogorov(sqrt(n) D); tail (n D^2 >= 2.2 for n > 140, > 4 for n <= 140, or D >= 0.5):
    2 smirnov(n, D); 0 from n D^2 >= 370 for n > 140."""
    from autograder.judge.statistics import ks_pvalue

    def body(d, n):
        return float(special.kolmogorov(math.sqrt(n * d * d)))

    def tail(d, n):
        return 2 * float(special.smirnov(n, d))

    cases = [
        (math.sqrt(3.0 / 1000), 1000, tail),  # n > 140: 3 >= 2.2
        (math.sqrt(2.0 / 1000), 1000, body),
        (0.0469041575982343, 1000, tail),  # n D^2 == 2.2 exactly: the tail starts there
        (math.sqrt(3.0 / 140), 140, body),  # n <= 140: 3 <= 4
        (math.sqrt(3.0 / 141), 141, tail),
        (0.2, 100, body),  # n D^2 == 4.0 exactly: not yet the tail for n <= 140
        (math.sqrt(5.0 / 100), 100, tail),
        (0.5, 1, tail), (0.4999, 1, body),  # D >= 0.5 is the tail at any n
    ]
    for d, n, law in cases:
        assert ks_pvalue(d, n) == pytest.approx(law(d, n), rel=1e-12, abs=0.0), (d, n, law.__name__)
        assert ks_pvalue(d, n) != pytest.approx((body if law is tail else tail)(d, n), rel=1e-9, abs=0.0), (d, n)
    assert ks_pvalue(0.5, 1480) == 0.0  # n D^2 == 370 exactly


def test_truncated_normal_cdf_is_0_and_1_beyond_the_bounds():
    """Even where the truncated mass rounds above erf(a / sqrt 2) (a = 0.5), the CDF stays in [0, 1]."""
    from autograder.judge.statistics import TruncatedNormal

    law = TruncatedNormal(0.5, 0.3, 1.7)
    assert law.cdf(np.array([100.0, 0.3 + 0.6 * 1.7, 0.3 - 0.6 * 1.7, -100.0])).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert law.cdf(np.array([0.3]))[0] == pytest.approx(0.5, abs=1e-15)


def test_a_truncated_sample_with_nan_is_refused_by_name():
    x, _, _, _ = _truncated()
    x[3, 4] = np.nan
    assert distribution_problem(x, TRUNCATED) == "the sample has the wrong shape or non-finite values"
