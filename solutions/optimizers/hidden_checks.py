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

from autograder.judge.checks import (
    BehaviourCheck, OneFetchProbe, ValueCheck, leaves_inputs_unchanged, uses_only_given_rng,
)
from autograder.judge.compare import Rejected, compare_values, numeric_array

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


# ---------------------------------------------------------------- probes

def _arrays(value, what):
    """A fetched params dict as {name: (float64 array, precision)}; Rejected when it is not one."""
    if not isinstance(value, dict) or set(value) != set(SHAPES):
        raise Rejected(f"{what} is no longer a dict with the keys {sorted(SHAPES)}")
    return {name: numeric_array(value[name], f"{what}[{name!r}]") for name in SHAPES}


def updates_in_place(make, hyper):
    """A probe: three steps of ``make(ns, **hyper)`` change the original arrays of params, not grads
    (one round trip: params, the arrays they held and the grads are fetched together)."""
    draw = _draw(**hyper)

    def ask(trial):
        inputs = trial.inputs(draw)
        ns = trial.student
        params = ns.keep(inputs["params"])
        originals = {name: ns.keep(params[name]) for name in SHAPES}  # the very array objects
        grads = [ns.keep(g) for g in inputs["grads"][:3]]
        optimizer = make(ns, **hyper)
        for g in grads:
            optimizer.step(params, g)
        return (params, originals, grads), inputs

    def judge(trial, inputs, fetched):
        after, held, grads_after = fetched
        try:
            after = _arrays(after, "params")
            held = _arrays(held, "the original arrays")
        except Rejected as rejection:
            return str(rejection)
        for name in SHAPES:
            start = inputs["params"][name]
            if np.array_equal(after[name][0], start):
                return (f"params[{name!r}] is unchanged after three steps: step must update the arrays "
                        "of params in place (p -= ...)")
            if np.array_equal(held[name][0], start):
                return (f"step replaced params[{name!r}] by a new array instead of updating it in place: "
                        "the model still holds the old array; write p -= ... or p[...] = ...")
            if not np.array_equal(held[name][0], after[name][0], equal_nan=True):
                return f"params[{name!r}] no longer holds the array it held before the steps"
        for g, kept in zip(inputs["grads"], grads_after):
            comparison = compare_values(kept, g, "grads", exact=True)
            if not comparison.ok:
                return "step modified grads in place; compute the update in new arrays and leave grads alone"
        return None

    return OneFetchProbe(ask, judge)


def keeps_float32(make, hyper):
    """A probe: float32 params stay the same float32 arrays, with the reference's values after 3 steps
    (one round trip)."""
    draw = _draw(dtype=np.float32, **hyper)

    def ask(trial):
        inputs = trial.inputs(draw)
        grads = inputs["grads"][:3]
        expected = trial.expected(lambda ns: _run(make(ns, **hyper), ns.keep(inputs["params"]), grads))
        ns = trial.student
        params = ns.keep(inputs["params"])
        originals = {name: ns.keep(params[name]) for name in SHAPES}
        optimizer = make(ns, **hyper)
        for g in grads:
            optimizer.step(params, g)
        return (params, originals), expected

    def judge(trial, expected, fetched):
        try:
            after = _arrays(fetched[0], "params")
            held = _arrays(fetched[1], "the original arrays")
        except Rejected as rejection:
            return str(rejection)
        for name in SHAPES:
            if after[name][1] != "float32":
                return (f"params[{name!r}] was float32 and is no longer float32 after step: update the "
                        "float32 array in place (p -= update), which keeps its dtype")
            if not np.array_equal(held[name][0], after[name][0], equal_nan=True):
                return f"step replaced the float32 array params[{name!r}] instead of updating it in place"
        comparison = compare_values(fetched[0], expected, "params")
        if not comparison.ok:
            return f"with float32 parameters (and float32 gradients) the result is wrong: {comparison.problem}"
        return None

    return OneFetchProbe(ask, judge)


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
    ValueCheck(name="SGD with momentum 0.9 on random gradients", exercise="optimizers.SGD", points=3,
               description="5 SGD steps with momentum 0.9 on seeded random (4, 3) and (3, 2) parameters",
               inputs=_draw(lr=0.1, momentum=0.9), call=sgd_steps),
    ValueCheck(name="SGD with Nesterov momentum and weight decay on random gradients", exercise="optimizers.SGD",
               points=3, description="5 SGD steps with Nesterov momentum 0.9 and weight_decay 0.1",
               inputs=_draw(**SGD_HYPER), call=sgd_steps),
    ValueCheck(name="SGD without momentum, with weight decay", exercise="optimizers.SGD", points=2,
               description="5 plain SGD steps (no momentum) with weight_decay 0.1",
               inputs=_draw(lr=0.1, weight_decay=0.1), call=sgd_steps),
    BehaviourCheck(name="SGD.step updates params in place and leaves grads unchanged", exercise="optimizers.SGD",
                   points=2, description="SGD.step must update the arrays of params in place and not modify grads",
                   probe=updates_in_place(_sgd, SGD_HYPER)),
    BehaviourCheck(name="SGD with float32 parameters", exercise="optimizers.SGD", points=2,
                   description="3 SGD steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=keeps_float32(_sgd, SGD_HYPER)),
    # Adagrad
    ValueCheck(name="Adagrad with weight decay on random gradients", exercise="optimizers.Adagrad", points=3,
               description="5 Adagrad steps (lr 0.1, weight_decay 0.1) on seeded random parameters",
               inputs=_draw(**ADAGRAD_HYPER), call=adagrad_steps),
    ValueCheck(name="Adagrad with eps 0.1 and small random gradients", exercise="optimizers.Adagrad", points=3,
               description="5 Adagrad steps with eps 0.1 and gradients of about 0.01 (where eps goes matters)",
               inputs=_draw(scale=0.01, lr=0.1, eps=0.1), call=adagrad_steps),
    ValueCheck(name="Adagrad with the default hyperparameters", exercise="optimizers.Adagrad", points=2,
               description="5 steps of Adagrad() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=adagrad_steps),
    BehaviourCheck(name="Adagrad.step updates params in place and leaves grads unchanged",
                   exercise="optimizers.Adagrad", points=2,
                   description="Adagrad.step must update the arrays of params in place and not modify grads",
                   probe=updates_in_place(_adagrad, ADAGRAD_HYPER)),
    BehaviourCheck(name="Adagrad with float32 parameters", exercise="optimizers.Adagrad", points=2,
                   description="3 Adagrad steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=keeps_float32(_adagrad, ADAGRAD_HYPER)),
    # RMSProp
    ValueCheck(name="RMSProp with alpha 0.9 and weight decay on random gradients", exercise="optimizers.RMSProp",
               points=3, description="5 RMSProp steps with alpha 0.9 and weight_decay 0.1 on seeded random parameters",
               inputs=_draw(**RMSPROP_HYPER), call=rmsprop_steps),
    ValueCheck(name="RMSProp with eps 0.1 and small random gradients", exercise="optimizers.RMSProp", points=3,
               description="5 RMSProp steps with alpha 0.9, eps 0.1 and gradients of about 0.01",
               inputs=_draw(scale=0.01, lr=0.1, alpha=0.9, eps=0.1), call=rmsprop_steps),
    ValueCheck(name="RMSProp with the default hyperparameters", exercise="optimizers.RMSProp", points=3,
               description="5 steps of RMSProp() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=rmsprop_steps),
    BehaviourCheck(name="RMSProp.step updates params in place and leaves grads unchanged",
                   exercise="optimizers.RMSProp", points=2,
                   description="RMSProp.step must update the arrays of params in place and not modify grads",
                   probe=updates_in_place(_rmsprop, RMSPROP_HYPER)),
    BehaviourCheck(name="RMSProp with float32 parameters", exercise="optimizers.RMSProp", points=2,
                   description="3 RMSProp steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=keeps_float32(_rmsprop, RMSPROP_HYPER)),
    # Adam
    ValueCheck(name="Adam with betas (0.8, 0.9) on random gradients", exercise="optimizers.Adam", points=3,
               description="5 Adam steps with betas (0.8, 0.9) on seeded random (4, 3) and (3, 2) parameters",
               inputs=_draw(lr=0.05, betas=(0.8, 0.9), eps=1e-8), call=adam_steps),
    ValueCheck(name="Adam with eps 0.1 and small random gradients", exercise="optimizers.Adam", points=3,
               description="5 Adam steps with eps 0.1 and gradients of about 0.01 (where eps goes matters)",
               inputs=_draw(scale=0.01, lr=0.05, betas=(0.8, 0.9), eps=0.1), call=adam_steps),
    ValueCheck(name="Adam with weight decay on random gradients", exercise="optimizers.Adam", points=3,
               description="5 Adam steps with weight_decay 0.1 (L2 added to the gradient, not AdamW)",
               inputs=_draw(**ADAM_HYPER), call=adam_steps),
    ValueCheck(name="Adam with the default hyperparameters", exercise="optimizers.Adam", points=2,
               description="5 steps of Adam() with torch's defaults, gradients of about 1e-7",
               inputs=_draw(scale=1e-7), call=adam_steps),
    BehaviourCheck(name="Adam.step updates params in place and leaves grads unchanged", exercise="optimizers.Adam",
                   points=2, description="Adam.step must update the arrays of params in place and not modify grads",
                   probe=updates_in_place(_adam, ADAM_HYPER)),
    BehaviourCheck(name="Adam with float32 parameters", exercise="optimizers.Adam", points=2,
                   description="3 Adam steps on float32 params: they stay the same float32 arrays, with the right values",
                   probe=keeps_float32(_adam, ADAM_HYPER)),
    # minibatches
    ValueCheck(name="minibatches of 23 random samples in batches of 5, in order", exercise="optimizers.minibatches",
               points=3, description="the batches of seeded random X (23, 4) and integer labels y, batch_size 5, "
                                     "no rng (original order, last batch partial)",
               inputs=_data(23), call=lambda ns, X, y: ns.minibatches(X, y, 5)),
    ValueCheck(name="minibatches of 23 random samples in batches of 5, shuffled", exercise="optimizers.minibatches",
               points=3, description="the batches of seeded random X (23, 4) and labels y, batch_size 5, with a "
                                     "seeded rng (order rng.permutation(N), rows and labels together)",
               inputs=_data_and_seed(23), call=lambda ns, X, y, seed: ns.minibatches(X, y, 5, ns.rng(seed))),
    ValueCheck(name="minibatches when the batch size divides N", exercise="optimizers.minibatches", points=2,
               description="20 samples in batches of 5, shuffled: exactly 4 full batches",
               inputs=_data_and_seed(20), call=lambda ns, X, y, seed: ns.minibatches(X, y, 5, ns.rng(seed))),
    BehaviourCheck(name="minibatches uses only the rng it is given", exercise="optimizers.minibatches", points=2,
                   description="the shuffled order comes from the rng argument alone (not np.random or random)",
                   probe=uses_only_given_rng(_data(50), lambda ns, rng, X, y: ns.minibatches(X, y, 7, rng)[0][1])),
    BehaviourCheck(name="minibatches leaves X and y unchanged", exercise="optimizers.minibatches", points=2,
                   description="shuffling must not reorder or modify the caller's X and y",
                   probe=leaves_inputs_unchanged(
                       _data_and_seed(23), lambda ns, X, y, seed: ns.minibatches(X, y, 5, ns.rng(seed)), ("X", "y"))),
]
