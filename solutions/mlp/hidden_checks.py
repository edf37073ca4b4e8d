"""Hidden checks of the mlp assignment: seeded random inputs (non-square shapes, batches of several
samples, non-zero unequal parameters), sigmoids at |z| up to 1e4, a loss with K = 3 outputs (with
K = 2, 0.5 * sum / N equals torch's mse_loss and hides that mistake), and the XOR behaviour."""

import numpy as np

from autograder.course import load_sibling
from autograder.judge.checks import BehaviourCheck, GradientCheck, ValueCheck
from autograder.judge.compare import Rejected, numeric_array

public = load_sibling(__file__, "public_checks")

PARAM_NAMES = ("W1", "b1", "W2", "b2")
BACKWARD_POINTS = {"W1": 5, "b1": 4, "W2": 5, "b2": 5}  # with the public 12 and the contract 1: 32
SMALLEST_GRADIENT = 1e-3  # central differences (h = 1e-6) carry ~1e-10 of rounding: keep entries far above

# XOR, and the fixed start of tests/test_mlp.py: 3 hidden units, uniform(-1, 1) draws (rounded).
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_T = np.array([[0], [1], [1], [0]], dtype=np.float64)
XOR_INIT = {
    "W1": np.array([[0.27, -0.46, -0.92], [-0.97, 0.63, 0.83]]),
    "b1": np.array([0.21, 0.46, 0.09]),
    "W2": np.array([[0.87], [0.63], [-0.99]]),
    "b2": np.array([0.71]),
}

# Hidden pre-activations of +-1000 and more, exactly representable in float32 too (integers and
# dyadic weights), so that only the sigmoid's stability is tested: a unit is either saturated
# (exactly 0 or 1) or sees a small exact pre-activation.
SATURATING_X = np.array([[1000.0, -1000.0, 2.0], [-1000.0, 1000.0, -1.0], [4000.0, 0.0, 1.0], [0.0, -4000.0, 0.5]])
SATURATING_PARAMS = {
    "W1": np.array([[1.0, -0.5, 0.0, 0.25], [0.5, 1.0, 0.0, -0.25], [-0.5, 0.25, 1.0, 0.75]]),
    "b1": np.array([0.5, -0.25, 0.125, 0.0]),
    "W2": np.array([[1.5, -0.5], [-1.0, 0.75], [0.5, 1.25], [-0.75, -1.5]]),
    "b2": np.array([0.25, -0.5]),
}


# ---------------------------------------------------------------- trusted NumPy network

def _sigmoid(z):
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _forward(X, P):
    A1 = _sigmoid(X @ P["W1"] + P["b1"])
    return A1, _sigmoid(A1 @ P["W2"] + P["b2"])


def _gradients(X, T, P):
    A1, Y = _forward(X, P)
    dZ2 = (Y - T) / X.shape[0] * Y * (1 - Y)
    dZ1 = dZ2 @ P["W2"].T * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


# ---------------------------------------------------------------- inputs

def _network(rng, n, d, h, k):
    X = rng.normal(size=(n, d))
    T = rng.uniform(0.05, 0.95, size=(n, k))
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(scale=0.5, size=h),
        "W2": rng.normal(size=(h, k)),
        "b2": rng.normal(scale=0.5, size=k),
    }
    return {"X": X, "T": T, "params": params}


def _gradient_problem(rng):
    """A random 3-4-2 network on 5 samples whose gradient entries are all >= 1e-3 in size.

    A relative error is meaningless on an entry near 0 (there the rounding of central differences
    dominates), so draws with a tiny entry are rejected; the draw stays a function of ``rng``.
    """
    for _ in range(1000):  # about 8% of draws qualify: a failure to find one has odds ~1e-36
        problem = _network(rng, 5, 3, 4, 2)
        grads = _gradients(problem["X"], problem["T"], problem["params"])
        if min(float(np.min(np.abs(g))) for g in grads.values()) >= SMALLEST_GRADIENT:
            return problem
    raise RuntimeError("no random network with gradients away from 0 in 1000 draws")


def _train_problem(rng):
    return {**_network(rng, 6, 3, 4, 3), "epochs": 10, "lr": 0.5}


def _call_train(ns, X, T, params, epochs, lr):
    return ns.train(X, T, params, epochs, lr)


# ---------------------------------------------------------------- behaviour

def _learns_xor(trial):
    """train from the fixed start must classify all four XOR inputs (the trusted forward decides)."""
    epochs = 2000
    result = trial.student.train(XOR_X, XOR_T, XOR_INIT, epochs, 2.0)
    trained, losses = trial.fetch(result[0]), trial.fetch(result[1])
    if not isinstance(trained, dict) or set(trained) != set(PARAM_NAMES):
        keys = sorted(map(str, trained)) if isinstance(trained, dict) else type(trained).__name__
        return f"train(...)[0] should be a dict with keys {sorted(PARAM_NAMES)}, got {keys}"
    params = {}
    try:
        for name in PARAM_NAMES:
            params[name] = numeric_array(trained[name], f"the trained {name}")[0]
        losses = numeric_array(losses, "the losses")[0]
    except Rejected as rejection:
        return str(rejection)
    for name in PARAM_NAMES:
        if params[name].shape != XOR_INIT[name].shape:
            return f"the trained {name} has shape {params[name].shape}, expected {XOR_INIT[name].shape}"
        if not np.isfinite(params[name]).all():
            return f"the trained {name} contains NaN or inf"
    if losses.shape != (epochs,):
        return f"the losses have shape {losses.shape}, expected ({epochs},)"
    _, Y = _forward(XOR_X, params)
    correct = (Y > 0.5) == (XOR_T > 0.5)
    if not correct.all():
        return (f"after {epochs} epochs at lr 2 from a start that learns XOR, the network gets "
                f"{int((~correct).sum())} of 4 XOR inputs wrong (outputs {np.round(Y.ravel(), 3).tolist()}, "
                f"targets {XOR_T.ravel().tolist()}): check the sign and size of the update")
    return None


# ---------------------------------------------------------------- the checks

CHECKS = [
    # sigmoid
    ValueCheck(name="sigmoid of random inputs", exercise="sigmoid", points=3,
               description="sigmoid of a seeded random (6, 4) array with values up to about +-30",
               inputs=lambda rng: {"z": rng.normal(scale=8.0, size=(6, 4))}),
    ValueCheck(name="sigmoid at |z| up to 1e4", exercise="sigmoid", points=4,
               description="sigmoid at z = +-40, +-745, +-1000 and +-1e4 (must be stable: no NaN, exact limits)",
               inputs=lambda rng: {"z": np.array([[-1e4, -1000.0, -745.0, -40.0], [40.0, 745.0, 1000.0, 1e4]])}),
    # sigmoid_backward
    ValueCheck(name="sigmoid_backward of random activations", exercise="sigmoid_backward", points=3,
               description="sigmoid_backward of a seeded random (5, 3) array of activations in (0, 1)",
               inputs=lambda rng: {"a": rng.uniform(0.01, 0.99, size=(5, 3))}),
    ValueCheck(name="sigmoid_backward of saturated activations", exercise="sigmoid_backward", points=1,
               description="sigmoid_backward at activations 0, 1, 0.5 and near-saturated values",
               inputs=lambda rng: {"a": np.array([0.0, 1.0, 0.5, 1e-6, 0.999999, 0.3])}),
    # forward
    ValueCheck(name="forward of a random network", exercise="forward", points=6,
               description="forward(X, params)[0] of a seeded random 3-4-2 network on 6 samples",
               inputs=lambda rng: {k: v for k, v in _network(rng, 6, 3, 4, 2).items() if k != "T"},
               call=lambda ns, X, params: ns.forward(X, params)[0]),
    ValueCheck(name="forward with saturated hidden units", exercise="forward", points=2,
               description="forward(X, params)[0] with hidden pre-activations of +-1000 and more "
                           "(the network must stay finite)",
               inputs=lambda rng: {"X": SATURATING_X, "params": SATURATING_PARAMS},
               call=lambda ns, X, params: ns.forward(X, params)[0]),
    # loss
    ValueCheck(name="loss of a random (6, 3) batch", exercise="loss", points=5,
               description="loss of seeded random (6, 3) outputs and targets (averaged over N = 6, not N*K)",
               inputs=lambda rng: {"Y": rng.uniform(size=(6, 3)), "T": rng.uniform(size=(6, 3))}, tolerance=public.LOSS_TOLERANCE),  # a float: see public
    # backward: one gradient check per parameter
    *[
        GradientCheck(name=f"backward: d{name} of a random network", exercise="backward", points=BACKWARD_POINTS[name],
                      description=f"d{name} of a seeded random 3-4-2 network on 5 samples, given the "
                                  "reference forward's cache (X, A1, Y), against the reference",
                      inputs=_gradient_problem, wrt=("params", name), analytic=public.gradient(name),
                      given=public.oracle_cache, tolerance=public.GRADIENT_TOLERANCE,
                      forward=public.network_output, objective=public.half_squared_error)
        for name in PARAM_NAMES
    ],
    # train
    ValueCheck(name="train: 10 epochs of a random network", exercise="train", points=8,
               description="train(X, T, params, 10, 0.5) of a seeded random 3-4-3 network on 6 samples: "
                           "the trained parameters and the 10 losses",
               inputs=_train_problem, call=_call_train,
               tolerance=(1e-5, 1e-6)),  # float64 results by contract: float32 drift inside (see public check)
    ValueCheck(name="train with 0 epochs", exercise="train", points=2,
               description="train with epochs = 0 returns the initial parameters and no losses",
               inputs=lambda rng: {**_train_problem(rng), "epochs": 0}, call=_call_train),
    BehaviourCheck(name="train learns XOR", exercise="train", points=8,
                   description="train from a fixed start (3 hidden units, lr 2, 2000 epochs) classifies XOR",
                   probe=_learns_xor),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
def _backward_problem(rng):
    """params, the cache (X, A1, Y) of the trusted forward, and T: backward's arguments in order."""
    problem = _network(rng, 5, 3, 4, 2)
    A1, Y = _forward(problem["X"], problem["params"])
    return {"params": problem["params"], "cache": (problem["X"], A1, Y), "T": problem["T"]}


CONTRACT_INPUTS = {
    "sigmoid": lambda rng: {"z": rng.normal(scale=8.0, size=(6, 4))},
    "sigmoid_backward": lambda rng: {"a": rng.uniform(0.01, 0.99, size=(5, 3))},
    "forward": lambda rng: {k: v for k, v in _network(rng, 6, 3, 4, 2).items() if k != "T"},
    "loss": lambda rng: {"Y": rng.uniform(size=(6, 3)), "T": rng.uniform(size=(6, 3))},
    "backward": _backward_problem,
    "train": _train_problem,
}
