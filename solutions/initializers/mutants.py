"""Known mistakes in the initializers assignment (hidden): torch variants of the reference, and the
same mistake in NumPy (``submission``) for the project's tests.

The checks' target comes from ``reference.distribution(name, shape)``; each mutant replaces it for
its own initializer (and replaces the initializer itself with a torch sampler of that wrong
distribution, so that the mutant module stays a coherent, wrong reference).
"""

import math

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, resolve_device

reference = load_sibling(__file__, "reference")

KERAS_TRUNCATION = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]: Keras divides by it


def _normal(std, shape):
    return {"family": "normal", "mean": 0.0, "std": std, "shape": reference.fans(shape)}


def _uniform(bound, shape):
    return {"family": "uniform", "low": -bound, "high": bound, "shape": reference.fans(shape)}


def _truncated(std, shape):
    """Keras' truncated normal: N(0, (std / 0.8796)^2) redrawn beyond 2 of its own stds; its std is ``std``."""
    return dict(_normal(std, shape), truncate=2.0, scale=std / KERAS_TRUNCATION)


def _draw(spec, generator, device, dtype):
    """A torch sample of a spec (normal, uniform or truncated normal)."""
    shape, device = spec["shape"], resolve_device(device)
    if spec.get("truncate") is not None:
        scale, limit = spec["scale"], spec["truncate"] * spec["scale"]
        weights = torch.empty(shape, device=device, dtype=dtype)
        return torch.nn.init.trunc_normal_(weights, 0.0, scale, -limit, limit, generator=generator)
    if spec["family"] == "normal":
        return spec["mean"] + spec["std"] * torch.randn(shape, generator=generator, device=device, dtype=dtype)
    unit = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return spec["low"] + (spec["high"] - spec["low"]) * unit


def _wrong(name, wrong_spec):
    """Overrides making initializer ``name`` draw from ``wrong_spec(shape)``; the others stay right."""

    def distribution(which, shape):
        return wrong_spec(shape) if which == name else reference.distribution(which, shape)

    def initializer(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
        return _draw(wrong_spec(shape), generator, device, dtype)

    return {"distribution": distribution, name: initializer}



# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "initializers")
_fans = answer._fans


# initializers.he_normal.fan_out: He normal computed from fan_out (shape[1]) instead of fan_in (shape[0])
def he_normal__fan_out(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_in, fan_out))


# initializers.lecun_normal.variance_as_std: LeCun normal drawn with the variance 1/fan_in passed as the standard deviation
def lecun_normal__variance_as_std(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, 1.0 / fan_in, size=(fan_in, fan_out))


# initializers.he_uniform.lecun_variance: He uniform without the factor 2 for ReLU (the LeCun bound sqrt(3/fan_in))
def he_uniform__lecun_variance(shape, rng):
    fan_in, fan_out = _fans(shape)
    bound = np.sqrt(3.0 / fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


# initializers.lecun_uniform.drawn_normal: LeCun uniform drawn from a normal distribution (right variance, wrong family)
def lecun_uniform__drawn_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))


# initializers.lecun_uniform.fan_out: LeCun uniform computed from fan_out (shape[1]) instead of fan_in (shape[0])
def lecun_uniform__fan_out(shape, rng):
    fan_in, fan_out = _fans(shape)
    bound = np.sqrt(3.0 / fan_out)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


# initializers.xavier_uniform.bound_is_std: Xavier uniform with the bound sqrt(2/(fan_in + fan_out)) (the std, not sqrt(3) times it)
def xavier_uniform__bound_is_std(shape, rng):
    fan_in, fan_out = _fans(shape)
    bound = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


# initializers.xavier_normal.truncated: Xavier normal drawn from a truncated normal (Keras' glorot_normal)
def xavier_normal__truncated(shape, rng):
    fan_in, fan_out = _fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
    w = rng.normal(0.0, std, size=(fan_in, fan_out))
    bad = np.abs(w) > 2 * std
    while bad.any():
        w[bad] = rng.normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(w) > 2 * std
    return w


# initializers.xavier_normal.fan_in_only: Xavier normal with variance 1/fan_in (fan_in only: that is LeCun, not Xavier)
def xavier_normal__fan_in_only(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))


MUTANTS = [
    Mutant(
        id="initializers.he_normal.fan_out", exercise="initializers.he_normal",
        title="He normal computed from fan_out (shape[1]) instead of fan_in (shape[0])",
        hint=("The weights are (fan_in, fan_out) and used as X @ W, so fan_in = shape[0], the number of rows "
              "(torch's (out, in) layout is the other way round). He: std = sqrt(2 / fan_in)."),
        overrides=_wrong("he_normal", lambda shape: _normal(math.sqrt(2.0 / shape[1]), shape)),
        submission=(he_normal__fan_out),
    ),
    Mutant(
        id="initializers.lecun_normal.variance_as_std", exercise="initializers.lecun_normal",
        title="LeCun normal drawn with the variance 1/fan_in passed as the standard deviation",
        hint="rng.normal(loc, scale) takes the standard deviation: scale = sqrt(1 / fan_in), not 1 / fan_in.",
        overrides=_wrong("lecun_normal", lambda shape: _normal(1.0 / shape[0], shape)),
        submission=(lecun_normal__variance_as_std),
    ),
    Mutant(
        id="initializers.he_uniform.lecun_variance", exercise="initializers.he_uniform",
        title="He uniform without the factor 2 for ReLU (the LeCun bound sqrt(3/fan_in))",
        hint="He's variance is 2/fan_in (ReLU zeroes half the signal), so a = sqrt(3 * 2/fan_in) = sqrt(6/fan_in).",
        overrides=_wrong("he_uniform", lambda shape: _uniform(math.sqrt(3.0 / shape[0]), shape)),
        submission=(he_uniform__lecun_variance),
    ),
    Mutant(
        id="initializers.lecun_uniform.drawn_normal", exercise="initializers.lecun_uniform",
        title="LeCun uniform drawn from a normal distribution (right variance, wrong family)",
        hint="The *_uniform initializers draw from U(-a, a) with rng.uniform(-a, a, size=shape), a = sqrt(3 * variance).",
        overrides=_wrong("lecun_uniform", lambda shape: _normal(math.sqrt(1.0 / shape[0]), shape)),
        submission=(lecun_uniform__drawn_normal),
    ),
    Mutant(
        id="initializers.lecun_uniform.fan_out", exercise="initializers.lecun_uniform",
        title="LeCun uniform computed from fan_out (shape[1]) instead of fan_in (shape[0])",
        hint="fan_in = shape[0], the number of rows of a (fan_in, fan_out) weight: a = sqrt(3 / shape[0]).",
        overrides=_wrong("lecun_uniform", lambda shape: _uniform(math.sqrt(3.0 / shape[1]), shape)),
        submission=(lecun_uniform__fan_out),
    ),
    Mutant(
        id="initializers.xavier_uniform.bound_is_std", exercise="initializers.xavier_uniform",
        title="Xavier uniform with the bound sqrt(2/(fan_in + fan_out)) (the std, not sqrt(3) times it)",
        hint=("U(-a, a) has variance a^2/3, so the bound that gives variance 2/(fan_in + fan_out) is "
              "a = sqrt(6/(fan_in + fan_out))."),
        overrides=_wrong("xavier_uniform", lambda shape: _uniform(math.sqrt(2.0 / sum(shape)), shape)),
        submission=(xavier_uniform__bound_is_std),
    ),
    Mutant(
        id="initializers.xavier_normal.truncated", exercise="initializers.xavier_normal",
        title="Xavier normal drawn from a truncated normal (Keras' glorot_normal)",
        hint=("This course follows torch.nn.init: the normal initializers are NOT truncated. Draw "
              "rng.normal(0, sqrt(2/(fan_in + fan_out)), size=shape) and keep every value."),
        overrides=_wrong("xavier_normal", lambda shape: _truncated(math.sqrt(2.0 / sum(shape)), shape)),
        submission=(xavier_normal__truncated),
    ),
    Mutant(
        id="initializers.xavier_normal.fan_in_only", exercise="initializers.xavier_normal",
        title="Xavier normal with variance 1/fan_in (fan_in only: that is LeCun, not Xavier)",
        hint="Xavier averages both fans: variance 2/(fan_in + fan_out), std = sqrt(2/(fan_in + fan_out)).",
        overrides=_wrong("xavier_normal", lambda shape: _normal(math.sqrt(1.0 / shape[0]), shape)),
        submission=(xavier_normal__fan_in_only),
    ),
]
