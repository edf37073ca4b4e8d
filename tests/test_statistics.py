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
