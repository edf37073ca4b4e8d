"""Hidden checks of the initializers assignment: a wide layer of a seeded shape, and the rng contract.

Each initializer draws a WIDE matrix (fan_in 128-160, fan_out 520-640, at least 66,560 weights; the
public checks use a tall one) from a seeded generator, tested as a sample of the target
distribution (which may also be a truncated normal: Keras' mistake is then named, not only caught).
"""

from autograder.judge.session import Rng
from autograder.judge.checks import BehaviourCheck, StatisticalCheck
from autograder.judge.families import uses_only_given_rng

NAMES = ("lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform")
POINTS = {"lecun": 6, "xavier": 7, "he": 7}  # with the public 6, the rng 3 and the contract 1: 16 or 17 per function


def _wide_layer(rng):
    return {"shape": (int(rng.integers(128, 161)), int(rng.integers(520, 641))), "seed": int(rng.integers(2**31))}


def _distribution_check(name: str) -> StatisticalCheck:
    rule, family = name.split("_")
    return StatisticalCheck(
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


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
def _small_layer(rng):
    return {"shape": (int(rng.integers(3, 8)), int(rng.integers(9, 15))), "rng": Rng(int(rng.integers(2**31)))}


CONTRACT_INPUTS = {name: _small_layer for name in NAMES}
