"""Public checks of the activations assignment: released to students with their expected values frozen.

Fixed, readable inputs: one (2, 3) array of pre-activations holding a 0 (the kink of ReLU and
Leaky ReLU) and an upstream gradient that is not all ones. Leaky ReLU uses its default alpha
(0.01). The hidden checks (solutions only) repeat each exercise on seeded inputs.
"""

import numpy as np

from autograder.judge.checks import ValueCheck, fixed_inputs

Z = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
DOUT = np.array([[1.0, -2.0, 0.5], [3.0, -1.0, 2.0]])


CHECKS = [
    ValueCheck(
        name="tanh of a (2, 3) array", exercise="tanh", points=5,
        inputs=fixed_inputs(z=Z),
    ),
    ValueCheck(
        name="tanh_backward of a (2, 3) array", exercise="tanh_backward", points=5,
        inputs=fixed_inputs(dout=DOUT, z=Z),
    ),
    ValueCheck(
        name="relu of a (2, 3) array", exercise="relu", points=4,
        inputs=fixed_inputs(z=Z),
    ),
    ValueCheck(
        name="relu_backward of a (2, 3) array holding z = 0", exercise="relu_backward", points=5, inputs=fixed_inputs(dout=DOUT, z=Z),
    ),
    ValueCheck(
        name="leaky_relu with the default alpha", exercise="leaky_relu", points=4,
        inputs=fixed_inputs(z=Z),
    ),
    ValueCheck(
        name="leaky_relu_backward with the default alpha", exercise="leaky_relu_backward", points=5, inputs=fixed_inputs(dout=DOUT, z=Z),
    ),
]
