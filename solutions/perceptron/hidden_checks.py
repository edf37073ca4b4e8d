"""Hidden checks of the perceptron assignment.

Training trajectories are compared exactly, so they use integer inputs and dyadic learning rates
(0.25, 0.5): every weight is then a small multiple of a power of two, float32 and float64 students
compute the same numbers, and no z lands at 5e-17 instead of 0 (grading-facts, section 1). The
step threshold is probed at exactly 0 and -0.0; the learned gates are classified here, by the
trusted rule step(X @ w + b), not by the student's own predict.
"""

import numpy as np

from autograder.judge.checks import BehaviourCheck, ValueCheck
from autograder.judge import compare

GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1])}


# ---------------------------------------------------------------- inputs

def _with_zeros(rng, shape, dtype=np.float64):
    """Random values with exact zeros (and one -0.0) sprinkled in: the threshold must be strict."""
    z = rng.standard_normal(shape) * 2.0
    z[rng.random(shape) < 0.25] = 0.0
    z[(0,) * len(shape)] = -0.0
    return z.astype(dtype)


def _integer_samples(rng, n=13, d=3):
    return rng.integers(-3, 4, size=(n, d)).astype(np.float64)


def _separable(rng, n=13, d=3):
    """Integer samples labelled by a random integer hyperplane shifted by 0.5 (no sample on it)."""
    X = _integer_samples(rng, n, d)
    w = rng.integers(-2, 3, size=d).astype(np.float64)
    w[0] = rng.choice([-2.0, -1.0, 1.0, 2.0])
    y = (X @ w + 0.5 > 0).astype(np.int64)
    return X, y


def _trajectory(epochs, lr):
    def draw(rng):
        X, y = _separable(rng)
        return {"X": X, "y": y, "epochs": epochs, "lr": lr}
    return draw


def _noisy_float32(rng):
    """Non-separable: random labels (the rule never settles); float32 integer samples."""
    return {"X": _integer_samples(rng, 11, 4).astype(np.float32), "y": rng.integers(0, 2, 11),
            "epochs": 5, "lr": 0.5}


def _predict_random(rng):
    """Real-valued samples with |z| >= 1e-3 (float32 rounding cannot flip a label), some 0 < z < 0.5,
    and some samples whose label the bias decides."""
    while True:
        X = rng.standard_normal((9, 4))
        w = rng.standard_normal(4)
        b = float(rng.uniform(-1.5, 1.5))
        z = X @ w + b
        if (np.abs(z) > 1e-3).all() and ((z > 0.05) & (z < 0.5)).any() and (np.sign(X @ w) != np.sign(z)).any():
            return {"X": X, "w": w, "b": b}


def _predict_boundary(rng):
    """Integer samples and half-integer weights: several samples lie exactly on the boundary z = 0."""
    while True:
        X = _integer_samples(rng, 10, 3)
        w = rng.integers(-2, 3, size=3) * 0.5
        b = float(rng.integers(-2, 3) * 0.5)
        z = X @ w + b
        if (z == 0).sum() >= 2 and (z > 0).any() and (z < 0).any():
            return {"X": X, "w": w, "b": b}


# ---------------------------------------------------------------- behaviour

def _learns(gate):
    """A probe: perceptron_fit on the gate (lr 0.5, 50 epochs) gives w, b that classify it exactly."""
    X, y = GATE_X, GATES[gate]

    def probe(trial):
        result = trial.fetch(trial.student.perceptron_fit(X, y, 50, 0.5))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return "perceptron_fit should return a pair (w, b)"
        try:
            w, _ = compare.numeric_array(result[0], "w")
            b, _ = compare.numeric_array(result[1], "b")
        except compare.Rejected as rejection:
            return str(rejection)
        if w.shape != (2,) or b.shape != ():
            return f"w should have shape (2,) and b be a number, got shapes {w.shape} and {b.shape}"
        if not (np.isfinite(w).all() and np.isfinite(b)):
            return "the learned weights contain NaN or inf"
        predictions = (X @ w + float(b) > 0).astype(np.int64)
        if not np.array_equal(predictions, y):
            return (f"the trained perceptron does not separate {gate}: step(X @ w + b) gives "
                    f"{predictions.tolist()} for the targets {y.tolist()} (w = {w.tolist()}, b = {float(b):g})")
        return None

    return probe


CHECKS = [
    ValueCheck(name="step of a random array with exact zeros", exercise="step", points=7,
               description="step of a seeded random (5, 7) array holding exact zeros and -0.0 (step(0) must be 0)",
               inputs=lambda rng: {"z": _with_zeros(rng, (5, 7))}, exact=True),
    ValueCheck(name="step of float32 input", exercise="step", points=3,
               description="step of a seeded random float32 (4, 6) array holding exact zeros",
               inputs=lambda rng: {"z": _with_zeros(rng, (4, 6), np.float32)},
               exact=True),
    ValueCheck(name="step of the scalars 0.0, -0.0 and 1e-12", exercise="step", points=4,
               description="step of single numbers at and just above the threshold",
               inputs=lambda rng: {"a": 0.0, "b": -0.0, "c": 1e-12},
               call=lambda ns, a, b, c: (ns.step(a), ns.step(b), ns.step(c)), exact=True),
    ValueCheck(name="perceptron_fit: one epoch with lr=0.5", exercise="perceptron_fit", points=11,
               description="w and b after one online pass over seeded integer (13, 3) data, lr=0.5",
               inputs=_trajectory(1, 0.5)),
    ValueCheck(name="perceptron_fit: seven epochs with lr=0.25", exercise="perceptron_fit", points=11,
               description="w and b after seven online passes over seeded integer (13, 3) separable data, lr=0.25",
               inputs=_trajectory(7, 0.25)),
    ValueCheck(name="perceptron_fit on non-separable float32 data", exercise="perceptron_fit",
               points=11,
               description="w and b after five passes (lr=0.5) over seeded float32 integer (11, 4) data with "
                           "random labels",
               inputs=_noisy_float32),
    BehaviourCheck(name="the trained perceptron separates AND", exercise="perceptron_fit", points=5,
                   description="after perceptron_fit on the AND gate (lr=0.5), step(X @ w + b) reproduces AND",
                   probe=_learns("AND")),
    BehaviourCheck(name="the trained perceptron separates OR", exercise="perceptron_fit", points=5,
                   description="after perceptron_fit on the OR gate (lr=0.5), step(X @ w + b) reproduces OR",
                   probe=_learns("OR")),
    ValueCheck(name="perceptron_predict on random data", exercise="perceptron_predict", points=7,
               description="predictions for seeded random (9, 4) samples, weights and bias",
               inputs=_predict_random, exact=True),
    ValueCheck(name="perceptron_predict on the decision boundary", exercise="perceptron_predict",
               points=6, description="predictions for samples lying exactly on the boundary X @ w + b = 0 "
                                     "(they must be 0)",
               inputs=_predict_boundary, exact=True),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
CONTRACT_INPUTS = {
    "step": lambda rng: {"z": _with_zeros(rng, (5, 7))},
    "perceptron_fit": _trajectory(2, 0.5),
    "perceptron_predict": _predict_random,
}
