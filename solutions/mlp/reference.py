"""Hidden torch reference for the mlp assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument),
float64 unless told otherwise. Outputs are tensors on that device. The math is written out with
basic tensor ops (no torch.sigmoid, no autograd, no torch.nn): those are the tests' independent
oracle. The ``_``-prefixed helpers work on tensors already converted, so that tests can run
autograd through the very same forward pass.
"""

import torch

from autograder.tensors import DEFAULT_DTYPE, as_tensor

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _sigmoid(z):
    """Tensor (any shape) -> tensor: exp only of -|z| <= 0, so nothing overflows."""
    e = torch.exp(-torch.abs(z))
    positive_branch = 1 / (1 + e)
    return torch.where(z >= 0, positive_branch, e * positive_branch)


def _forward(X, params):
    """X (N, D) tensor, params dict of tensors -> (Y (N, K), cache (X, A1, Y))."""
    A1 = _sigmoid(X @ params["W1"] + params["b1"])
    Y = _sigmoid(A1 @ params["W2"] + params["b2"])
    return Y, (X, A1, Y)


def _loss(Y, T):
    """Y, T (N, K) tensors -> 0-d tensor 0.5 * sum((Y - T)^2) / N."""
    return 0.5 * ((Y - T) ** 2).sum() / Y.shape[0]


def _backward(params, cache, T):
    """Analytic gradients of _loss(_forward(X, params)[0], T), same keys and shapes as params."""
    X, A1, Y = cache
    dZ2 = (Y - T) / Y.shape[0] * Y * (1 - Y)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(dim=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(dim=0)}


def _params(params, device, dtype):
    return {name: as_tensor(params[name], device, dtype) for name in PARAM_NAMES}


def sigmoid(z, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> tensor of the same shape, values in [0, 1]."""
    return _sigmoid(as_tensor(z, device, dtype))


def sigmoid_backward(a, device=None, dtype=DEFAULT_DTYPE):
    """a = sigmoid(z) (any shape) -> a * (1 - a), same shape."""
    a = as_tensor(a, device, dtype)
    return a * (1 - a)


def forward(X, params, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D), params W1 (D, H), b1 (H,), W2 (H, K), b2 (K,) -> (Y (N, K), cache)."""
    return _forward(as_tensor(X, device, dtype), _params(params, device, dtype))


def loss(Y, T, device=None, dtype=DEFAULT_DTYPE):
    """Y, T (N, K) -> 0-d tensor 0.5 * sum((Y - T)^2) / N."""
    return _loss(as_tensor(Y, device, dtype), as_tensor(T, device, dtype))


def backward(params, cache, T, device=None, dtype=DEFAULT_DTYPE):
    """params, cache (X, A1, Y) from forward, T (N, K) -> dict of gradients shaped like params."""
    cache = tuple(as_tensor(c, device, dtype) for c in cache)
    return _backward(_params(params, device, dtype), cache, as_tensor(T, device, dtype))


def train(X, T, params, epochs, lr, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D), T (N, K), params -> (new params dict, losses (epochs,)): full-batch descent."""
    X, T = as_tensor(X, device, dtype), as_tensor(T, device, dtype)
    params = _params(params, device, dtype)
    losses = torch.empty(epochs, dtype=dtype, device=X.device)
    for epoch in range(epochs):
        Y, cache = _forward(X, params)
        losses[epoch] = _loss(Y, T)
        grads = _backward(params, cache, T)
        params = {name: params[name] - lr * grads[name] for name in PARAM_NAMES}
    return params, losses
