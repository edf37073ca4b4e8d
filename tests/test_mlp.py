"""MLP: the model answer against the torch reference, and both against independent oracles.

The oracles are torch.sigmoid, torch.nn.functional (linear, mse_loss), autograd and
torch.optim.SGD; the reference implements the same math by hand, without any of them.
Discriminating inputs: non-square shapes (N=5, D=3, H=4, K=2), a batch of several samples,
non-zero unequal parameters and targets away from the outputs.
"""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.tensors import as_tensor
from support import F32, assert_close, assert_unchanged, strict_numerics, untouched

ASSIGNMENT = "mlp"  # the answer and reference fixtures (conftest) load it

PARAM_NAMES = ("W1", "b1", "W2", "b2")
N, D, H, K = 5, 3, 4, 2
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_T = np.array([[0], [1], [1], [0]], dtype=np.float64)
# A fixed start for XOR with 3 hidden units (uniform(-1, 1) draws, rounded). From it the net
# classifies XOR correctly after ~400 epochs at lr 2 (and for lr 1..3), so 2000 has a wide margin.
XOR_INIT = {
    "W1": [[0.27, -0.46, -0.92], [-0.97, 0.63, 0.83]],
    "b1": [0.21, 0.46, 0.09],
    "W2": [[0.87], [0.63], [-0.99]],
    "b2": [0.71],
}


# --- problems and oracles -------------------------------------------------------------------

def make_problem(seed, dtype=np.float64):
    """X (N, D), T (N, K) in (0, 1), params with non-zero, unequal entries of order 1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    T = rng.uniform(0.05, 0.95, size=(N, K))
    params = {
        "W1": rng.normal(size=(D, H)),
        "b1": rng.normal(scale=0.5, size=H),
        "W2": rng.normal(size=(H, K)),
        "b2": rng.normal(scale=0.5, size=K),
    }
    return X.astype(dtype), T.astype(dtype), {k: v.astype(dtype) for k, v in params.items()}


def param_tensors(params, requires_grad=False):
    return {name: as_tensor(params[name]).requires_grad_(requires_grad) for name in PARAM_NAMES}


def oracle_forward(X, P):
    """torch.nn.functional's dense layer (weights (out, in), hence the transpose) + torch.sigmoid."""
    A1 = torch.sigmoid(F.linear(X, P["W1"].T, P["b1"]))
    return torch.sigmoid(F.linear(A1, P["W2"].T, P["b2"]))


def oracle_loss(Y, T):
    """mse_loss averages over all N*K elements: 0.5 * sum / N = 0.5 * K * mse_loss."""
    return 0.5 * Y.shape[1] * F.mse_loss(Y, T)


def oracle_grads(X, T, params):
    """Autograd of the oracle's forward and loss."""
    P = param_tensors(params, requires_grad=True)
    oracle_loss(oracle_forward(as_tensor(X), P), as_tensor(T)).backward()
    return {name: P[name].grad for name in PARAM_NAMES}


def reference_autograd(reference, X, T, params):
    """Autograd through the reference's own forward pass and loss (not its analytic backward)."""
    P = param_tensors(params, requires_grad=True)
    Y, _ = reference._forward(as_tensor(X), P)
    reference._loss(Y, as_tensor(T)).backward()
    return {name: P[name].grad for name in PARAM_NAMES}


def rel_error(x, y):
    """CS231n's relative error, elementwise, then the worst entry."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def central_differences(answer, X, T, params, h=1e-6):
    """(L(p + h) - L(p - h)) / 2h for every entry of every parameter, with the answer's own forward."""
    grads = {}
    for name in PARAM_NAMES:
        grad = np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = params[name][index] + h
            plus = answer.loss(answer.forward(X, shifted)[0], T)
            shifted[name][index] = params[name][index] - h
            minus = answer.loss(answer.forward(X, shifted)[0], T)
            grad[index] = (plus - minus) / (2 * h)
        grads[name] = grad
    return grads


def assert_params_equal(actual, expected):
    assert set(actual) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def tolerance(dtype):
    return F32 if dtype == np.float32 else {}


def xor_accuracy(Y):
    return float(np.mean((np.asarray(Y) > 0.5) == (XOR_T > 0.5)))


# --- sigmoid --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_stable_at_extremes(answer, dtype):
    """No overflow warning at |z| = 1e4 (a warning on stderr zeroes a notebook cell), exact limits."""
    z = np.array([[-1e4, -800.0, -60.0], [0.0, 60.0, 1e4]], dtype=dtype)
    with strict_numerics():
        out = answer.sigmoid(z)
    assert out.shape == z.shape and out.dtype in (np.float32, np.float64)
    assert out[0, 0] == 0.0 and out[1, 2] == 1.0 and out[1, 0] == 0.5
    assert np.all((out >= 0) & (out <= 1))
    assert_close(out, torch.sigmoid(as_tensor(z)), **tolerance(dtype), what="sigmoid extremes")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_matches_torch(answer, reference, device, dtype):
    z = (np.random.default_rng(1).normal(scale=8.0, size=(7, 4))).astype(dtype)
    z[0, :] = [-1e4, -745.0, 745.0, 1e4]
    (before,) = untouched(z)
    expected = torch.sigmoid(as_tensor(z))
    assert_close(answer.sigmoid(z), expected, **tolerance(dtype), what="answer sigmoid")
    ref = reference.sigmoid(z, device=device)
    assert str(ref.device).startswith(device)
    assert_close(ref, expected, what="reference sigmoid")
    np.testing.assert_array_equal(z, before)
    assert float(answer.sigmoid(0.0)) == 0.5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_backward_matches_autograd(answer, reference, device, dtype):
    """sigmoid_backward(sigmoid(z)) is d sigmoid / dz, as autograd computes it."""
    z = torch.tensor(np.random.default_rng(2).normal(scale=3.0, size=(3, 5)), requires_grad=True)
    torch.sigmoid(z).sum().backward()
    a = torch.sigmoid(z).detach().numpy().astype(dtype)
    out = answer.sigmoid_backward(a)
    assert out.shape == a.shape
    assert_close(out, z.grad, **tolerance(dtype), what="answer sigmoid_backward")
    assert_close(reference.sigmoid_backward(a, device=device), z.grad, **tolerance(dtype),
                 what="reference sigmoid_backward")


# --- forward and loss -----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_matches_reference_and_oracle(answer, reference, device, seed, dtype):
    X, _, params = make_problem(seed, dtype)
    before = untouched(X, *params.values())
    Y, _ = answer.forward(X, params)
    assert isinstance(Y, np.ndarray) and Y.shape == (N, K)
    expected = oracle_forward(as_tensor(X), param_tensors(params))
    assert_close(Y, expected, **tolerance(dtype), what="answer forward")
    ref, _ = reference.forward(X, params, device=device)
    assert str(ref.device).startswith(device)
    assert_close(ref, expected, what="reference forward")
    assert_unchanged(before, (X, *params.values()))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_matches_mse_loss(answer, reference, device, seed, dtype):
    """Averaged over the batch N only (not over N*K elements), with the factor 1/2."""
    rng = np.random.default_rng(seed)
    Y, T = rng.uniform(size=(N, K)).astype(dtype), rng.uniform(size=(N, K)).astype(dtype)
    before = untouched(Y, T)
    expected = oracle_loss(as_tensor(Y), as_tensor(T))
    value = answer.loss(Y, T)
    assert np.ndim(value) == 0
    assert_close(np.float64(value), expected, **tolerance(dtype), what="answer loss")
    assert_close(reference.loss(Y, T, device=device), expected, what="reference loss")
    assert_unchanged(before, (Y, T))


def test_loss_rejects_shapes_that_would_broadcast(answer):
    """(N, 1) outputs against (N,) targets would broadcast to an (N, N) matrix of differences."""
    with pytest.raises(ValueError):
        answer.loss(np.zeros((4, 1)), np.zeros(4))


# --- backward -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_autograd(answer, reference, device, seed):
    X, T, params = make_problem(seed)
    before = untouched(X, T, *params.values())
    expected = oracle_grads(X, T, params)
    through_reference = reference_autograd(reference, X, T, params)
    _, cache = answer.forward(X, params)
    grads = answer.backward(params, cache, T)
    assert set(grads) == set(PARAM_NAMES)
    _, ref_cache = reference.forward(X, params, device=device)
    ref_grads = reference.backward(params, ref_cache, T, device=device)
    for name in PARAM_NAMES:
        assert grads[name].shape == params[name].shape, name
        assert_close(grads[name], expected[name], what=f"answer d{name} vs autograd")
        assert_close(grads[name], through_reference[name], what=f"answer d{name} vs reference autograd")
        assert_close(ref_grads[name], expected[name], what=f"reference d{name} vs autograd")
    assert_unchanged(before, (X, T, *params.values()))


@pytest.mark.parametrize("seed", [10, 12, 15])
def test_backward_matches_central_differences(answer, seed):
    """Gradient check in float64 with h = 1e-6: correct code reaches ~5e-9 here, bugs >= 1e-1.

    The error is relative per entry, and central differences carry ~1e-11 of rounding, so an
    entry near 1e-5 (cancellation across samples) would read ~1e-6 even for correct code: these
    seeds have every gradient entry above 1e-4, which the test checks first.
    """
    X, T, params = make_problem(seed)
    _, cache = answer.forward(X, params)
    grads = answer.backward(params, cache, T)
    numeric = central_differences(answer, X, T, params)
    for name in PARAM_NAMES:
        assert np.min(np.abs(numeric[name])) > 1e-4, f"{name}: choose a seed without tiny gradients"
        assert rel_error(grads[name], numeric[name]) < 1e-7, name


def test_backward_accepts_float32(answer):
    X, T, params = make_problem(3, np.float32)
    X64, T64, params64 = make_problem(3)
    expected = oracle_grads(X64, T64, params64)
    _, cache = answer.forward(X, params)
    grads = answer.backward(params, cache, T)
    for name in PARAM_NAMES:
        assert grads[name].shape == params[name].shape, name
        assert_close(grads[name], expected[name], **F32, what=f"d{name} (float32)")


# --- train ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_matches_reference_trajectory(answer, reference, device, dtype):
    X, T, params = make_problem(4, dtype)
    before = {name: value.copy() for name, value in params.items()}
    epochs, lr = 20, 0.5
    trained, losses = answer.train(X, T, params, epochs, lr)
    ref_params, ref_losses = reference.train(X, T, params, epochs, lr, device=device)
    exact = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else F32
    assert np.shape(losses) == (epochs,)
    assert_close(np.asarray(losses), ref_losses, **exact, what="losses")
    assert set(trained) == set(PARAM_NAMES)
    for name in PARAM_NAMES:
        assert trained[name].shape == params[name].shape, name
        assert_close(trained[name], ref_params[name], **exact, what=f"trained {name}")
    at_init = answer.loss(answer.forward(X, params)[0], T)
    assert_close(np.float64(losses[0]), np.float64(at_init), **exact, what="losses[0] is the loss at init")
    assert losses[-1] < losses[0]
    assert_params_equal(params, before)  # the caller's dict and arrays are left alone


def test_train_matches_torch_optim_sgd(answer):
    """Independent oracle: torch.optim.SGD on autograd gradients of the oracle's loss."""
    X, T, params = make_problem(5)
    epochs, lr = 20, 0.5
    P = param_tensors(params, requires_grad=True)
    optimizer = torch.optim.SGD(P.values(), lr=lr)
    expected_losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        value = oracle_loss(oracle_forward(as_tensor(X), P), as_tensor(T))
        expected_losses.append(value.item())
        value.backward()
        optimizer.step()
    trained, losses = answer.train(X, T, params, epochs, lr)
    assert_close(np.asarray(losses), expected_losses, rtol=1e-9, atol=1e-12, what="losses")
    for name in PARAM_NAMES:
        assert_close(trained[name], P[name], rtol=1e-9, atol=1e-12, what=f"trained {name}")


def test_train_returns_new_arrays(answer):
    X, T, params = make_problem(6)
    before = {name: value.copy() for name, value in params.items()}
    for epochs in (0, 1):
        trained, losses = answer.train(X, T, params, epochs, 0.5)
        assert len(losses) == epochs
        assert trained is not params
        for name in PARAM_NAMES:
            assert not np.shares_memory(trained[name], params[name]), name
        if epochs == 0:
            assert_params_equal(trained, before)
    assert_params_equal(params, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_learns_xor_with_three_hidden_units(answer, reference, device, dtype):
    """A perceptron cannot learn XOR; a 2-3-1 sigmoid net does, from this fixed start."""
    X, T = XOR_X.astype(dtype), XOR_T.astype(dtype)
    init = {name: np.array(value, dtype=dtype) for name, value in XOR_INIT.items()}
    trained, losses = answer.train(X, T, init, 2000, 2.0)
    Y, _ = answer.forward(X, trained)
    assert xor_accuracy(Y) == 1.0, Y
    assert np.max(np.abs(Y - XOR_T)) < 0.2 and losses[-1] < losses[0] / 10
    ref_params, _ = reference.train(X, T, init, 2000, 2.0, device=device)
    ref_Y, _ = reference.forward(X, ref_params, device=device)
    assert xor_accuracy(ref_Y.cpu().numpy()) == 1.0


def test_constant_init_keeps_hidden_units_identical(answer):
    """Symmetry: equal initial weights give equal gradients, so the hidden units never differ."""
    init = {name: np.full_like(np.array(value), 0.5) for name, value in XOR_INIT.items()}
    trained, _ = answer.train(XOR_X, XOR_T, init, 200, 2.0)
    W1 = trained["W1"]
    assert not np.allclose(W1, 0.5)  # it did train
    np.testing.assert_allclose(W1, np.repeat(W1[:, :1], W1.shape[1], axis=1), rtol=1e-12)
    np.testing.assert_allclose(trained["W2"], trained["W2"][0, 0], rtol=1e-12)
