"""Hidden checks of the dropout assignment: dropout statistics on a million units at p = 0.1, 0.3
and 0.8, the exact edges (evaluation, p = 0, p = 1), the rng contract, the mask returned, and the
backward pass and penalties on seeded inputs (the L1 inputs away from its kink at 0, and once at it).
"""

import numpy as np

from autograder.course import load_sibling
from autograder.judge.session import Rng
from autograder.judge.checks import BehaviourCheck, StatisticalCheck, ValueCheck
from autograder.judge.families import uses_only_given_rng
from autograder.judge.compare import Rejected, compare_values, numeric_array

public = load_sibling(__file__, "public_checks")
mask_spec, FLOAT_RESULT = public.mask_spec, public.FLOAT_RESULT


def _signed(rng, shape, low=0.5, high=2.0):
    """Entries of both signs with |x| in [low, high]: a zero output can only mean 'dropped'."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _seed(rng):
    return int(rng.integers(2**31))


def _weights(rng):
    """Non-square matrices and a bias-like vector, entries away from 0."""
    return [_signed(rng, shape, 0.1, 2.0) for shape in ((4, 3), (3, 6), (6,))]


def _dropout_statistics(p: float, points: int) -> StatisticalCheck:
    return StatisticalCheck(
        name=f"dropout_forward statistics at p = {p} on a million units", exercise="dropout_forward",
        points=points,
        description=(f"dropout_forward(x, p={p}, train=True, rng) on a seeded (1250, 800) x without zeros: "
                     f"about {1 - p:.0%} of the units kept (p is the DROP probability), every kept unit "
                     f"exactly x / (1 - p)"),
        inputs=lambda rng: {"x": _signed(rng, (1250, 800)), "p": p, "seed": _seed(rng)},
        sample=lambda ns, x, p, seed: ns.dropout_forward(x, p, True, ns.rng(seed))[0],
        expect=lambda ns, x, p, seed: mask_spec(ns, p), test="mask", data="x",
    )


def _mask_matches_output(trial) -> str | None:
    """The mask returned is the one applied: out == x * mask (so that backward can use it)."""
    inputs = trial.inputs(lambda rng: {"x": _signed(rng, (40, 25)), "p": 0.8, "seed": _seed(rng)})
    x = inputs["x"]
    result = trial.fetch(trial.student.dropout_forward(x, inputs["p"], True, trial.student.rng(inputs["seed"])))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return "dropout_forward must return a pair (out, mask)"
    try:
        mask, _ = numeric_array(result[1], "the mask")
    except Rejected as rejection:
        return str(rejection)
    if mask.shape != x.shape:
        return f"the mask has shape {mask.shape}, expected x's shape {x.shape}"
    if not np.isfinite(mask).all():
        return "the mask contains NaN or inf"
    comparison = compare_values(result[0], x * mask, "out")
    if not comparison.ok:
        return f"the output is not x * mask with the mask returned: {comparison.problem}"
    return None


def _exact(name, exercise, points, description, draw, call, **options) -> ValueCheck:
    return ValueCheck(name=name, exercise=exercise, points=points, description=description, inputs=draw,
                      call=call, **options)


CHECKS = [
    _dropout_statistics(0.1, 8),
    _dropout_statistics(0.3, 7),
    _dropout_statistics(0.8, 8),
    StatisticalCheck(
        name="dropout_forward at p = 1 drops every unit", exercise="dropout_forward", points=4,
        description="dropout_forward(x, p=1, train=True, rng): every unit dropped, the output all zeros (no NaN)",
        inputs=lambda rng: {"x": _signed(rng, (40, 25)), "p": 1.0, "seed": _seed(rng)},
        sample=lambda ns, x, p, seed: ns.dropout_forward(x, p, True, ns.rng(seed))[0],
        expect=lambda ns, x, p, seed: mask_spec(ns, p), test="mask", data="x",
    ),
    _exact("dropout_forward in evaluation returns x and a mask of ones", "dropout.dropout_forward", 4,
           "dropout_forward(x, p, train=False, rng) on a seeded non-square x, p in {0.1, 0.3, 0.8}: "
           "(out, mask) = (x, ones), whatever p",
           lambda rng: {"x": _signed(rng, (6, 9)), "p": float(rng.choice([0.1, 0.3, 0.8])), "seed": _seed(rng)},
           lambda ns, x, p, seed: ns.dropout_forward(x, p, False, ns.rng(seed))),
    _exact("dropout_forward with p = 0 in training is the identity", "dropout.dropout_forward", 3,
           "dropout_forward(x, p=0, train=True, rng): (out, mask) = (x, ones)",
           lambda rng: {"x": _signed(rng, (7, 5)), "seed": _seed(rng)},
           lambda ns, x, seed: ns.dropout_forward(x, 0.0, True, ns.rng(seed))),
    BehaviourCheck(
        name="dropout_forward draws only from the rng it is given", exercise="dropout_forward", points=4,
        description=("dropout_forward(x, 0.3, True, rng): the same seed gives the same result whatever NumPy's "
                     "global state, and another seed gives another mask"),
        probe=uses_only_given_rng(lambda rng: {"x": _signed(rng, (30, 20)), "p": 0.3},
                                  lambda ns, rng, x, p: ns.dropout_forward(x, p, True, rng)),
    ),
    BehaviourCheck(
        name="dropout_forward returns the mask it applied", exercise="dropout_forward", points=4,
        description="dropout_forward(x, 0.8, True, rng) returns (out, mask) with out = x * mask",
        probe=_mask_matches_output,
    ),
    _exact("dropout_backward of a random mask", "dropout.dropout_backward", 3,
           "dropout_backward(dout, mask) for a seeded non-square dout and a mask of p = 0.3 (entries 0 or 1/0.7)",
           lambda rng: {"dout": rng.standard_normal((6, 4)),
                        "mask": (rng.random((6, 4)) >= 0.3) / 0.7},
           lambda ns, dout, mask: ns.dropout_backward(dout, mask)),
    _exact("l2_penalty of three weight arrays", "dropout.l2_penalty", 3,
           "l2_penalty of a seeded list of three arrays of different shapes, lambda in [0.01, 1)",
           lambda rng: {"weights": _weights(rng), "lam": float(rng.uniform(0.01, 1.0))},
           lambda ns, weights, lam: ns.l2_penalty(weights, lam), tolerance=FLOAT_RESULT),
    _exact("l2_penalty of no weights is 0", "dropout.l2_penalty", 1,
           "l2_penalty([], lam) = 0.0", lambda rng: {"lam": 0.3},
           lambda ns, lam: ns.l2_penalty([], lam)),
    _exact("l2_grad of a random weight matrix", "dropout.l2_grad", 2,
           "l2_grad(w, lam) for a seeded non-square w, lambda in [0.01, 1)",
           lambda rng: {"w": _signed(rng, (5, 3), 0.1, 2.0), "lam": float(rng.uniform(0.01, 1.0))},
           lambda ns, w, lam: ns.l2_grad(w, lam)),
    _exact("l1_penalty of three weight arrays", "dropout.l1_penalty", 3,
           "l1_penalty of a seeded list of three arrays of different shapes, lambda in [0.01, 1)",
           lambda rng: {"weights": _weights(rng), "lam": float(rng.uniform(0.01, 1.0))},
           lambda ns, weights, lam: ns.l1_penalty(weights, lam), tolerance=FLOAT_RESULT),
    _exact("l1_grad of a random weight matrix", "dropout.l1_grad", 2,
           "l1_grad(w, lam) for a seeded non-square w with entries away from 0, lambda in [0.01, 1)",
           lambda rng: {"w": _signed(rng, (5, 3), 0.1, 2.0), "lam": float(rng.uniform(0.01, 1.0))},
           lambda ns, w, lam: ns.l1_grad(w, lam)),
    _exact("l1_grad is 0 at weights that are exactly 0", "dropout.l1_grad", 2,
           "l1_grad(w, lam) for a w holding exact zeros: the subgradient sign(0) = 0",
           lambda rng: {"w": np.array([[-1.5, 0.0, 2.0], [0.0, 0.25, -0.0]]), "lam": 0.3},
           lambda ns, w, lam: ns.l1_grad(w, lam)),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
CONTRACT_INPUTS = {
    "dropout_forward": lambda rng: {"x": _signed(rng, (8, 6)), "p": 0.3, "train": True, "rng": Rng(_seed(rng))},
    "dropout_backward": lambda rng: {"dout": rng.standard_normal((6, 4)), "mask": (rng.random((6, 4)) >= 0.3) / 0.7},
    "l2_penalty": lambda rng: {"weights": _weights(rng), "lam": float(rng.uniform(0.01, 1.0))},
    "l2_grad": lambda rng: {"w": _signed(rng, (5, 3), 0.1, 2.0), "lam": float(rng.uniform(0.01, 1.0))},
    "l1_penalty": lambda rng: {"weights": _weights(rng), "lam": float(rng.uniform(0.01, 1.0))},
    "l1_grad": lambda rng: {"w": _signed(rng, (5, 3), 0.1, 2.0), "lam": float(rng.uniform(0.01, 1.0))},
}
