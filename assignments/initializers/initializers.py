"""Assignment 3: weight initialization

Implement the classic initializers in NumPy: LeCun, Xavier (Glorot) and He, each in a normal and
a uniform flavour. Run this file (`python initializers.py`) to see the examples at the bottom,
and check your work with `dlgrade check initializers`.
"""

# %% [markdown]
# # Why initialization matters
#
# Training starts from the initial weights, and two naive choices fail:
#
# - **All zeros (or any constant).** Every hidden neuron of a layer computes the same weighted sum,
#   receives the same gradient and makes the same update: the neurons stay identical forever, and a
#   layer of 100 units behaves like a single unit. Random weights *break the symmetry*.
# - **"Some" random numbers, e.g. $\mathcal{N}(0, 1)$.** A unit of a dense layer sums `fan_in`
#   products $w_{ij} x_i$. With independent zero-mean weights of variance $\sigma^2$ and inputs of
#   second moment $\mathbb{E}[x^2]$,
#
#   $$\mathrm{Var}(z_j) = \mathrm{fan\_in}\;\sigma^2\;\mathbb{E}[x^2].$$
#
#   If $\mathrm{fan\_in}\,\sigma^2 > 1$ the signal grows by that factor at **every** layer and
#   explodes with depth (sigmoid and tanh units saturate, gradients vanish); if it is $< 1$ the
#   signal shrinks to nothing. Too large or too small, depth multiplies the error.
#
# The fix is to pick $\sigma^2$ so that the variance stays (roughly) constant from layer to layer.

# %% [markdown]
# ## The three rules
#
# | initializer | variance $\sigma^2$ | made for |
# |---|---|---|
# | LeCun | $1 / \mathrm{fan\_in}$ | keeps the forward variance for linear / SELU / tanh-like units |
# | Xavier (Glorot) | $2 / (\mathrm{fan\_in} + \mathrm{fan\_out})$ | **sigmoid / tanh**: a compromise between the forward pass (fan_in) and the backward pass (fan_out) |
# | He (Kaiming) | $2 / \mathrm{fan\_in}$ | **ReLU**: ReLU zeroes half of its inputs, halving $\mathbb{E}[x^2]$; the factor 2 gives it back |
#
# Each rule comes in two flavours with the **same variance**:
#
# - **normal**: $w \sim \mathcal{N}(0, \sigma^2)$, i.e. standard deviation $\sigma = \sqrt{\sigma^2}$.
#   NumPy's `rng.normal(loc, scale)` takes the standard deviation, *not* the variance;
# - **uniform**: $w \sim \mathcal{U}(-a, a)$ with $a = \sqrt{3\sigma^2}$, because the variance of
#   $\mathcal{U}(-a, a)$ is $a^2/3$. For example, Xavier uniform is
#   $a = \sqrt{6 / (\mathrm{fan\_in} + \mathrm{fan\_out})}$.

# %% [markdown]
# ## Conventions (read carefully: the grader is strict about them)
#
# - `shape` is `(fan_in, fan_out)`: a weight matrix used as `X @ W`, so **fan_in is the number of
#   rows**, `shape[0]`. PyTorch stores a `Linear` weight the other way round, `(out, in)`, so there
#   fan_in is `W.size(1)`. Mixing the two up is the most common bug on non-square layers.
# - The normal initializers are **not truncated**. Keras' `*_normal` initializers draw from a
#   truncated normal (redrawing values beyond two standard deviations, with a corrected scale);
#   PyTorch's `torch.nn.init` does not truncate, and this course follows PyTorch.
# - `rng` is a `numpy.random.Generator` (for instance `np.random.default_rng(0)`), and it is the
#   **only** source of randomness: never call `np.random.normal`, `np.random.rand`, ... (the global,
#   legacy state). The same seed must give the same weights.
# - Return a float64 array of exactly `shape`.
#
# Random output cannot be graded value by value; the grader draws a large matrix and tests its
# *distribution*: mean, standard deviation, the Kolmogorov-Smirnov distance to the exact CDF and,
# for the uniforms, the bounds.

# %%
import numpy as np


# %%
def _fans(shape):
    """Split a weight shape ``(fan_in, fan_out)`` into two positive ints (given, not graded)."""
    if len(shape) != 2:
        message = f"expected a weight shape (fan_in, fan_out), got {shape!r}"
        raise ValueError(message)
    fan_in, fan_out = (int(n) for n in shape)
    if fan_in < 1 or fan_out < 1:
        message = f"fan_in and fan_out must be positive, got {shape!r}"
        raise ValueError(message)
    return fan_in, fan_out


# %%
def lecun_normal(shape, rng):
    """LeCun normal initialization: w ~ N(0, 1/fan_in), not truncated.

    Variance 1/fan_in, so the standard deviation is sqrt(1/fan_in).

    Args:
        shape: tuple (fan_in, fan_out) of positive ints; fan_in is the number of rows.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def lecun_uniform(shape, rng):
    """LeCun uniform initialization: w ~ U(-a, a) with a = sqrt(3/fan_in).

    Same variance as ``lecun_normal``: a**2 / 3 = 1/fan_in.

    Args:
        shape: tuple (fan_in, fan_out) of positive ints; fan_in is the number of rows.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``; every entry satisfies |w| <= a.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def xavier_normal(shape, rng):
    """Xavier (Glorot) normal initialization: w ~ N(0, 2/(fan_in + fan_out)), not truncated.

    The choice for sigmoid and tanh layers: it balances the forward pass (fan_in) against the
    backward pass (fan_out). The standard deviation is sqrt(2/(fan_in + fan_out)).

    Args:
        shape: tuple (fan_in, fan_out) of positive ints.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def xavier_uniform(shape, rng):
    """Xavier (Glorot) uniform initialization: w ~ U(-a, a) with a = sqrt(6/(fan_in + fan_out)).

    Same variance as ``xavier_normal``: a**2 / 3 = 2/(fan_in + fan_out).

    Args:
        shape: tuple (fan_in, fan_out) of positive ints.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``; every entry satisfies |w| <= a.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def he_normal(shape, rng):
    """He (Kaiming) normal initialization: w ~ N(0, 2/fan_in), not truncated.

    The choice for ReLU layers: ReLU zeroes half of the pre-activations, and the factor 2 makes up
    for it. fan_in, never fan_out. The standard deviation is sqrt(2/fan_in).

    Args:
        shape: tuple (fan_in, fan_out) of positive ints; fan_in is the number of rows.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def he_uniform(shape, rng):
    """He (Kaiming) uniform initialization: w ~ U(-a, a) with a = sqrt(6/fan_in).

    Same variance as ``he_normal``: a**2 / 3 = 2/fan_in.

    Args:
        shape: tuple (fan_in, fan_out) of positive ints; fan_in is the number of rows.
        rng: numpy.random.Generator, the only source of randomness.

    Returns:
        float64 ndarray of shape exactly ``shape``; every entry satisfies |w| <= a.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it: does the signal survive ten layers?
#
# Push a batch through ten dense layers of width 256 and print the root mean square of the
# activations after each layer. With $\mathcal{N}(0, 1)$ weights the ReLU signal explodes (about
# a factor $\sqrt{256/2} \approx 11$ per layer) and the tanh units sit saturated at $\pm 1$,
# where their gradient $1 - \tanh^2$ is almost zero. With He weights the ReLU scale stays put;
# with Xavier weights the tanh signal only shrinks slowly (tanh squashes a little at every layer)
# and the units stay in their sensitive range.

# %% [example]
if __name__ == "__main__":
    def signal_scale(init, activation, depth=10, width=256, seed=0):
        rng = np.random.default_rng(seed)
        h = rng.normal(size=(128, width))
        scales = []
        for _ in range(depth):
            h = activation(h @ init((width, width), rng))
            scales.append(np.sqrt(np.mean(h ** 2)))
        return np.array(scales)

    def relu(z):
        return np.maximum(z, 0.0)

    def naive(shape, rng):
        return rng.normal(0.0, 1.0, size=shape)

    np.set_printoptions(precision=3, suppress=False, linewidth=120)
    print("ReLU, N(0, 1):   ", signal_scale(naive, relu))
    print("ReLU, He normal: ", signal_scale(he_normal, relu))
    print("tanh, N(0, 1):   ", signal_scale(naive, np.tanh), "(saturated)")
    print("tanh, Xavier:    ", signal_scale(xavier_uniform, np.tanh))

# %% [markdown]
# ## Try it: zero init keeps neurons identical
#
# With a constant initialization every hidden unit gets the same gradient, so after any number of
# gradient steps the columns of `W1` are still equal. Random initialization breaks the symmetry.

# %% [example]
if __name__ == "__main__":
    def hidden_columns_after_training(W1, steps=50, lr=0.5, seed=1):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(32, 3))
        y = (X[:, :1] * X[:, 1:2] > 0).astype(np.float64)
        w2 = np.full((W1.shape[1], 1), 0.1)
        for _ in range(steps):
            h = np.tanh(X @ W1)
            err = h @ w2 - y
            grad_w2 = h.T @ err / len(X)
            grad_W1 = X.T @ ((err @ w2.T) * (1 - h ** 2)) / len(X)
            W1, w2 = W1 - lr * grad_W1, w2 - lr * grad_w2
        return W1

    print("constant init, W1 after training:\n", hidden_columns_after_training(np.full((3, 4), 0.1)))
    print("Xavier init, W1 after training:\n",
          hidden_columns_after_training(xavier_normal((3, 4), np.random.default_rng(2))))
