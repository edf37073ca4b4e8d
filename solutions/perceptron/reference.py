"""Hidden torch reference for the perceptron assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument),
float64 unless told otherwise. Outputs are tensors on that device.
"""

import torch

from autograder.tensors import DEFAULT_DTYPE, as_tensor


def step(z, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> int64 tensor of the same shape: 1 where z > 0, else 0."""
    return (as_tensor(z, device, dtype) > 0).to(torch.int64)


def perceptron_fit(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D), y (N,) -> (w (D,), b float): online updates in sample order from zero init."""
    X, y = as_tensor(X, device, dtype), as_tensor(y, device, dtype)
    w = torch.zeros(X.shape[1], dtype=dtype, device=X.device)
    b = torch.zeros((), dtype=dtype, device=X.device)
    for _ in range(epochs):
        for i in range(X.shape[0]):
            err = y[i] - (torch.dot(X[i], w) + b > 0).to(dtype)
            w = w + lr * err * X[i]
            b = b + lr * err
    return w, float(b)


def perceptron_predict(X, w, b, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D), w (D,), b -> int64 tensor (N,)."""
    X, w = as_tensor(X, device, dtype), as_tensor(w, device, dtype)
    return ((X @ w + float(b)) > 0).to(torch.int64)
