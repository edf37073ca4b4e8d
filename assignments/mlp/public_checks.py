"""Public checks of the mlp assignment: released to students with their expected values frozen.

Fixed, readable inputs: a network with D = 3 inputs, H = 4 hidden units and K = 2 outputs on a
batch of N = 5 samples (no two of these sizes equal, so a missing transpose cannot hide), and
non-zero, unequal parameters. The hidden checks repeat every exercise on seeded random inputs.
"""

import numpy as np

from autograder.judge.checks import GradientCheck, ValueCheck, fixed_inputs
from autograder.judge.compare import numeric_array

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-1.0, 1.0, 0.5], [2.0, -1.5, 1.0], [0.0, 0.5, -2.0]])
T = np.array([[0.9, 0.1], [0.1, 0.8], [0.8, 0.2], [0.2, 0.9], [0.1, 0.3]])
PARAMS = {
    "W1": np.array([[0.4, -0.7, 1.1, 0.2], [-0.3, 0.8, 0.5, -1.2], [0.9, 0.1, -0.6, 0.7]]),
    "b1": np.array([0.1, -0.2, 0.3, 0.05]),
    "W2": np.array([[1.5, -0.8], [-0.5, 1.0], [0.9, 0.3], [-1.0, 0.6]]),
    "b2": np.array([-0.1, 0.2]),
}


# loss returns a Python float by contract, so the float32 tolerances (chosen by the dtype returned)
# never apply to it: a student who computes in float32 is off by up to ~2e-7 relative (measured
# over 300 seeds). 1e-5 covers that; the loss mistakes of the catalogue are off by >= 50%.
LOSS_TOLERANCE = (1e-5, 1e-10)
# backward is given the reference's float64 cache, so a student who computes in float32 returns
# float64 gradients with float32 rounding inside (measured: < 1e-6 relative on these networks);
# 1e-5 covers it, and every backward mistake of the catalogue is off by more than 1e-2.
GRADIENT_TOLERANCE = (1e-5, 1e-9)


def half_squared_error(Y, X, T, params):
    """The trusted objective of the numeric gradient check: 0.5 * sum((Y - T)**2) / N."""
    Y = numeric_array(Y, "forward(X, params)[0]")[0]
    T = np.asarray(T, dtype=np.float64)
    if Y.shape != T.shape:
        raise ValueError(f"forward(X, params)[0] has shape {Y.shape}, expected {T.shape}")
    return 0.5 * np.sum((Y - T) ** 2) / T.shape[0]


def oracle_cache(ns, X, T, params):
    """The grading oracle's forward cache (X, A1, Y): backward is graded on it, so that a wrong forward
    never costs points in a correct backward (each function is graded on its own)."""
    return {"cache": ns.forward(X, params)[1]}


def gradient(name):
    """dL/d<name> from the submission's backward, on the reference's cache."""
    return lambda ns, X, T, params, cache: ns.backward(params, cache, T)[name]


def network_output(ns, X, T, params):
    return ns.forward(X, params)[0]


CHECKS = [
    ValueCheck(
        name="sigmoid of a (2, 4) array, up to |z| = 1000", exercise="sigmoid", points=3,
        inputs=fixed_inputs(z=np.array([[-1000.0, -10.0, -0.5, 0.0], [0.5, 2.0, 10.0, 1000.0]])),
    ),
    ValueCheck(
        name="sigmoid_backward of a (2, 3) array of activations", exercise="sigmoid_backward", points=3, inputs=fixed_inputs(a=np.array([[0.5, 0.1, 0.9], [0.25, 0.7, 0.99]])),
    ),
    ValueCheck(
        name="forward of a 3-4-2 network on 5 samples", exercise="forward", points=4,
        inputs=fixed_inputs(X=X, params=PARAMS), call=lambda ns, X, params: ns.forward(X, params)[0],
    ),
    ValueCheck(
        name="loss of a (4, 3) batch", exercise="loss", points=3,
        inputs=fixed_inputs(Y=np.array([[0.8, 0.3, 0.6], [0.2, 0.9, 0.4], [0.5, 0.1, 0.7], [0.6, 0.6, 0.2]]),
                      T=np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])), tolerance=LOSS_TOLERANCE,
    ),
    *[
        GradientCheck(
            name=f"backward: d{name} of the 3-4-2 network", exercise="backward", points=3, inputs=fixed_inputs(X=X, T=T, params=PARAMS), wrt=("params", name),
            analytic=gradient(name), given=oracle_cache, forward=network_output, objective=half_squared_error,
            tolerance=GRADIENT_TOLERANCE,
        )
        for name in ("W1", "b1", "W2", "b2")
    ],
    ValueCheck(
        name="train: 5 epochs of the 3-4-2 network at lr 0.5", exercise="train", points=5, inputs=fixed_inputs(X=X, T=T, params=PARAMS, epochs=5, lr=0.5),
        # train returns float64 by contract, so a student who computes in float32 inside is
        # graded at float64 tolerances unless told otherwise: 1e-5 covers float32 rounding over
        # a few epochs (measured: < 4e-7), and every mistake in the catalogue is off by > 1e-2.
        tolerance=(1e-5, 1e-6),
    ),
]
