"""Public checks of the initializers assignment: released to students with their expected values frozen.

Random weights cannot be compared value by value. Each check draws one tall (512, 128) matrix,
65,536 weights with fan_in != fan_out, from ``np.random.default_rng(seed)`` and tests its
distribution: the shape, the mean and standard deviation within 6 standard errors, a
Kolmogorov-Smirnov test against the exact CDF and, for the uniforms, the bounds -a and a.
"""

from autograder.judge.checks import StatisticalCheck

SHAPE = (512, 128)  # (fan_in, fan_out): fan_in is the number of rows
TARGETS = {
    "lecun_normal": "N(0, 1/fan_in)",
    "lecun_uniform": "U(-a, a), a = sqrt(3/fan_in)",
    "xavier_normal": "N(0, 2/(fan_in + fan_out))",
    "xavier_uniform": "U(-a, a), a = sqrt(6/(fan_in + fan_out))",
    "he_normal": "N(0, 2/fan_in)",
    "he_uniform": "U(-a, a), a = sqrt(6/fan_in)",
}


def _check(name: str, seed: int) -> StatisticalCheck:
    return StatisticalCheck(
        name=f"{name} of a (512, 128) layer draws from {TARGETS[name]}", exercise=f"initializers.{name}",
        points=6,
        inputs=lambda rng: {"shape": SHAPE, "seed": seed},
        sample=lambda ns, shape, seed: getattr(ns, name)(shape, ns.rng(seed)),
        expect=lambda ns, shape, seed: ns.distribution(name, shape),
    )


CHECKS = [_check(name, seed) for seed, name in enumerate(TARGETS, start=1)]
