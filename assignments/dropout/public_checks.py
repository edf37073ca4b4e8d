"""Public checks of the dropout assignment: released to students with their expected values frozen.

Fixed, readable inputs. Dropout is random, so its training output is never compared value by
value: the check tests that about 1 - p of the units are kept (within 6 standard errors) and
that every kept unit is exactly x / (1 - p). The target is read off the reference (see
``mask_spec``); p = 0.3 tells the drop probability apart from the keep probability.
"""

import numpy as np

from autograder.judge.checks import StatisticalCheck, ValueCheck, fixed_inputs

GRID = (np.arange(10_000) + 0.5) / 10_000  # 10,000 evenly spaced draws u in [0, 1)


def mask_spec(ns, p):
    """{"keep": fraction kept, "scale": factor of a kept unit} of ``ns``'s dropout at drop probability p.

    Read off the reference fed an even grid of uniform draws (its ``uniform=`` argument), so that a
    known-wrong variant of the reference yields its own (wrong) target.
    """
    out = ns.dropout_forward(np.ones(GRID.shape), p, True, uniform=GRID)[0]
    keep = float((out != 0).sum()) / GRID.size
    return {"keep": keep, "scale": float(out.max()) if keep > 0 else 0.0}


X = np.array([[1.0, -2.0, 3.0, 0.5], [4.0, -0.25, 2.5, -1.5], [0.75, 1.25, -3.0, 2.0]])
WEIGHTS = [np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), np.array([[1.0], [-3.0], [0.5]])]

# Penalties come back as Python floats, which do not tell whether they were summed in float32:
# the float32 tolerance lets a float32 computation pass (every known mistake is off by far more).
FLOAT_RESULT = (1.3e-6, 1e-5)

CHECKS = [
    StatisticalCheck(
        name="dropout_forward at p = 0.3 keeps about 70 % of 7,000 units, each scaled by 1/0.7",
        exercise="dropout_forward", points=8,
        inputs=fixed_inputs(x=np.linspace(0.5, 2.0, 7000).reshape(100, 70), p=0.3, seed=2024),
        sample=lambda ns, x, p, seed: ns.dropout_forward(x, p, True, ns.rng(seed))[0],
        expect=lambda ns, x, p, seed: mask_spec(ns, p), test="mask", data="x",
    ),
    ValueCheck(
        name="dropout_forward in evaluation (train=False) is the identity", exercise="dropout_forward",
        points=4, inputs=fixed_inputs(x=X, p=0.3, seed=1),
        call=lambda ns, x, p, seed: ns.dropout_forward(x, p, False, ns.rng(seed)),
    ),
    ValueCheck(
        name="dropout_backward with a mask of p = 0.6", exercise="dropout_backward", points=5,
        inputs=fixed_inputs(dout=np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]),
                      mask=np.array([[2.5, 0.0, 2.5], [0.0, 0.0, 2.5]])),
    ),
    ValueCheck(
        name="l2_penalty of two weight matrices", exercise="l2_penalty", points=4,
        inputs=fixed_inputs(weights=WEIGHTS, lam=0.1),
        tolerance=FLOAT_RESULT,
    ),
    ValueCheck(
        name="l2_grad of a (2, 3) weight matrix", exercise="l2_grad", points=4,
        inputs=fixed_inputs(w=WEIGHTS[0], lam=0.1),
    ),
    ValueCheck(
        name="l1_penalty of two weight matrices", exercise="l1_penalty", points=4,
        inputs=fixed_inputs(weights=WEIGHTS, lam=0.05),
        tolerance=FLOAT_RESULT,
    ),
    ValueCheck(
        name="l1_grad of a (2, 3) weight matrix", exercise="l1_grad", points=3,
        inputs=fixed_inputs(w=WEIGHTS[0], lam=0.05),
    ),
]
