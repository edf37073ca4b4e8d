"""Hidden checks of the initializers assignment: a wide layer of a seeded shape, and the rng contract.

Each initializer draws a WIDE matrix (fan_in 128-160, fan_out 520-640, at least 66,560 weights; the
public checks use a tall one) from a seeded generator, tested as a sample of the target
distribution. The distribution test also recognises a truncated normal (Keras' ``*_normal``
initializers), so that this mistake is named and not only caught.
"""

import math

import numpy as np
from scipy import stats

from autograder.judge.checks import HIDDEN, BehaviourCheck, StatisticalCheck, uses_only_given_rng
from autograder.judge.compare import Rejected, numeric_array
from autograder.judge.statistics import KS_ALPHA, SIGMAS, distribution_problem

NAMES = ("lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform")
POINTS = {"lecun": 7, "xavier": 8, "he": 8}  # with the public 6 and the rng 3: 16 or 17 per function


def truncated_normal_problem(sample, spec: dict) -> str | None:
    """Why ``sample`` is not N(mean, scale^2) truncated to mean +- truncate * scale, or None.

    The spec of a truncated normal is a normal spec (mean, std of the truncated law, shape) plus
    "truncate" (in units of "scale") and "scale" (the std before truncation).
    """
    try:
        values, _ = numeric_array(sample, "the sample")
    except Rejected as rejection:
        return str(rejection)
    if values.shape != tuple(spec["shape"]) or not np.isfinite(values).all():
        return "the sample has the wrong shape or non-finite values"
    x = values.ravel()
    mean, scale, limit = float(spec["mean"]), float(spec["scale"]), float(spec["truncate"])
    law = stats.truncnorm(-limit, limit, loc=mean, scale=scale)
    if np.abs(x - mean).max() > limit * scale * (1 + 1e-6):
        return "values fall outside the truncation bounds"
    sigma = float(law.std())
    se_std = sigma * math.sqrt((float(law.stats(moments="k")) + 2.0) / (4.0 * (x.size - 1)))
    if abs(x.mean() - mean) > SIGMAS * sigma / math.sqrt(x.size) or abs(x.std(ddof=1) - sigma) > SIGMAS * se_std:
        return "the moments differ from the truncated normal's"
    if stats.kstest(x, law.cdf).pvalue < KS_ALPHA:
        return "the values are not distributed like the truncated normal"
    return None


class InitializerCheck(StatisticalCheck):
    """A distribution check whose specs may also describe a truncated normal (see above)."""

    def _problem(self, received, spec, inputs):
        if spec.get("truncate") is not None:
            return truncated_normal_problem(received, spec)
        return distribution_problem(received, spec)


def _wide_layer(rng):
    return {"shape": (int(rng.integers(128, 161)), int(rng.integers(520, 641))), "seed": int(rng.integers(2**31))}


def _distribution_check(name: str) -> InitializerCheck:
    rule, family = name.split("_")
    return InitializerCheck(
        name=f"{name} of a wide layer", exercise=f"initializers.{name}", points=POINTS[rule],
        description=(f"{name} on a seeded (fan_in, fan_out) shape with fan_in < fan_out and at least 65,536 "
                     f"weights: shape, mean, standard deviation{', bounds' if family == 'uniform' else ''} and "
                     "a Kolmogorov-Smirnov test against the exact (untruncated) target distribution"),
        inputs=_wide_layer,
        sample=lambda ns, shape, seed: getattr(ns, name)(shape, ns.rng(seed)),
        expect=lambda ns, shape, seed: ns.distribution(name, shape),
    )


def _rng_check(name: str) -> BehaviourCheck:
    return BehaviourCheck(
        name=f"{name} draws only from the rng it is given", exercise=f"initializers.{name}", points=3,
        description=(f"{name}((7, 3), rng): the same seed gives the same weights whatever NumPy's global "
                     "state, and another seed gives other weights"),
        probe=uses_only_given_rng(lambda rng: {"shape": (7, 3)}, lambda ns, rng, shape: getattr(ns, name)(shape, rng)),
    )


CHECKS = [_distribution_check(name) for name in NAMES] + [_rng_check(name) for name in NAMES]
