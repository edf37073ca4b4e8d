"""Known mistakes in the perceptron assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests."""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor


def _fires_strict(z):
    return z > 0


def _fires_at_zero(z):
    return z >= 0


def _fit(X, y, epochs, lr, device, dtype, *, fires=_fires_strict, batch=False, sign=1.0, update_bias=True,
         init=0.0):
    """The reference's training loop with one mistake switched on."""
    X, y = as_tensor(X, device, dtype), as_tensor(y, device, dtype)
    w = torch.full((X.shape[1],), init, dtype=dtype, device=X.device)
    b = torch.zeros((), dtype=dtype, device=X.device)
    for _ in range(epochs):
        if batch:
            err = y - fires(X @ w + b).to(dtype)
            w = w + lr * (err @ X)
            b = b + lr * err.sum()
            continue
        for i in range(X.shape[0]):
            err = sign * (y[i] - fires(torch.dot(X[i], w) + b).to(dtype))
            w = w + lr * err * X[i]
            if update_bias:
                b = b + lr * err
    return w, float(b)


def _step_at_zero(z, device=None, dtype=DEFAULT_DTYPE):
    return (as_tensor(z, device, dtype) >= 0).to(torch.int64)


def _fit_step_at_zero(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    return _fit(X, y, epochs, lr, device, dtype, fires=_fires_at_zero)


def _predict_step_at_zero(X, w, b, device=None, dtype=DEFAULT_DTYPE):
    X, w = as_tensor(X, device, dtype), as_tensor(w, device, dtype)
    return ((X @ w + float(b)) >= 0).to(torch.int64)


def _fit_batch(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    return _fit(X, y, epochs, lr, device, dtype, batch=True)


def _fit_no_bias_update(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    return _fit(X, y, epochs, lr, device, dtype, update_bias=False)


def _fit_error_reversed(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    return _fit(X, y, epochs, lr, device, dtype, sign=-1.0)


def _fit_from_ones(X, y, epochs=50, lr=0.2, device=None, dtype=DEFAULT_DTYPE):
    return _fit(X, y, epochs, lr, device, dtype, init=1.0)


def _predict_half_threshold(X, w, b, device=None, dtype=DEFAULT_DTYPE):
    X, w = as_tensor(X, device, dtype), as_tensor(w, device, dtype)
    return ((X @ w + float(b)) > 0.5).to(torch.int64)


def _predict_no_bias(X, w, b, device=None, dtype=DEFAULT_DTYPE):
    X, w = as_tensor(X, device, dtype), as_tensor(w, device, dtype)
    return ((X @ w) > 0).to(torch.int64)




# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "perceptron")
step = answer.step


# perceptron.step.fires_at_zero: step fires at exactly 0 (z >= 0 instead of z > 0)
def step__fires_at_zero(z):
    return (np.asarray(z) >= 0).astype(np.int64)


# perceptron.perceptron_fit.batch_updates: perceptron_fit updates once per epoch (batch) instead of after every sample (online)
def perceptron_fit__batch_updates(X, y, epochs=50, lr=0.2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        err = y - step(X @ w + b)
        w = w + lr * (err @ X)
        b = b + lr * err.sum()
    return w, float(b)


# perceptron.perceptron_fit.bias_not_updated: perceptron_fit never updates the bias b
def perceptron_fit__bias_not_updated(X, y, epochs=50, lr=0.2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            err = y_i - step(x_i @ w + b)
            w = w + lr * err * x_i
    return w, float(b)


# perceptron.perceptron_fit.error_reversed: perceptron_fit uses the error the wrong way round (prediction - target)
def perceptron_fit__error_reversed(X, y, epochs=50, lr=0.2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            err = step(x_i @ w + b) - y_i
            w = w + lr * err * x_i
            b = b + lr * err
    return w, float(b)


# perceptron.perceptron_fit.starts_from_ones: perceptron_fit starts from w = ones instead of zeros
def perceptron_fit__starts_from_ones(X, y, epochs=50, lr=0.2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            err = y_i - step(x_i @ w + b)
            w = w + lr * err * x_i
            b = b + lr * err
    return w, float(b)


# perceptron.perceptron_predict.threshold_half: perceptron_predict thresholds X @ w + b at 0.5 instead of 0
def perceptron_predict__threshold_half(X, w, b):
    return (np.asarray(X) @ np.asarray(w) + b > 0.5).astype(np.int64)


# perceptron.perceptron_predict.no_bias: perceptron_predict leaves out the bias (step(X @ w) instead of step(X @ w + b))
def perceptron_predict__no_bias(X, w, b):
    return step(np.asarray(X) @ np.asarray(w))


MUTANTS = [
    Mutant(
        id="perceptron.step.fires_at_zero", exercise="perceptron.step",
        title="step fires at exactly 0 (z >= 0 instead of z > 0)",
        hint="The threshold is strict: step(z) is 1 only where z > 0, so step(0) is 0. Use z > 0.",
        overrides={"step": _step_at_zero, "perceptron_fit": _fit_step_at_zero,
                   "perceptron_predict": _predict_step_at_zero},
        submission=step__fires_at_zero,
        # the model answer's fit and predict are built on step
        affects=("perceptron.step", "perceptron.perceptron_fit", "perceptron.perceptron_predict"),
    ),
    Mutant(
        id="perceptron.perceptron_fit.batch_updates", exercise="perceptron.perceptron_fit",
        title="perceptron_fit updates once per epoch (batch) instead of after every sample (online)",
        hint="Rosenblatt's rule is online: inside the epoch loop, visit the samples one by one in order and "
             "update w and b right after each one, so the next prediction already uses the new weights.",
        overrides={"perceptron_fit": _fit_batch},
        submission=perceptron_fit__batch_updates,
    ),
    Mutant(
        id="perceptron.perceptron_fit.bias_not_updated", exercise="perceptron.perceptron_fit",
        title="perceptron_fit never updates the bias b",
        hint="The bias learns like a weight whose input is always 1: after each sample, b += lr * err.",
        overrides={"perceptron_fit": _fit_no_bias_update},
        submission=perceptron_fit__bias_not_updated,
    ),
    Mutant(
        id="perceptron.perceptron_fit.error_reversed", exercise="perceptron.perceptron_fit",
        title="perceptron_fit uses the error the wrong way round (prediction - target)",
        hint="err = y[i] - pred (target minus prediction): a missed positive (y=1, pred=0) must move w "
             "towards x, so w += lr * err * x with err = +1.",
        overrides={"perceptron_fit": _fit_error_reversed},
        submission=perceptron_fit__error_reversed,
    ),
    Mutant(
        id="perceptron.perceptron_fit.starts_from_ones", exercise="perceptron.perceptron_fit",
        title="perceptron_fit starts from w = ones instead of zeros",
        hint="Start every training run from w = np.zeros(D) and b = 0.0, as the docstring says.",
        overrides={"perceptron_fit": _fit_from_ones},
        submission=perceptron_fit__starts_from_ones,
    ),
    Mutant(
        id="perceptron.perceptron_predict.threshold_half", exercise="perceptron.perceptron_predict",
        title="perceptron_predict thresholds X @ w + b at 0.5 instead of 0",
        hint="0.5 is the threshold for a sigmoid's probability; the perceptron's step fires where "
             "X @ w + b > 0. Reuse your step function.",
        overrides={"perceptron_predict": _predict_half_threshold},
        submission=(perceptron_predict__threshold_half),
    ),
    Mutant(
        id="perceptron.perceptron_predict.no_bias", exercise="perceptron.perceptron_predict",
        title="perceptron_predict leaves out the bias (step(X @ w) instead of step(X @ w + b))",
        hint="The decision is step(X @ w + b): add the bias before the threshold.",
        overrides={"perceptron_predict": _predict_no_bias},
        submission=perceptron_predict__no_bias,
    ),
]
