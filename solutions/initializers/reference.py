"""Hidden torch reference for the initializers assignment: the grading oracle.

Same contract as the student's functions, in torch: ``shape`` is (fan_in, fan_out), the weight
is used as ``X @ W``. Randomness comes only from ``generator`` (a torch.Generator on the same
device as ``device``; None means torch's default generator for that device). Built from
torch.randn / torch.rand, not torch.nn.init, so that torch.nn.init can serve as an independent
check. Outputs are tensors on ``device``, float64 unless told otherwise.
"""

import math

import torch

from autograder.tensors import DEFAULT_DTYPE, resolve_device

# Each rule's variance as a function of (fan_in, fan_out).
VARIANCES = {
    "lecun": lambda fan_in, fan_out: 1.0 / fan_in,
    "xavier": lambda fan_in, fan_out: 2.0 / (fan_in + fan_out),
    "he": lambda fan_in, fan_out: 2.0 / fan_in,
}


def fans(shape):
    """(fan_in, fan_out) -> two positive ints; fan_in is the number of rows."""
    if len(shape) != 2:
        message = f"expected a weight shape (fan_in, fan_out), got {shape!r}"
        raise ValueError(message)
    fan_in, fan_out = (int(n) for n in shape)
    if fan_in < 1 or fan_out < 1:
        message = f"fan_in and fan_out must be positive, got {shape!r}"
        raise ValueError(message)
    return fan_in, fan_out


def variance(name, shape):
    """Rule name ('lecun', 'xavier', 'he', or a full name like 'he_uniform') and shape -> variance."""
    return VARIANCES[name.split("_")[0]](*fans(shape))


def uniform_bound(name, shape):
    """The bound a of U(-a, a) with the rule's variance: a = sqrt(3 * variance)."""
    return math.sqrt(3.0 * variance(name, shape))


def _normal(name, shape, generator, device, dtype):
    """(fan_in, fan_out) -> N(0, variance) tensor of that shape."""
    std = math.sqrt(variance(name, shape))
    noise = torch.randn(fans(shape), generator=generator, device=resolve_device(device), dtype=dtype)
    return noise * std


def _uniform(name, shape, generator, device, dtype):
    """(fan_in, fan_out) -> U(-a, a) tensor of that shape; torch.rand is in [0, 1), so |w| <= a."""
    bound = uniform_bound(name, shape)
    unit = torch.rand(fans(shape), generator=generator, device=resolve_device(device), dtype=dtype)
    return (2.0 * unit - 1.0) * bound


def lecun_normal(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> N(0, 1/fan_in) tensor (fan_in, fan_out)."""
    return _normal("lecun", shape, generator, device, dtype)


def lecun_uniform(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> U(-a, a), a = sqrt(3/fan_in), tensor (fan_in, fan_out)."""
    return _uniform("lecun", shape, generator, device, dtype)


def xavier_normal(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> N(0, 2/(fan_in+fan_out)) tensor (fan_in, fan_out)."""
    return _normal("xavier", shape, generator, device, dtype)


def xavier_uniform(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> U(-a, a), a = sqrt(6/(fan_in+fan_out)), tensor (fan_in, fan_out)."""
    return _uniform("xavier", shape, generator, device, dtype)


def he_normal(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> N(0, 2/fan_in) tensor (fan_in, fan_out)."""
    return _normal("he", shape, generator, device, dtype)


def he_uniform(shape, generator=None, device=None, dtype=DEFAULT_DTYPE):
    """(fan_in, fan_out) -> U(-a, a), a = sqrt(6/fan_in), tensor (fan_in, fan_out)."""
    return _uniform("he", shape, generator, device, dtype)


def distribution(name, shape):
    """The distribution an initializer samples, as a spec for the grader's statistical test.

    ``name`` is a full initializer name ('he_uniform', ...). Returns
    {"family": "normal", "mean": 0.0, "std": sqrt(variance), "shape": (fan_in, fan_out)} or
    {"family": "uniform", "low": -a, "high": a, "shape": (fan_in, fan_out)} with a = uniform_bound.
    Built on ``variance`` and ``uniform_bound``, so a replaced rule changes the spec too.
    """
    family = name.split("_")[1]
    if family == "normal":
        return {"family": "normal", "mean": 0.0, "std": math.sqrt(variance(name, shape)), "shape": fans(shape)}
    if family == "uniform":
        bound = uniform_bound(name, shape)
        return {"family": "uniform", "low": -bound, "high": bound, "shape": fans(shape)}
    message = f"unknown initializer family in {name!r}"
    raise ValueError(message)
