"""Assignment 8: normalization

Implement, in NumPy, the min-max and z-score scalers (fitted on the training data, applied to any
data), a helper that scales the training, validation and test parts of a data set the right way,
and batch normalization: the forward pass in training and in evaluation mode, and the backward
pass. Run this file (`python normalization.py`) to see the examples at the bottom, and check your
work with `dlgrade check normalization`.
"""

# %% [markdown]
# # Why normalize
#
# Features come in their own units: an age in years (20 to 70), an income in won (millions), a
# pixel in 0 to 255. Fed as they are to a network, the feature with the largest numbers dominates
# the weighted sum $z = \mathbf{w}\cdot\mathbf{x} + b$, and the loss surface becomes a long, narrow
# valley: a learning rate small enough for the steep direction crawls along the flat one, and
# gradient descent zig-zags. Putting every feature on a comparable scale first makes the valley
# round, so one learning rate suits every weight and training converges in far fewer steps.
#
# Two scalers are common. Both work **per feature** (per column of a data matrix $X$ of shape
# $(N, D)$: $N$ samples, $D$ features):
#
# - **min-max** normalization maps the training range of each feature onto $[0, 1]$:
#   $$x' = \frac{x - \min}{\max - \min};$$
# - **z-score** (Gaussian, "standardization") gives each feature mean 0 and standard deviation 1:
#   $$x' = \frac{x - \mu}{\sigma}, \qquad \sigma = \sqrt{\tfrac{1}{N}\textstyle\sum_i (x_i - \mu)^2}.$$
#
# Min-max keeps the shape of the distribution and bounds the values, but one outlier squeezes all
# the other values together. The z-score is less sensitive to outliers and suits features that are
# roughly bell-shaped.
#
# **Which standard deviation.** This course uses the *population* standard deviation (divide by
# $N$, NumPy's `np.std(x)` with its default `ddof=0`), as scikit-learn's `StandardScaler` does.
# `torch.std` divides by $N - 1$ by default (Bessel's correction): with a small training set the
# two differ noticeably, so say `ddof=0` when in doubt.
#
# **Constant features.** A feature that takes one value on the whole training set has
# $\max - \min = 0$ and $\sigma = 0$: the formulas divide by zero and give `nan`. Such a feature
# carries no information; we divide it by 1 instead (as scikit-learn does), so on the training
# data it becomes 0.

# %% [markdown]
# # Fit on the training data only
#
# A scaler has two steps: **fit** computes the statistics ($\min$ and $\max$, or $\mu$ and
# $\sigma$), **transform** applies them. Fit on the **training part only**, then transform the
# training, validation and test parts with those same statistics.
#
# Why not fit on all the data? Because the validation and test parts stand for data the model has
# never seen: new patients, next month's transactions. Statistics computed with them let
# information about those samples leak into training (*data leakage*), and the validation and test
# scores come out better than what the model will do on truly new data. The statistics are part of
# the model: a deployed network scales each new sample with the training statistics it was
# trained with. So the validation and test parts may come out slightly outside $[0, 1]$, or with a
# mean that is not exactly 0: that is expected, not a bug.

# %% [markdown]
# # Batch normalization
#
# Inside a deep network the inputs of each layer keep changing as the layers below learn. Batch
# normalization (Ioffe and Szegedy, 2015) normalizes a layer's pre-activations $x$ of shape
# $(N, D)$ over the mini-batch, per feature, then lets the network choose the scale and shift it
# wants with two learned parameters $\gamma$ and $\beta$ of shape $(D,)$:
#
# $$\mu_B = \frac{1}{N}\sum_i x_i, \qquad \sigma_B^2 = \frac{1}{N}\sum_i (x_i - \mu_B)^2, \qquad
#   \hat{x}_i = \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}}, \qquad y_i = \gamma\,\hat{x}_i + \beta.$$
#
# $\varepsilon$ (`eps`, 1e-5 by default) sits **inside** the square root: it keeps the division
# finite when a feature does not vary in the batch. The batch variance used to normalize is the
# **biased** one (divide by $N$).
#
# **Training and evaluation differ.** In training the batch's own statistics normalize, and the
# layer keeps **running** estimates of the mean and variance for later, updated after every batch
# with PyTorch's convention for `momentum` (0.1 by default):
#
# $$\mu_{\text{run}} \leftarrow (1 - m)\,\mu_{\text{run}} + m\,\mu_B, \qquad
#   \sigma^2_{\text{run}} \leftarrow (1 - m)\,\sigma^2_{\text{run}} + m\,\frac{N}{N - 1}\,\sigma_B^2$$
#
# ($\mu_{\text{run}}$ and $\sigma^2_{\text{run}}$ are `running_mean` and `running_var`, $m$ is `momentum`.)
#
# The running variance stores the **unbiased** batch variance ($\frac{N}{N-1}\sigma_B^2$, an
# estimate of the population's variance), while the normalization itself uses the biased one.
# Careful: Keras's `momentum=0.99` means the opposite, the weight of the *old* value.
#
# In **evaluation** (validation, test, deployment) the running statistics normalize: the output
# for a sample must not depend on which other samples share its batch, and a batch may hold a
# single sample. Using the batch statistics in evaluation is a classic bug: the model scores
# differently depending on the batch size, and a batch of one comes out all $\beta$.
#
# **Backward.** Every $\hat{x}_i$ depends on every $x_j$ of the batch through $\mu_B$ and
# $\sigma_B^2$. With $d\hat{x} = \text{dout}\cdot\gamma$ and the per-feature means over the batch
# written $\langle\cdot\rangle$:
#
# $$\frac{\partial L}{\partial \beta} = \sum_i \text{dout}_i, \qquad
#   \frac{\partial L}{\partial \gamma} = \sum_i \text{dout}_i\,\hat{x}_i, \qquad
#   \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma_B^2 + \varepsilon}}
#   \Big(d\hat{x} - \langle d\hat{x}\rangle - \hat{x}\,\langle d\hat{x}\,\hat{x}\rangle\Big).$$
#
# The two subtracted terms come from $\mu_B$ and $\sigma_B^2$: dropping them treats the batch
# statistics as constants and gives a wrong gradient. $\gamma$ and $\beta$ are shared by the whole
# batch, so their gradients are sums over the batch (axis 0), of shape $(D,)$.
#
# **Conventions.** Accept float32 and float64 input and return the input's floating dtype; never
# modify your inputs (return new running statistics, do not update them in place).

# %%
import numpy as np


# %%
def _floating(X):
    """X as a floating array: float32 and float64 stay as they are, anything else becomes float64 (given)."""
    array = np.asarray(X)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


# %%
def minmax_fit(X):
    """Fit a min-max scaler: the per-feature minimum and maximum of the training data.

    Args:
        X: ndarray (N, D), N >= 1, float32 or float64: the training data, one sample per row.
            Not modified.

    Returns:
        (lo, hi): two ndarrays of shape (D,), in X's floating dtype: the minimum and the maximum of
        each feature (column) over the samples (axis 0).
    """
    X = _floating(X)
    ### BEGIN SOLUTION
    return X.min(axis=0), X.max(axis=0)
    ### END SOLUTION


# %%
def minmax_transform(X, lo, hi):
    """Apply a fitted min-max scaler: (X - lo) / (hi - lo), feature by feature.

    A constant feature (hi == lo) is divided by 1 instead of 0, as scikit-learn's MinMaxScaler
    does: it maps to 0 on the training data, never to nan or inf.

    Args:
        X: ndarray (M, D), float32 or float64: any data (training, validation, test). Not modified.
        lo, hi: ndarrays (D,), the result of ``minmax_fit`` on the TRAINING data. Not modified.

    Returns:
        ndarray (M, D) in X's floating dtype. The training data lands in [0, 1]; other data may
        fall outside it.
    """
    X = _floating(X)
    ### BEGIN SOLUTION
    span = np.asarray(hi) - np.asarray(lo)
    span = np.where(span == 0, 1, span).astype(X.dtype)
    return (X - np.asarray(lo, dtype=X.dtype)) / span
    ### END SOLUTION


# %%
def zscore_fit(X):
    """Fit a z-score scaler: the per-feature mean and POPULATION standard deviation (ddof = 0).

    std = sqrt(mean((X - mean)**2)) over the samples (axis 0): divide by N, not N - 1, as
    np.std's default and scikit-learn's StandardScaler do.

    Args:
        X: ndarray (N, D), N >= 1, float32 or float64: the training data. Not modified.

    Returns:
        (mean, std): two ndarrays of shape (D,), in X's floating dtype; std is 0 for a constant
        feature.
    """
    X = _floating(X)
    ### BEGIN SOLUTION
    return X.mean(axis=0), X.std(axis=0)
    ### END SOLUTION


# %%
def zscore_transform(X, mean, std):
    """Apply a fitted z-score scaler: (X - mean) / std, feature by feature.

    A constant feature (std == 0) is divided by 1 instead of 0, as scikit-learn's StandardScaler
    does: it maps to 0 on the training data, never to nan or inf.

    Args:
        X: ndarray (M, D), float32 or float64: any data. Not modified.
        mean, std: ndarrays (D,), the result of ``zscore_fit`` on the TRAINING data. Not modified.

    Returns:
        ndarray (M, D) in X's floating dtype.
    """
    X = _floating(X)
    ### BEGIN SOLUTION
    std = np.asarray(std)
    scale = np.where(std == 0, 1, std).astype(X.dtype)
    return (X - np.asarray(mean, dtype=X.dtype)) / scale
    ### END SOLUTION


# %%
def scale_splits(X_train, X_val, X_test, method="zscore"):
    """Scale the three parts of a data set with a scaler fitted on the TRAINING part only.

    Fit (``minmax_fit`` or ``zscore_fit``) on X_train alone, then transform X_train, X_val and
    X_test with those same statistics (``minmax_transform`` or ``zscore_transform``). Fitting on
    the validation or test data too would leak information about them into training.

    Args:
        X_train: ndarray (N_train, D), float32 or float64. Not modified.
        X_val: ndarray (N_val, D). Not modified.
        X_test: ndarray (N_test, D). Not modified.
        method: "minmax" or "zscore"; anything else raises ValueError.

    Returns:
        (train, val, test): three ndarrays of the shapes of X_train, X_val and X_test, scaled.
    """
    if method not in ("minmax", "zscore"):
        raise ValueError(f"method must be 'minmax' or 'zscore', got {method!r}")
    ### BEGIN SOLUTION
    fit, transform = (minmax_fit, minmax_transform) if method == "minmax" else (zscore_fit, zscore_transform)
    statistics = fit(X_train)
    return tuple(transform(X, *statistics) for X in (X_train, X_val, X_test))
    ### END SOLUTION


# %%
def batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """Batch normalization, forward pass in TRAINING mode (torch.nn.BatchNorm1d in train()).

        mean = x.mean(axis=0);  var = x.var(axis=0)                  (biased: divide by N)
        x_hat = (x - mean) / sqrt(var + eps);  out = gamma * x_hat + beta
        new_running_mean = (1 - momentum) * running_mean + momentum * mean
        new_running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)   (unbiased)

    Args:
        x: ndarray (N, D), N >= 2 (a batch of one has no variance: ValueError), float32 or float64.
        gamma, beta: ndarrays (D,), the learned scale and shift.
        running_mean, running_var: ndarrays (D,), the running statistics before this batch.
        momentum: float in [0, 1], the weight of the NEW batch statistic (torch's convention).
        eps: float > 0, added to the variance inside the square root.
        None of the arrays is modified: the new running statistics are new arrays.

    Returns:
        (out, new_running_mean, new_running_var, cache):
        out (N, D); new_running_mean, new_running_var (D,); cache = (x_hat, inv_std, gamma), the
        tuple ``batchnorm_backward`` takes: x_hat (N, D), inv_std = 1 / sqrt(var + eps) (D,) and
        gamma (D,). Every array in x's floating dtype.
    """
    x = _floating(x)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"batch normalization in training needs a batch (N, D) with N >= 2, got shape {x.shape}")
    ### BEGIN SOLUTION
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    new_running_mean = (1 - momentum) * running_mean + momentum * mean
    new_running_var = (1 - momentum) * running_var + momentum * var * (n / (n - 1))
    dtype = x.dtype
    return (out.astype(dtype), new_running_mean.astype(dtype), new_running_var.astype(dtype),
            (x_hat, inv_std, np.array(gamma, dtype=dtype)))
    ### END SOLUTION


# %%
def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch normalization, forward pass in EVALUATION mode (torch.nn.BatchNorm1d in eval()).

        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    The batch's own statistics are not used: each sample's output depends on that sample alone.

    Args:
        x: ndarray (N, D), N >= 1, float32 or float64.
        gamma, beta, running_mean, running_var: ndarrays (D,). None is modified.
        eps: float > 0, inside the square root.

    Returns:
        ndarray (N, D) in x's floating dtype.
    """
    x = _floating(x)
    ### BEGIN SOLUTION
    out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    return out.astype(x.dtype)
    ### END SOLUTION


# %%
def batchnorm_backward(dout, cache):
    """Batch normalization, backward pass of the TRAINING-mode forward.

    With dx_hat = dout * gamma and means over the batch (axis 0):

        dbeta = dout.sum(axis=0);  dgamma = (dout * x_hat).sum(axis=0)
        dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))

    Args:
        dout: ndarray (N, D), the upstream gradient dL/dout. Not modified.
        cache: the tuple (x_hat, inv_std, gamma) that ``batchnorm_forward_train`` returns:
            x_hat (N, D), inv_std (D,), gamma (D,). Not modified.

    Returns:
        (dx, dgamma, dbeta): ndarrays of shapes (N, D), (D,) and (D,), in dout's floating dtype.
    """
    dout = _floating(dout)
    x_hat, inv_std, gamma = cache
    ### BEGIN SOLUTION
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx.astype(dout.dtype), dgamma.astype(dout.dtype), dbeta
    ### END SOLUTION


# %% [markdown]
# ## Try it: fit on the training part, apply to the others
#
# Two features on very different scales. After z-scoring with the training statistics, the
# training part has mean 0 and standard deviation 1 per feature; the test part, drawn from a
# slightly shifted distribution, does not, and that is what the model will meet. The constant
# third feature becomes 0 instead of nan.

# %% [example]
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    def draw(n, shift):
        return np.column_stack([rng.normal(40 + shift, 12, n), rng.normal(3e6, 8e5, n), np.full(n, 7.0)])
    X_train, X_val, X_test = draw(200, 0), draw(50, 0), draw(50, 5)
    train, val, test = scale_splits(X_train, X_val, X_test, "zscore")
    np.set_printoptions(precision=3, suppress=True)
    print("raw training means:", X_train.mean(axis=0))
    print("scaled training means:", train.mean(axis=0), " stds:", train.std(axis=0))
    print("scaled test means:", test.mean(axis=0), " stds:", test.std(axis=0))
    train, val, test = scale_splits(X_train, X_val, X_test, "minmax")
    print("min-max: training range", train.min(axis=0), "to", train.max(axis=0))
    print("min-max: test range    ", test.min(axis=0), "to", test.max(axis=0), "(may leave [0, 1])")

# %% [markdown]
# ## Try it: batch normalization in training and in evaluation
#
# Train-mode batch norm of a batch gives each feature mean $\beta$ and standard deviation about
# $\gamma$, whatever the input's scale, and moves the running statistics towards the batch's.
# After many batches the running statistics approach the data's, and evaluation mode gives every
# sample the same output whatever batch it comes in, even a batch of one.

# %% [example]
if __name__ == "__main__":
    rng = np.random.default_rng(1)
    D = 3
    gamma, beta = np.ones(D), np.zeros(D)
    running_mean, running_var = np.zeros(D), np.ones(D)
    for _ in range(200):
        batch = rng.normal([5.0, -2.0, 0.0], [3.0, 0.5, 10.0], size=(32, D))
        out, running_mean, running_var, cache = batchnorm_forward_train(
            batch, gamma, beta, running_mean, running_var, momentum=0.1)
    print("last training batch, per-feature mean and std of out:", out.mean(axis=0), out.std(axis=0))
    print("running mean:", running_mean, " (data: [5, -2, 0])")
    print("running var: ", running_var, " (data: [9, 0.25, 100])")
    sample = np.array([[5.0, -2.0, 10.0]])
    alone = batchnorm_forward_eval(sample, gamma, beta, running_mean, running_var)
    in_batch = batchnorm_forward_eval(np.vstack([sample, batch]), gamma, beta, running_mean, running_var)[:1]
    print("evaluation, alone:", alone, " in a batch:", in_batch)

# %% [markdown]
# ## Try it: check the backward pass with central differences
#
# The analytic gradient of $L = \sum \text{out} \cdot \text{dout}$ against numerical derivatives:
# the relative error should be around 1e-8 or smaller.

# %% [example]
if __name__ == "__main__":
    rng = np.random.default_rng(2)
    x, dout = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    zeros, ones = np.zeros(3), np.ones(3)
    _, _, _, cache = batchnorm_forward_train(x, gamma, beta, zeros, ones)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)

    def loss(x_):
        return np.sum(batchnorm_forward_train(x_, gamma, beta, zeros, ones)[0] * dout)

    numeric, h = np.zeros_like(x), 1e-6
    for index in np.ndindex(*x.shape):
        shifted = x.copy()
        shifted[index] += h
        up = loss(shifted)
        shifted[index] -= 2 * h
        numeric[index] = (up - loss(shifted)) / (2 * h)
    print("relative error of dx:", np.max(np.abs(dx - numeric) / np.maximum(1e-8, np.abs(dx) + np.abs(numeric))))
