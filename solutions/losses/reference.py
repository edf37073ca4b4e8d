"""Hidden torch reference for the losses assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument),
float64 unless told otherwise. Outputs are tensors on that device (losses are 0-d tensors).
Written from basic tensor ops (amax, exp, log, log1p, clamp, sum, mean) so that the tests can
hold it against torch.nn.functional as an independent oracle.
"""

import numpy as np
import torch

from autograder.tensors import DEFAULT_DTYPE, as_index_tensor, as_tensor


def softmax(z, axis=-1, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> same shape: exp(z - max) / sum exp(z - max) along ``axis``."""
    z = as_tensor(z, device, dtype)
    exps = torch.exp(z - z.amax(dim=axis, keepdim=True))
    return exps / exps.sum(dim=axis, keepdim=True)


def log_softmax(z, axis=-1, device=None, dtype=DEFAULT_DTYPE):
    """(any shape) -> same shape: z - logsumexp(z) along ``axis``, with the max shift."""
    z = as_tensor(z, device, dtype)
    shifted = z - z.amax(dim=axis, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=axis, keepdim=True))


def _is_probability_target(logits, y):
    """torch's rule: a target with the logits' shape holds probabilities, otherwise class indices."""
    shape = tuple(y.shape) if isinstance(y, torch.Tensor) else np.shape(y)
    return shape == tuple(logits.shape)


def _target_distribution(logits, y, device):
    """(N, C) target probabilities: ``y`` itself, or the one-hot rows of class indices (N,)."""
    if _is_probability_target(logits, y):
        return as_tensor(y, device, logits.dtype)
    labels = as_index_tensor(y, device)
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(logits.shape[0], device=logits.device), labels] = 1
    return one_hot


def cross_entropy(logits, y, device=None, dtype=DEFAULT_DTYPE):
    """logits (N, C), y (N,) int or (N, C) probs -> 0-d: mean over N of -sum_k P_nk log_softmax_nk."""
    logits = as_tensor(logits, device, dtype)
    log_q = log_softmax(logits, axis=1, device=device, dtype=dtype)
    return -(_target_distribution(logits, y, device) * log_q).sum(dim=1).mean()


def cross_entropy_grad(logits, y, device=None, dtype=DEFAULT_DTYPE):
    """logits (N, C), y (N,) int or (N, C) probs -> (N, C): (softmax(logits) - P) / N."""
    logits = as_tensor(logits, device, dtype)
    probabilities = softmax(logits, axis=1, device=device, dtype=dtype)
    return (probabilities - _target_distribution(logits, y, device)) / logits.shape[0]


def binary_cross_entropy(p, y, device=None, dtype=DEFAULT_DTYPE):
    """p, y (same shape) -> 0-d: mean of -(y log p + (1-y) log(1-p)), each log clamped at -100."""
    p, y = as_tensor(p, device, dtype), as_tensor(y, device, dtype)
    log_p = torch.clamp(torch.log(p), min=-100)
    log_not_p = torch.clamp(torch.log(1 - p), min=-100)
    return -(y * log_p + (1 - y) * log_not_p).mean()


def binary_cross_entropy_with_logits(z, y, device=None, dtype=DEFAULT_DTYPE):
    """z, y (same shape) -> 0-d: mean of max(z, 0) - z y + log1p(exp(-|z|))."""
    z, y = as_tensor(z, device, dtype), as_tensor(y, device, dtype)
    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-torch.abs(z)))).mean()


def mse_loss(y_hat, y, device=None, dtype=DEFAULT_DTYPE):
    """y_hat, y (same shape) -> 0-d: mean over all elements of (y_hat - y)^2."""
    y_hat, y = as_tensor(y_hat, device, dtype), as_tensor(y, device, dtype)
    return ((y_hat - y) ** 2).mean()
