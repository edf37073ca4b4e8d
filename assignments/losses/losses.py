"""Assignment 6: loss functions

Implement, in NumPy, the losses that sit at the end of a network: a numerically stable softmax
and log-softmax, categorical cross-entropy (with its gradient), binary cross-entropy (on
probabilities and on logits), and the mean squared error. Every function must give finite,
correct values on extreme inputs (logits of +-1000, probabilities of exactly 0 and 1) without a
single warning. Run this file (`python losses.py`) to see the examples at the bottom, and check
your work with `dlgrade check losses`.
"""

# %% [markdown]
# # Losses: how wrong is the network?
#
# A loss turns the network's output and the target into one number that training makes small.
# Which loss to use is decided by the task, and it goes together with the **output layer**:
#
# | task | output activation | output means | loss |
# |---|---|---|---|
# | binary classification | sigmoid $\sigma(z) = 1/(1+e^{-z})$ | $P(y = 1)$ | binary cross-entropy |
# | multi-class classification (C classes) | softmax | a distribution over the C classes | categorical cross-entropy |
# | regression | identity (none) | the predicted value | mean squared error |
#
# **Cross-entropy.** For a true distribution $p$ and a predicted distribution $q$,
#
# $$H(p, q) = -\sum_k p_k \log q_k .$$
#
# With a one-hot target (the true class is $c$) only one term survives: $H = -\log q_c$.
# The course notes' example: the network gives the true class probability $0.7$, so
# $H = -\ln 0.7 = 0.35667$. A confident right answer ($q_c \to 1$) costs almost nothing; a
# confident wrong one ($q_c \to 0$) costs without bound. Minimizing cross-entropy is maximizing
# the likelihood of the labels.
#
# **Binary cross-entropy** is the two-class case, with $p = \sigma(z)$ the predicted $P(y=1)$:
#
# $$\ell(p, y) = -\big(y \log p + (1 - y) \log(1 - p)\big).$$
#
# **Mean squared error.** The notes write $E = \tfrac12 \sum (t - o)^2$: the $\tfrac12$ cancels the
# 2 of the derivative and the sum runs over the outputs of one sample. Libraries (and this
# assignment, following PyTorch's `mse_loss`) take the **mean over all elements** instead:
# $\mathrm{MSE} = \frac{1}{n}\sum_i (\hat y_i - y_i)^2$, where $n$ counts every element of the
# batch. The two differ only by a constant factor ($\mathrm{MSE} = \tfrac{2}{n} E$), which moves
# the minimum nowhere but rescales the gradient, so it changes the learning rate you need.
#
# **Conventions.** Every loss returns the *mean* over the batch, as PyTorch does. Logits have
# shape `(N, C)`: N samples, C classes. Accept float32 and float64 input; never modify your inputs.

# %% [markdown]
# ## Why cross-entropy and not MSE for a sigmoid output
#
# Take one sigmoid output $a = \sigma(z)$ and target $t$. With $\sigma'(z) = a(1 - a)$:
#
# $$\frac{\partial}{\partial z}\,\tfrac12 (a - t)^2 = (a - t)\,a(1 - a), \qquad
#   \frac{\partial}{\partial z}\,\mathrm{BCE}(a, t) = a - t .$$
#
# When the neuron is confidently wrong ($z = -5$ with $t = 1$, so $a \approx 0.007$) the MSE
# gradient carries the factor $a(1 - a) \approx 0.007$: the neuron that is *most* wrong learns
# *slowest*. The logarithm of cross-entropy cancels the sigmoid's saturation exactly, and the
# gradient is just the error $a - t$. Softmax with categorical cross-entropy has the same gift:
# the gradient with respect to the logits is $\mathrm{softmax}(z) - y$.

# %% [markdown]
# ## Softmax, the max shift, and log-sum-exp
#
# $$\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}$$
#
# Written naively, $e^{1000}$ overflows to `inf` and `inf / inf` is `nan`. The cure comes from an
# identity: adding the same constant $c$ to every logit changes nothing,
#
# $$\frac{e^{z_i + c}}{\sum_j e^{z_j + c}} = \frac{e^{c} e^{z_i}}{e^{c} \sum_j e^{z_j}} = \mathrm{softmax}(z)_i ,$$
#
# so take $c = -\max_j z_j$. Then the largest exponent is $e^0 = 1$ (no overflow, and the sum is
# at least 1, so no division by zero); very negative exponents underflow to 0, which is harmless.
#
# For the cross-entropy we need $\log \mathrm{softmax}$. Computing `log(softmax(z))` takes the
# log of an underflowed 0 and gives `-inf`. Work in log space instead, with the **log-sum-exp**:
#
# $$\mathrm{LSE}(z) = \log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m}, \quad m = \max_j z_j, \qquad
#   \log \mathrm{softmax}(z)_i = z_i - \mathrm{LSE}(z).$$
#
# Example: logits $[0, -1000]$ and true class 1. The naive route gives $-\log 0 = \infty$; the
# stable one gives exactly $1000$.
#
# **Binary cross-entropy on probabilities** cannot take the log of $p = 0$ either. PyTorch clamps
# each log at $-100$, so a confidently wrong element costs 100 instead of infinity; do the same.
# Better still is to never form $p$: **BCE with logits** works from $z$ directly,
#
# $$\ell(z, y) = \log(1 + e^{z}) - y z = \max(z, 0) - y z + \log\!\left(1 + e^{-|z|}\right),$$
#
# where the exponent is never positive, so nothing overflows (use `np.log1p` for accuracy when
# $e^{-|z|}$ is tiny).

# %%
import numpy as np


def _as_float(x):
    """``x`` as a NumPy array of a floating dtype (float32 stays float32; ints become float64)."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


# %%
def softmax(z, axis=-1):
    """The softmax along ``axis``, computed stably.

    softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m), with m = max_j z_j along ``axis``.
    Subtracting the max changes nothing mathematically (softmax is invariant to adding a constant
    to all logits) but keeps every exponent <= 0, so logits of +-1000 give finite, exact results
    and no overflow warning.

    Args:
        z: ndarray of any shape (float32 or float64): the logits.
        axis: the axis that holds the classes (default -1, the last one).

    Returns:
        ndarray of the same shape and float dtype as ``z``: non-negative, summing to 1 along ``axis``.
        ``z`` is left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def log_softmax(z, axis=-1):
    """The log of the softmax along ``axis``, computed in log space with the log-sum-exp trick.

    log_softmax(z)_i = z_i - LSE(z), where LSE(z) = m + log sum_j exp(z_j - m), m = max_j z_j.
    Do not take ``np.log(softmax(z))``: an underflowed probability of 0 would give -inf, where the
    true value (e.g. -1000) is perfectly representable.

    Args:
        z: ndarray of any shape (float32 or float64): the logits.
        axis: the axis that holds the classes (default -1).

    Returns:
        ndarray of the same shape and float dtype as ``z``, all values <= 0. ``z`` is left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def cross_entropy(logits, y):
    """Mean categorical cross-entropy of a batch, from logits (softmax included), like torch.

    For sample n with target distribution p_n and q_n = softmax(logits_n):
        loss_n = H(p_n, q_n) = -sum_k p_nk * log q_nk,     loss = (1/N) sum_n loss_n.
    With a class index c_n this is loss_n = -log_softmax(logits_n)[c_n]. Use ``log_softmax``, so
    that logits of +-1000 give the exact answer (e.g. [[1000, 0], [0, -1000]] with labels
    [1, 0] gives exactly 500.0).

    The kind of target is told by its shape, as in torch's ``F.cross_entropy``:
    - class indices: ``y`` has shape (N,), integers in [0, C);
    - class probabilities: ``y`` has the shape of ``logits``, (N, C), each row summing to 1
      (a "soft" label; one-hot rows give the same result as the indices).
    Either way the mean divides by N, the batch size (never by N * C).

    Args:
        logits: ndarray (N, C), float32 or float64: raw scores, NOT probabilities.
        y: ndarray (N,) of int class indices, or ndarray (N, C) of float target probabilities.

    Returns:
        The mean loss as a NumPy float scalar (0-d), in the logits' float dtype (probability
        targets are cast to it). ``logits`` and ``y`` are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def cross_entropy_grad(logits, y):
    """The gradient of the mean ``cross_entropy(logits, y)`` with respect to the logits.

    Softmax and cross-entropy together differentiate to something very simple:
        dL/dlogits = (softmax(logits) - P) / N,
    where P is the (N, C) target distribution: the one-hot encoding of the class indices, or the
    given probabilities. The 1/N comes from the mean over the batch.

    Args:
        logits: ndarray (N, C), float32 or float64.
        y: ndarray (N,) of int class indices, or ndarray (N, C) of float target probabilities.

    Returns:
        ndarray (N, C), the logits' float dtype. ``logits`` and ``y`` are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def binary_cross_entropy(p, y):
    """Mean binary cross-entropy of predicted probabilities, with torch's clamp of each log at -100.

        loss = mean( -(y * max(log p, -100) + (1 - y) * max(log(1 - p), -100)) )

    The clamp makes p exactly 0 or 1 finite: a confidently wrong element (p = 0, y = 1) costs
    exactly 100, and a confidently right one (p = 0, y = 0) costs exactly 0 (never 0 * -inf = nan).
    log(0) must not print a "divide by zero" warning either: compute it where it is safe, or
    silence that one expected case with ``np.errstate(divide="ignore")``.

    Args:
        p: ndarray of any shape, float32 or float64, values in [0, 1]: predicted P(y = 1).
        y: ndarray of the same shape, targets in [0, 1] (usually 0 or 1; soft labels allowed).

    Returns:
        The mean over ALL elements as a NumPy float scalar (0-d). ``p`` and ``y`` are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def binary_cross_entropy_with_logits(z, y):
    """Mean binary cross-entropy of sigmoid(z) against y, computed from the logits z, stably.

    Mathematically equal to ``binary_cross_entropy(sigmoid(z), y)`` (without the clamp), but
    written so that no exponent is ever positive:
        loss = mean( max(z, 0) - z * y + log1p(exp(-|z|)) ).
    At z = +-1000 it is finite and exact (e.g. z = 1000, y = 0 costs 1000), with no warnings.

    Args:
        z: ndarray of any shape, float32 or float64: the logits (raw scores).
        y: ndarray of the same shape, targets in [0, 1].

    Returns:
        The mean over ALL elements as a NumPy float scalar (0-d). ``z`` and ``y`` are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def mse_loss(y_hat, y):
    """Mean squared error over ALL elements, as torch's ``F.mse_loss`` (reduction "mean").

        loss = (1 / n) * sum_i (y_hat_i - y_i)^2,   n = y_hat.size (every sample AND every output).

    Not the notes' E = 1/2 * sum (t - o)^2: that one halves and sums; this one averages. They
    differ by the constant factor 2 / n. The two arrays must have the same shape: an (N, 1)
    prediction against an (N,) target would silently broadcast to (N, N).

    Args:
        y_hat: ndarray of any shape, float32 or float64: the predictions.
        y: ndarray of the same shape: the targets.

    Returns:
        The mean as a NumPy float scalar (0-d). ``y_hat`` and ``y`` are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it: stable softmax, the notes' example, and sigmoid + MSE vs cross-entropy

# %% [example]
if __name__ == "__main__":
    big = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    with np.errstate(over="ignore", invalid="ignore"):  # let the naive form fail quietly
        naive = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
    print("naive softmax:", naive.tolist())
    print("stable softmax:", softmax(big).tolist())
    print("cross-entropy, labels [1, 0]:", cross_entropy(big, np.array([1, 0])))  # exactly 500.0

    # The notes' worked example: the true class gets probability 0.7.
    q = np.array([[0.2, 0.7, 0.1]])
    print(f"-ln(0.7) = {cross_entropy(np.log(q), np.array([1])):.5f}")

# %% [example]
if __name__ == "__main__":
    # A sigmoid output that is confidently wrong: z = -5, target 1.
    z, t = -5.0, 1.0
    a = 1 / (1 + np.exp(-z))
    print(f"a = {a:.4f}; dLoss/dz with 1/2 (a - t)^2: {(a - t) * a * (1 - a):+.4f}, with BCE: {a - t:+.4f}")
    print("BCE of p = [0, 0, 1, 1] against y = [0, 1, 0, 1]:", binary_cross_entropy([0.0, 0, 1, 1], [0.0, 1, 0, 1]))
    print("BCE with logits at z = [1000, -1000], y = [0, 0]:", binary_cross_entropy_with_logits([1000.0, -1000.0], [0.0, 0.0]))
    y_hat, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.5, 2.0], [2.0, 4.0]])
    print(f"MSE (mean of all 4 elements) = {mse_loss(y_hat, y)}, the notes' E = 1/2 sum = {0.5 * ((y - y_hat) ** 2).sum()}")
