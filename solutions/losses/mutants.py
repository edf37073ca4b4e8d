"""Known mistakes in the losses assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests."""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor

reference = load_sibling(__file__, "reference")


def _softmax_unshifted(z, axis=-1, device=None, dtype=DEFAULT_DTYPE):
    exps = torch.exp(as_tensor(z, device, dtype))
    return exps / exps.sum(dim=axis, keepdim=True)


def _softmax_wrong_axis(z, axis=-1, device=None, dtype=DEFAULT_DTYPE):
    z = as_tensor(z, device, dtype)
    exps = torch.exp(z - z.amax(dim=0, keepdim=True))
    return exps / exps.sum(dim=0, keepdim=True)


def _log_softmax_unshifted(z, axis=-1, device=None, dtype=DEFAULT_DTYPE):
    z = as_tensor(z, device, dtype)
    return z - torch.log(torch.exp(z).sum(dim=axis, keepdim=True))


def _cross_entropy_summed(logits, y, device=None, dtype=DEFAULT_DTYPE):
    logits = as_tensor(logits, device, dtype)
    log_q = reference.log_softmax(logits, axis=1, device=device, dtype=dtype)
    return -(reference._target_distribution(logits, y, device) * log_q).sum()


def _cross_entropy_no_minus(logits, y, device=None, dtype=DEFAULT_DTYPE):
    return -reference.cross_entropy(logits, y, device=device, dtype=dtype)


def _cross_entropy_grad_no_mean(logits, y, device=None, dtype=DEFAULT_DTYPE):
    logits = as_tensor(logits, device, dtype)
    return reference.softmax(logits, axis=1, device=device, dtype=dtype) - reference._target_distribution(logits, y, device)


def _cross_entropy_grad_reversed(logits, y, device=None, dtype=DEFAULT_DTYPE):
    return -reference.cross_entropy_grad(logits, y, device=device, dtype=dtype)


def _bce_unclamped(p, y, device=None, dtype=DEFAULT_DTYPE):
    p, y = as_tensor(p, device, dtype), as_tensor(y, device, dtype)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _bce_summed(p, y, device=None, dtype=DEFAULT_DTYPE):
    return reference.binary_cross_entropy(p, y, device=device, dtype=dtype) * as_tensor(p).numel()


def _bce_logits_naive(z, y, device=None, dtype=DEFAULT_DTYPE):
    z, y = as_tensor(z, device, dtype), as_tensor(y, device, dtype)
    p = 1 / (1 + torch.exp(-z))
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _mse_per_row(y_hat, y, device=None, dtype=DEFAULT_DTYPE):
    y_hat, y = as_tensor(y_hat, device, dtype), as_tensor(y, device, dtype)
    return ((y_hat - y) ** 2).sum() / y_hat.shape[0]


def _mse_halved(y_hat, y, device=None, dtype=DEFAULT_DTYPE):
    return 0.5 * reference.mse_loss(y_hat, y, device=device, dtype=dtype)



# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "losses")


# losses.softmax.no_max_shift: softmax without subtracting the row maximum (overflows to NaN for large logits)
def softmax__no_max_shift(z, axis=-1):
    z = np.asarray(z)
    e = np.exp(z if np.issubdtype(z.dtype, np.floating) else z.astype(float))  # the mistake keeps the dtype
    return e / e.sum(axis=axis, keepdims=True)


# losses.softmax.wrong_axis: softmax normalized over the batch axis instead of the class axis
def softmax__wrong_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


# losses.log_softmax.no_max_shift: log_softmax computed without the max shift (log of an overflowing sum)
def log_softmax__no_max_shift(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# losses.cross_entropy.summed: cross-entropy summed over the batch instead of averaged
def cross_entropy__summed(logits, y):
    logits = np.asarray(logits, dtype=float)
    m = logits.max(axis=1, keepdims=True)
    logq = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    y = np.asarray(y)
    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]
    return float(-(P * logq).sum())


# losses.cross_entropy.sign: cross-entropy without the minus sign (the loss is negative)
def cross_entropy__sign(logits, y):
    logits = np.asarray(logits, dtype=float)
    m = logits.max(axis=1, keepdims=True)
    logq = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    y = np.asarray(y)
    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]
    return float((P * logq).sum(axis=1).mean())


# losses.cross_entropy_grad.no_mean: cross-entropy gradient missing the 1/N of the mean
def cross_entropy_grad__no_mean(logits, y):
    logits = np.asarray(logits, dtype=float)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    y = np.asarray(y)
    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]
    return s - P


# losses.cross_entropy_grad.sign: cross-entropy gradient with the wrong sign (target minus prediction)
def cross_entropy_grad__sign(logits, y):
    logits = np.asarray(logits, dtype=float)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    y = np.asarray(y)
    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]
    return (P - s) / logits.shape[0]


# losses.binary_cross_entropy.no_clamp: binary cross-entropy without clamping the logs (log(0) = -inf at p = 0 or 1)
def binary_cross_entropy__no_clamp(p, y):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


# losses.binary_cross_entropy.summed: binary cross-entropy summed instead of averaged over the elements
def binary_cross_entropy__summed(p, y):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    lp, lq = np.maximum(np.log(np.maximum(p, 0)), -100), np.maximum(np.log(np.maximum(1 - p, 0)), -100)
    return float(-(y * lp + (1 - y) * lq).sum())


# losses.binary_cross_entropy_with_logits.naive: BCE with logits computed as BCE(sigmoid(z)): overflows and loses precision for large |z|
def binary_cross_entropy_with_logits__naive(z, y):
    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
    p = 1 / (1 + np.exp(-z))
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


# losses.mse_loss.per_sample: MSE divided by the batch size N instead of the number of elements
def mse_loss__per_sample(y_hat, y):
    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)
    return float((d ** 2).sum() / d.shape[0])


# losses.mse_loss.halved: MSE with the 1/2 of the course notes' E = 1/2 sum (t - o)^2
def mse_loss__halved(y_hat, y):
    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)
    return float(0.5 * (d ** 2).mean())


MUTANTS = [
    Mutant(
        id="losses.softmax.no_max_shift", exercise="losses.softmax",
        title="softmax without subtracting the row maximum (overflows to NaN for large logits)",
        hint="Subtract z.max(axis, keepdims=True) before np.exp: the result is the same, and exp never overflows.",
        overrides={"softmax": _softmax_unshifted},
        submission=softmax__no_max_shift,
    ),
    Mutant(
        id="losses.softmax.wrong_axis", exercise="losses.softmax",
        title="softmax normalized over the batch axis instead of the class axis",
        hint="Each row (sample) must sum to 1: reduce over axis=-1 (the argument), with keepdims=True.",
        overrides={"softmax": _softmax_wrong_axis},
        submission=softmax__wrong_axis,
        affects=("losses.softmax", "losses.cross_entropy_grad"),  # the model answer's gradient calls softmax
    ),
    Mutant(
        id="losses.log_softmax.no_max_shift", exercise="losses.log_softmax",
        title="log_softmax computed without the max shift (log of an overflowing sum)",
        hint="log_softmax(z) = (z - m) - log(sum(exp(z - m))) with m the row maximum.",
        overrides={"log_softmax": _log_softmax_unshifted},
        submission=log_softmax__no_max_shift,
        affects=("losses.log_softmax", "losses.cross_entropy"),  # cross_entropy is built on log_softmax
    ),
    Mutant(
        id="losses.cross_entropy.summed", exercise="losses.cross_entropy",
        title="cross-entropy summed over the batch instead of averaged",
        hint="Divide the total by the batch size N (the mean over samples), as torch's reduction='mean' does.",
        overrides={"cross_entropy": _cross_entropy_summed},
        submission=(cross_entropy__summed),
    ),
    Mutant(
        id="losses.cross_entropy.sign", exercise="losses.cross_entropy",
        title="cross-entropy without the minus sign (the loss is negative)",
        hint="H(p, q) = -sum p log q: log-probabilities are <= 0, so the loss needs the minus to be >= 0.",
        overrides={"cross_entropy": _cross_entropy_no_minus},
        submission=(cross_entropy__sign),
    ),
    Mutant(
        id="losses.cross_entropy_grad.no_mean", exercise="losses.cross_entropy_grad",
        title="cross-entropy gradient missing the 1/N of the mean",
        hint="The loss averages over N samples, so its gradient is (softmax(logits) - P) / N.",
        overrides={"cross_entropy_grad": _cross_entropy_grad_no_mean},
        submission=(cross_entropy_grad__no_mean),
    ),
    Mutant(
        id="losses.cross_entropy_grad.sign", exercise="losses.cross_entropy_grad",
        title="cross-entropy gradient with the wrong sign (target minus prediction)",
        hint="d loss / d logits = (softmax - target) / N: prediction minus target.",
        overrides={"cross_entropy_grad": _cross_entropy_grad_reversed},
        submission=(cross_entropy_grad__sign),
    ),
    Mutant(
        id="losses.binary_cross_entropy.no_clamp", exercise="losses.binary_cross_entropy",
        title="binary cross-entropy without clamping the logs (log(0) = -inf at p = 0 or 1)",
        hint="Clamp each log at -100 as torch does: np.maximum(np.log(p), -100); np.log(0) gives -inf.",
        overrides={"binary_cross_entropy": _bce_unclamped},
        submission=(binary_cross_entropy__no_clamp),
    ),
    Mutant(
        id="losses.binary_cross_entropy.summed", exercise="losses.binary_cross_entropy",
        title="binary cross-entropy summed instead of averaged over the elements",
        hint="Average over every element (torch's reduction='mean').",
        overrides={"binary_cross_entropy": _bce_summed},
        submission=(binary_cross_entropy__summed),
    ),
    Mutant(
        id="losses.binary_cross_entropy_with_logits.naive", exercise="losses.binary_cross_entropy_with_logits",
        title="BCE with logits computed as BCE(sigmoid(z)): overflows and loses precision for large |z|",
        hint="Use the stable form max(z, 0) - z*y + log1p(exp(-|z|)).",
        overrides={"binary_cross_entropy_with_logits": _bce_logits_naive},
        submission=(binary_cross_entropy_with_logits__naive),
    ),
    Mutant(
        id="losses.mse_loss.per_sample", exercise="losses.mse_loss",
        title="MSE divided by the batch size N instead of the number of elements",
        hint="mse_loss averages over ALL elements (N * K of them), like torch's mse_loss.",
        overrides={"mse_loss": _mse_per_row},
        submission=(mse_loss__per_sample),
    ),
    Mutant(
        id="losses.mse_loss.halved", exercise="losses.mse_loss",
        title="MSE with the 1/2 of the course notes' E = 1/2 sum (t - o)^2",
        hint="This function is torch's mse_loss: the plain mean of squared errors, no 1/2.",
        overrides={"mse_loss": _mse_halved},
        submission=(mse_loss__halved),
    ),
]
