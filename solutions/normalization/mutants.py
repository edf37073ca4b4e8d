"""Known mistakes in the normalization assignment (hidden): torch variants of the reference, and the
same mistake in NumPy (``submission``) for the project's tests.

The reference's ``scale_splits`` calls the module's own fit and transform functions, so a mutant of
a scaler also changes ``scale_splits`` (as the model answer's ``scale_splits`` runs the student's
own scalers): those mutants list it in ``affects``.

Not mistakes: computing the variance as mean(x**2) - mean(x)**2 (equal within the tolerances on
these inputs), or 1 / sqrt(var + eps) written as (var + eps) ** -0.5.
"""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor

reference = load_sibling(__file__, "reference")
SCALE_SPLITS = "normalization.scale_splits"


# ---------------------------------------------------------------- the scalers, in torch

def _minmax_fit_global(X, device=None, dtype=DEFAULT_DTYPE):
    X = as_tensor(X, device, dtype)
    return X.min(), X.max()


def _minmax_transform_no_guard(X, lo, hi, device=None, dtype=DEFAULT_DTYPE):
    X, lo, hi = (as_tensor(t, device, dtype) for t in (X, lo, hi))
    return (X - lo) / (hi - lo)


def _minmax_transform_refit(X, lo, hi, device=None, dtype=DEFAULT_DTYPE):
    return reference.minmax_transform(X, *reference.minmax_fit(X, device=device, dtype=dtype), device=device,
                                      dtype=dtype)


def _zscore_fit_ddof1(X, device=None, dtype=DEFAULT_DTYPE):
    X = as_tensor(X, device, dtype)
    return X.mean(dim=0), X.std(dim=0, correction=1)


def _zscore_transform_no_guard(X, mean, std, device=None, dtype=DEFAULT_DTYPE):
    X, mean, std = (as_tensor(t, device, dtype) for t in (X, mean, std))
    return (X - mean) / std


def _scale_splits_fit_on_all(X_train, X_val, X_test, method="zscore", device=None, dtype=DEFAULT_DTYPE):
    reference.check_method(method)
    fit, transform = ((reference.minmax_fit, reference.minmax_transform) if method == "minmax"
                      else (reference.zscore_fit, reference.zscore_transform))
    everything = torch.cat([as_tensor(X, device, dtype) for X in (X_train, X_val, X_test)])
    statistics = fit(everything, device=device, dtype=dtype)
    return tuple(transform(X, *statistics, device=device, dtype=dtype) for X in (X_train, X_val, X_test))


# ---------------------------------------------------------------- batch normalization, in torch

def _train_variant(*, normalize_correction=0, running_correction=1, inverted=False, eps_outside=False):
    """batchnorm_forward_train with one thing changed: the variance's correction (0: biased, 1:
    unbiased) used to normalize or stored in the running variance, the momentum's weights swapped,
    or eps added to the standard deviation instead of the variance."""

    def batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5, device=None,
                                dtype=DEFAULT_DTYPE):
        x = as_tensor(x, device, dtype)
        reference.check_batch(x)
        gamma, beta, running_mean, running_var = (as_tensor(t, device, dtype)
                                                  for t in (gamma, beta, running_mean, running_var))
        mean = x.mean(dim=0)
        std = x.var(dim=0, correction=normalize_correction).sqrt()
        inv_std = 1 / (std + eps) if eps_outside else torch.rsqrt(std**2 + eps)
        x_hat = (x - mean) * inv_std
        new = momentum if not inverted else 1 - momentum
        new_mean = (1 - new) * running_mean + new * mean
        new_var = (1 - new) * running_var + new * x.var(dim=0, correction=running_correction)
        return gamma * x_hat + beta, new_mean, new_var, (x_hat, inv_std, gamma)

    return batchnorm_forward_train


def _eval_batch_statistics(x, gamma, beta, running_mean, running_var, eps=1e-5, device=None, dtype=DEFAULT_DTYPE):
    x, gamma, beta = (as_tensor(t, device, dtype) for t in (x, gamma, beta))
    return gamma * (x - x.mean(dim=0)) * torch.rsqrt(x.var(dim=0, correction=0) + eps) + beta


def _eval_no_eps(x, gamma, beta, running_mean, running_var, eps=1e-5, device=None, dtype=DEFAULT_DTYPE):
    x, gamma, beta, mean, var = (as_tensor(t, device, dtype) for t in (x, gamma, beta, running_mean, running_var))
    return gamma * (x - mean) / var.sqrt() + beta


def _backward_variant(dx_of, axis=0):
    """batchnorm_backward with dx = dx_of(dx_hat, x_hat, inv_std) and dgamma, dbeta summed over ``axis``."""

    def batchnorm_backward(dout, cache, device=None, dtype=DEFAULT_DTYPE):
        dout = as_tensor(dout, device, dtype)
        x_hat, inv_std, gamma = (as_tensor(t, device, dtype) for t in cache)
        dx_hat = dout * gamma
        return dx_of(dx_hat, x_hat, inv_std), (dout * x_hat).sum(dim=axis), dout.sum(dim=axis)

    return batchnorm_backward


def _dx(dx_hat, x_hat, inv_std):
    return inv_std * (dx_hat - dx_hat.mean(dim=0) - x_hat * (dx_hat * x_hat).mean(dim=0))


def _dx_mean_ignored(dx_hat, x_hat, inv_std):
    return inv_std * (dx_hat - x_hat * (dx_hat * x_hat).mean(dim=0))


def _dx_statistics_constant(dx_hat, x_hat, inv_std):
    return inv_std * dx_hat


# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "normalization")
_floating = answer._floating
minmax_fit, minmax_transform = answer.minmax_fit, answer.minmax_transform
zscore_fit, zscore_transform = answer.zscore_fit, answer.zscore_transform


# normalization.minmax_fit.global_extremes: the minimum and maximum of the whole array, not of each feature
def minmax_fit__global_extremes(X):
    X = _floating(X)
    return X.min(), X.max()


# normalization.minmax_transform.zero_range: a constant feature divided by hi - lo = 0 (nan and inf)
def minmax_transform__zero_range(X, lo, hi):
    X = _floating(X)
    return (X - lo) / (hi - lo)


# normalization.minmax_transform.refit: the data's own minimum and maximum instead of the fitted lo, hi
def minmax_transform__refit(X, lo, hi):
    X = _floating(X)
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi - lo == 0, 1, hi - lo)
    return (X - lo) / span


# normalization.zscore_fit.ddof1: the sample standard deviation (ddof = 1) instead of the population one
def zscore_fit__ddof1(X):
    X = _floating(X)
    return X.mean(axis=0), X.std(axis=0, ddof=1)


# normalization.zscore_transform.zero_std: a constant feature divided by std = 0 (nan and inf)
def zscore_transform__zero_std(X, mean, std):
    X = _floating(X)
    return (X - mean) / std


# normalization.scale_splits.fit_on_all: the scaler fitted on training, validation and test data together
def scale_splits__fit_on_all(X_train, X_val, X_test, method="zscore"):
    if method not in ("minmax", "zscore"):
        raise ValueError(f"method must be 'minmax' or 'zscore', got {method!r}")
    fit, transform = (minmax_fit, minmax_transform) if method == "minmax" else (zscore_fit, zscore_transform)
    statistics = fit(np.concatenate([X_train, X_val, X_test]))
    return transform(X_train, *statistics), transform(X_val, *statistics), transform(X_test, *statistics)


# normalization.batchnorm_forward_train.unbiased_normalize: the batch normalized with the unbiased variance
def batchnorm_forward_train__unbiased_normalize(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    x = _floating(x)
    mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    return gamma * x_hat + beta, new_mean, new_var, (x_hat, inv_std, gamma)


# normalization.batchnorm_forward_train.biased_running_var: the biased batch variance stored in running_var
def batchnorm_forward_train__biased_running_var(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    x = _floating(x)
    mean, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    return gamma * x_hat + beta, new_mean, new_var, (x_hat, inv_std, gamma)


# normalization.batchnorm_forward_train.momentum_inverted: momentum weighs the OLD running value (Keras's convention)
def batchnorm_forward_train__momentum_inverted(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    x = _floating(x)
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    new_mean = momentum * running_mean + (1 - momentum) * mean
    new_var = momentum * running_var + (1 - momentum) * var * n / (n - 1)
    return gamma * x_hat + beta, new_mean, new_var, (x_hat, inv_std, gamma)


# normalization.batchnorm_forward_train.eps_outside_sqrt: eps added to the standard deviation, not the variance
def batchnorm_forward_train__eps_outside_sqrt(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    x = _floating(x)
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / (np.sqrt(var) + eps)
    x_hat = (x - mean) * inv_std
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return gamma * x_hat + beta, new_mean, new_var, (x_hat, inv_std, gamma)


# normalization.batchnorm_forward_eval.batch_statistics: evaluation normalizes with the batch's statistics
def batchnorm_forward_eval__batch_statistics(x, gamma, beta, running_mean, running_var, eps=1e-5):
    x = _floating(x)
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


# normalization.batchnorm_forward_eval.no_eps: evaluation divides by sqrt(running_var), without eps
def batchnorm_forward_eval__no_eps(x, gamma, beta, running_mean, running_var, eps=1e-5):
    x = _floating(x)
    return gamma * (x - running_mean) / np.sqrt(running_var) + beta


# normalization.batchnorm_backward.wrong_axis: dgamma and dbeta summed over the features (axis 1)
def batchnorm_backward__wrong_axis(dout, cache):
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=1), dout.sum(axis=1)


# normalization.batchnorm_backward.mean_ignored: dx without the path through the batch mean
def batchnorm_backward__mean_ignored(dout, cache):
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# normalization.batchnorm_backward.statistics_constant: dx as if the batch mean and variance did not depend on x
def batchnorm_backward__statistics_constant(dout, cache):
    x_hat, inv_std, gamma = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


MUTANTS = [
    Mutant(
        id="normalization.minmax_fit.global_extremes", exercise="normalization.minmax_fit",
        title="minmax_fit takes the minimum and maximum of the whole array, not of each feature",
        hint="Each feature (column) gets its own range: X.min(axis=0) and X.max(axis=0), arrays of shape (D,).",
        overrides={"minmax_fit": _minmax_fit_global}, submission=minmax_fit__global_extremes,
        affects=("normalization.minmax_fit", SCALE_SPLITS),
    ),
    Mutant(
        id="normalization.minmax_transform.zero_range", exercise="normalization.minmax_transform",
        title="min-max divides a constant feature by hi - lo = 0 (nan and inf)",
        hint=("A feature whose training range is 0 carries no information: divide it by 1 instead "
              "(np.where(hi - lo == 0, 1, hi - lo)), as scikit-learn does, so it maps to 0."),
        overrides={"minmax_transform": _minmax_transform_no_guard}, submission=minmax_transform__zero_range,
        affects=("normalization.minmax_transform", SCALE_SPLITS),
    ),
    Mutant(
        id="normalization.minmax_transform.refit", exercise="normalization.minmax_transform",
        title="minmax_transform rescales X by its own minimum and maximum, ignoring the fitted lo and hi",
        hint=("Transform applies the TRAINING statistics it is given: (X - lo) / (hi - lo). Recomputing them on "
              "the data being transformed scales validation and test data differently from the training data."),
        overrides={"minmax_transform": _minmax_transform_refit}, submission=minmax_transform__refit,
        affects=("normalization.minmax_transform", SCALE_SPLITS),
    ),
    Mutant(
        id="normalization.zscore_fit.ddof1", exercise="normalization.zscore_fit",
        title="z-score with the sample standard deviation (ddof = 1) instead of the population one",
        hint=("The course (like np.std and scikit-learn's StandardScaler) divides by N: X.std(axis=0). "
              "ddof=1, torch.std's default, divides by N - 1."),
        overrides={"zscore_fit": _zscore_fit_ddof1}, submission=zscore_fit__ddof1,
        affects=("normalization.zscore_fit", SCALE_SPLITS),
    ),
    Mutant(
        id="normalization.zscore_transform.zero_std", exercise="normalization.zscore_transform",
        title="z-score divides a constant feature by std = 0 (nan and inf)",
        hint="Divide a feature whose training std is 0 by 1 instead (np.where(std == 0, 1, std)), so it maps to 0.",
        overrides={"zscore_transform": _zscore_transform_no_guard}, submission=zscore_transform__zero_std,
        affects=("normalization.zscore_transform", SCALE_SPLITS),
    ),
    Mutant(
        id="normalization.scale_splits.fit_on_all", exercise="normalization.scale_splits",
        title="the scaler is fitted on all the data (training, validation and test), not on the training part",
        hint=("Fit on X_train ONLY, then transform all three parts with those statistics: statistics of the "
              "validation and test data leak into training and make their scores look better than they are."),
        overrides={"scale_splits": _scale_splits_fit_on_all}, submission=scale_splits__fit_on_all,
    ),
    Mutant(
        id="normalization.batchnorm_forward_train.unbiased_normalize",
        exercise="normalization.batchnorm_forward_train",
        title="batch norm normalizes with the unbiased variance (N - 1) instead of the biased one (N)",
        hint=("Normalize with the batch's biased variance, x.var(axis=0) (divide by N); only the running "
              "variance stores the unbiased one, var * N / (N - 1)."),
        overrides={"batchnorm_forward_train": _train_variant(normalize_correction=1)},
        submission=batchnorm_forward_train__unbiased_normalize,
    ),
    Mutant(
        id="normalization.batchnorm_forward_train.biased_running_var",
        exercise="normalization.batchnorm_forward_train",
        title="the running variance is updated with the biased batch variance (N) instead of the unbiased one",
        hint=("torch's running_var estimates the population variance: update it with the UNBIASED batch "
              "variance, x.var(axis=0) * N / (N - 1)."),
        overrides={"batchnorm_forward_train": _train_variant(running_correction=0)},
        submission=batchnorm_forward_train__biased_running_var,
    ),
    Mutant(
        id="normalization.batchnorm_forward_train.momentum_inverted",
        exercise="normalization.batchnorm_forward_train",
        title="momentum weighs the old running statistic instead of the new batch statistic (Keras's convention)",
        hint=("With torch's convention, running = (1 - momentum) * running + momentum * batch_statistic: "
              "momentum = 0.1 moves the running value 10 % of the way towards the batch's."),
        overrides={"batchnorm_forward_train": _train_variant(inverted=True)},
        submission=batchnorm_forward_train__momentum_inverted,
    ),
    Mutant(
        id="normalization.batchnorm_forward_train.eps_outside_sqrt",
        exercise="normalization.batchnorm_forward_train",
        title="eps is added to the standard deviation, outside the square root",
        hint="eps goes inside the square root, with the variance: (x - mean) / np.sqrt(var + eps).",
        overrides={"batchnorm_forward_train": _train_variant(eps_outside=True)},
        submission=batchnorm_forward_train__eps_outside_sqrt,
    ),
    Mutant(
        id="normalization.batchnorm_forward_eval.batch_statistics", exercise="normalization.batchnorm_forward_eval",
        title="evaluation mode normalizes with the batch's own mean and variance instead of the running ones",
        hint=("In evaluation, use running_mean and running_var: a sample's output must not depend on the other "
              "samples of its batch (and a batch of one has no variance)."),
        overrides={"batchnorm_forward_eval": _eval_batch_statistics},
        submission=batchnorm_forward_eval__batch_statistics,
    ),
    Mutant(
        id="normalization.batchnorm_forward_eval.no_eps", exercise="normalization.batchnorm_forward_eval",
        title="evaluation mode leaves eps out: it divides by sqrt(running_var)",
        hint="Evaluation normalizes like training, eps inside the root: (x - running_mean) / np.sqrt(running_var + eps).",
        overrides={"batchnorm_forward_eval": _eval_no_eps}, submission=batchnorm_forward_eval__no_eps,
    ),
    Mutant(
        id="normalization.batchnorm_backward.wrong_axis", exercise="normalization.batchnorm_backward",
        title="dgamma and dbeta are summed over the features (axis 1) instead of over the batch (axis 0)",
        hint=("gamma and beta are shared by every sample of the batch: sum their gradients over the samples, "
              "dout.sum(axis=0) and (dout * x_hat).sum(axis=0), arrays of shape (D,)."),
        overrides={"batchnorm_backward": _backward_variant(_dx, axis=1)}, submission=batchnorm_backward__wrong_axis,
    ),
    Mutant(
        id="normalization.batchnorm_backward.mean_ignored", exercise="normalization.batchnorm_backward",
        title="dx leaves out the path through the batch mean (the term - mean(dx_hat))",
        hint=("The batch mean depends on every x_i: dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * "
              "mean(dx_hat * x_hat)), means over the batch (axis 0)."),
        overrides={"batchnorm_backward": _backward_variant(_dx_mean_ignored)},
        submission=batchnorm_backward__mean_ignored,
    ),
    Mutant(
        id="normalization.batchnorm_backward.statistics_constant", exercise="normalization.batchnorm_backward",
        title="dx treats the batch mean and variance as constants: dx = dout * gamma * inv_std",
        hint=("The batch statistics are functions of x: add their paths, dx = inv_std * (dx_hat - mean(dx_hat) "
              "- x_hat * mean(dx_hat * x_hat)), means over the batch (axis 0)."),
        overrides={"batchnorm_backward": _backward_variant(_dx_statistics_constant)},
        submission=batchnorm_backward__statistics_constant,
    ),
]
