"""Statistical tests for random functions, designed so a correct sampler fails with p < 1e-6.

No seed matching (CPU and GPU streams differ, and ``rand > p`` and ``rand < 1 - p`` give different
masks under one seed): the sample's moments must lie within 6 standard errors of the target's,
a one-sample Kolmogorov-Smirnov test against the exact CDF must not reject at alpha = 5e-7, and
uniforms must respect their exact bounds. Per check, false rejection < 5e-7 + 2 * 2e-9 < 1e-6
(grading-facts, section 2: 0 false rejections in 20,000 simulated runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from autograder.judge.compare import Rejected, ShapeMismatch, numeric_array


def _special():
    """scipy.special, imported on first use (a quarter of a second; scipy.stats, which the
    tests here used to come from, costs one to three seconds of start-up)."""
    from scipy import special

    return special


KS_ALPHA = 5e-7
SIGMAS = 6.0


def distribution_problem(sample, spec: dict) -> str | None:
    """Why ``sample`` does not look drawn from ``spec``, or None.

    ``spec``: {"family": "normal", "mean": m, "std": s, "shape": [...]} or
    {"family": "uniform", "low": a, "high": b, "shape": [...]}; a normal spec with "truncate" and
    "scale" is N(mean, scale^2) truncated to mean +- truncate * scale (Keras' truncated normal).
    """
    if spec.get("truncate") is not None:
        return _truncated_normal_problem(sample, spec)
    shape = tuple(spec["shape"])
    try:  # the shape is checked before the sample is converted
        values, _ = numeric_array(sample, "the sample", shape)
    except ShapeMismatch as mismatch:
        return f"the sample has shape {mismatch.shape}, expected {shape} (rows are fan_in, columns fan_out)"
    except Rejected as rejection:
        return str(rejection)
    if not np.isfinite(values).all():
        return "the sample contains NaN or inf"
    x = values.ravel()
    n = x.size
    mean, std = float(x.mean()), float(x.std(ddof=1))
    if spec["family"] == "normal":
        mu, sigma = float(spec["mean"]), float(spec["std"])
        se_std = sigma / math.sqrt(2 * (n - 1))
        cdf = lambda v: _special().ndtr((v - mu) / sigma)  # noqa: E731  (the normal CDF)
        target = f"N({mu:g}, std {sigma:.4g})"
    elif spec["family"] == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        slack = 1e-6 * (high - low)  # float32 rounding of values at the bound
        if x.min() < low - slack or x.max() > high + slack:
            return (f"values fall outside the bounds [{low:.4g}, {high:.4g}] of the target uniform "
                    f"(min {x.min():.4g}, max {x.max():.4g})")
        mu, sigma = (low + high) / 2, (high - low) / math.sqrt(12)
        fourth = (high - low) ** 4 / 80
        se_std = math.sqrt((fourth - sigma**4) / n) / (2 * sigma)
        cdf = lambda v: np.clip((v - low) / (high - low), 0.0, 1.0)  # noqa: E731
        target = f"U({low:.4g}, {high:.4g})"
    else:
        raise ValueError(f"unknown family {spec['family']!r}")
    se_mean = sigma / math.sqrt(n)
    if abs(mean - mu) > SIGMAS * se_mean:
        return f"the sample mean is {mean:.4g}; {target} has mean {mu:.4g} (tolerance {SIGMAS * se_mean:.2g})"
    if abs(std - sigma) > SIGMAS * se_std:
        return (f"the sample standard deviation is {std:.4g}; {target} has {sigma:.4g} "
                f"(ratio {std / sigma:.3f}, tolerance {SIGMAS * se_std:.2g})")
    p_value = ks_pvalue(ks_statistic(x, cdf), n)
    if p_value < KS_ALPHA:
        return f"the values are not distributed like {target} (Kolmogorov-Smirnov p = {p_value:.1e})"
    return None


def mask_problem(output, inputs, spec: dict) -> str | None:
    """Why ``output`` is not a random mask of ``inputs`` keeping each unit with probability ``spec['keep']``
    and scaling kept units by ``spec['scale']``, or None. ``inputs`` holds no zeros."""
    x = np.asarray(inputs, dtype=np.float64)
    try:  # the shape is checked before the output is converted
        out, precision = numeric_array(output, "the output", x.shape)
    except ShapeMismatch as mismatch:
        return f"the output has shape {mismatch.shape}, expected {x.shape}"
    except Rejected as rejection:
        return str(rejection)
    if not np.isfinite(out).all():
        return "the output contains NaN or inf"
    keep, scale = float(spec["keep"]), float(spec["scale"])
    ratio = out / x
    kept = ratio != 0
    rtol = 1e-6 if precision == "float32" else 1e-12
    if kept.any():
        values = ratio[kept]
        off = np.abs(values - scale) > rtol * max(abs(scale), 1.0)
        if off.any():
            seen = float(np.median(values))
            return (f"kept units are multiplied by {seen:.6g} (median), expected {scale:.6g}; "
                    f"{int(off.sum())} of {values.size} kept units are off")
    n = x.size
    fraction = float(kept.mean())
    if keep in (0.0, 1.0):
        if fraction != keep:
            return f"{fraction:.4%} of the units were kept, expected exactly {keep:.0%}"
        return None
    band = SIGMAS * math.sqrt(keep * (1 - keep) / n)
    if abs(fraction - keep) > band:
        return (f"{fraction:.4%} of the units were kept, expected {keep:.2%} "
                f"(p is the DROP probability; tolerance +-{band:.3%})")
    return None


def _truncated_normal_problem(sample, spec: dict) -> str | None:
    """Why ``sample`` is not N(mean, scale^2) truncated to mean +- truncate * scale, or None.

    The spec of a truncated normal is a normal spec (mean, std of the truncated law, shape) plus
    "truncate" (in units of "scale") and "scale" (the std before truncation).
    """
    try:
        values, _ = numeric_array(sample, "the sample", tuple(spec["shape"]))
    except ShapeMismatch:
        return "the sample has the wrong shape or non-finite values"
    except Rejected as rejection:
        return str(rejection)
    if not np.isfinite(values).all():
        return "the sample has the wrong shape or non-finite values"
    x = values.ravel()
    mean, scale, limit = float(spec["mean"]), float(spec["scale"]), float(spec["truncate"])
    law = TruncatedNormal(limit, mean, scale)
    if np.abs(x - mean).max() > limit * scale * (1 + 1e-6):
        return "values fall outside the truncation bounds"
    sigma = law.std
    se_std = sigma * math.sqrt((law.excess_kurtosis + 2.0) / (4.0 * (x.size - 1)))
    if abs(x.mean() - mean) > SIGMAS * sigma / math.sqrt(x.size) or abs(x.std(ddof=1) - sigma) > SIGMAS * se_std:
        return "the moments differ from the truncated normal's"
    if ks_pvalue(ks_statistic(x, law.cdf), x.size) < KS_ALPHA:
        return "the values are not distributed like the truncated normal"
    return None


# ---------------------------------------------------------------- the Kolmogorov-Smirnov test

def ks_statistic(x: np.ndarray, cdf) -> float:
    """The two-sided one-sample Kolmogorov-Smirnov statistic D_n = sup |F_n - F|, in [0, 1].

    ``x``: a 1-D float64 sample of n >= 1 values; ``cdf``: the target's CDF, vectorized (an array
    of values in [0, 1] for an array of points). The supremum is reached at a sample point, just
    before or at the jump of the empirical CDF: D = max(max(i/n - F(x_(i))), max(F(x_(i)) - (i-1)/n)).
    """
    ordered = np.sort(np.asarray(x, dtype=np.float64))
    n = ordered.size
    at = np.asarray(cdf(ordered), dtype=np.float64)
    above = float((np.arange(1.0, n + 1) / n - at).max())  # the empirical CDF above the target
    below = float((at - np.arange(0.0, n) / n).max())      # ... and below it
    return max(above, below)


# The tail of D_n: P(D_n >= d) = P(D+ >= d) + P(D- >= d) - P(both), where the last term is of the
# order of the square of the others (Miller, 1956), so twice the exact one-sided tail
# (scipy.special.smirnov) is the two-sided p-value to within rounding once the latter is small.
# SciPy's kstest (>= 1.5) computes it so wherever n d^2 >= 2.2 for n > 140 (n d^2 > 4 for n <= 140;
# d >= 0.5 for any n), and returns exactly 0 from n d^2 >= 370 (n > 140). smirnov sums n terms
# (0.1 s at n = 65,536): it is only worth paying for in the tail, where a test can reject.
_TAIL_FROM = {True: 2.2, False: 4.0}  # n d^2 from which smirnov is used, for n > 140 and n <= 140
_SMALL_N = 140
_ZERO_FROM = 370.0


def ks_pvalue(statistic: float, n: int) -> float:
    """The p-value P(D_n >= statistic) of the two-sided one-sample KS test, in [0, 1].

    ``statistic``: D_n in [0, 1]; ``n`` >= 1: the sample size. In the tail (n D^2 >= 2.2 for
    n > 140, n D^2 > 4 for n <= 140, or D >= 0.5: every p-value below 5e-4 lies there), it is
    SciPy's exact value (``scipy.stats.kstest``'s, computed the same way): twice the exact
    one-sided tail ``scipy.special.smirnov(n, D)``, capped at 1. In the body it is the limiting tail
    ``scipy.special.kolmogorov(sqrt(n) D)`` (Kolmogorov, 1933), which is at least 5e-4 there, as is the
    exact value: a test at any alpha below 5e-4 (this module's 5e-7) rejects exactly when SciPy's does.
    """
    if n < 1 or not 0.0 <= statistic <= 1.0:
        raise ValueError(f"a KS statistic is in [0, 1] with n >= 1 (got D = {statistic}, n = {n})")
    spread = n * statistic * statistic
    large = n > _SMALL_N
    if large and spread >= _ZERO_FROM:
        return 0.0
    in_tail = spread >= _TAIL_FROM[large] if large else spread > _TAIL_FROM[large]
    if in_tail or statistic >= 0.5:
        return min(1.0, max(0.0, 2.0 * float(_special().smirnov(n, statistic))))
    return min(1.0, max(0.0, float(_special().kolmogorov(math.sqrt(spread)))))


@dataclass(frozen=True)
class TruncatedNormal:
    """N(mean, scale^2) truncated to mean +- limit * scale, as Keras' truncated normal draws (limit 2).

    ``limit`` in [0.5, 10] (below, the moment formulas lose digits to cancellation), ``scale`` > 0.

    With a = limit, Z = P(|N(0,1)| <= a) and phi the standard normal density, the standardized law has
    E[X^2] = 1 - 2 a phi(a) / Z and E[X^4] = 3 E[X^2] - 2 a^3 phi(a) / Z (integration by parts of
    x^(k-1) * x phi(x) over [-a, a]); its odd moments vanish.
    """

    limit: float
    mean: float = 0.0
    scale: float = 1.0

    @property
    def _mass(self) -> float:
        """Z = P(|N(0, 1)| <= a)."""
        return math.erf(self.limit / math.sqrt(2.0))

    @property
    def _edge(self) -> float:
        """2 phi(a) / Z."""
        a = self.limit
        return 2.0 * math.exp(-a * a / 2.0) / math.sqrt(2.0 * math.pi) / self._mass

    @property
    def _second(self) -> float:
        return 1.0 - self.limit * self._edge

    @property
    def std(self) -> float:
        return self.scale * math.sqrt(self._second)

    @property
    def excess_kurtosis(self) -> float:
        fourth = 3.0 * self._second - self.limit**3 * self._edge
        return fourth / self._second**2 - 3.0

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X <= x) elementwise: 0 below the lower bound, 1 above the upper one."""
        ndtr = _special().ndtr
        z = np.clip((np.asarray(x, dtype=np.float64) - self.mean) / self.scale, -self.limit, self.limit)
        return np.clip((ndtr(z) - ndtr(-self.limit)) / self._mass, 0.0, 1.0)
