"""Assignment 5: dropout and weight penalties

Implement inverted dropout (forward and backward) and the L2 and L1 weight penalties with their
gradients, in NumPy. Run this file (`python dropout.py`) to see the examples at the bottom, and
check your work with `dlgrade check dropout`.
"""

# %% [markdown]
# # Overfitting and what to do about it
#
# A network with many weights can memorise its training set: the training loss keeps falling while
# the validation loss turns back up. That is **overfitting**: the model learned the noise of the
# training samples instead of the pattern. The usual remedies:
#
# - **more data** (and *data augmentation*, which makes new samples from old ones);
# - **fewer features / a smaller model**;
# - **regularization**: a penalty on large weights added to the loss (L2, L1);
# - **dropout**: switch hidden units off at random during training;
# - **early stopping**: stop when the validation loss stops improving;
# - **ensembles**: average several models.
#
# This assignment implements two of them: dropout and the L2/L1 penalties.

# %% [markdown]
# ## Dropout
#
# During training, every unit is dropped (set to 0) independently with probability $p$, and kept
# with probability $1 - p$. Each mini-batch trains a different thinned network, so no unit can
# rely on a particular partner being present. At test time all units are used.
#
# **Drop or keep?** Courses and libraries disagree on what the number means, and it is the
# classic dropout bug. PyTorch's `nn.Dropout(0.5)` and `F.dropout(x, p)` take the **drop**
# probability; TensorFlow 1's `keep_prob` and CS231n take the **keep** probability ("keep 0.7
# in training, 1.0 in evaluation"). Here `p` is the **drop** probability, as in PyTorch:
# `p = 0.8` drops 80 % of the units and keeps 20 %.
#
# **Inverted dropout.** A kept unit is scaled up by $1/(1-p)$ in training, so that its expected
# value is unchanged:
#
# $$m_i = \frac{\mathbb{1}[u_i \ge p]}{1 - p}, \quad u_i \sim \mathcal{U}[0, 1), \qquad
#   \text{out} = x \odot m, \qquad \mathbb{E}[\text{out}_i] = (1-p)\,\frac{x_i}{1-p} = x_i .$$
#
# Then evaluation is simply the **identity**: nothing to rescale at test time. (The original,
# non-inverted dropout multiplied the weights by $1-p$ at test time instead.)
#
# **Backward.** The forward pass is an elementwise product with a constant mask, so
# $\partial L / \partial x = \partial L / \partial \text{out} \odot m$: the dropped units get no
# gradient, the kept ones get it scaled by $1/(1-p)$. Save the mask in the forward pass.

# %% [markdown]
# ## Weight penalties
#
# Add a penalty on the weights $W_1, W_2, \dots$ to the data loss $L$:
#
# $$\text{L2: } \; \frac{\lambda}{2} \sum_k \sum_{ij} (W_k)_{ij}^2, \quad
#   \frac{\partial}{\partial W} = \lambda W
#   \qquad\qquad
#   \text{L1: } \; \lambda \sum_k \sum_{ij} |(W_k)_{ij}|, \quad
#   \frac{\partial}{\partial W} = \lambda\, \mathrm{sign}(W).$$
#
# The $\frac12$ in L2 makes the gradient simply $\lambda W$ (with plain SGD this is *weight decay*:
# every step shrinks $W$ by the factor $1 - \eta\lambda$). At $w = 0$, $|w|$ has no derivative;
# we use the subgradient $\mathrm{sign}(0) = 0$, as autograd does.
#
# **What they do.** L2 pulls every weight towards zero in proportion to its size: big weights
# shrink fast, small ones barely, so *all weights end up small but non-zero*. L1 pulls every
# weight by the same amount $\lambda$ whatever its size, which drives unimportant weights exactly
# to zero: *only the important features keep a weight* (a sparse model). Biases are usually not
# penalised, which is why the penalties take an explicit list of weight arrays.
#
# **Conventions.** Accept float32 and float64 input; never modify your inputs; `rng` is a
# `numpy.random.Generator` and the only source of randomness.

# %%
import numpy as np


# %%
def _check_drop_probability(p):
    """Raise ValueError unless 0 <= p <= 1 (given, not graded; NaN is rejected too)."""
    if not 0.0 <= p <= 1.0:
        message = f"dropout probability p must be between 0 and 1, got {p!r}"
        raise ValueError(message)


# %%
def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout, forward pass. ``p`` is the DROP probability.

    In training (``train=True`` and 0 < p): draw ``u = rng.random(x.shape)`` (uniform in [0, 1)),
    keep the units where ``u >= p``, and scale the kept ones by 1/(1 - p):

        mask = (u >= p) / (1 - p),    out = x * mask

    With p = 1 every unit is dropped: out and mask are all zeros (and no division by zero happens).
    In evaluation (``train=False``), or with p = 0, dropout is the identity: out equals x (a new
    array) and mask is all ones.

    Args:
        x: ndarray of any shape, float32 or float64. Not modified.
        p: float, the drop probability, 0 <= p <= 1; anything else raises ValueError.
        train: bool, True in training, False in evaluation.
        rng: numpy.random.Generator, the only source of randomness; when None (and a draw is
            needed) a fresh ``np.random.default_rng()`` is used.

    Returns:
        (out, mask): two ndarrays of x's shape, in x's floating dtype (float64 for other input).
        The entries of mask are 0 or 1/(1 - p); out = x * mask.
    """
    _check_drop_probability(p)
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def dropout_backward(dout, mask):
    """Inverted dropout, backward pass: dL/dx = dout * mask.

    Args:
        dout: ndarray, the upstream gradient dL/dout, the shape of the forward input.
        mask: ndarray of the same shape, the mask returned by ``dropout_forward``.

    Returns:
        ndarray of that shape, dL/dx: zero where the unit was dropped, dout/(1 - p) where kept.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def l2_penalty(weights, lam):
    """The L2 penalty (lam / 2) * sum of the squared entries of every array in ``weights``.

    Args:
        weights: list of ndarrays (any shapes, float32 or float64), e.g. [W1, W2]. Not modified.
            An empty list gives 0.0.
        lam: float >= 0, the regularization strength lambda.

    Returns:
        float.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def l2_grad(w, lam):
    """Gradient of the L2 penalty with respect to one weight array: lam * w.

    Args:
        w: ndarray of any shape, float32 or float64. Not modified.
        lam: float.

    Returns:
        ndarray of w's shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def l1_penalty(weights, lam):
    """The L1 penalty lam * sum of the absolute entries of every array in ``weights``.

    Args:
        weights: list of ndarrays (any shapes, float32 or float64). Not modified.
            An empty list gives 0.0.
        lam: float >= 0.

    Returns:
        float.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def l1_grad(w, lam):
    """(Sub)gradient of the L1 penalty with respect to one weight array: lam * sign(w).

    sign(0) = 0: a weight that is exactly zero gets no push.

    Args:
        w: ndarray of any shape, float32 or float64. Not modified.
        lam: float.

    Returns:
        ndarray of w's shape, with entries -lam, 0 or lam.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it: inverted dropout keeps the expected value
#
# Drop 80 % of a million ones: about 20 % survive, each scaled to 5, so the mean stays near 1.
# In evaluation the same call is the identity.

# %% [example]
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = np.ones((1000, 1000))
    out, mask = dropout_forward(x, p=0.8, rng=rng)
    print(f"p = 0.8: kept {np.mean(out != 0):.4f} of the units, kept values {np.unique(out[out != 0])}, "
          f"mean {out.mean():.4f}")
    out_eval, _ = dropout_forward(x, p=0.8, train=False)
    print("evaluation is the identity:", np.array_equal(out_eval, x))

# %% [markdown]
# ## Try it: L1 makes weights sparse, L2 makes them small
#
# Fit a linear model to data where only 3 of 20 features matter, by gradient descent on the mean
# squared error plus a penalty. L1 sets the useless weights to (nearly) zero; L2 shrinks all of
# them but zeroes none.

# %% [example]
if __name__ == "__main__":
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 20))
    w_true = np.zeros((20, 1))
    w_true[:3, 0] = [3.0, -2.0, 1.5]
    y = X @ w_true + 0.5 * rng.normal(size=(200, 1))

    def fit(penalty_grad, lam, steps=500, lr=0.05):
        w = np.zeros((20, 1))
        for _ in range(steps):
            grad = X.T @ (X @ w - y) / len(X) + penalty_grad(w, lam)
            w = w - lr * grad
        return w

    np.set_printoptions(precision=2, suppress=True, linewidth=120)
    for label, grad in (("L2", l2_grad), ("L1", l1_grad)):
        w = fit(grad, lam=0.2)
        print(f"{label}: weights {w.ravel()}; |w| < 0.02 for {np.sum(np.abs(w) < 0.02)} of 20; "
              f"penalty {l2_penalty([w], 0.2) if label == 'L2' else l1_penalty([w], 0.2):.3f}")
