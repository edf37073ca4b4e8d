"""Activations: the model answer against the torch reference, and both against torch.

The oracle is torch.tanh, F.relu and F.leaky_relu for the forward pass and autograd for the
backward pass. Gradients are compared on random inputs kept away from the kink at 0, and
separately at exactly 0 (and -0.0), where torch's autograd sets the convention: relu'(0) = 0,
leaky_relu'(0) = alpha.
"""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from support import F32, assert_close, assert_unchanged, strict_numerics, t64, untouched

ASSIGNMENT = "activations"  # the answer and reference fixtures (conftest) load it
SHAPES = [(7, 5), (2, 3, 4), (6,)]
ALPHAS = [None, 0.2]  # None: the default alpha (0.01) is left to the function


def away_from_kink(seed, shape, low=0.05, high=4.0):
    """Random values with |z| in [low, high] and both signs: no value sits on ReLU's kink."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def upstream(seed, shape):
    """A random (not all-ones) upstream gradient, so a backward that ignores dout fails."""
    return np.random.default_rng(seed + 500).normal(size=shape)


def with_alpha(alpha):
    return {} if alpha is None else {"alpha": alpha}


def oracles(alpha):
    """name -> the torch forward function it must match."""
    slope = 0.01 if alpha is None else alpha
    return {
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=slope),
    }


def kwargs_for(name, alpha):
    return with_alpha(alpha) if name == "leaky_relu" else {}


def cases(alphas=ALPHAS):
    """(name, alpha): every activation once, Leaky ReLU with the default and a larger alpha."""
    return [("tanh", None), ("relu", None)] + [("leaky_relu", a) for a in alphas]


def autograd_backward(oracle, z, dout):
    """dL/dz of L = sum(dout * f(z)), by autograd: the oracle for every *_backward."""
    leaf = t64(z).requires_grad_(True)
    oracle(leaf).backward(t64(dout))
    return leaf.grad


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, alpha", cases())
def test_forward_matches_torch(answer, reference, device, seed, shape, name, alpha):
    z = np.random.default_rng(seed).normal(scale=3.0, size=shape)
    before = untouched(z)
    kwargs = kwargs_for(name, alpha)
    ours = getattr(answer, name)(z, **kwargs)
    ref = getattr(reference, name)(z, device=device, **kwargs)
    oracle = oracles(alpha)[name](t64(z))
    assert str(ref.device).startswith(device)
    assert ours.dtype == np.float64
    assert_close(ref, oracle, what=f"{name}: reference vs torch")
    assert_close(ours, oracle, what=f"{name}: answer vs torch")
    np.testing.assert_array_equal(before[0], z)


def test_leaky_relu_default_alpha_is_0_01(answer, reference):
    z = np.array([[-2.0, 3.0, -0.5], [4.0, -1.0, 0.0]])
    expected = np.array([[-0.02, 3.0, -0.005], [4.0, -0.01, 0.0]])
    assert_close(answer.leaky_relu(z), expected, what="leaky_relu default alpha")
    assert_close(reference.leaky_relu(z), expected, what="reference leaky_relu default alpha")
    assert_close(answer.leaky_relu_backward(np.ones_like(z), z)[0], [0.01, 1.0, 0.01], what="backward")


def test_tanh_is_odd_and_bounded(answer):
    """Zero-centred: tanh(-z) == -tanh(z), values within [-1, 1]."""
    z = np.random.default_rng(3).normal(scale=5.0, size=(6, 4))
    out = answer.tanh(z)
    assert_close(answer.tanh(-z), -out, rtol=0, atol=0, what="tanh odd")
    assert np.all(np.abs(out) <= 1.0)


def test_tanh_is_accurate_near_zero(answer, reference, device):
    """Tiny z: tanh(z) ~ z to full relative precision (a cancelling 1 - e^(-2|z|) would lose it)."""
    z = np.array([[1e-12, -3e-9, 2e-6], [-1e-300, 5e-5, 0.0]])
    for out in (answer.tanh(z), reference.tanh(z, device=device)):
        assert_close(out, torch.tanh(t64(z)), rtol=1e-12, atol=0, what="tanh near 0")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_saturates_without_warnings(answer, reference, device, dtype):
    z = np.array([[1000.0, -1000.0, 30.0], [-30.0, 700.0, -710.0]], dtype=dtype)
    dout = np.array([[2.0, -3.0, 1.0], [0.5, 1.0, -1.0]], dtype=dtype)
    with strict_numerics():
        out = answer.tanh(z)
        grad = answer.tanh_backward(dout, z)
    assert out.dtype == dtype and grad.dtype == dtype
    np.testing.assert_array_equal(out, np.sign(z))
    np.testing.assert_array_equal(grad, np.zeros_like(z))  # fully saturated: the gradient vanishes
    assert_close(reference.tanh(z, device=device), np.sign(z).astype(np.float64), rtol=0, atol=0, what="ref")
    assert_close(reference.tanh_backward(dout, z, device=device), np.zeros(z.shape), rtol=0, atol=0, what="ref")


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, alpha", cases())
def test_backward_matches_autograd(answer, reference, device, seed, shape, name, alpha):
    z, dout = away_from_kink(seed, shape), upstream(seed, shape)
    before = untouched(dout, z)
    kwargs = kwargs_for(name, alpha)
    ours = getattr(answer, f"{name}_backward")(dout, z, **kwargs)
    ref = getattr(reference, f"{name}_backward")(dout, z, device=device, **kwargs)
    expected = autograd_backward(oracles(alpha)[name], z, dout)
    assert str(ref.device).startswith(device)
    assert ours.dtype == np.float64
    assert_close(ref, expected, what=f"{name}_backward: reference vs autograd")
    assert_close(ours, expected, what=f"{name}_backward: answer vs autograd")
    assert_unchanged(before, (dout, z))


@pytest.mark.parametrize("name, alpha", cases(alphas=[None, 0.2, 0.3]))
def test_backward_at_the_kink_follows_torch(answer, reference, device, name, alpha):
    """At exactly z = 0 (and -0.0) torch's autograd takes the z <= 0 branch: relu' = 0, leaky' = alpha."""
    z = np.array([[0.0, -0.0, 1.5], [-2.0, 0.0, 0.25]])
    dout = np.array([[2.0, 3.0, -4.0], [5.0, -6.0, 7.0]])
    kwargs = kwargs_for(name, alpha)
    expected = autograd_backward(oracles(alpha)[name], z, dout)
    ours = getattr(answer, f"{name}_backward")(dout, z, **kwargs)
    ref = getattr(reference, f"{name}_backward")(dout, z, device=device, **kwargs)
    exact = {} if name == "tanh" else dict(rtol=0, atol=0)  # piecewise-linear: no rounding at all
    assert_close(ref, expected, what=f"{name}_backward at 0: reference vs autograd", **exact)
    assert_close(ours, expected, what=f"{name}_backward at 0: answer vs autograd", **exact)
    if name != "tanh":  # also spelled out, so the convention is visible in the test
        slope = 0.0 if name == "relu" else (0.01 if alpha is None else alpha)
        # the first two columns hold z = 0, -0.0, -2.0, 0: all take the slope of the z <= 0 side
        assert_close(ours[:, :2], slope * dout[:, :2], rtol=0, atol=0, what=f"{name}_backward at 0")


@pytest.mark.parametrize("name, alpha", cases())
def test_forward_at_zero(answer, name, alpha):
    z = np.array([0.0, -0.0])
    out = getattr(answer, name)(z, **kwargs_for(name, alpha))
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_backward_uses_the_pre_activation(answer):
    """The derivative is taken at z, not at a = f(z): tanh'(z) = 1 - tanh(z)^2, not 1 - z^2."""
    z = np.array([[0.5, -1.5], [2.0, -0.25]])
    dout = np.array([[1.0, 2.0], [-1.0, 0.5]])
    assert_close(answer.tanh_backward(dout, z), dout * (1 - np.tanh(z) ** 2), what="tanh_backward")


# ---------------------------------------------------------------- float32 and shapes


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, alpha", cases())
def test_float32_input_is_accepted(answer, reference, shape, name, alpha):
    z = away_from_kink(7, shape).astype(np.float32)
    dout = upstream(7, shape).astype(np.float32)
    before = untouched(z, dout)
    kwargs = kwargs_for(name, alpha)
    with strict_numerics():
        out = getattr(answer, name)(z, **kwargs)
        grad = getattr(answer, f"{name}_backward")(dout, z, **kwargs)
    assert out.dtype == np.float32 and grad.dtype == np.float32, (out.dtype, grad.dtype)
    # The reference sees the same (float32-rounded) values, computed in float64.
    assert_close(out, getattr(reference, name)(z, **kwargs), what=f"{name} float32", **F32)
    assert_close(grad, getattr(reference, f"{name}_backward")(dout, z, **kwargs), what=f"{name}_backward float32", **F32)
    assert_unchanged(before, (z, dout))


@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_numpy_scalar_alpha_keeps_float32(answer, alpha):
    """An alpha given as a NumPy float64 scalar must not upcast a float32 result."""
    z = away_from_kink(8, (4, 3)).astype(np.float32)
    assert answer.leaky_relu(z, alpha=np.float64(alpha)).dtype == np.float32
    assert answer.leaky_relu_backward(z, z, alpha=np.float64(alpha)).dtype == np.float32


@pytest.mark.parametrize("name, alpha", cases())
def test_output_shapes_are_exact(answer, name, alpha):
    """Elementwise means the exact input shape: no flattening, no (N,) -> (N, 1)."""
    kwargs = kwargs_for(name, alpha)
    for shape in [(), (1,), (3, 1), (1, 3), (2, 1, 3)]:
        z = np.full(shape, 0.75)
        assert np.shape(getattr(answer, name)(z, **kwargs)) == shape
        assert np.shape(getattr(answer, f"{name}_backward")(np.ones(shape), z, **kwargs)) == shape
