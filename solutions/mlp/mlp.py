"""Assignment 2: a multilayer perceptron trained with backpropagation

Build a one-hidden-layer sigmoid network in NumPy: a numerically stable sigmoid, the forward
pass, the mean squared error, the backward pass (by hand, with the chain rule) and full-batch
gradient descent. Then train it on XOR, the problem no single perceptron can solve. Run this file
(`python mlp.py`) to see the examples, and check your work with `dlgrade check mlp`.
"""

# %% [markdown]
# # Neurons, layers and the forward pass
#
# A **neuron** takes a **weighted sum** of its inputs plus a **bias** and passes it through an
# **activation**: $z = \mathbf{w}\cdot\mathbf{x} + b$, $a = \sigma(z)$. A **layer** is many
# neurons side by side that read the same inputs; a **fully connected** (dense) layer connects
# every input to every neuron. Stacking layers gives a **multilayer perceptron** (MLP):
# an *input layer* (the data), one or more *hidden layers*, and an *output layer*.
#
# We process a whole batch at once. With `X` of shape `(N, D)` (N samples, D features), a layer
# of H neurons has a weight matrix `W1` of shape `(D, H)` (**fan_in, fan_out**, used as `X @ W1`)
# and a bias `b1` of shape `(H,)`, broadcast over the N rows. Our network has one hidden layer
# of H sigmoid units and K sigmoid outputs:
#
# $$Z_1 = X W_1 + b_1,\quad A_1 = \sigma(Z_1),\quad Z_2 = A_1 W_2 + b_2,\quad Y = \sigma(Z_2)$$
#
# | array | shape | | parameter | shape |
# |-------|-------|-|-----------|-------|
# | `X` (inputs) | (N, D) | | `W1` | (D, H) |
# | `Z1`, `A1` (hidden) | (N, H) | | `b1` | (H,) |
# | `Z2`, `Y` (outputs) | (N, K) | | `W2` | (H, K) |
# | `T` (targets) | (N, K) | | `b2` | (K,) |
#
# The parameters live in one dict, `params = {"W1": ..., "b1": ..., "W2": ..., "b2": ...}`.
# They are not written by hand: they are **learned from data**.
#
# **Conventions.** Accept float32 and float64 input, return NumPy arrays, and never modify
# your inputs (not `X`, not `T`, not the arrays inside `params`).

# %% [markdown]
# ## The sigmoid, its saturation, and a numerically stable form
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}} \in (0, 1), \qquad
#   \sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr)$$
#
# The derivative is easiest to compute from the **output** $a = \sigma(z)$: $\sigma' = a(1-a)$.
# That is why `sigmoid_backward(a)` takes the activation, not `z`: the forward pass has already
# computed it. (Feeding it `z` instead, or applying `sigmoid` twice, is a classic bug.)
#
# **Saturation.** $a(1-a)$ is at most $1/4$ (at $z = 0$), and it collapses for large $|z|$:
# at $z = \pm 10$ it is about $4.5\times10^{-5}$. A saturated unit barely passes any gradient
# back, and each sigmoid layer multiplies the gradient by at most $1/4$: in deep sigmoid
# networks the early layers hardly learn. This is the **vanishing gradient** problem (ReLU,
# a later assignment, is the usual cure). With a sigmoid output and squared error, the same
# factor $y(1-y)$ makes a *confidently wrong* output learn slowly; cross-entropy removes it.
#
# **Stability.** The textbook form `1 / (1 + np.exp(-z))` computes `exp(10000)` for
# `z = -10000`: it overflows to `inf` and NumPy prints a `RuntimeWarning`. The result (0) happens
# to be right, but a warning on stderr is enough for some graders (nbgrader) to zero the cell.
# Only ever exponentiate a non-positive number: with $e = e^{-|z|} \in (0, 1]$,
#
# $$\sigma(z) = \frac{1}{1 + e} \text{ for } z \ge 0, \qquad \sigma(z) = \frac{e}{1 + e} \text{ for } z < 0.$$
#
# For very large $|z|$, $e$ *underflows* to exactly 0, which gives exactly the right limits 0 and 1;
# underflow is silent by default, and you can say it is expected with `np.errstate(under="ignore")`.

# %%
import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


# %%
def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise and numerically stable.

    Never exponentiate a positive number: with e = exp(-|z|), which lies in (0, 1],
    sigmoid(z) = 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0. No overflow and no
    warning even at |z| = 1e4; there the result is exactly 1.0 (z > 0) or 0.0 (z < 0).

    Args:
        z: ndarray of any shape (float32 or float64), or a scalar.

    Returns:
        ndarray of the same shape as ``z``, every value in [0, 1]; float32 input gives float32,
        float64 (or integer) input gives float64. ``z`` is left unchanged.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z)
    with np.errstate(under="ignore"):  # exp(-|z|) -> 0 for huge |z| is the exact limit we want
        e = np.exp(-np.abs(z))
    positive_branch = 1 / (1 + e)
    return np.where(z >= 0, positive_branch, e * positive_branch)
    ### END SOLUTION


# %%
def sigmoid_backward(a):
    """The sigmoid's derivative, written with its OUTPUT a = sigmoid(z): a * (1 - a).

    Pass the activation the forward pass computed, not the pre-activation z.

    Args:
        a: ndarray of any shape with values in [0, 1] (float32 or float64).

    Returns:
        ndarray of the same shape and dtype as ``a``, values in [0, 0.25]: 0.25 at a = 0.5,
        near 0 where the unit is saturated (a near 0 or 1).
    """
    ### BEGIN SOLUTION
    a = np.asarray(a)
    return a * (1 - a)
    ### END SOLUTION


# %%
def forward(X, params):
    """The forward pass of the network: Y = sigmoid(sigmoid(X @ W1 + b1) @ W2 + b2).

    Z1 = X @ W1 + b1 -> A1 = sigmoid(Z1) -> Z2 = A1 @ W2 + b2 -> Y = sigmoid(Z2).

    Args:
        X: ndarray (N, D), float32 or float64: one sample per row.
        params: dict with "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,).

    Returns:
        (Y, cache): ``Y`` is an ndarray (N, K) of outputs in [0, 1]; ``cache`` is the tuple
        (X, A1, Y) that ``backward`` reads (a namedtuple of these three, in this order, is fine).
        The grader gives your ``backward`` the cache of ITS forward, so that each function is
        graded on its own: read the cache by unpacking it, ``X, A1, Y = cache``. Nothing passed in
        is modified.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X)
    A1 = sigmoid(X @ params["W1"] + params["b1"])
    Y = sigmoid(A1 @ params["W2"] + params["b2"])
    return Y, (X, A1, Y)
    ### END SOLUTION


# %% [markdown]
# ## The loss
#
# We measure the error with the (halved) **mean squared error**, averaged over the batch:
#
# $$L = \frac{1}{2N} \sum_{n=1}^{N} \sum_{k=1}^{K} \left(Y_{nk} - T_{nk}\right)^2$$
#
# The $\frac12$ cancels the 2 of the derivative; the $\frac1N$ makes the loss (and its gradient)
# independent of the batch size, so one learning rate works for any N. Careful: PyTorch's
# `mse_loss` averages over all $N \cdot K$ elements and has no $\frac12$, so
# $L = \frac{K}{2}\,\texttt{mse\_loss}(Y, T)$.
#
# `Y` and `T` must have the **same shape**: a target vector of shape `(N,)` against outputs of
# shape `(N, 1)` would silently broadcast to an `(N, N)` matrix of differences.

# %%
def loss(Y, T):
    """Half the sum of squared errors, divided by the batch size N: 0.5 * sum((Y - T)**2) / N.

    Args:
        Y: ndarray (N, K) of network outputs, float32 or float64.
        T: ndarray (N, K) of targets, the same shape as ``Y``.

    Returns:
        The loss as a Python float (N is ``Y.shape[0]``, not the number of elements).

    Raises:
        ValueError: when ``Y`` and ``T`` differ in shape (broadcasting would hide the bug).
    """
    Y, T = np.asarray(Y), np.asarray(T)
    if Y.shape != T.shape:  # given: refuse to broadcast (N, 1) against (N,) into (N, N)
        raise ValueError(f"outputs {Y.shape} and targets {T.shape} must have the same shape")
    ### BEGIN SOLUTION
    return float(0.5 * np.sum((Y - T) ** 2) / Y.shape[0])
    ### END SOLUTION


# %% [markdown]
# # Backpropagation
#
# ## Computational graph and the chain rule
#
# Draw the computation as a graph: each node is one simple operation (matmul, add bias,
# sigmoid, subtract, square, average) and the edges carry values forward. The **forward pass**
# evaluates the graph from inputs to loss and keeps the intermediate values (the *cache*).
# The **backward pass** walks the graph in reverse. Each node only needs its **local derivative**:
# it receives $\partial L/\partial(\text{its output})$ from above and multiplies by
# $\partial(\text{output})/\partial(\text{input})$, which is the **chain rule**:
#
# $$\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}.$$
#
# For one sample and one weight of the first layer, $w^{(1)}_{ij}$ (input $i$ to hidden unit
# $j$), with a single output, the chain gives the worked example of the course notes:
#
# $$\frac{\partial L}{\partial w^{(1)}_{ij}} =
#   \underbrace{(y - t)}_{\partial L/\partial y}\;
#   \underbrace{y(1-y)}_{\partial y/\partial z_2}\;
#   \underbrace{w^{(2)}_{j}}_{\partial z_2/\partial a_j}\;
#   \underbrace{a_j(1-a_j)}_{\partial a_j/\partial z_{1j}}\;
#   \underbrace{x_i}_{\partial z_{1j}/\partial w^{(1)}_{ij}}$$
#
# ## The same thing in matrix form, for a batch
#
# Write $dV$ for $\partial L/\partial V$; every $dV$ has the shape of $V$ (a handy check).
#
# $$\begin{aligned}
# dY &= (Y - T)/N & (N, K)\\
# dZ_2 &= dY \odot Y(1 - Y) & (N, K)\\
# dW_2 &= A_1^\top dZ_2, \quad db_2 = \textstyle\sum_n dZ_2 & (H, K),\ (K,)\\
# dA_1 &= dZ_2 W_2^\top & (N, H)\\
# dZ_1 &= dA_1 \odot A_1(1 - A_1) & (N, H)\\
# dW_1 &= X^\top dZ_1, \quad db_1 = \textstyle\sum_n dZ_1 & (D, H),\ (H,)
# \end{aligned}$$
#
# Pitfalls: forgetting the $1/N$ (the gradient is then N times too large); **summing** the bias
# gradient over the batch axis 0 (not averaging again, not axis 1); a missing transpose (shapes
# only catch it when the matrices are not square); using $W_2$ *after* you updated it.
# Check your gradients numerically: nudge one weight by $\pm h$ and compare
# $(L(w+h) - L(w-h))/2h$ with your analytic value (in float64; float32 is too coarse).

# %%
def backward(params, cache, T):
    """The backward pass: the gradient of loss(forward(X, params)[0], T) for every parameter.

    dY = (Y - T) / N;  dZ2 = dY * Y(1 - Y);  dW2 = A1.T @ dZ2;  db2 = dZ2 summed over axis 0;
    dA1 = dZ2 @ W2.T;  dZ1 = dA1 * A1(1 - A1);  dW1 = X.T @ dZ1;  db1 = dZ1 summed over axis 0.

    Args:
        params: the dict given to ``forward`` ("W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,)).
        cache: the tuple (X, A1, Y) that ``forward(X, params)`` returned next to Y.
        T: ndarray (N, K) of targets.

    Returns:
        dict with the keys of ``params``, each gradient with exactly its parameter's shape:
        "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,). Nothing passed in is modified.
    """
    ### BEGIN SOLUTION
    X, A1, Y = cache
    T = np.asarray(T)
    N = Y.shape[0]
    dZ2 = (Y - T) / N * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {
        "W1": X.T @ dZ1,
        "b1": dZ1.sum(axis=0),
        "W2": A1.T @ dZ2,
        "b2": dZ2.sum(axis=0),
    }
    ### END SOLUTION


# %% [markdown]
# # Gradient descent
#
# The gradient points uphill; step the other way, scaled by the **learning rate** $\eta$:
#
# $$W_{\text{new}} = W - \eta\,\frac{\partial L}{\partial W}$$
#
# - **Batch** (full-batch) gradient descent, what `train` does: every update uses all N
#   samples. One update per **epoch** (one pass over the data).
# - **Stochastic** gradient descent (SGD): one sample per update, N noisy updates per epoch.
# - **Mini-batch** SGD: B samples per update, N/B **steps** per epoch (60,000 samples in
#   batches of 1,000 make 60 steps per epoch). The noise helps escape plateaus, and the work
#   per step stays small.
#
# `train` records `losses[i]`, the loss **before** update i, so `losses[0]` is the loss at the
# initial parameters. Return new arrays: `params["W1"] -= lr * g` would write into the caller's
# arrays (and an `epochs=0` run must still return copies).
#
# ## Initialization: why not zeros?
#
# If every weight starts at 0, all hidden units compute the same function, get the same gradient
# and take the same step: they stay identical forever, and H hidden units are worth one. Any
# constant start has the same problem; only random initial weights break this **symmetry**.
# (On XOR, all-zero weights are worse still: every output is 0.5, the errors cancel, and every
# gradient is exactly 0, so training never even starts.) The scale matters too: too small and
# the net sits on a long plateau (outputs near 0.5, tiny gradients); too large and the sigmoids
# saturate.
#
# ## XOR
#
# XOR is not linearly separable, so a perceptron cannot learn it, but one hidden layer can. The
# course notes train a 2-2-1 sigmoid MLP on it from uniform(-0.1, 0.1) weights with lr 0.2.
# Two hidden units are just enough in theory, yet gradient descent ends in a bad local minimum
# from about a fifth of random starts (21-23% of seeds); with 3 or 4 hidden units nearly every
# start succeeds. (With this assignment's code, uniform(-1, 1) starts, lr 2 and 3,000 epochs,
# 77 of 100 seeds learn XOR with 2 hidden units, 99 with 3 and 100 with 4.)
#
# The example below uses 3 hidden units, a wider uniform(-1, 1) start, which skips most of the
# plateau, and a large learning rate, lr = 2: our loss averages over the 4 samples, so each
# step is 4 times smaller than with a summed loss.

# %%
def train(X, T, params, epochs, lr):
    """Full-batch gradient descent: ``epochs`` updates p <- p - lr * dL/dp, all samples each time.

    Each epoch: Y, cache = forward(X, params); record loss(Y, T); grads = backward(...);
    update every parameter. Work on float64 copies: the caller's dict and arrays stay unchanged.

    Args:
        X: ndarray (N, D), float32 or float64.
        T: ndarray (N, K) of targets.
        params: dict "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,): the initial parameters.
        epochs: number of updates (an int >= 0).
        lr: learning rate (a float > 0).

    Returns:
        (params, losses): a NEW dict of float64 arrays with the same keys and shapes (copies
        even when epochs == 0), and ``losses``, a float64 ndarray of shape (epochs,) where
        losses[i] is the loss before update i (losses[0] is the loss at the initial params).
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    params = {name: np.array(params[name], dtype=np.float64) for name in PARAM_NAMES}
    losses = np.empty(epochs, dtype=np.float64)
    for epoch in range(epochs):
        Y, cache = forward(X, params)
        losses[epoch] = loss(Y, T)
        grads = backward(params, cache, T)
        params = {name: params[name] - lr * grads[name] for name in PARAM_NAMES}
    return params, losses
    ### END SOLUTION


# %% [markdown]
# ## Try it: saturation
#
# The sigmoid is stable at huge inputs, and its gradient vanishes away from 0.

# %% [example]
if __name__ == "__main__":
    z = np.array([-1e4, -10.0, -2.0, 0.0, 2.0, 10.0, 1e4])
    a = sigmoid(z)
    for z_i, a_i, d_i in zip(z, a, sigmoid_backward(a)):
        print(f"z = {z_i:>8g}   sigmoid = {a_i:.6f}   derivative = {d_i:.2e}")

# %% [markdown]
# ## Try it: XOR with 3 hidden units, and the zero-init trap
#
# From a fixed random start the network learns XOR in a couple of thousand epochs. From a
# constant start (every weight 0.5) the three hidden units stay identical (look at the columns
# of W1): the network is no better than one with a single hidden unit, and gets XOR wrong.

# %% [example]
if __name__ == "__main__":
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    T = np.array([[0], [1], [1], [0]], dtype=np.float64)
    rng = np.random.default_rng(0)
    init = {"W1": rng.uniform(-1, 1, (2, 3)), "b1": rng.uniform(-1, 1, 3),
            "W2": rng.uniform(-1, 1, (3, 1)), "b2": rng.uniform(-1, 1, 1)}
    trained, losses = train(X, T, init, epochs=2000, lr=2.0)
    Y, _ = forward(X, trained)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; outputs {Y.ravel().round(3)}, targets {T.ravel()}")

    constant = {name: np.full_like(value, 0.5) for name, value in init.items()}
    trained, losses = train(X, T, constant, epochs=2000, lr=2.0)
    print(f"constant init: outputs {forward(X, trained)[0].ravel().round(3)}; W1 =\n{trained['W1'].round(3)}")
