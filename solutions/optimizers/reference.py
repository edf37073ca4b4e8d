"""Hidden torch reference for the optimizers assignment: the grading oracle.

The same classes as the student's, written out with basic tensor operations (never torch.optim,
which the tests use as the independent oracle). ``step(params, grads)`` takes a dict of torch
tensors, updated in place; gradients may be arrays or tensors and are converted. The optimizer's
state lives on ``device`` in ``dtype`` (float64 unless told otherwise). ``minibatches`` yields
tensors on ``device``, in the order of the NumPy ``rng``'s permutation, like the contract.
"""

import numpy as np
import torch

from autograder.tensors import DEFAULT_DTYPE, as_index_tensor, as_tensor, resolve_device


def _check_non_negative(name, value):
    """value >= 0 (NaN fails), else ValueError."""
    if not value >= 0.0:
        raise ValueError(f"invalid {name}: {value!r} (must be >= 0)")


def _check_beta(name, value):
    """0 <= value < 1, else ValueError."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"invalid {name}: {value!r} (must be in [0, 1))")


class _Optimizer:
    """Shared plumbing: the device and dtype of the state, gradient conversion, the in-place update."""

    def __init__(self, device, dtype):
        self.device, self.dtype = resolve_device(device), dtype
        self.state = {}

    def _gradient(self, grad, param, weight_decay):
        """grad (shape of param), param tensor -> grad + weight_decay * param, a new tensor on the state device."""
        g = as_tensor(grad, self.device, self.dtype)
        if weight_decay != 0:
            g = g + weight_decay * param.detach().to(device=self.device, dtype=self.dtype)
        return g

    def _zeros(self, param):
        """param tensor -> zeros of its shape in the state's device and dtype."""
        return torch.zeros(param.shape, dtype=self.dtype, device=self.device)

    @staticmethod
    def _apply(param, delta):
        """param -= delta in place (delta computed in the state dtype, rounded to param's)."""
        if not isinstance(param, torch.Tensor):
            raise TypeError(f"the reference updates torch tensors in place, got {type(param).__name__}")
        with torch.no_grad():
            param.sub_(delta.to(param.device))


class SGD(_Optimizer):
    """SGD with optional (Nesterov) momentum and L2 weight decay; params: dict of tensors, updated in place."""

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, device=None, dtype=DEFAULT_DTYPE):
        _check_non_negative("learning rate", lr)
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum > 0")
        super().__init__(device, dtype)
        self.lr, self.momentum, self.nesterov, self.weight_decay = lr, momentum, nesterov, weight_decay

    def step(self, params, grads):
        """params {name: tensor}, grads {name: same shape}: one step, in place."""
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            update = g
            if self.momentum != 0:
                state = self.state.setdefault(name, {})
                buf = g.clone() if "momentum_buffer" not in state else self.momentum * state["momentum_buffer"] + g
                state["momentum_buffer"] = buf
                update = g + self.momentum * buf if self.nesterov else buf
            self._apply(p, self.lr * update)


class Adagrad(_Optimizer):
    """Adagrad (sum of squared gradients, eps outside the root); params: dict of tensors, in place."""

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0, device=None, dtype=DEFAULT_DTYPE):
        _check_non_negative("learning rate", lr)
        _check_non_negative("eps", eps)
        _check_non_negative("weight_decay", weight_decay)
        super().__init__(device, dtype)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay

    def step(self, params, grads):
        """params {name: tensor}, grads {name: same shape}: one step, in place."""
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"sum": self._zeros(p)})
            state["sum"] = state["sum"] + g * g
            self._apply(p, self.lr * g / (torch.sqrt(state["sum"]) + self.eps))


class RMSProp(_Optimizer):
    """RMSProp (moving average of squared gradients, eps outside the root); params: dict of tensors, in place."""

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, device=None, dtype=DEFAULT_DTYPE):
        _check_non_negative("learning rate", lr)
        _check_non_negative("alpha", alpha)
        _check_non_negative("eps", eps)
        _check_non_negative("weight_decay", weight_decay)
        super().__init__(device, dtype)
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay

    def step(self, params, grads):
        """params {name: tensor}, grads {name: same shape}: one step, in place."""
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"square_avg": self._zeros(p)})
            state["square_avg"] = self.alpha * state["square_avg"] + (1 - self.alpha) * g * g
            self._apply(p, self.lr * g / (torch.sqrt(state["square_avg"]) + self.eps))


class Adam(_Optimizer):
    """Adam with bias correction and L2 weight decay (not AdamW); params: dict of tensors, in place."""

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, device=None, dtype=DEFAULT_DTYPE):
        _check_non_negative("learning rate", lr)
        _check_non_negative("eps", eps)
        _check_beta("beta1", betas[0])
        _check_beta("beta2", betas[1])
        _check_non_negative("weight_decay", weight_decay)
        super().__init__(device, dtype)
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay

    def step(self, params, grads):
        """params {name: tensor}, grads {name: same shape}: one step, in place."""
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": self._zeros(p), "exp_avg_sq": self._zeros(p)})
            state["step"] += 1
            t = state["step"]
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            self._apply(p, self.lr * m_hat / (torch.sqrt(v_hat) + self.eps))


def _as_data_tensor(a, device, dtype):
    """Integer arrays (class labels) stay int64; anything else becomes ``dtype``."""
    if isinstance(a, torch.Tensor):
        is_integer = not (a.is_floating_point() or a.is_complex() or a.dtype == torch.bool)
    else:
        is_integer = np.issubdtype(np.asarray(a).dtype, np.integer)
    if is_integer:
        return as_index_tensor(a, device)
    return as_tensor(a, device, dtype)


def minibatches(X, y, batch_size, rng=None, device=None, dtype=DEFAULT_DTYPE):
    """X (N, ...), y (N, ...) -> yields (X_batch (b, ...), y_batch (b, ...)) tensors, b = batch_size, the last partial."""
    X, y = _as_data_tensor(X, device, dtype), _as_data_tensor(y, device, dtype)
    if len(X) != len(y):
        raise ValueError(f"X and y hold different numbers of samples: {len(X)} != {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    order = torch.as_tensor(order, dtype=torch.int64, device=X.device)
    for start in range(0, n, batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]
