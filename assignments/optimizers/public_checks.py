"""Public checks of the optimizers assignment: released to students with their expected values frozen.

Every optimizer check builds the optimizer, takes three steps on a copy of ``params`` with a
different gradient at each step, and compares the parameters after the last step with PyTorch's
rule. The parameters are a (2, 3) weight ``W`` and a bias ``b`` of shape (3,). The hyperparameters
are chosen so that the usual mistakes change the result: momentum 0.9, weight decay 0.1, betas
(0.8, 0.9) (a swap shows from the second step on), and eps = 0.1 with gradients of about 0.005,
where eps inside or outside the square root gives very different steps.
The hidden checks (solutions only) repeat each exercise on seeded random inputs.
"""

import numpy as np

from autograder.judge.checks import ValueCheck, fixed_inputs

PARAMS = {
    "W": np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]),
    "b": np.array([0.1, -0.2, 0.3]),
}
GRADS = [
    {"W": np.array([[0.2, -0.4, 1.0], [-0.6, 0.3, 0.5]]), "b": np.array([0.1, 0.5, -0.2])},
    {"W": np.array([[-0.1, 0.5, 0.8], [0.4, -0.2, 0.3]]), "b": np.array([-0.3, 0.2, 0.1])},
    {"W": np.array([[0.3, 0.1, -0.6], [0.2, 0.6, -0.1]]), "b": np.array([0.2, -0.1, 0.4])},
]
SMALL_GRADS = [{name: g / 100 for name, g in grads.items()} for grads in GRADS]

X7 = np.arange(14.0).reshape(7, 2)  # row i is [2i, 2i + 1]
Y7 = np.arange(7)  # the label of row i is i


def _run(optimizer, params, grads):
    """One step per gradient dict on ``params`` (a kept copy), which is returned."""
    for g in grads:
        optimizer.step(params, g)
    return params


def sgd_steps(ns, params, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    return _run(ns.SGD(lr, momentum, nesterov, weight_decay), ns.keep(params), grads)


def adagrad_steps(ns, params, grads, lr, eps, weight_decay=0.0):
    return _run(ns.Adagrad(lr, eps, weight_decay), ns.keep(params), grads)


def rmsprop_steps(ns, params, grads, lr, alpha, eps, weight_decay=0.0):
    return _run(ns.RMSProp(lr, alpha, eps, weight_decay), ns.keep(params), grads)


def adam_steps(ns, params, grads, lr, betas, eps, weight_decay=0.0):
    return _run(ns.Adam(lr, betas, eps, weight_decay), ns.keep(params), grads)


CHECKS = [
    ValueCheck(
        name="SGD: three plain steps", exercise="SGD", points=2,
        inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1), call=sgd_steps,
    ),
    ValueCheck(
        name="SGD with momentum 0.9: three steps", exercise="SGD", points=3,
        inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1, momentum=0.9), call=sgd_steps,
    ),
    ValueCheck(
        name="SGD with Nesterov momentum 0.9: three steps", exercise="SGD", points=3, inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1, momentum=0.9, nesterov=True),
        call=sgd_steps,
    ),
    ValueCheck(
        name="SGD with momentum 0.9 and weight_decay 0.1: three steps", exercise="SGD", points=3, inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1, momentum=0.9, weight_decay=0.1),
        call=sgd_steps,
    ),
    ValueCheck(
        name="Adagrad: three steps", exercise="Adagrad", points=3,
        inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1, eps=1e-10), call=adagrad_steps,
    ),
    ValueCheck(
        name="Adagrad with eps 0.1 and small gradients: three steps", exercise="Adagrad", points=3, inputs=fixed_inputs(params=PARAMS, grads=SMALL_GRADS, lr=0.1, eps=0.1), call=adagrad_steps,
    ),
    ValueCheck(
        name="RMSProp with alpha 0.9: three steps", exercise="RMSProp", points=3,
        inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.01, alpha=0.9, eps=1e-8), call=rmsprop_steps,
    ),
    ValueCheck(
        name="RMSProp with eps 0.1 and small gradients: three steps", exercise="RMSProp", points=3, inputs=fixed_inputs(params=PARAMS, grads=SMALL_GRADS, lr=0.1, alpha=0.9, eps=0.1),
        call=rmsprop_steps,
    ),
    ValueCheck(
        name="Adam with betas (0.8, 0.9): three steps", exercise="Adam", points=4,
        inputs=fixed_inputs(params=PARAMS, grads=GRADS, lr=0.1, betas=(0.8, 0.9), eps=1e-8), call=adam_steps,
    ),
    ValueCheck(
        name="Adam with eps 0.1 and small gradients: three steps", exercise="Adam", points=3, inputs=fixed_inputs(params=PARAMS, grads=SMALL_GRADS, lr=0.1, betas=(0.8, 0.9), eps=0.1),
        call=adam_steps,
    ),
    ValueCheck(
        name="minibatches: 7 samples in batches of 3, in order", exercise="minibatches", points=3, inputs=fixed_inputs(X=X7, y=Y7, batch_size=3),
    ),
    ValueCheck(
        name="minibatches: 7 samples in batches of 3, shuffled by rng(0)", exercise="minibatches",
        points=3, inputs=fixed_inputs(X=X7, y=Y7, batch_size=3, seed=0),
        call=lambda ns, X, y, batch_size, seed: ns.minibatches(X, y, batch_size, ns.rng(seed)),
    ),
]
