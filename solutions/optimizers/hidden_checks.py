"""Hidden checks of the optimizers assignment: seeded random trajectories and the discriminating cases.

Every trajectory takes 5 steps on two non-square parameters, W1 (4, 3) and W2 (3, 2), with a fresh
random gradient at each step (grading-facts, sections 2-3): momentum 0.9 with and without
Nesterov, weight decay 0.1, betas (0.8, 0.9), RMSProp alpha 0.9, eps 0.1 with gradients of about
0.01, and the default hyperparameters with gradients of about 1e-7 (where a wrong default eps
shows). Probes check that ``step`` updates the very arrays of ``params`` in place, leaves
``grads`` alone and keeps float32 parameters float32. ``minibatches`` is checked on N = 23 samples
in batches of 5 (the last batch partial), with and without an rng, on N = 20 (B divides N), and
for its use of randomness.
"""

import numpy as np

from autograder.judge.session import Rng
from autograder.judge.checks import BehaviourCheck, ValueCheck
from autograder.judge.families import (
    optimizer_keeps_float32, optimizer_updates_in_place, uses_only_given_rng,
)

STEPS = 5
SHAPES = {"W1": (4, 3), "W2": (3, 2)}


def _params(rng, dtype=np.float64):
    return {name: rng.standard_normal(shape).astype(dtype) for name, shape in SHAPES.items()}


def _grads(rng, scale=1.0, steps=STEPS, dtype=np.float64):
    return [{name: (scale * rng.standard_normal(shape)).astype(dtype) for name, shape in SHAPES.items()}
            for _ in range(steps)]


def _draw(scale=1.0, dtype=np.float64, **hyper):
    """Random params and STEPS random gradients of about ``scale``, plus fixed hyperparameters."""
    return lambda rng: {"params": _params(rng, dtype), "grads": _grads(rng, scale, dtype=dtype), **hyper}


def _run(optimizer, params, grads):
    for g in grads:
        optimizer.step(params, g)
    return params


def sgd_steps(ns, params, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    return _run(ns.SGD(lr, momentum, nesterov, weight_decay), ns.keep(params), grads)


def adagrad_steps(ns, params, grads, lr=None, eps=None, weight_decay=0.0):
    optimizer = ns.Adagrad() if lr is None else ns.Adagrad(lr, eps, weight_decay)
    return _run(optimizer, ns.keep(params), grads)


def rmsprop_steps(ns, params, grads, lr=None, alpha=None, eps=None, weight_decay=0.0):
    optimizer = ns.RMSProp() if lr is None else ns.RMSProp(lr, alpha, eps, weight_decay)
    return _run(optimizer, ns.keep(params), grads)


def adam_steps(ns, params, grads, lr=None, betas=None, eps=None, weight_decay=0.0):
    optimizer = ns.Adam() if lr is None else ns.Adam(lr, betas, eps, weight_decay)
    return _run(optimizer, ns.keep(params), grads)


def _sgd(ns, **hyper):
    return ns.SGD(hyper["lr"], hyper["momentum"], hyper["nesterov"], hyper["weight_decay"])


def _adagrad(ns, **hyper):
    return ns.Adagrad(hyper["lr"], hyper["eps"], hyper["weight_decay"])


def _rmsprop(ns, **hyper):
    return ns.RMSProp(hyper["lr"], hyper["alpha"], hyper["eps"], hyper["weight_decay"])


def _adam(ns, **hyper):
    return ns.Adam(hyper["lr"], hyper["betas"], hyper["eps"], hyper["weight_decay"])


SGD_HYPER = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}
ADAGRAD_HYPER = {"lr": 0.1, "eps": 1e-10, "weight_decay": 0.1}
RMSPROP_HYPER = {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.1}
ADAM_HYPER = {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.1}


# ---------------------------------------------------------------- minibatches

def _data(n, features=4, classes=5):
    return lambda rng: {"X": rng.standard_normal((n, features)), "y": rng.integers(0, classes, n)}


def _data_and_seed(n):
    def draw(rng):
        return {**_data(n)(rng), "seed": int(rng.integers(2**31))}
    return draw


CHECKS = [
    # SGD
    ValueCheck(name="SGD with momentum 0.9 on random gradients", exercise="SGD", points=3,
               description="5 SGD steps with momentum 0.9 on seeded random (4, 3) and (3, 2) parameters",
               inputs=_draw(lr=0.1, momentum=0.9), call=sgd_steps),
    ValueCheck(name="SGD with Nesterov momentum and weight decay on random gradients", exercise="SGD",
               points=3, description="5 SGD steps with Nesterov momentum 0.9 and weight_decay 0.1",
               inputs=_draw(**SGD_HYPER), call=sgd_steps),
    ValueCheck(name="SGD without momentum, with weight decay", exercise="SGD", points=2,
               description="5 plain SGD steps (no momentum) with weight_decay 0.1",
               inputs=_draw(lr=0.1, weight_decay=0.1), call=sgd_steps),
    BehaviourCheck(name="SGD.step updates params in place and leaves grads unchanged", exercise="SGD",
                   points=2, description="SGD.step must update the arrays of params in place and not modify grads",
                   probe=optimizer_updates_in_place(_draw(**SGD_HYPER), _sgd)),
    BehaviourCheck(name="SGD with float32 parameters", exercise="SGD", points=2,
                   description="3 SGD steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=optimizer_keeps_float32(_draw(dtype=np.float32, **SGD_HYPER), _sgd)),
    # Adagrad
    ValueCheck(name="Adagrad with weight decay on random gradients", exercise="Adagrad", points=3,
               description="5 Adagrad steps (lr 0.1, weight_decay 0.1) on seeded random parameters",
               inputs=_draw(**ADAGRAD_HYPER), call=adagrad_steps),
    ValueCheck(name="Adagrad with eps 0.1 and small random gradients", exercise="Adagrad", points=3,
               description="5 Adagrad steps with eps 0.1 and gradients of about 0.01 (where eps goes matters)",
               inputs=_draw(scale=0.01, lr=0.1, eps=0.1), call=adagrad_steps),
    ValueCheck(name="Adagrad with the default hyperparameters", exercise="Adagrad", points=2,
               description="5 steps of Adagrad() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=adagrad_steps),
    BehaviourCheck(name="Adagrad.step updates params in place and leaves grads unchanged",
                   exercise="Adagrad", points=2,
                   description="Adagrad.step must update the arrays of params in place and not modify grads",
                   probe=optimizer_updates_in_place(_draw(**ADAGRAD_HYPER), _adagrad)),
    BehaviourCheck(name="Adagrad with float32 parameters", exercise="Adagrad", points=2,
                   description="3 Adagrad steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=optimizer_keeps_float32(_draw(dtype=np.float32, **ADAGRAD_HYPER), _adagrad)),
    # RMSProp
    ValueCheck(name="RMSProp with alpha 0.9 and weight decay on random gradients", exercise="RMSProp",
               points=3, description="5 RMSProp steps with alpha 0.9 and weight_decay 0.1 on seeded random parameters",
               inputs=_draw(**RMSPROP_HYPER), call=rmsprop_steps),
    ValueCheck(name="RMSProp with eps 0.1 and small random gradients", exercise="RMSProp", points=3,
               description="5 RMSProp steps with alpha 0.9, eps 0.1 and gradients of about 0.01",
               inputs=_draw(scale=0.01, lr=0.1, alpha=0.9, eps=0.1), call=rmsprop_steps),
    ValueCheck(name="RMSProp with the default hyperparameters", exercise="RMSProp", points=3,
               description="5 steps of RMSProp() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=rmsprop_steps),
    BehaviourCheck(name="RMSProp.step updates params in place and leaves grads unchanged",
                   exercise="RMSProp", points=2,
                   description="RMSProp.step must update the arrays of params in place and not modify grads",
                   probe=optimizer_updates_in_place(_draw(**RMSPROP_HYPER), _rmsprop)),
    BehaviourCheck(name="RMSProp with float32 parameters", exercise="RMSProp", points=2,
                   description="3 RMSProp steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=optimizer_keeps_float32(_draw(dtype=np.float32, **RMSPROP_HYPER), _rmsprop)),
    # Adam
    ValueCheck(name="Adam with betas (0.8, 0.9) on random gradients", exercise="Adam", points=3,
               description="5 Adam steps with betas (0.8, 0.9) on seeded random (4, 3) and (3, 2) parameters",
               inputs=_draw(lr=0.05, betas=(0.8, 0.9), eps=1e-8), call=adam_steps),
    ValueCheck(name="Adam with eps 0.1 and small random gradients", exercise="Adam", points=3,
               description="5 Adam steps with eps 0.1 and gradients of about 0.01 (where eps goes matters)",
               inputs=_draw(scale=0.01, lr=0.05, betas=(0.8, 0.9), eps=0.1), call=adam_steps),
    ValueCheck(name="Adam with weight decay on random gradients", exercise="Adam", points=3,
               description="5 Adam steps with weight_decay 0.1 (L2 added to the gradient, not AdamW)",
               inputs=_draw(**ADAM_HYPER), call=adam_steps),
    ValueCheck(name="Adam with the default hyperparameters", exercise="Adam", points=2,
               description="5 steps of Adam() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=adam_steps),
    BehaviourCheck(name="Adam.step updates params in place and leaves grads unchanged", exercise="Adam",
                   points=2, description="Adam.step must update the arrays of params in place and not modify grads",
                   probe=optimizer_updates_in_place(_draw(**ADAM_HYPER), _adam)),
    BehaviourCheck(name="Adam with float32 parameters", exercise="Adam", points=2,
                   description="3 Adam steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=optimizer_keeps_float32(_draw(dtype=np.float32, **ADAM_HYPER), _adam)),
    # minibatches
    ValueCheck(name="minibatches of 23 random samples in batches of 5, in order", exercise="minibatches",
               points=3, description="the batches of seeded random X (23, 4) and integer labels y, batch_size 5, "
                                     "no rng (original order, last batch partial)",
               inputs=_data(23), call=lambda ns, X, y: ns.minibatches(X, y, 5)),
    ValueCheck(name="minibatches of 23 random samples in batches of 5, shuffled", exercise="minibatches",
               points=3, description="the batches of seeded random X (23, 4) and labels y, batch_size 5, with a "
                                     "seeded rng (order rng.permutation(N), rows and labels together)",
               inputs=_data_and_seed(23), call=lambda ns, X, y, seed: ns.minibatches(X, y, 5, ns.rng(seed))),
    ValueCheck(name="minibatches when the batch size divides N", exercise="minibatches", points=3,
               description="20 samples in batches of 5, shuffled: exactly 4 full batches",
               inputs=_data_and_seed(20), call=lambda ns, X, y, seed: ns.minibatches(X, y, 5, ns.rng(seed))),
    BehaviourCheck(name="minibatches uses only the rng it is given", exercise="minibatches", points=2,
                   description="the shuffled order comes from the rng argument alone (not np.random or random)",
                   probe=uses_only_given_rng(_data(50), lambda ns, rng, X, y: ns.minibatches(X, y, 7, rng)[0][1])),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
CONTRACT_INPUTS = {
    "minibatches": lambda rng: {**_data(23)(rng), "batch_size": 5, "rng": Rng(int(rng.integers(2**31)))},
}
