"""Public checks of the losses assignment: released to students with their expected values frozen.

Fixed, readable inputs; the hidden checks (solutions only) repeat each exercise on seeded inputs.
"""

import numpy as np

from autograder.judge.checks import ValueCheck, fixed_inputs

LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
LABELS = np.array([0, 1])


CHECKS = [
    ValueCheck(
        name="softmax of two rows of logits", exercise="softmax", points=5,
        inputs=fixed_inputs(z=LOGITS),
    ),
    ValueCheck(
        name="log_softmax of two rows of logits", exercise="log_softmax", points=5,
        inputs=fixed_inputs(z=LOGITS),
    ),
    ValueCheck(
        name="cross_entropy with class labels", exercise="cross_entropy", points=5,
        inputs=fixed_inputs(logits=LOGITS, y=LABELS),
    ),
    ValueCheck(
        name="cross_entropy_grad with class labels", exercise="cross_entropy_grad", points=5, inputs=fixed_inputs(logits=LOGITS, y=LABELS),
    ),
    ValueCheck(
        name="binary_cross_entropy of probabilities", exercise="binary_cross_entropy", points=4, inputs=fixed_inputs(p=np.array([0.9, 0.2, 0.7]), y=np.array([1.0, 0.0, 0.0])),
    ),
    ValueCheck(
        name="binary_cross_entropy_with_logits", exercise="binary_cross_entropy_with_logits", points=4, inputs=fixed_inputs(z=np.array([2.0, -1.0, 0.5]), y=np.array([1.0, 0.0, 0.0])),
    ),
    ValueCheck(
        name="mse_loss of a (2, 2) batch", exercise="mse_loss", points=4,
        inputs=fixed_inputs(y_hat=np.array([[1.0, 2.0], [3.0, 5.0]]), y=np.array([[1.5, 2.0], [2.0, 4.0]])),
    ),
]
