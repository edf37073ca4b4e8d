"""Known mistakes in the losses assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests."""

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


MUTANTS = [
    Mutant(
        id="losses.softmax.no_max_shift", exercise="losses.softmax",
        title="softmax without subtracting the row maximum (overflows to NaN for large logits)",
        hint="Subtract z.max(axis, keepdims=True) before np.exp: the result is the same, and exp never overflows.",
        overrides={"softmax": _softmax_unshifted},
        submission="def softmax(z, axis=-1):\n    e = np.exp(np.asarray(z, dtype=float))\n    return e / e.sum(axis=axis, keepdims=True)\n",
    ),
    Mutant(
        id="losses.softmax.wrong_axis", exercise="losses.softmax",
        title="softmax normalized over the batch axis instead of the class axis",
        hint="Each row (sample) must sum to 1: reduce over axis=-1 (the argument), with keepdims=True.",
        overrides={"softmax": _softmax_wrong_axis},
        submission="def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)\n",
        affects=("losses.softmax", "losses.cross_entropy_grad"),  # the model answer's gradient calls softmax
    ),
    Mutant(
        id="losses.log_softmax.no_max_shift", exercise="losses.log_softmax",
        title="log_softmax computed without the max shift (log of an overflowing sum)",
        hint="log_softmax(z) = (z - m) - log(sum(exp(z - m))) with m the row maximum.",
        overrides={"log_softmax": _log_softmax_unshifted},
        submission="def log_softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))\n",
        affects=("losses.log_softmax", "losses.cross_entropy"),  # cross_entropy is built on log_softmax
    ),
    Mutant(
        id="losses.cross_entropy.summed", exercise="losses.cross_entropy",
        title="cross-entropy summed over the batch instead of averaged",
        hint="Divide the total by the batch size N (the mean over samples), as torch's reduction='mean' does.",
        overrides={"cross_entropy": _cross_entropy_summed},
        submission=("def cross_entropy(logits, y):\n    logits = np.asarray(logits, dtype=float)\n"
                    "    m = logits.max(axis=1, keepdims=True)\n    logq = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))\n"
                    "    y = np.asarray(y)\n    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]\n"
                    "    return float(-(P * logq).sum())\n"),
    ),
    Mutant(
        id="losses.cross_entropy.sign", exercise="losses.cross_entropy",
        title="cross-entropy without the minus sign (the loss is negative)",
        hint="H(p, q) = -sum p log q: log-probabilities are <= 0, so the loss needs the minus to be >= 0.",
        overrides={"cross_entropy": _cross_entropy_no_minus},
        submission=("def cross_entropy(logits, y):\n    logits = np.asarray(logits, dtype=float)\n"
                    "    m = logits.max(axis=1, keepdims=True)\n    logq = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))\n"
                    "    y = np.asarray(y)\n    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]\n"
                    "    return float((P * logq).sum(axis=1).mean())\n"),
    ),
    Mutant(
        id="losses.cross_entropy_grad.no_mean", exercise="losses.cross_entropy_grad",
        title="cross-entropy gradient missing the 1/N of the mean",
        hint="The loss averages over N samples, so its gradient is (softmax(logits) - P) / N.",
        overrides={"cross_entropy_grad": _cross_entropy_grad_no_mean},
        submission=("def cross_entropy_grad(logits, y):\n    logits = np.asarray(logits, dtype=float)\n"
                    "    e = np.exp(logits - logits.max(axis=1, keepdims=True))\n    s = e / e.sum(axis=1, keepdims=True)\n"
                    "    y = np.asarray(y)\n    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]\n"
                    "    return s - P\n"),
    ),
    Mutant(
        id="losses.cross_entropy_grad.sign", exercise="losses.cross_entropy_grad",
        title="cross-entropy gradient with the wrong sign (target minus prediction)",
        hint="d loss / d logits = (softmax - target) / N: prediction minus target.",
        overrides={"cross_entropy_grad": _cross_entropy_grad_reversed},
        submission=("def cross_entropy_grad(logits, y):\n    logits = np.asarray(logits, dtype=float)\n"
                    "    e = np.exp(logits - logits.max(axis=1, keepdims=True))\n    s = e / e.sum(axis=1, keepdims=True)\n"
                    "    y = np.asarray(y)\n    P = y if y.shape == logits.shape else np.eye(logits.shape[1])[y]\n"
                    "    return (P - s) / logits.shape[0]\n"),
    ),
    Mutant(
        id="losses.binary_cross_entropy.no_clamp", exercise="losses.binary_cross_entropy",
        title="binary cross-entropy without clamping the logs (log(0) = -inf at p = 0 or 1)",
        hint="Clamp each log at -100 as torch does: np.maximum(np.log(p), -100); np.log(0) gives -inf.",
        overrides={"binary_cross_entropy": _bce_unclamped},
        submission=("def binary_cross_entropy(p, y):\n    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)\n"
                    "    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())\n"),
    ),
    Mutant(
        id="losses.binary_cross_entropy.summed", exercise="losses.binary_cross_entropy",
        title="binary cross-entropy summed instead of averaged over the elements",
        hint="Average over every element (torch's reduction='mean').",
        overrides={"binary_cross_entropy": _bce_summed},
        submission=("def binary_cross_entropy(p, y):\n    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)\n"
                    "    lp, lq = np.maximum(np.log(np.maximum(p, 0)), -100), np.maximum(np.log(np.maximum(1 - p, 0)), -100)\n"
                    "    return float(-(y * lp + (1 - y) * lq).sum())\n"),
    ),
    Mutant(
        id="losses.binary_cross_entropy_with_logits.naive", exercise="losses.binary_cross_entropy_with_logits",
        title="BCE with logits computed as BCE(sigmoid(z)): overflows and loses precision for large |z|",
        hint="Use the stable form max(z, 0) - z*y + log1p(exp(-|z|)).",
        overrides={"binary_cross_entropy_with_logits": _bce_logits_naive},
        submission=("def binary_cross_entropy_with_logits(z, y):\n    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)\n"
                    "    p = 1 / (1 + np.exp(-z))\n    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())\n"),
    ),
    Mutant(
        id="losses.mse_loss.per_sample", exercise="losses.mse_loss",
        title="MSE divided by the batch size N instead of the number of elements",
        hint="mse_loss averages over ALL elements (N * K of them), like torch's mse_loss.",
        overrides={"mse_loss": _mse_per_row},
        submission=("def mse_loss(y_hat, y):\n    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)\n"
                    "    return float((d ** 2).sum() / d.shape[0])\n"),
    ),
    Mutant(
        id="losses.mse_loss.halved", exercise="losses.mse_loss",
        title="MSE with the 1/2 of the course notes' E = 1/2 sum (t - o)^2",
        hint="This function is torch's mse_loss: the plain mean of squared errors, no 1/2.",
        overrides={"mse_loss": _mse_halved},
        submission=("def mse_loss(y_hat, y):\n    d = np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)\n"
                    "    return float(0.5 * (d ** 2).mean())\n"),
    ),
]
