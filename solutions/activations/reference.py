"""Hidden torch reference for the activations assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument),
float64 unless told otherwise. Outputs are tensors on that device. Written from basic tensor ops
(expm1, abs, copysign, where) so that the tests can hold it against torch.tanh,
torch.nn.functional and autograd as an independent oracle. At the kink z = 0 the derivatives
follow torch's autograd: relu'(0) = 0, leaky_relu'(0) = alpha.
"""

import torch

from autograder.tensors import DEFAULT_DTYPE, as_tensor


def tanh(z, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> same shape: sign(z) (1 - e^(-2|z|)) / (1 + e^(-2|z|)), never overflowing."""
    z = as_tensor(z, device, dtype)
    e = torch.expm1(-2 * torch.abs(z))
    return torch.copysign(-e / (2 + e), z)


def tanh_backward(dout, z, device=None, dtype=DEFAULT_DTYPE):
    """dout, z (same shape) -> same shape: dout * (1 - tanh(z)^2)."""
    a = tanh(z, device, dtype)
    return as_tensor(dout, device, dtype) * (1 - a * a)


def relu(z, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> same shape: z where z > 0, else 0."""
    z = as_tensor(z, device, dtype)
    return torch.where(z > 0, z, torch.zeros_like(z))


def relu_backward(dout, z, device=None, dtype=DEFAULT_DTYPE):
    """dout, z (same shape) -> same shape: dout where z > 0, else 0 (0 at z = 0)."""
    dout, z = as_tensor(dout, device, dtype), as_tensor(z, device, dtype)
    return torch.where(z > 0, dout, torch.zeros_like(dout))


def leaky_relu(z, alpha=0.01, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> same shape: z where z > 0, else alpha z."""
    z = as_tensor(z, device, dtype)
    return torch.where(z > 0, z, alpha * z)


def leaky_relu_backward(dout, z, alpha=0.01, device=None, dtype=DEFAULT_DTYPE):
    """dout, z (same shape) -> same shape: dout where z > 0, else alpha dout (alpha at z = 0)."""
    dout, z = as_tensor(dout, device, dtype), as_tensor(z, device, dtype)
    return torch.where(z > 0, dout, alpha * dout)
