"""Public checks of the normalization assignment: released to students with their expected values frozen.

Fixed, readable inputs chosen so that each classic mistake shows:
- a training set of N = 6 samples (the population and sample standard deviations differ by
  sqrt(6/5)) whose four features live on different scales, one of them constant (7.0: its range
  and std are exactly 0);
- validation and test parts that reach outside the training range (fitting on them too changes
  every statistic);
- a batch of N = 4 for batch norm (biased and unbiased variance differ by 4/3), momentum 0.3 (not
  torch's default 0.1, and not 0.5, where the old and new weights would be equal), eps = 0.05 with
  a feature of small variance (eps outside the square root, or missing, shows), running statistics
  far from the batch's.
"""

import numpy as np

from autograder.judge.checks import GradientCheck, ValueCheck, fixed_inputs
from autograder.judge.compare import numeric_array

X_TRAIN = np.array([
    [23.0, 41_000.0, 7.0, 0.50],
    [35.0, 52_000.0, 7.0, 0.25],
    [47.0, 38_000.0, 7.0, 0.75],
    [29.0, 61_000.0, 7.0, 0.00],
    [52.0, 45_000.0, 7.0, 1.00],
    [41.0, 70_000.0, 7.0, 0.50],
])
X_VAL = np.array([[19.0, 90_000.0, 7.0, 0.40], [60.0, 30_000.0, 7.0, 1.20]])
X_TEST = np.array([[33.0, 25_000.0, 8.0, -0.50], [70.0, 48_000.0, 6.0, 0.80], [45.0, 66_000.0, 7.0, 0.30]])
# The training statistics of X_TRAIN, as a student's fit returns them (given to the transforms).
LO, HI = X_TRAIN.min(axis=0), X_TRAIN.max(axis=0)
MEAN, STD = X_TRAIN.mean(axis=0), X_TRAIN.std(axis=0)

# Batch normalization: a batch of N = 4 samples of D = 3 features on different scales.
BATCH = {
    "x": np.array([[1.0, -20.0, 0.10], [3.0, 10.0, 0.30], [2.5, 40.0, -0.20], [0.5, -5.0, 0.00]]),
    "gamma": np.array([1.5, 0.5, -2.0]),
    "beta": np.array([0.1, -1.0, 0.5]),
    "running_mean": np.array([0.5, 4.0, -1.0]),
    "running_var": np.array([2.0, 100.0, 0.5]),
    "momentum": 0.3,
    "eps": 0.05,
}
DOUT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-1.0, 0.5, 1.0], [0.25, 2.0, -0.5]])


# ---------------------------------------------------------------- calls shared with the hidden checks

def train_output(ns, x, gamma, beta, running_mean, running_var, momentum, eps, **_):
    """out of batchnorm_forward_train (the first of its four results)."""
    return ns.batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps)[0]


def running_statistics(ns, x, gamma, beta, running_mean, running_var, momentum, eps):
    """(new running mean, new running var) of batchnorm_forward_train."""
    result = ns.batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps)
    return result[1], result[2]


def oracle_cache(ns, x, gamma, beta, running_mean, running_var, momentum, eps, dout):
    """The grading oracle's cache (x_hat, inv_std, gamma): backward is graded on it, so that a wrong
    forward never costs points in a correct backward (each function is graded on its own)."""
    return {"cache": ns.batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps)[3]}


def gradient(index):
    """Result ``index`` of batchnorm_backward (0: dx, 1: dgamma, 2: dbeta), on the oracle's cache."""
    return lambda ns, dout, cache, **_: ns.batchnorm_backward(dout, cache)[index]


def weighted_output(out, dout, **_):
    """The trusted objective of the numeric gradient check: sum(out * dout), whose gradient is backward's."""
    out = numeric_array(out, "batchnorm_forward_train(...)[0]")[0]
    dout = np.asarray(dout, dtype=np.float64)
    if out.shape != dout.shape:
        raise ValueError(f"batchnorm_forward_train(...)[0] has shape {out.shape}, expected {dout.shape}")
    return float(np.sum(out * dout))


def gradient_check(name, wrt, index, points, inputs, **options) -> GradientCheck:
    """A gradient check of one of batchnorm_backward's results (``wrt``: x, gamma or beta)."""
    return GradientCheck(name=name, exercise="batchnorm_backward", points=points, inputs=inputs, wrt=(wrt,),
                         analytic=gradient(index), given=oracle_cache, forward=train_output,
                         objective=weighted_output, **options)


CHECKS = [
    ValueCheck(name="minmax_fit of a (6, 4) training set with a constant feature", exercise="minmax_fit",
               points=3, inputs=fixed_inputs(X=X_TRAIN)),
    ValueCheck(name="minmax_transform of test data with the training statistics", exercise="minmax_transform",
               points=3, inputs=fixed_inputs(X=X_TEST, lo=LO, hi=HI)),
    ValueCheck(name="zscore_fit of a (6, 4) training set with a constant feature", exercise="zscore_fit",
               points=3, inputs=fixed_inputs(X=X_TRAIN)),
    ValueCheck(name="zscore_transform of test data with the training statistics", exercise="zscore_transform",
               points=3, inputs=fixed_inputs(X=X_TEST, mean=MEAN, std=STD)),
    ValueCheck(name="scale_splits with 'zscore' fitted on the training part", exercise="scale_splits", points=3,
               inputs=fixed_inputs(X_train=X_TRAIN, X_val=X_VAL, X_test=X_TEST, method="zscore")),
    ValueCheck(name="batchnorm_forward_train: out of a (4, 3) batch", exercise="batchnorm_forward_train",
               points=3, inputs=fixed_inputs(**BATCH), call=train_output),
    # The two running statistics apart: a mistake seen in both (the momentum's weights swapped) is
    # seen on two inputs, enough for `dlgrade check` to name it.
    ValueCheck(name="batchnorm_forward_train: running mean after a (4, 3) batch at momentum 0.3",
               exercise="batchnorm_forward_train", points=1, inputs=fixed_inputs(**BATCH),
               call=lambda ns, **inputs: running_statistics(ns, **inputs)[0]),
    ValueCheck(name="batchnorm_forward_train: running var after a (4, 3) batch at momentum 0.3",
               exercise="batchnorm_forward_train", points=1, inputs=fixed_inputs(**BATCH),
               call=lambda ns, **inputs: running_statistics(ns, **inputs)[1]),
    ValueCheck(name="batchnorm_forward_eval of a (4, 3) batch", exercise="batchnorm_forward_eval", points=2,
               inputs=fixed_inputs(**{k: v for k, v in BATCH.items() if k != "momentum"})),
    gradient_check("batchnorm_backward: dx of a (4, 3) batch", "x", 0, 2, fixed_inputs(**BATCH, dout=DOUT)),
    gradient_check("batchnorm_backward: dgamma of a (4, 3) batch", "gamma", 1, 1, fixed_inputs(**BATCH, dout=DOUT)),
    gradient_check("batchnorm_backward: dbeta of a (4, 3) batch", "beta", 2, 1, fixed_inputs(**BATCH, dout=DOUT)),
]
