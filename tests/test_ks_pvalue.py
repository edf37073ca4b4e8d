"""The KS test without scipy.stats: the same statistic, the same p-value where a test can reject,
and so the same verdicts as ``scipy.stats.kstest`` (used here, and only here, as the oracle)."""

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from autograder.judge.statistics import (
    KS_ALPHA, SIGMAS, TruncatedNormal, distribution_problem, ks_pvalue, ks_statistic,
)

# The sample sizes of the checks that run a KS test: the initializers' public tall layers and hidden
# wide ones (fan_in 128-160, fan_out 520-640). (scipy.special.smirnov sums n terms: 0.1 s at these
# sizes, seconds at a million, so the tests keep to sizes like these.)
CHECK_SIZES = [65_536, 66_560, 160 * 640]


def scipy_pvalue(statistic: float, n: int) -> float:
    return float(stats.kstwo.sf(statistic, n))


def in_tail(statistic: float, n: int) -> bool:
    """Where ks_pvalue promises SciPy's exact value."""
    spread = n * statistic**2
    return statistic >= 0.5 or (spread >= 2.2 if n > 140 else spread > 4.0)


def slow_for_scipy(statistic: float, n: int) -> bool:
    """SciPy's exact body (Durbin's matrix) takes seconds for large n: not worth it in a test."""
    return 3000 < n <= 100_000 and n * statistic**1.5 <= 1.4


@settings(max_examples=150, deadline=None)
@given(n=st.one_of(st.integers(1, 3000), st.integers(3000, 110_000)), spread=st.floats(0.0, 400.0))
def test_pvalue_is_scipys_in_the_tail_and_gives_the_same_verdict_everywhere(n, spread):
    statistic = min(1.0, math.sqrt(spread / n))
    if slow_for_scipy(statistic, n):
        return
    ours, theirs = ks_pvalue(statistic, n), scipy_pvalue(statistic, n)
    assert 0.0 <= ours <= 1.0
    if in_tail(statistic, n):
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-300)
    else:
        assert min(ours, theirs) >= 5e-4
    for alpha in (KS_ALPHA, 1e-6, 1e-4):
        assert (ours < alpha) == (theirs < alpha)


@pytest.mark.parametrize("n", CHECK_SIZES + [1, 2, 17, 140, 141, 1000])
def test_pvalue_on_a_grid_of_statistics_at_the_checks_sizes(n):
    """From p = 0.02 to the smallest double, across every branch (including D >= 0.5)."""
    for spread in np.concatenate([np.geomspace(2.2, 40.0, 12), [4.0, 4.0000001, 100.0, 369.9, 370.0, 1000.0]]):
        statistic = min(1.0, math.sqrt(spread / n))
        if in_tail(statistic, n):
            assert ks_pvalue(statistic, n) == pytest.approx(scipy_pvalue(statistic, n), rel=1e-12, abs=1e-300)
    for statistic in (0.5, 0.75, 1.0 - 1.0 / n if n > 2 else 0.9, 1.0):
        assert ks_pvalue(statistic, n) == pytest.approx(scipy_pvalue(statistic, n), rel=1e-12, abs=1e-300)
    assert ks_pvalue(0.0, n) == 1.0


def test_pvalue_refuses_impossible_statistics():
    for statistic, n in ((-0.1, 10), (1.5, 10), (0.1, 0)):
        with pytest.raises(ValueError):
            ks_pvalue(statistic, n)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.sampled_from([1, 5, 200, 4096, 65_536]),
       shift=st.floats(-0.2, 0.2), stretch=st.floats(0.8, 1.25))
def test_statistic_is_scipys(seed, n, shift, stretch):
    x = np.random.default_rng(seed).standard_normal(n) * stretch + shift
    assert ks_statistic(x, stats.norm.cdf) == stats.kstest(x, stats.norm.cdf).statistic


@pytest.mark.parametrize("limit, mean, scale", [(2.0, 0.0, 0.0554), (2.0, 0.3, 1.7), (0.5, 0.0, 1.0),
                                                (3.3, -1.0, 0.02), (10.0, 0.0, 1.0)])
def test_truncated_normal_is_scipys(limit, mean, scale):
    ours, theirs = TruncatedNormal(limit, mean, scale), stats.truncnorm(-limit, limit, loc=mean, scale=scale)
    assert ours.std == pytest.approx(theirs.std(), rel=1e-12)
    assert ours.excess_kurtosis == pytest.approx(float(theirs.stats(moments="k")), rel=1e-10, abs=1e-12)
    points = np.linspace(mean - 1.2 * limit * scale, mean + 1.2 * limit * scale, 2001)
    np.testing.assert_allclose(ours.cdf(points), theirs.cdf(points), rtol=0, atol=1e-14)


# ---------------------------------------------------------------- the verdicts themselves

def scipy_distribution_problem(sample: np.ndarray, spec: dict) -> bool:
    """Whether the test rejects, computed as the grader did with scipy.stats (the oracle)."""
    x = np.asarray(sample, dtype=np.float64).ravel()
    n = x.size
    if spec.get("truncate") is not None:
        law = stats.truncnorm(-spec["truncate"], spec["truncate"], loc=spec["mean"], scale=spec["scale"])
        sigma = float(law.std())
        se_std = sigma * math.sqrt((float(law.stats(moments="k")) + 2.0) / (4.0 * (n - 1)))
        if (np.abs(x - spec["mean"]).max() > spec["truncate"] * spec["scale"] * (1 + 1e-6)
                or abs(x.mean() - spec["mean"]) > SIGMAS * sigma / math.sqrt(n)
                or abs(x.std(ddof=1) - sigma) > SIGMAS * se_std):
            return True
        return stats.kstest(x, law.cdf).pvalue < KS_ALPHA
    if spec["family"] == "normal":
        mu, sigma = spec["mean"], spec["std"]
        law, se_std = stats.norm(mu, sigma), sigma / math.sqrt(2 * (n - 1))
    else:
        low, high = spec["low"], spec["high"]
        if x.min() < low - 1e-6 * (high - low) or x.max() > high + 1e-6 * (high - low):
            return True
        mu, sigma = (low + high) / 2, (high - low) / math.sqrt(12)
        law = stats.uniform(low, high - low)
        se_std = math.sqrt(((high - low) ** 4 / 80 - sigma**4) / n) / (2 * sigma)
    if abs(x.mean() - mu) > SIGMAS * sigma / math.sqrt(n) or abs(x.std(ddof=1) - sigma) > SIGMAS * se_std:
        return True
    return stats.kstest(x, law.cdf).pvalue < KS_ALPHA


STD = math.sqrt(2 / 150)
BOUND = math.sqrt(3) * STD


def _truncated(rng, shape, limit=2.0, scale=STD / 0.8796256610342398):
    values = rng.standard_normal(shape) * scale
    while (outside := np.abs(values) > limit * scale).any():
        values[outside] = rng.standard_normal(int(outside.sum())) * scale
    return values


NORMAL = {"family": "normal", "mean": 0.0, "std": STD}
UNIFORM = {"family": "uniform", "low": -BOUND, "high": BOUND}
TRUNCATED = dict(NORMAL, truncate=2.0, scale=STD / 0.8796256610342398)
SAMPLERS = {  # what a submission may return, right or wrong, for each target
    "normal": lambda rng, shape: rng.standard_normal(shape) * STD,
    "normal, slightly wide": lambda rng, shape: rng.standard_normal(shape) * STD * 1.012,
    "normal, slightly shifted": lambda rng, shape: rng.standard_normal(shape) * STD + 0.018 * STD,
    "uniform": lambda rng, shape: rng.uniform(-BOUND, BOUND, shape),
    "uniform of the normal's std": lambda rng, shape: rng.uniform(-STD, STD, shape),
    "logistic of the normal's std": lambda rng, shape: rng.logistic(0, STD * math.sqrt(3) / math.pi, shape),
    "truncated": _truncated,
    "float32 normal": lambda rng, shape: (rng.standard_normal(shape) * STD).astype(np.float32),
}


@pytest.mark.parametrize("target", [NORMAL, UNIFORM, TRUNCATED], ids=["normal", "uniform", "truncated"])
@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_verdicts_equal_scipys_on_check_sized_samples(target, sampler):
    rng = np.random.default_rng(abs(hash((sampler, target["family"], "truncate" in target))) % 2**32)
    for shape in [(512, 128), (130, 520)]:
        for _ in range(2):
            sample = SAMPLERS[sampler](rng, shape)
            spec = dict(target, shape=list(shape))
            assert (distribution_problem(sample, spec) is not None) == scipy_distribution_problem(sample, spec)


def test_grading_a_distribution_imports_no_scipy_stats():
    """scipy.stats costs seconds of start-up: a distribution check must not import it."""
    code = ("import sys, numpy as np\n"
            "from autograder.judge.statistics import distribution_problem\n"
            "rng = np.random.default_rng(0)\n"
            "spec = {'family': 'normal', 'mean': 0.0, 'std': 1.0, 'shape': [512, 128]}\n"
            "assert distribution_problem(rng.standard_normal((512, 128)), spec) is None\n"
            "assert distribution_problem(rng.standard_normal((512, 128)) * 1.1, spec)\n"
            "truncated = dict(spec, truncate=2.0, scale=1.0)\n"
            "assert distribution_problem(np.clip(rng.standard_normal((512, 128)), -2, 2), truncated)\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
