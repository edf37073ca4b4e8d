"""Known mistakes in the dropout assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests.

Keeping units where u < 1 - p (or u > p) instead of u >= p is NOT a mistake: it keeps each unit
with the same probability 1 - p, and the statistical checks accept it.
"""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor, resolve_device

reference = load_sibling(__file__, "reference")


def _forward_with(keep_of, scale_of):
    """The reference's dropout_forward keeping the units ``keep_of(u, p)`` (bool), scaled by ``scale_of(p)``."""

    def dropout_forward(x, p, train=True, generator=None, uniform=None, device=None, dtype=DEFAULT_DTYPE):
        reference.check_drop_probability(p)
        x = as_tensor(x, device, dtype)
        if not train or p == 0:
            return x.clone(), torch.ones_like(x)
        u = reference._uniform_draw(x.shape, uniform, generator, resolve_device(device), dtype)
        mask = keep_of(u, p).to(dtype) * scale_of(p)
        return x * mask, mask

    return dropout_forward


def _forward_eval_scaled(x, p, train=True, generator=None, uniform=None, device=None, dtype=DEFAULT_DTYPE):
    if train:
        return reference.dropout_forward(x, p, train, generator, uniform, device, dtype)
    reference.check_drop_probability(p)
    x = as_tensor(x, device, dtype)
    return x * (1.0 - p), torch.full_like(x, 1.0 - p)


def _backward_unscaled(dout, mask, device=None, dtype=DEFAULT_DTYPE):
    return as_tensor(dout, device, dtype) * (as_tensor(mask, device, dtype) != 0).to(dtype)


def _l2_penalty_no_half(weights, lam, device=None, dtype=DEFAULT_DTYPE):
    return 2.0 * reference.l2_penalty(weights, lam, device=device, dtype=dtype)


def _l2_penalty_first_only(weights, lam, device=None, dtype=DEFAULT_DTYPE):
    return reference.l2_penalty(list(weights)[:1], lam, device=device, dtype=dtype)


def _l2_grad_doubled(w, lam, device=None, dtype=DEFAULT_DTYPE):
    return 2.0 * lam * as_tensor(w, device, dtype)


def _l1_penalty_no_abs(weights, lam, device=None, dtype=DEFAULT_DTYPE):
    total = torch.zeros((), dtype=dtype, device=resolve_device(device))
    for w in weights:
        total = total + as_tensor(w, device, dtype).sum()
    return lam * total


def _l1_grad_l2_rule(w, lam, device=None, dtype=DEFAULT_DTYPE):
    return lam * as_tensor(w, device, dtype)





# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "dropout")
_check_drop_probability = answer._check_drop_probability


# dropout.dropout_forward.not_rescaled: dropout output is not rescaled by 1/(1-p) (plain, not inverted, dropout)
def dropout_forward__not_rescaled(x, p, train=True, rng=None):
    _check_drop_probability(p)
    x = np.asarray(x, dtype=float)
    if not train or p == 0:
        return x.copy(), np.ones(x.shape)
    if rng is None:
        rng = np.random.default_rng()
    u = rng.random(x.shape)
    mask = (u >= p).astype(float)
    return x * mask, mask


# dropout.dropout_forward.keep_probability: p used as the KEEP probability (keeps a fraction p of the units, scaled by 1/p)
def dropout_forward__keep_probability(x, p, train=True, rng=None):
    _check_drop_probability(p)
    x = np.asarray(x, dtype=float)
    if not train or p == 0:
        return x.copy(), np.ones(x.shape)
    if rng is None:
        rng = np.random.default_rng()
    u = rng.random(x.shape)
    mask = (u < p) / p
    return x * mask, mask


# dropout.dropout_forward.divided_by_p: kept units scaled by 1/p instead of 1/(1-p)
def dropout_forward__divided_by_p(x, p, train=True, rng=None):
    _check_drop_probability(p)
    x = np.asarray(x, dtype=float)
    if not train or p == 0:
        return x.copy(), np.ones(x.shape)
    if rng is None:
        rng = np.random.default_rng()
    u = rng.random(x.shape)
    mask = (u >= p) / p
    return x * mask, mask


# dropout.dropout_forward.eval_scaled: evaluation multiplies by (1-p) although training already rescales (inverted dropout)
def dropout_forward__eval_scaled(x, p, train=True, rng=None):
    _check_drop_probability(p)
    x = np.asarray(x, dtype=float)
    if not train:
        return x * (1.0 - p), np.full(x.shape, 1.0 - p)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) * (0.0 if p == 1 else 1.0 / (1.0 - p))
    return x * mask, mask


# dropout.dropout_backward.unscaled: dropout backward zeroes the dropped units but forgets the 1/(1-p) scale
def dropout_backward__unscaled(dout, mask):
    return np.asarray(dout) * (np.asarray(mask) != 0)


# dropout.l2_penalty.no_half: L2 penalty without the 1/2: lam * sum(w^2) instead of (lam/2) * sum(w^2)
def l2_penalty__no_half(weights, lam):
    return float(lam * sum(np.sum(np.asarray(w, dtype=float) ** 2) for w in weights))


# dropout.l2_penalty.first_only: L2 penalty computed on the first weight array only
def l2_penalty__first_only(weights, lam):
    if len(weights) == 0:
        return 0.0
    return float(0.5 * lam * np.sum(np.asarray(weights[0], dtype=float) ** 2))


# dropout.l2_grad.doubled: L2 gradient 2 * lam * w (the derivative of lam * w^2, without the penalty's 1/2)
def l2_grad__doubled(w, lam):
    return 2.0 * lam * np.asarray(w)


# dropout.l1_penalty.no_abs: L1 penalty sums the weights instead of their absolute values
def l1_penalty__no_abs(weights, lam):
    return float(lam * sum(np.sum(np.asarray(w, dtype=float)) for w in weights))


# dropout.l1_grad.l2_rule: L1 gradient lam * w (the L2 rule) instead of lam * sign(w)
def l1_grad__l2_rule(w, lam):
    return lam * np.asarray(w)


MUTANTS = [
    Mutant(
        id="dropout.dropout_forward.not_rescaled", exercise="dropout.dropout_forward",
        title="dropout output is not rescaled by 1/(1-p) (plain, not inverted, dropout)",
        hint=("Inverted dropout scales the kept units up in training: mask = (u >= p) / (1 - p), so that "
              "E[out] = x and evaluation can be the identity."),
        overrides={"dropout_forward": _forward_with(lambda u, p: u >= p, lambda p: 1.0)},
        submission=dropout_forward__not_rescaled,
    ),
    Mutant(
        id="dropout.dropout_forward.keep_probability", exercise="dropout.dropout_forward",
        title="p used as the KEEP probability (keeps a fraction p of the units, scaled by 1/p)",
        hint=("Here p is the DROP probability, as in torch's F.dropout(x, p): keep a unit with probability 1 - p "
              "(u >= p) and scale it by 1/(1 - p). CS231n's and TF1's keep_prob mean the opposite."),
        overrides={"dropout_forward": _forward_with(lambda u, p: u < p, lambda p: 1.0 / p)},
        submission=dropout_forward__keep_probability,
    ),
    Mutant(
        id="dropout.dropout_forward.divided_by_p", exercise="dropout.dropout_forward",
        title="kept units scaled by 1/p instead of 1/(1-p)",
        hint="A unit survives with probability 1 - p, so it must be scaled by 1/(1 - p) to keep E[out] = x.",
        overrides={"dropout_forward": _forward_with(lambda u, p: u >= p, lambda p: 1.0 / p)},
        submission=dropout_forward__divided_by_p,
    ),
    Mutant(
        id="dropout.dropout_forward.eval_scaled", exercise="dropout.dropout_forward",
        title="evaluation multiplies by (1-p) although training already rescales (inverted dropout)",
        hint=("With inverted dropout the 1/(1 - p) is applied in training, so evaluation (train=False) is "
              "exactly the identity: return a copy of x and a mask of ones."),
        overrides={"dropout_forward": _forward_eval_scaled},
        submission=(dropout_forward__eval_scaled),
    ),
    Mutant(
        id="dropout.dropout_backward.unscaled", exercise="dropout.dropout_backward",
        title="dropout backward zeroes the dropped units but forgets the 1/(1-p) scale",
        hint="out = x * mask, so dL/dx = dout * mask with the SAME mask (its kept entries are 1/(1 - p), not 1).",
        overrides={"dropout_backward": _backward_unscaled},
        submission=(dropout_backward__unscaled),
    ),
    Mutant(
        id="dropout.l2_penalty.no_half", exercise="dropout.l2_penalty",
        title="L2 penalty without the 1/2: lam * sum(w^2) instead of (lam/2) * sum(w^2)",
        hint="The course's L2 penalty is (lam / 2) * sum of squares, so that its gradient is simply lam * w.",
        overrides={"l2_penalty": _l2_penalty_no_half},
        submission=(l2_penalty__no_half),
    ),
    Mutant(
        id="dropout.l2_penalty.first_only", exercise="dropout.l2_penalty",
        title="L2 penalty computed on the first weight array only",
        hint="Sum the squares over EVERY array in the weights list (W1, W2, ...), then multiply by lam / 2.",
        overrides={"l2_penalty": _l2_penalty_first_only},
        submission=(l2_penalty__first_only),
    ),
    Mutant(
        id="dropout.l2_grad.doubled", exercise="dropout.l2_grad",
        title="L2 gradient 2 * lam * w (the derivative of lam * w^2, without the penalty's 1/2)",
        hint="The penalty is (lam / 2) * sum(w^2), whose derivative is lam * w.",
        overrides={"l2_grad": _l2_grad_doubled},
        submission=l2_grad__doubled,
    ),
    Mutant(
        id="dropout.l1_penalty.no_abs", exercise="dropout.l1_penalty",
        title="L1 penalty sums the weights instead of their absolute values",
        hint="L1 is lam * sum(|w|): take np.abs before summing, or negative weights cancel positive ones.",
        overrides={"l1_penalty": _l1_penalty_no_abs},
        submission=(l1_penalty__no_abs),
    ),
    Mutant(
        id="dropout.l1_grad.l2_rule", exercise="dropout.l1_grad",
        title="L1 gradient lam * w (the L2 rule) instead of lam * sign(w)",
        hint="d|w|/dw = sign(w): every weight gets the same push lam towards 0, whatever its size.",
        overrides={"l1_grad": _l1_grad_l2_rule},
        submission=l1_grad__l2_rule,
    ),
]
