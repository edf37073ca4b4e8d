"""Known mistakes in the optimizers assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests.

Mistakes that cannot be told apart from the right rule are left out on purpose: a momentum buffer
started at zero (mu * 0 + g = g, the same first step as torch's buf = g), and CS231n's
``v = mu v - lr g; p += v`` and its Nesterov form (the same trajectory for a constant lr). A
Nesterov look-ahead built from the buffer before its update is no mutant of its own either:
g + mu * buf_{t-1} is buf_t, the plain momentum step, so it is named as ``SGD.nesterov_ignored``.
"""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE

reference = load_sibling(__file__, "reference")


# ---------------------------------------------------------------- SGD

class _SGDMomentumEMA(reference.SGD):
    """buf = mu * buf + (1 - mu) * g from buf = 0: an average of gradients, not torch's sum."""

    def step(self, params, grads):
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            update = g
            if self.momentum != 0:
                state = self.state.setdefault(name, {"momentum_buffer": self._zeros(p)})
                state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + (1 - self.momentum) * g
                buf = state["momentum_buffer"]
                update = g + self.momentum * buf if self.nesterov else buf
            self._apply(p, self.lr * update)


class _SGDNesterovIgnored(reference.SGD):
    """nesterov=True takes the plain momentum step."""

    def step(self, params, grads):
        nesterov, self.nesterov = self.nesterov, False
        try:
            super().step(params, grads)
        finally:
            self.nesterov = nesterov


class _SGDDecayAfterMomentum(reference.SGD):
    """The momentum buffer built from the raw gradient; weight_decay * p added to the step afterwards."""

    def step(self, params, grads):
        for name, p in params.items():
            g = self._gradient(grads[name], p, 0.0)
            update = g
            if self.momentum != 0:
                state = self.state.setdefault(name, {})
                buf = g.clone() if "momentum_buffer" not in state else self.momentum * state["momentum_buffer"] + g
                state["momentum_buffer"] = buf
                update = g + self.momentum * buf if self.nesterov else buf
            decay = self.weight_decay * p.detach().to(device=self.device, dtype=self.dtype)
            self._apply(p, self.lr * (update + decay))


# ---------------------------------------------------------------- Adagrad and RMSProp

class _AdagradEpsInside(reference.Adagrad):
    def step(self, params, grads):
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"sum": self._zeros(p)})
            state["sum"] = state["sum"] + g * g
            self._apply(p, self.lr * g / torch.sqrt(state["sum"] + self.eps))


class _RMSPropEpsInside(reference.RMSProp):
    def step(self, params, grads):
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"square_avg": self._zeros(p)})
            state["square_avg"] = self.alpha * state["square_avg"] + (1 - self.alpha) * g * g
            self._apply(p, self.lr * g / torch.sqrt(state["square_avg"] + self.eps))


class _RMSPropNoOneMinusAlpha(reference.RMSProp):
    def step(self, params, grads):
        for name, p in params.items():
            g = self._gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"square_avg": self._zeros(p)})
            state["square_avg"] = self.alpha * state["square_avg"] + g * g
            self._apply(p, self.lr * g / (torch.sqrt(state["square_avg"]) + self.eps))


# ---------------------------------------------------------------- Adam

class _AdamVariant(reference.Adam):
    """torch's Adam with switches for the classic mistakes."""

    swap_betas = False
    bias_correction = True
    eps_inside = False
    count_after_use = False
    decoupled = False
    shared_counter = False

    def step(self, params, grads):
        beta1, beta2 = self.betas[::-1] if self.swap_betas else self.betas
        for name, p in params.items():
            g = self._gradient(grads[name], p, 0.0 if self.decoupled else self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": self._zeros(p), "exp_avg_sq": self._zeros(p)})
            if self.shared_counter:
                self.counter = getattr(self, "counter", 0) + 1
                t = self.counter
            else:
                t = state["step"] if self.count_after_use else state["step"] + 1
                state["step"] += 1
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat, v_hat = state["exp_avg"], state["exp_avg_sq"]
            if self.bias_correction:
                m_hat, v_hat = m_hat / (1 - beta1**t), v_hat / (1 - beta2**t)
            denominator = torch.sqrt(v_hat + self.eps) if self.eps_inside else torch.sqrt(v_hat) + self.eps
            delta = self.lr * m_hat / denominator
            if self.decoupled:
                delta = delta + self.lr * self.weight_decay * p.detach().to(device=self.device, dtype=self.dtype)
            self._apply(p, delta)


def _adam(**switches):
    return type("AdamMutant", (_AdamVariant,), switches)


# ---------------------------------------------------------------- minibatches

def _batches(X, y, batch_size, rows, labels, device, dtype, keep_partial=True, empty_end=False):
    X, y = reference._as_data_tensor(X, device, dtype), reference._as_data_tensor(y, device, dtype)
    n = len(X)
    rows = torch.as_tensor(rows, dtype=torch.int64, device=X.device)
    labels = torch.as_tensor(labels, dtype=torch.int64, device=X.device)
    stop = n if keep_partial else n - n % batch_size
    starts = list(range(0, stop, batch_size))
    if empty_end and n % batch_size == 0:
        starts.append(n)
    for start in starts:
        yield X[rows[start:start + batch_size]], y[labels[start:start + batch_size]]


def _minibatches_drop_last(X, y, batch_size, rng=None, device=None, dtype=DEFAULT_DTYPE):
    order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
    yield from _batches(X, y, batch_size, order, order, device, dtype, keep_partial=False)


def _minibatches_unaligned(X, y, batch_size, rng=None, device=None, dtype=DEFAULT_DTYPE):
    if rng is None:
        rows = labels = np.arange(len(X))
    else:
        rows, labels = rng.permutation(len(X)), rng.permutation(len(y))
    yield from _batches(X, y, batch_size, rows, labels, device, dtype)


def _minibatches_empty_end(X, y, batch_size, rng=None, device=None, dtype=DEFAULT_DTYPE):
    order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
    yield from _batches(X, y, batch_size, order, order, device, dtype, empty_end=True)


# ---------------------------------------------------------------- NumPy submissions (the same mistakes)













# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "optimizers")
Adagrad = answer.Adagrad
Adam = answer.Adam
RMSProp = answer.RMSProp
SGD = answer.SGD
_l2_gradient = answer._l2_gradient


# optimizers.SGD.momentum_ema: momentum kept as a moving average, buf = mu * buf + (1 - mu) * g, instead of torch's buf = mu * buf + g
class SGD__momentum_ema(SGD):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            update = g
            if self.momentum > 0:
                state = self.state.setdefault(name, {})
                old = state.get("momentum_buffer")
                buf = (1 - self.momentum) * g if old is None else self.momentum * old + (1 - self.momentum) * g
                state["momentum_buffer"] = buf
                update = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * (update)


# optimizers.SGD.nesterov_ignored: nesterov=True takes the plain momentum step
class SGD__nesterov_ignored(SGD):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            update = g
            if self.momentum > 0:
                state = self.state.setdefault(name, {})
                old = state.get("momentum_buffer")
                buf = g.copy() if old is None else self.momentum * old + g
                state["momentum_buffer"] = buf
                update = buf
            p -= self.lr * (update)


# optimizers.SGD.weight_decay_after_momentum: weight decay added to the step after the momentum buffer, not to the gradient before it
class SGD__weight_decay_after_momentum(SGD):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, 0.0)
            update = g
            if self.momentum > 0:
                state = self.state.setdefault(name, {})
                old = state.get("momentum_buffer")
                buf = g.copy() if old is None else self.momentum * old + g
                state["momentum_buffer"] = buf
                update = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * (update + self.weight_decay * p)


# optimizers.Adagrad.eps_inside_root: Adagrad's eps added inside the square root, sqrt(sum + eps), instead of sqrt(sum) + eps
class Adagrad__eps_inside_root(Adagrad):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {'sum': np.zeros(p.shape)})
            state['sum'] = state['sum'] + g * g
            p -= self.lr * g / np.sqrt(state['sum'] + self.eps)


# optimizers.RMSProp.eps_inside_root: RMSProp's eps added inside the square root, sqrt(square_avg + eps), instead of outside
class RMSProp__eps_inside_root(RMSProp):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {'square_avg': np.zeros(p.shape)})
            state['square_avg'] = self.alpha * state['square_avg'] + (1 - self.alpha) * g * g
            p -= self.lr * g / np.sqrt(state['square_avg'] + self.eps)


# optimizers.RMSProp.no_one_minus_alpha: RMSProp's average without the (1 - alpha) factor: square_avg = alpha * square_avg + g**2
class RMSProp__no_one_minus_alpha(RMSProp):
    def step(self, params, grads):
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {'square_avg': np.zeros(p.shape)})
            state['square_avg'] = self.alpha * state['square_avg'] + g * g
            p -= self.lr * g / (np.sqrt(state['square_avg']) + self.eps)


# optimizers.Adam.no_bias_correction: Adam without bias correction (m and v are not divided by 1 - beta**t)
class Adam__no_bias_correction(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            state["step"] += 1
            t = state["step"]  # noqa: F841 (the mistake: t is never used)
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"]
            v_hat = state["exp_avg_sq"]
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# optimizers.Adam.betas_swapped: Adam's betas swapped: beta2 used for the first moment m and beta1 for the second moment v
class Adam__betas_swapped(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas[1], self.betas[0]
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            state["step"] += 1
            t = state["step"]
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# optimizers.Adam.eps_inside_root: Adam's eps added inside the square root, sqrt(v_hat + eps), instead of sqrt(v_hat) + eps
class Adam__eps_inside_root(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            state["step"] += 1
            t = state["step"]
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat + self.eps))


# optimizers.Adam.step_counted_after_use: Adam's step counter is incremented after the bias correction, so the first step divides by 1 - beta**0 = 0
class Adam__step_counted_after_use(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            t = state["step"]
            state["step"] += 1
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# optimizers.Adam.shared_step_counter: Adam's step counter shared by all parameters and incremented once per parameter, not per step
class Adam__shared_step_counter(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            self.t = getattr(self, "t", 0) + 1
            t = self.t
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# optimizers.Adam.decoupled_weight_decay: Adam with decoupled weight decay (AdamW) instead of L2 added to the gradient
class Adam__decoupled_weight_decay(Adam):
    def step(self, params, grads):
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, 0.0)
            state = self.state.setdefault(name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)})
            state["step"] += 1
            t = state["step"]
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps) + self.lr * self.weight_decay * p


# optimizers.minibatches.drop_last: the last, partial batch is dropped when the batch size does not divide N
def minibatches__drop_last(X, y, batch_size, rng=None):
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    for i in range(n // batch_size):
        batch = order[i * batch_size:(i + 1) * batch_size]
        yield X[batch], y[batch]


# optimizers.minibatches.unaligned_shuffle: X and y shuffled with two different permutations: the labels no longer match their rows
def minibatches__unaligned_shuffle(X, y, batch_size, rng=None):
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if rng is None:
        rows = labels = np.arange(n)
    else:
        rows, labels = rng.permutation(n), rng.permutation(n)
    for start in range(0, n, batch_size):
        yield X[rows[start:start + batch_size]], y[labels[start:start + batch_size]]


# optimizers.minibatches.empty_last_batch: an extra, empty batch at the end when the batch size divides N
def minibatches__empty_last_batch(X, y, batch_size, rng=None):
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    for i in range(n // batch_size + 1):
        batch = order[i * batch_size:(i + 1) * batch_size]
        yield X[batch], y[batch]


MUTANTS = [
    # SGD
    Mutant(
        id="optimizers.SGD.momentum_ema", exercise="optimizers.SGD",
        title="momentum kept as a moving average, buf = mu * buf + (1 - mu) * g, instead of torch's buf = mu * buf + g",
        hint="torch.optim.SGD sums: buf = g on the first step, then buf = mu * buf + g (no (1 - mu) factor); "
             "the step is lr * buf.",
        overrides={"SGD": _SGDMomentumEMA},
        submission=SGD__momentum_ema,
    ),
    Mutant(
        id="optimizers.SGD.nesterov_ignored", exercise="optimizers.SGD",
        title="nesterov=True takes the plain momentum step",
        hint="With nesterov=True the step is lr * (g + mu * buf), with buf the buffer just updated.",
        overrides={"SGD": _SGDNesterovIgnored},
        submission=SGD__nesterov_ignored,
    ),
    Mutant(
        id="optimizers.SGD.weight_decay_after_momentum", exercise="optimizers.SGD",
        title="weight decay added to the step after the momentum buffer, not to the gradient before it",
        hint="Fold the decay into the gradient first, g = grad + weight_decay * p, and build the momentum "
             "buffer from that g (torch.optim.SGD's rule; decoupled decay is a different optimizer).",
        overrides={"SGD": _SGDDecayAfterMomentum},
        submission=SGD__weight_decay_after_momentum,
    ),
    # Adagrad and RMSProp
    Mutant(
        id="optimizers.Adagrad.eps_inside_root", exercise="optimizers.Adagrad",
        title="Adagrad's eps added inside the square root, sqrt(sum + eps), instead of sqrt(sum) + eps",
        hint="torch divides by np.sqrt(sum) + eps: eps goes outside the root (Keras puts it inside).",
        overrides={"Adagrad": _AdagradEpsInside},
        submission=(Adagrad__eps_inside_root),
    ),
    Mutant(
        id="optimizers.RMSProp.eps_inside_root", exercise="optimizers.RMSProp",
        title="RMSProp's eps added inside the square root, sqrt(square_avg + eps), instead of outside",
        hint="torch divides by np.sqrt(square_avg) + eps: eps goes outside the root (Keras puts it inside).",
        overrides={"RMSProp": _RMSPropEpsInside},
        submission=(RMSProp__eps_inside_root),
    ),
    Mutant(
        id="optimizers.RMSProp.no_one_minus_alpha", exercise="optimizers.RMSProp",
        title="RMSProp's average without the (1 - alpha) factor: square_avg = alpha * square_avg + g**2",
        hint="The moving average weights the new squared gradient by (1 - alpha): "
             "square_avg = alpha * square_avg + (1 - alpha) * g * g.",
        overrides={"RMSProp": _RMSPropNoOneMinusAlpha},
        submission=(RMSProp__no_one_minus_alpha),
    ),
    # Adam
    Mutant(
        id="optimizers.Adam.no_bias_correction", exercise="optimizers.Adam",
        title="Adam without bias correction (m and v are not divided by 1 - beta**t)",
        hint="m and v start at 0, so divide them by (1 - beta1**t) and (1 - beta2**t) before the step.",
        overrides={"Adam": _adam(bias_correction=False)},
        submission=Adam__no_bias_correction,
    ),
    Mutant(
        id="optimizers.Adam.betas_swapped", exercise="optimizers.Adam",
        title="Adam's betas swapped: beta2 used for the first moment m and beta1 for the second moment v",
        hint="betas = (beta1, beta2): beta1 (0.9 by default) averages the gradient m, beta2 (0.999) its square v.",
        overrides={"Adam": _adam(swap_betas=True)},
        submission=Adam__betas_swapped,
    ),
    Mutant(
        id="optimizers.Adam.eps_inside_root", exercise="optimizers.Adam",
        title="Adam's eps added inside the square root, sqrt(v_hat + eps), instead of sqrt(v_hat) + eps",
        hint="torch.optim.Adam divides by np.sqrt(v_hat) + eps: eps goes outside the root.",
        overrides={"Adam": _adam(eps_inside=True)},
        submission=Adam__eps_inside_root,
    ),
    Mutant(
        id="optimizers.Adam.step_counted_after_use", exercise="optimizers.Adam",
        title="Adam's step counter is incremented after the bias correction, so the first step divides by "
              "1 - beta**0 = 0",
        hint="Increment t first: the first step uses t = 1 (torch's state['step'] += 1 comes before the update).",
        overrides={"Adam": _adam(count_after_use=True)},
        submission=Adam__step_counted_after_use,
    ),
    Mutant(
        id="optimizers.Adam.shared_step_counter", exercise="optimizers.Adam",
        title="Adam's step counter shared by all parameters and incremented once per parameter, not per step",
        hint="Each parameter has its own t (self.state[name]['step']), incremented once per call of step.",
        overrides={"Adam": _adam(shared_counter=True)},
        submission=Adam__shared_step_counter,
    ),
    Mutant(
        id="optimizers.Adam.decoupled_weight_decay", exercise="optimizers.Adam",
        title="Adam with decoupled weight decay (AdamW) instead of L2 added to the gradient",
        hint="torch.optim.Adam folds the decay into the gradient first, g = grad + weight_decay * p, "
             "so it also passes through m and v; AdamW's p -= lr * weight_decay * p is another optimizer.",
        overrides={"Adam": _adam(decoupled=True)},
        submission=Adam__decoupled_weight_decay,
    ),
    # minibatches
    Mutant(
        id="optimizers.minibatches.drop_last", exercise="optimizers.minibatches",
        title="the last, partial batch is dropped when the batch size does not divide N",
        hint="Yield ceil(N / B) batches: the last one holds the N % B samples that are left (drop_last=False).",
        overrides={"minibatches": _minibatches_drop_last},
        submission=(minibatches__drop_last),
    ),
    Mutant(
        id="optimizers.minibatches.unaligned_shuffle", exercise="optimizers.minibatches",
        title="X and y shuffled with two different permutations: the labels no longer match their rows",
        hint="Draw ONE order = rng.permutation(N) per epoch and index both X and y with it.",
        overrides={"minibatches": _minibatches_unaligned},
        submission=(minibatches__unaligned_shuffle),
    ),
    Mutant(
        id="optimizers.minibatches.empty_last_batch", exercise="optimizers.minibatches",
        title="an extra, empty batch at the end when the batch size divides N",
        hint="range(N // B + 1) yields an empty batch when B divides N: loop over range(0, N, B) instead.",
        overrides={"minibatches": _minibatches_empty_end},
        submission=(minibatches__empty_last_batch),
    ),
]
