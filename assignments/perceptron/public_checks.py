"""Public checks of the perceptron assignment: released to students with their expected values frozen.

Fixed, readable inputs: the step function at and around 0, the course notes' AND example with the
default settings (it learns w = [0.4, 0.2], b = -0.4), and predictions with those weights. The
hidden checks (solutions only) repeat each exercise on seeded inputs.
"""

import numpy as np

from autograder.judge.checks import ValueCheck, fixed_inputs

GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND = np.array([0, 0, 0, 1])


CHECKS = [
    ValueCheck(
        name="step of a (2, 3) array holding a 0", exercise="step", points=8,
        inputs=fixed_inputs(z=np.array([[-2.0, -0.5, 0.0], [0.25, 1.0, 3.0]])), exact=True,
    ),
    ValueCheck(
        name="perceptron_fit learns AND with the defaults (epochs=50, lr=0.2)", exercise="perceptron_fit",
        points=10, inputs=fixed_inputs(X=GATE_X, y=AND),
    ),
    ValueCheck(
        name="perceptron_predict with the AND weights w=[0.4, 0.2], b=-0.4",
        exercise="perceptron_predict", points=7,
        inputs=fixed_inputs(X=GATE_X, w=np.array([0.4, 0.2]), b=-0.4), exact=True,
    ),
]
