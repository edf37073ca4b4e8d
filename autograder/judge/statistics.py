"""Statistical tests for random functions, designed so a correct sampler fails with p < 1e-6.

No seed matching (CPU and GPU streams differ, and ``rand > p`` and ``rand < 1 - p`` give different
masks under one seed): the sample's moments must lie within 6 standard errors of the target's,
a one-sample Kolmogorov-Smirnov test against the exact CDF must not reject at alpha = 5e-7, and
uniforms must respect their exact bounds. Per check, false rejection < 5e-7 + 2 * 2e-9 < 1e-6
(grading-facts, section 2: 0 false rejections in 20,000 simulated runs).
"""

from __future__ import annotations

import math

import numpy as np

from autograder.judge.compare import Rejected, ShapeMismatch, numeric_array


def _stats():
    """scipy.stats, imported on first use (a second of start-up that only a grading worker needs)."""
    from scipy import stats

    return stats

KS_ALPHA = 5e-7
SIGMAS = 6.0


def distribution_problem(sample, spec: dict) -> str | None:
    """Why ``sample`` does not look drawn from ``spec``, or None.

    ``spec``: {"family": "normal", "mean": m, "std": s, "shape": [...]} or
    {"family": "uniform", "low": a, "high": b, "shape": [...]}; a normal spec with "truncate" and
    "scale" is N(mean, scale^2) truncated to mean +- truncate * scale (Keras' normal initializers).
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
        cdf = _stats().norm(loc=mu, scale=sigma).cdf
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
        cdf = _stats().uniform(loc=low, scale=high - low).cdf
        target = f"U({low:.4g}, {high:.4g})"
    else:
        raise ValueError(f"unknown family {spec['family']!r}")
    se_mean = sigma / math.sqrt(n)
    if abs(mean - mu) > SIGMAS * se_mean:
        return f"the sample mean is {mean:.4g}; {target} has mean {mu:.4g} (tolerance {SIGMAS * se_mean:.2g})"
    if abs(std - sigma) > SIGMAS * se_std:
        return (f"the sample standard deviation is {std:.4g}; {target} has {sigma:.4g} "
                f"(ratio {std / sigma:.3f}, tolerance {SIGMAS * se_std:.2g})")
    p_value = _stats().kstest(x, cdf).pvalue
    if p_value < KS_ALPHA:
        return f"the values are not distributed like {target} (Kolmogorov-Smirnov p = {p_value:.1e})"
    return None


def mask_problem(output, inputs, spec: dict) -> str | None:
    """Why ``output`` is not a dropout of ``inputs`` keeping each unit with probability ``spec['keep']``
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
    law = _stats().truncnorm(-limit, limit, loc=mean, scale=scale)
    if np.abs(x - mean).max() > limit * scale * (1 + 1e-6):
        return "values fall outside the truncation bounds"
    sigma = float(law.std())
    se_std = sigma * math.sqrt((float(law.stats(moments="k")) + 2.0) / (4.0 * (x.size - 1)))
    if abs(x.mean() - mean) > SIGMAS * sigma / math.sqrt(x.size) or abs(x.std(ddof=1) - sigma) > SIGMAS * se_std:
        return "the moments differ from the truncated normal's"
    if _stats().kstest(x, law.cdf).pvalue < KS_ALPHA:
        return "the values are not distributed like the truncated normal"
    return None
