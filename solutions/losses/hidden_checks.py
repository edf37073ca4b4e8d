"""Hidden checks of the losses assignment: seeded random inputs and the discriminating extremes
(logits of +-1000, BCE at exactly 0 and 1, non-square batches, probability targets)."""

import numpy as np

from autograder.judge.checks import ValueCheck


def _logits(rng, n=5, c=4, scale=3.0):
    return rng.standard_normal((n, c)) * scale


def _probabilities(rng, n=5, c=4):
    weights = rng.random((n, c)) + 0.1
    return weights / weights.sum(axis=1, keepdims=True)


EXTREME = np.array([[1000.0, 0.0, -5.0], [0.0, -1000.0, 3.0], [1000.0, 999.0, -1000.0]])

CHECKS = [
    ValueCheck(name="softmax of random logits", exercise="softmax", points=5,
               description="softmax of seeded random (N, C) logits, N != C",
               inputs=lambda rng: {"z": _logits(rng)}),
    ValueCheck(name="softmax of logits of +-1000", exercise="softmax", points=4,
               description="softmax of logits of size 1000 (numerical stability)",
               inputs=lambda rng: {"z": EXTREME}),
    ValueCheck(name="softmax along axis 0", exercise="softmax", points=2,
               description="softmax with axis=0 on a non-square array",
               inputs=lambda rng: {"z": _logits(rng, 3, 6)}, call=lambda ns, z: ns.softmax(z, axis=0)),
    ValueCheck(name="log_softmax of random logits", exercise="log_softmax", points=4,
               description="log_softmax of seeded random (N, C) logits",
               inputs=lambda rng: {"z": _logits(rng)}),
    ValueCheck(name="log_softmax of logits of +-1000", exercise="log_softmax", points=4,
               description="log_softmax of logits of size 1000 (numerical stability)",
               inputs=lambda rng: {"z": EXTREME}),
    ValueCheck(name="cross_entropy of random logits", exercise="cross_entropy", points=4,
               description="mean cross-entropy of seeded random logits with class labels",
               inputs=lambda rng: {"logits": _logits(rng), "y": rng.integers(0, 4, 5)}),
    ValueCheck(name="cross_entropy of logits of +-1000", exercise="cross_entropy", points=4,
               description="cross-entropy of logits of size 1000 (must be finite and exact)",
               inputs=lambda rng: {"logits": EXTREME, "y": np.array([1, 1, 2])}),
    ValueCheck(name="cross_entropy with probability targets", exercise="cross_entropy", points=3,
               description="cross-entropy with (N, C) target probabilities",
               inputs=lambda rng: {"logits": _logits(rng), "y": _probabilities(rng)}),
    ValueCheck(name="cross_entropy_grad of random logits", exercise="cross_entropy_grad", points=4,
               description="cross-entropy gradient for seeded random logits with class labels",
               inputs=lambda rng: {"logits": _logits(rng), "y": rng.integers(0, 4, 5)}),
    ValueCheck(name="cross_entropy_grad with probability targets", exercise="cross_entropy_grad",
               points=3, description="cross-entropy gradient with (N, C) target probabilities",
               inputs=lambda rng: {"logits": _logits(rng), "y": _probabilities(rng)}),
    ValueCheck(name="binary_cross_entropy of random probabilities", exercise="binary_cross_entropy",
               points=3, description="BCE of seeded random probabilities and 0/1 targets",
               inputs=lambda rng: {"p": rng.uniform(0.05, 0.95, (4, 3)), "y": rng.integers(0, 2, (4, 3)).astype(float)}),
    ValueCheck(name="binary_cross_entropy at exactly 0 and 1", exercise="binary_cross_entropy", points=4,
               description="BCE with predictions of exactly 0 and 1 (the logs are clamped at -100)",
               inputs=lambda rng: {"p": np.array([0.0, 1.0, 1.0, 0.0, 0.5]), "y": np.array([0.0, 1.0, 0.0, 1.0, 1.0])}),
    ValueCheck(name="binary_cross_entropy_with_logits of random logits",
               exercise="binary_cross_entropy_with_logits", points=3,
               description="BCE with logits, seeded random logits and targets",
               inputs=lambda rng: {"z": rng.standard_normal((4, 3)) * 4, "y": rng.integers(0, 2, (4, 3)).astype(float)}),
    ValueCheck(name="binary_cross_entropy_with_logits of logits of +-1000",
               exercise="binary_cross_entropy_with_logits", points=4,
               description="BCE with logits of size 1000 (numerical stability)",
               inputs=lambda rng: {"z": np.array([1000.0, -1000.0, 1000.0, -1000.0, 40.0]),
                                   "y": np.array([1.0, 0.0, 0.0, 1.0, 0.3])}),
    ValueCheck(name="mse_loss of a random non-square batch", exercise="mse_loss", points=3,
               description="MSE of seeded random (N, K) predictions, N != K",
               inputs=lambda rng: {"y_hat": rng.standard_normal((5, 3)), "y": rng.standard_normal((5, 3))}),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
CONTRACT_INPUTS = {
    "softmax": lambda rng: {"z": _logits(rng)},
    "log_softmax": lambda rng: {"z": _logits(rng)},
    "cross_entropy": lambda rng: {"logits": _logits(rng), "y": rng.integers(0, 4, 5)},
    "cross_entropy_grad": lambda rng: {"logits": _logits(rng), "y": rng.integers(0, 4, 5)},
    "binary_cross_entropy": lambda rng: {"p": rng.uniform(0.05, 0.95, (4, 3)),
                                         "y": rng.integers(0, 2, (4, 3)).astype(float)},
    "binary_cross_entropy_with_logits": lambda rng: {"z": rng.standard_normal((4, 3)) * 4,
                                                     "y": rng.integers(0, 2, (4, 3)).astype(float)},
    "mse_loss": lambda rng: {"y_hat": rng.standard_normal((5, 3)), "y": rng.standard_normal((5, 3))},
}
