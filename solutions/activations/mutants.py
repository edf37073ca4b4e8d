"""Known mistakes in the activations assignment (hidden): torch variants of the reference, and the
same mistake in NumPy (``submission``) for the project's tests."""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor

reference = load_sibling(__file__, "reference")


def _tanh_naive(z, device=None, dtype=DEFAULT_DTYPE):
    z = as_tensor(z, device, dtype)
    return (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))


def _tanh_backward_at_z(dout, z, device=None, dtype=DEFAULT_DTYPE):
    z = as_tensor(z, device, dtype)
    return as_tensor(dout, device, dtype) * (1 - z * z)


def _relu_backward_at_zero(dout, z, device=None, dtype=DEFAULT_DTYPE):
    dout, z = as_tensor(dout, device, dtype), as_tensor(z, device, dtype)
    return torch.where(z >= 0, dout, torch.zeros_like(dout))


def _relu_backward_mask(dout, z, device=None, dtype=DEFAULT_DTYPE):
    return (as_tensor(z, device, dtype) > 0).to(dtype)


def _leaky_relu_fixed_alpha(z, alpha=0.01, device=None, dtype=DEFAULT_DTYPE):
    return reference.leaky_relu(z, 0.01, device=device, dtype=dtype)


def _leaky_relu_backward_dead(dout, z, alpha=0.01, device=None, dtype=DEFAULT_DTYPE):
    return reference.relu_backward(dout, z, device=device, dtype=dtype)


def _leaky_relu_backward_at_zero(dout, z, alpha=0.01, device=None, dtype=DEFAULT_DTYPE):
    dout, z = as_tensor(dout, device, dtype), as_tensor(z, device, dtype)
    return torch.where(z >= 0, dout, alpha * dout)



# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "activations")


# activations.tanh.naive_exp: tanh computed as (e^z - e^-z) / (e^z + e^-z): overflows to NaN for large |z|
def tanh__naive_exp(z):
    z = np.asarray(z, dtype=float)
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


# activations.tanh_backward.derivative_at_z: tanh_backward uses 1 - z**2 instead of 1 - tanh(z)**2
def tanh_backward__derivative_at_z(dout, z):
    z = np.asarray(z, dtype=float)
    return np.asarray(dout, dtype=float) * (1 - z ** 2)


# activations.relu_backward.passes_at_zero: relu_backward passes the gradient at z = 0 (z >= 0 instead of z > 0)
def relu_backward__passes_at_zero(dout, z):
    return np.where(np.asarray(z) >= 0, np.asarray(dout, dtype=float), 0.0)


# activations.relu_backward.mask_only: relu_backward returns the local derivative (the 0/1 mask) without multiplying by dout
def relu_backward__mask_only(dout, z):
    return (np.asarray(z) > 0).astype(float)


# activations.leaky_relu.alpha_ignored: leaky_relu ignores its alpha argument (always uses 0.01)
def leaky_relu__alpha_ignored(z, alpha=0.01):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.01 * z)


# activations.leaky_relu_backward.dead_negative_side: leaky_relu_backward gives the negative side slope 0 instead of alpha (that is ReLU's derivative)
def leaky_relu_backward__dead_negative_side(dout, z, alpha=0.01):
    return np.where(np.asarray(z) > 0, np.asarray(dout, dtype=float), 0.0)


# activations.leaky_relu_backward.slope_one_at_zero: leaky_relu_backward uses slope 1 at z = 0 (z >= 0 instead of z > 0)
def leaky_relu_backward__slope_one_at_zero(dout, z, alpha=0.01):
    dout = np.asarray(dout, dtype=float)
    return np.where(np.asarray(z) >= 0, dout, alpha * dout)


MUTANTS = [
    Mutant(
        id="activations.tanh.naive_exp", exercise="activations.tanh",
        title="tanh computed as (e^z - e^-z) / (e^z + e^-z): overflows to NaN for large |z|",
        hint="e^710 is inf in float64 and inf / inf is NaN. Exponentiate only -2|z| <= 0: "
             "tanh(z) = sign(z) (1 - e^(-2|z|)) / (1 + e^(-2|z|)), with np.expm1 for the numerator.",
        overrides={"tanh": _tanh_naive},
        submission=(tanh__naive_exp),
        affects=("activations.tanh", "activations.tanh_backward"),  # the model answer's backward calls tanh
    ),
    Mutant(
        id="activations.tanh_backward.derivative_at_z", exercise="activations.tanh_backward",
        title="tanh_backward uses 1 - z**2 instead of 1 - tanh(z)**2",
        hint="tanh'(z) = 1 - tanh(z)^2: the formula is in terms of the activation a = tanh(z), so compute "
             "a = tanh(z) first and return dout * (1 - a**2).",
        overrides={"tanh_backward": _tanh_backward_at_z},
        submission=(tanh_backward__derivative_at_z),
    ),
    Mutant(
        id="activations.relu_backward.passes_at_zero", exercise="activations.relu_backward",
        title="relu_backward passes the gradient at z = 0 (z >= 0 instead of z > 0)",
        hint="At the kink z = 0 PyTorch takes the derivative as 0: keep dout only where z > 0 (strictly).",
        overrides={"relu_backward": _relu_backward_at_zero},
        submission=(relu_backward__passes_at_zero),
    ),
    Mutant(
        id="activations.relu_backward.mask_only", exercise="activations.relu_backward",
        title="relu_backward returns the local derivative (the 0/1 mask) without multiplying by dout",
        hint="The chain rule: dL/dz = dL/da * f'(z). Multiply the mask (z > 0) by the upstream gradient dout.",
        overrides={"relu_backward": _relu_backward_mask},
        submission=relu_backward__mask_only,
    ),
    Mutant(
        id="activations.leaky_relu.alpha_ignored", exercise="activations.leaky_relu",
        title="leaky_relu ignores its alpha argument (always uses 0.01)",
        hint="Use the alpha passed in (z where z > 0, else alpha * z); 0.01 is only its default value.",
        overrides={"leaky_relu": _leaky_relu_fixed_alpha},
        submission=(leaky_relu__alpha_ignored),
        # leaky_relu_backward's gradient check differentiates the student's own leaky_relu
        affects=("activations.leaky_relu", "activations.leaky_relu_backward"),
    ),
    Mutant(
        id="activations.leaky_relu_backward.dead_negative_side", exercise="activations.leaky_relu_backward",
        title="leaky_relu_backward gives the negative side slope 0 instead of alpha (that is ReLU's derivative)",
        hint="For z <= 0 the local derivative of leaky ReLU is alpha, so dL/dz = alpha * dout there.",
        overrides={"leaky_relu_backward": _leaky_relu_backward_dead},
        submission=(leaky_relu_backward__dead_negative_side),
    ),
    Mutant(
        id="activations.leaky_relu_backward.slope_one_at_zero", exercise="activations.leaky_relu_backward",
        title="leaky_relu_backward uses slope 1 at z = 0 (z >= 0 instead of z > 0)",
        hint="At the kink z = 0 PyTorch takes the derivative as alpha: pass dout unchanged only where z > 0.",
        overrides={"leaky_relu_backward": _leaky_relu_backward_at_zero},
        submission=(leaky_relu_backward__slope_one_at_zero),
    ),
]
