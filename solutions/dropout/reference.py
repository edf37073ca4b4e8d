"""Hidden torch reference for the dropout assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument),
float64 unless told otherwise. ``p`` is the DROP probability. The dropout draw is either given
(``uniform=``, e.g. the very array a NumPy ``rng.random(x.shape)`` produced, so that the answer
and the reference can be compared mask for mask) or made with ``torch.rand`` and ``generator``.
Built from basic tensor ops, not torch.nn.functional.dropout, which the tests use as an
independent check. Outputs are tensors on ``device``; the penalties are 0-d tensors.
"""

import torch

from autograder.tensors import DEFAULT_DTYPE, as_tensor, resolve_device


def check_drop_probability(p):
    """Raise ValueError unless 0 <= p <= 1 (NaN included)."""
    if not 0.0 <= p <= 1.0:
        message = f"dropout probability p must be between 0 and 1, got {p!r}"
        raise ValueError(message)


def _uniform_draw(shape, uniform, generator, device, dtype):
    """The U[0, 1) draw of a given shape: the caller's ``uniform`` or torch.rand with ``generator``."""
    if uniform is None:
        return torch.rand(shape, generator=generator, device=device, dtype=dtype)
    # float64 whatever ``dtype``: the keep decision u >= p must not change by rounding u.
    u = as_tensor(uniform, device, torch.float64)
    if u.shape != shape:
        message = f"uniform has shape {tuple(u.shape)}, expected {tuple(shape)}"
        raise ValueError(message)
    return u


def dropout_forward(x, p, train=True, generator=None, uniform=None, device=None, dtype=DEFAULT_DTYPE):
    """x (any shape) -> (out, mask) of x's shape; mask = (u >= p) / (1 - p), out = x * mask."""
    check_drop_probability(p)
    x = as_tensor(x, device, dtype)
    if not train or p == 0:
        return x.clone(), torch.ones_like(x)
    u = _uniform_draw(x.shape, uniform, generator, resolve_device(device), dtype)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = (u >= p).to(dtype) * scale
    return x * mask, mask


def dropout_backward(dout, mask, device=None, dtype=DEFAULT_DTYPE):
    """dout, mask (same shape) -> dL/dx = dout * mask, that shape."""
    return as_tensor(dout, device, dtype) * as_tensor(mask, device, dtype)


def l2_penalty(weights, lam, device=None, dtype=DEFAULT_DTYPE):
    """list of arrays (any shapes) -> 0-d tensor (lam / 2) * sum of squares."""
    total = torch.zeros((), dtype=dtype, device=resolve_device(device))
    for w in weights:
        total = total + as_tensor(w, device, dtype).pow(2).sum()
    return 0.5 * lam * total


def l2_grad(w, lam, device=None, dtype=DEFAULT_DTYPE):
    """w (any shape) -> lam * w, that shape."""
    return lam * as_tensor(w, device, dtype)


def l1_penalty(weights, lam, device=None, dtype=DEFAULT_DTYPE):
    """list of arrays (any shapes) -> 0-d tensor lam * sum of absolute values."""
    total = torch.zeros((), dtype=dtype, device=resolve_device(device))
    for w in weights:
        total = total + as_tensor(w, device, dtype).abs().sum()
    return lam * total


def l1_grad(w, lam, device=None, dtype=DEFAULT_DTYPE):
    """w (any shape) -> lam * sign(w), that shape; sign(0) = 0."""
    return lam * torch.sign(as_tensor(w, device, dtype))
