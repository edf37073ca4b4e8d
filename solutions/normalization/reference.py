"""Hidden torch reference for the normalization assignment: the grading oracle.

Same contract as the student's functions, in torch, on any device (``device=`` argument), float64
unless told otherwise. The scalers are torch tensor ops; batch normalization is
``torch.nn.BatchNorm1d`` itself, in train() and eval() mode, and its backward is torch's autograd
through that module. Outputs are tensors on ``device``.

Conventions (the course's): the z-score's standard deviation is the population one (divide by N,
scikit-learn's StandardScaler), and a constant feature (range or std exactly 0) is divided by 1,
as scikit-learn does. Batch norm follows torch: biased batch variance to normalize, running
statistics ``(1 - momentum) * running + momentum * batch`` with the UNBIASED batch variance.
"""

import torch

from autograder.tensors import DEFAULT_DTYPE, as_tensor, resolve_device


def _one_where_zero(t):
    """``t`` with its exact zeros replaced by 1: a constant feature is divided by 1."""
    return torch.where(t == 0, torch.ones_like(t), t)


# ---------------------------------------------------------------- the scalers

def minmax_fit(X, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D) -> (lo, hi), each (D,): the per-feature minimum and maximum."""
    X = as_tensor(X, device, dtype)
    return X.amin(dim=0), X.amax(dim=0)


def minmax_transform(X, lo, hi, device=None, dtype=DEFAULT_DTYPE):
    """X (M, D), lo, hi (D,) -> (X - lo) / (hi - lo), (M, D); a zero range counts as 1."""
    X, lo, hi = (as_tensor(t, device, dtype) for t in (X, lo, hi))
    return (X - lo) / _one_where_zero(hi - lo)


def zscore_fit(X, device=None, dtype=DEFAULT_DTYPE):
    """X (N, D) -> (mean, std), each (D,): the per-feature mean and population std (N in the denominator)."""
    X = as_tensor(X, device, dtype)
    return X.mean(dim=0), X.std(dim=0, correction=0)


def zscore_transform(X, mean, std, device=None, dtype=DEFAULT_DTYPE):
    """X (M, D), mean, std (D,) -> (X - mean) / std, (M, D); a zero std counts as 1."""
    X, mean, std = (as_tensor(t, device, dtype) for t in (X, mean, std))
    return (X - mean) / _one_where_zero(std)


def check_method(method):
    """Raise ValueError unless ``method`` is 'minmax' or 'zscore'."""
    if method not in ("minmax", "zscore"):
        raise ValueError(f"method must be 'minmax' or 'zscore', got {method!r}")


def scale_splits(X_train, X_val, X_test, method="zscore", device=None, dtype=DEFAULT_DTYPE):
    """Three parts (N_k, D) -> the three scaled with statistics fitted on X_train alone."""
    check_method(method)
    fit, transform = (minmax_fit, minmax_transform) if method == "minmax" else (zscore_fit, zscore_transform)
    statistics = fit(X_train, device=device, dtype=dtype)
    return tuple(transform(X, *statistics, device=device, dtype=dtype) for X in (X_train, X_val, X_test))


# ---------------------------------------------------------------- batch normalization

def _layer(gamma, beta, running_mean, running_var, momentum, eps, device, dtype) -> torch.nn.BatchNorm1d:
    """A torch.nn.BatchNorm1d holding the given parameters and running statistics (copies)."""
    gamma = as_tensor(gamma, device, dtype)
    layer = torch.nn.BatchNorm1d(gamma.shape[0], eps=eps, momentum=momentum, device=resolve_device(device),
                                 dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(as_tensor(beta, device, dtype))
        layer.running_mean.copy_(as_tensor(running_mean, device, dtype))
        layer.running_var.copy_(as_tensor(running_var, device, dtype))
    return layer


def check_batch(x):
    """Raise ValueError unless x is a batch (N, D) with N >= 2 (training needs a batch variance)."""
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(f"batch normalization in training needs a batch (N, D) with N >= 2, got shape "
                         f"{tuple(x.shape)}")


def batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5, device=None,
                            dtype=DEFAULT_DTYPE):
    """x (N, D), the rest (D,) -> (out (N, D), new running mean (D,), new running var (D,), cache).

    cache = (x_hat (N, D), inv_std (D,), gamma (D,)), read off the module's own normalization."""
    x = as_tensor(x, device, dtype)
    check_batch(x)
    layer = _layer(gamma, beta, running_mean, running_var, momentum, eps, device, dtype).train()
    with torch.no_grad():
        out = layer(x)
        var = x.var(dim=0, correction=0)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - x.mean(dim=0)) * inv_std
    return out, layer.running_mean.clone(), layer.running_var.clone(), (x_hat, inv_std, layer.weight.detach().clone())


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5, device=None, dtype=DEFAULT_DTYPE):
    """x (N, D), the rest (D,) -> out (N, D), normalized with the running statistics."""
    x = as_tensor(x, device, dtype)
    layer = _layer(gamma, beta, running_mean, running_var, 0.1, eps, device, dtype).eval()
    with torch.no_grad():
        return layer(x)


def batch_with_statistics(x_hat, inv_std):
    """A batch x (N, D) and an eps whose train-mode normalization is exactly (x_hat, inv_std).

    x = x_hat / inv_std has mean 0 and biased variance var (x_hat has mean 0 and variance
    var / (var + eps)), so var + eps = 1 / inv_std**2 gives eps. Backward of batch norm depends on
    x only through x_hat and inv_std, so autograd through this batch is autograd of the original."""
    x = x_hat / inv_std
    eps = (1 / inv_std**2 - x.var(dim=0, correction=0)).mean()
    return x, float(eps)


def batchnorm_backward(dout, cache, device=None, dtype=DEFAULT_DTYPE):
    """dout (N, D), cache (x_hat, inv_std, gamma) -> (dx (N, D), dgamma (D,), dbeta (D,)), by autograd
    through torch.nn.BatchNorm1d in train() mode."""
    dout = as_tensor(dout, device, dtype)
    x_hat, inv_std, gamma = (as_tensor(t, device, dtype) for t in cache)
    x, eps = batch_with_statistics(x_hat, inv_std)
    zeros, ones = torch.zeros_like(gamma), torch.ones_like(gamma)
    layer = _layer(gamma, zeros, zeros, ones, 0.1, eps, device, dtype).train()
    x = x.clone().requires_grad_(True)
    layer(x).backward(dout)
    return x.grad.detach(), layer.weight.grad.detach(), layer.bias.grad.detach()
