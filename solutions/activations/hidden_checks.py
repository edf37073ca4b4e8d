"""Hidden checks of the activations assignment.

Seeded random inputs; tanh at |z| of 30, 710 and 1000 (a naive exp formula gives NaN there);
gradients checked against central differences of the student's own forward, with every z at
least 0.05 away from the kink at 0 (and upstream gradients of magnitude 0.5 to 2, so the
finite-difference rounding stays far below the threshold); the conventions at exactly z = 0
and -0.0 (relu'(0) = 0, leaky_relu'(0) = alpha) as separate value checks; Leaky ReLU with
alpha = 0.2, so a hard-coded 0.01 shows; and the classic in-place edits of z or dout.
"""

import numpy as np

from autograder.judge.checks import GradientCheck, ValueCheck
from autograder.judge import compare

ALPHA = 0.2
SHAPE = (2, 4)
LARGE = np.array([1000.0, -1000.0, 710.0, -710.0, 30.0, -30.0])


# ---------------------------------------------------------------- inputs

def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _away_from_kink(rng, shape=SHAPE, low=0.05, high=2.5):
    return _signs(rng, shape) * rng.uniform(low, high, size=shape)


def _upstream(rng, shape=SHAPE):
    """A non-constant upstream gradient, |dout| in [0.5, 2] (a backward that ignores it fails)."""
    return _signs(rng, shape) * rng.uniform(0.5, 2.0, size=shape)


def _gradient_inputs(rng, **extra):
    return {"dout": _upstream(rng), "z": _away_from_kink(rng), **extra}


def _at_the_kink(rng, **extra):
    """z with exact zeros and -0.0 among values away from 0."""
    z = _away_from_kink(rng, (4, 5))
    z[0, 0], z[1, 3], z[2, 1], z[3, 4] = 0.0, -0.0, 0.0, -0.0
    z[rng.random(z.shape) < 0.15] = 0.0
    return {"dout": _upstream(rng, z.shape), "z": z, **extra}


def _large(rng):
    """tanh's saturated range next to ordinary values: one row of extremes, one of random z."""
    return np.vstack([LARGE, rng.uniform(-3.0, 3.0, LARGE.size)])


def _objective(output, dout, z, **_):
    """sum(dout * f(z)): its gradient with respect to z is exactly what *_backward returns."""
    values, _ = compare.numeric_array(output, "the forward output")
    if values.shape != np.shape(dout):
        raise ValueError(f"the forward output has shape {values.shape}, expected {np.shape(dout)}")
    return float(np.sum(np.asarray(dout, dtype=np.float64) * values))


CHECKS = [
    # ------------------------------------------------------------ tanh
    ValueCheck(name="tanh of random values", exercise="tanh", points=6,
               description="tanh of a seeded random (4, 6) array",
               inputs=lambda rng: {"z": rng.standard_normal((4, 6)) * 2.5}),
    ValueCheck(name="tanh at |z| up to 1000", exercise="tanh", points=6,
               description="tanh of +-1000, +-710 and +-30 (exactly +-1, no NaN or overflow) next to ordinary values",
               inputs=lambda rng: {"z": _large(rng)}),
    GradientCheck(name="tanh_backward against central differences", exercise="tanh_backward", points=6,
                  description="tanh_backward on seeded random (2, 4) inputs, against central differences of your "
                              "tanh and against the reference",
                  inputs=_gradient_inputs, wrt=("z",),
                  analytic=lambda ns, dout, z: ns.tanh_backward(dout, z),
                  forward=lambda ns, dout, z: ns.tanh(z), objective=_objective),
    ValueCheck(name="tanh_backward at |z| up to 1000", exercise="tanh_backward", points=4,
               description="tanh_backward where tanh saturates (the gradient vanishes: exactly 0, no NaN)",
               inputs=lambda rng: {"dout": _upstream(rng, (2, LARGE.size)), "z": _large(rng)}),
    # ------------------------------------------------------------ relu
    ValueCheck(name="relu of random values", exercise="relu", points=6,
               description="relu of a seeded random (2, 3, 4) array",
               inputs=lambda rng: {"z": rng.standard_normal((2, 3, 4)) * 2.0}),
    GradientCheck(name="relu_backward against central differences", exercise="relu_backward", points=7,
                  description="relu_backward on seeded random (2, 4) inputs away from z = 0, against central "
                              "differences of your relu and against the reference",
                  inputs=_gradient_inputs, wrt=("z",),
                  analytic=lambda ns, dout, z: ns.relu_backward(dout, z),
                  forward=lambda ns, dout, z: ns.relu(z), objective=_objective),
    ValueCheck(name="relu_backward at exactly z = 0", exercise="relu_backward", points=5,
               description="relu_backward where z is exactly 0 or -0.0 (the derivative there is 0, as in PyTorch)",
               inputs=_at_the_kink),
    # ------------------------------------------------------------ leaky relu
    ValueCheck(name="leaky_relu of random values with alpha = 0.2", exercise="leaky_relu", points=7,
               description="leaky_relu of a seeded random (2, 3, 4) array with alpha = 0.2",
               inputs=lambda rng: {"z": rng.standard_normal((2, 3, 4)) * 2.0, "alpha": ALPHA}),
    GradientCheck(name="leaky_relu_backward against central differences with alpha = 0.2",
                  exercise="leaky_relu_backward", points=8,
                  description="leaky_relu_backward with alpha = 0.2 on seeded random (2, 4) inputs away from "
                              "z = 0, against central differences of your leaky_relu and against the reference",
                  inputs=lambda rng: _gradient_inputs(rng, alpha=ALPHA), wrt=("z",),
                  analytic=lambda ns, dout, z, alpha: ns.leaky_relu_backward(dout, z, alpha),
                  forward=lambda ns, dout, z, alpha: ns.leaky_relu(z, alpha), objective=_objective),
    ValueCheck(name="leaky_relu_backward at exactly z = 0 with alpha = 0.2",
               exercise="leaky_relu_backward", points=5,
               description="leaky_relu_backward with alpha = 0.2 where z is exactly 0 or -0.0 (the derivative "
                           "there is alpha, as in PyTorch)",
               inputs=lambda rng: _at_the_kink(rng, alpha=ALPHA)),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
CONTRACT_INPUTS = {
    "tanh": lambda rng: {"z": _away_from_kink(rng)},
    "tanh_backward": _gradient_inputs,
    "relu": lambda rng: {"z": _away_from_kink(rng)},
    "relu_backward": _gradient_inputs,
    "leaky_relu": lambda rng: {"z": _away_from_kink(rng), "alpha": ALPHA},
    "leaky_relu_backward": lambda rng: _gradient_inputs(rng, alpha=ALPHA),
}
