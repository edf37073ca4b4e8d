"""Hidden checks of the normalization assignment: seeded random inputs on which every known mistake
differs from the right answer (never released).

- Scalers: N != D, features on scales from 0.01 to 1000 with their own offsets (at most twice the
  spread, so that a float32 computation stays within float32's tolerances), a small training
  set (N = 5: ddof 0 and 1 differ by 12 %), a constant feature (a dyadic value, so that its mean
  is exact and its std exactly 0), and validation and test parts drawn wider and shifted, so that
  they leave the training range in every feature.
- Batch norm: small batches (N = 5 or 6; the unbiased variance is 25 % or 20 % larger), momentum
  drawn from {0.2, 0.3, 0.7} (never 0.5), eps = 0.01 with a feature of variance ~0.01 (eps outside
  the root changes it by ~40 %) and once eps = 0.5, running statistics far from the batch's, and a
  batch of ONE sample in evaluation.
"""

import numpy as np

from autograder.course import load_sibling
from autograder.judge.checks import ValueCheck

public = load_sibling(__file__, "public_checks")

SCALES = np.array([0.01, 1.0, 30.0, 1000.0])   # per-feature spread of the scaler data
# Offsets at most twice the spread: a student who computes in float32 rounds each input by 6e-8
# of its size, which moves the std by about that times offset / spread; at 50x (an offset of 5e4
# for a spread of 1000) a correct float32 std was off by 3e-6, beyond float32's rtol of 1.3e-6.
OFFSETS = np.array([0.02, -2.0, 40.0, 1500.0])
BN_SCALES = np.array([0.1, 1.0, 5.0, 20.0])    # per-feature spread of a batch-norm batch
CONSTANT = 2.5                                  # a constant feature's value: exact in float32 and float64


def _data(rng, n, widen=1.0, shift=0.0):
    """(n, 4) samples, feature k ~ N(OFFSETS[k] + shift * SCALES[k], (widen * SCALES[k])^2)."""
    return OFFSETS + SCALES * (shift + widen * rng.standard_normal((n, SCALES.size)))


def _with_constant(X):
    """X with its third feature set to CONSTANT (the same value in every sample)."""
    X = X.copy()
    X[:, 2] = CONSTANT
    return X


def _splits(rng):
    """A training part (7, 4) and validation (3, 4) and test (4, 4) parts reaching outside its range."""
    train = _data(rng, 7)
    val, test = _data(rng, 3, widen=2.0, shift=1.5), _data(rng, 4, widen=2.0, shift=-1.5)
    val[0], test[0] = train.max(axis=0) + SCALES, train.min(axis=0) - SCALES  # outside in every feature
    return {"X_train": train, "X_val": val, "X_test": test}


def _fitted_minmax(rng, constant=False):
    """Other data X and the min-max statistics of a training set (with a constant feature if asked)."""
    parts = _splits(rng)
    train = _with_constant(parts["X_train"]) if constant else parts["X_train"]
    return {"X": train if constant else parts["X_test"], "lo": train.min(axis=0), "hi": train.max(axis=0)}


def _fitted_zscore(rng, constant=False):
    """Other data X and the z-score statistics (population std) of a training set."""
    parts = _splits(rng)
    train = _with_constant(parts["X_train"]) if constant else parts["X_train"]
    return {"X": train if constant else parts["X_test"], "mean": train.mean(axis=0), "std": train.std(axis=0)}


def _batch(rng, n=6, eps=0.01):
    """A batch-norm problem: x (n, 4) on different scales, gamma, beta, running statistics far
    from the batch's, momentum in {0.2, 0.3, 0.7}, eps."""
    d = BN_SCALES.size
    return {
        "x": BN_SCALES * (rng.normal(size=d) + rng.standard_normal((n, d))),  # offsets ~ spread (float32)
        "gamma": rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d),
        "beta": rng.normal(size=d),
        "running_mean": rng.normal(3.0, 1.0, d),
        "running_var": rng.uniform(0.2, 4.0, d) * BN_SCALES,
        "momentum": float(rng.choice([0.2, 0.3, 0.7])),
        "eps": eps,
    }


def _eval_batch(rng, n=5):
    problem = _batch(rng, n, eps=float(rng.uniform(0.05, 0.5)))
    del problem["momentum"]
    return problem


def _backward_problem(rng):
    return {**_batch(rng, 5), "dout": rng.standard_normal((5, BN_SCALES.size))}


def _value(name, exercise, points, description, inputs, **options) -> ValueCheck:
    return ValueCheck(name=name, exercise=exercise, points=points, description=description, inputs=inputs,
                      **options)


CHECKS = [
    # minmax_fit
    _value("minmax_fit of a random (7, 4) training set", "minmax_fit", 3,
           "minmax_fit of seeded (7, 4) data, features on scales from 0.01 to 1000 with offsets",
           lambda rng: {"X": _splits(rng)["X_train"]}),
    _value("minmax_fit with a constant feature", "minmax_fit", 2,
           "minmax_fit of seeded (7, 4) data whose third feature is constant (lo == hi there)",
           lambda rng: {"X": _with_constant(_splits(rng)["X_train"])}),
    # minmax_transform
    _value("minmax_transform of random test data with the training statistics", "minmax_transform", 3,
           "minmax_transform(X_test, lo, hi) with lo, hi of a seeded training set; X_test leaves its range",
           _fitted_minmax),
    _value("minmax_transform of a constant feature", "minmax_transform", 3,
           "minmax_transform of a training set whose third feature is constant, with its own statistics: "
           "that feature maps to 0 (no division by zero, no nan)",
           lambda rng: _fitted_minmax(rng, constant=True)),
    # zscore_fit
    _value("zscore_fit of a random (5, 4) training set", "zscore_fit", 3,
           "zscore_fit of seeded (5, 4) data (N = 5: the population std, ddof = 0, is expected)",
           lambda rng: {"X": _data(rng, 5)}),
    _value("zscore_fit with a constant feature", "zscore_fit", 2,
           "zscore_fit of seeded (7, 4) data whose third feature is constant (std exactly 0 there)",
           lambda rng: {"X": _with_constant(_splits(rng)["X_train"])}),
    # zscore_transform
    _value("zscore_transform of random test data with the training statistics", "zscore_transform", 3,
           "zscore_transform(X_test, mean, std) with the statistics of a seeded training set",
           _fitted_zscore),
    _value("zscore_transform of a constant feature", "zscore_transform", 3,
           "zscore_transform of a training set whose third feature is constant, with its own statistics: "
           "that feature maps to 0 (no division by zero, no nan)",
           lambda rng: _fitted_zscore(rng, constant=True)),
    # scale_splits
    _value("scale_splits with 'minmax' of random parts", "scale_splits", 4,
           "scale_splits(X_train, X_val, X_test, 'minmax') of seeded parts; validation and test leave the "
           "training range, so statistics fitted on them too differ",
           lambda rng: {**_splits(rng), "method": "minmax"}),
    _value("scale_splits with 'zscore' of random parts", "scale_splits", 4,
           "scale_splits(X_train, X_val, X_test, 'zscore') of seeded parts drawn from shifted, wider "
           "distributions than the training part",
           lambda rng: {**_splits(rng), "method": "zscore"}),
    # batchnorm_forward_train
    _value("batchnorm_forward_train: out of a random (6, 4) batch", "batchnorm_forward_train", 4,
           "out of batchnorm_forward_train on a seeded (6, 4) batch, features on scales 0.1 to 20, eps = 0.01",
           _batch, call=public.train_output),
    _value("batchnorm_forward_train: out with eps = 0.5", "batchnorm_forward_train", 3,
           "out of batchnorm_forward_train on a seeded (5, 4) batch with a large eps = 0.5 (inside the root)",
           lambda rng: _batch(rng, 5, eps=0.5), call=public.train_output),
    _value("batchnorm_forward_train: new running mean", "batchnorm_forward_train", 3,
           "the new running mean after a seeded (6, 4) batch, momentum in {0.2, 0.3, 0.7} (torch's convention)",
           _batch, call=lambda ns, **inputs: public.running_statistics(ns, **inputs)[0]),
    _value("batchnorm_forward_train: new running var", "batchnorm_forward_train", 4,
           "the new running variance after a seeded (5, 4) batch: the UNBIASED batch variance, torch's momentum",
           lambda rng: _batch(rng, 5), call=lambda ns, **inputs: public.running_statistics(ns, **inputs)[1]),
    # batchnorm_forward_eval
    _value("batchnorm_forward_eval of a random (5, 4) batch", "batchnorm_forward_eval", 4,
           "batchnorm_forward_eval on a seeded (5, 4) batch whose statistics differ from the running ones, "
           "eps in [0.05, 0.5)",
           _eval_batch),
    _value("batchnorm_forward_eval of a batch of one sample", "batchnorm_forward_eval", 2,
           "batchnorm_forward_eval on a single sample (1, 4): evaluation needs no batch statistics",
           lambda rng: _eval_batch(rng, 1)),
    # batchnorm_backward
    public.gradient_check("batchnorm_backward: dx of a random (5, 4) batch", "x", 0, 4, _backward_problem,
                          description="dx of a seeded (5, 4) batch and upstream gradient, given the reference "
                                      "forward's cache (x_hat, inv_std, gamma), against the reference"),
    public.gradient_check("batchnorm_backward: dgamma of a random (5, 4) batch", "gamma", 1, 2, _backward_problem,
                          description="dgamma of a seeded (5, 4) batch, given the reference forward's cache"),
    public.gradient_check("batchnorm_backward: dbeta of a random (5, 4) batch", "beta", 2, 2, _backward_problem,
                          description="dbeta of a seeded (5, 4) batch, given the reference forward's cache"),
]


# The example inputs of the contracts declared in assignment.toml (arguments in call order).
def _backward_contract(rng):
    """dout and the cache (x_hat, inv_std, gamma) of a correct forward, in NumPy."""
    problem = _batch(rng, 5)
    x, eps = problem["x"], problem["eps"]
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    cache = ((x - x.mean(axis=0)) * inv_std, inv_std, problem["gamma"])
    return {"dout": rng.standard_normal(x.shape), "cache": cache}


CONTRACT_INPUTS = {
    "minmax_fit": lambda rng: {"X": _splits(rng)["X_train"]},
    "minmax_transform": _fitted_minmax,
    "zscore_fit": lambda rng: {"X": _splits(rng)["X_train"]},
    "zscore_transform": _fitted_zscore,
    "scale_splits": lambda rng: {**_splits(rng), "method": "zscore"},
    "batchnorm_forward_train": _batch,
    "batchnorm_forward_eval": _eval_batch,
    "batchnorm_backward": _backward_contract,
}
