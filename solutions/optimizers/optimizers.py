"""Assignment 4: optimizers

Implement gradient descent and its best-known refinements in NumPy: SGD with momentum and
Nesterov momentum, Adagrad, RMSProp and Adam, plus a mini-batch generator. The update rules and
the default hyperparameters are PyTorch's (`torch.optim`). Run this file (`python optimizers.py`)
to see the examples at the bottom, and check your work with `dlgrade check optimizers`.
"""

# %% [markdown]
# # Gradient descent
#
# Training a network means finding weights $W$ that make the loss $L(W)$ small. The gradient
# $\partial L / \partial W$ (what backpropagation computes) points in the direction in which the
# loss grows fastest, so we take a small step the other way:
#
# $$W_{\text{new}} = W - \eta\,\frac{\partial L}{\partial W}$$
#
# The **learning rate** $\eta$ (`lr`) sets the step length. Too large and the loss oscillates or
# blows up; too small and training crawls. Every optimizer below is this rule with a smarter
# choice of *direction* (momentum, Nesterov), of *step size per parameter* (Adagrad, RMSProp),
# or of both (Adam).
#
# ## How many samples per step: batch, stochastic, mini-batch
#
# The loss is an average over the training set, and so is its gradient. How much of the data we
# look at before each update gives three flavours of gradient descent:
#
# | flavour | gradient from | updates per epoch | character |
# |---|---|---|---|
# | batch GD | all $N$ samples | 1 | exact gradient, but one slow step per pass |
# | stochastic GD (SGD) | 1 sample | $N$ | cheap, very noisy steps |
# | mini-batch SGD | $B$ samples (32 to a few thousand) | $\lceil N/B \rceil$ | the usual choice: vectorised, noise that helps |
#
# **Steps and epochs.** A *step* (iteration) is one update of the weights; an *epoch* is one full
# pass over the training set. With 60,000 training images (MNIST) and a batch size of 1000, one
# epoch is $60{,}000 / 1000 = 60$ steps. When $B$ does not divide $N$, the last batch of the
# epoch is smaller: 10 samples in batches of 3 give batches of 3, 3, 3 and 1 (PyTorch's
# `DataLoader` keeps that partial batch by default, `drop_last=False`, and so do we). The data is
# shuffled afresh each epoch so that the batches differ from one epoch to the next. Large batches
# (up to about 8k) train well too, provided the learning rate is scaled up with the batch size.
#
# In a PyTorch training loop, the step is the call `optimizer.step()`:
#
# ```python
# for epoch in range(epochs):
#     for X_batch, y_batch in loader:          # ceil(N / B) steps per epoch
#         optimizer.zero_grad()
#         loss = loss_fn(model(X_batch), y_batch)
#         loss.backward()                       # gradients into p.grad
#         optimizer.step()                      # p -= lr * (something built from p.grad)
# ```

# %% [markdown]
# ## The conventions of this assignment
#
# - The parameters are a dict of NumPy arrays, e.g. `params = {"W": W, "b": b}` with `W` of
#   shape `(fan_in, fan_out)` and `b` of shape `(fan_out,)`; `grads` has the same keys and shapes.
# - `step(params, grads)` updates the arrays **in place**: `p -= ...` or `p[...] = ...`. The dict
#   keeps the same array objects, because the model holds those very arrays: rebinding
#   `params["W"] = W - lr * dW` would create a new array that the model never sees.
# - An optimizer remembers things between steps (velocities, running averages, a step counter).
#   That **state** lives on the optimizer, in `self.state[name]`, one entry per parameter name,
#   like `torch.optim.Optimizer.state`. Keep it in float64.
# - float32 parameters must stay float32 arrays (updated in place); compute in float64 and let
#   the in-place subtraction round the result.
# - Never modify `grads`: the caller may still need them (to log their norm, say).
# - **Weight decay** (all four optimizers) is L2 regularisation folded into the gradient before
#   anything else: $g \leftarrow g + \lambda\,p$, the gradient of $\tfrac{\lambda}{2}\lVert p\rVert^2$.
#   (AdamW's *decoupled* weight decay is a different rule; it is not asked here.)
# - Hyperparameter defaults are `torch.optim`'s. A negative learning rate, epsilon, momentum or
#   weight decay is an error (`ValueError`), as in torch; that check is written for you.

# %%
import numpy as np


# %%
def _check_non_negative(name, value):
    """Raise ValueError unless ``value >= 0`` (NaN fails too), as torch.optim does."""
    if not value >= 0.0:
        raise ValueError(f"invalid {name}: {value!r} (must be >= 0)")


def _check_beta(name, value):
    """Raise ValueError unless ``0 <= value < 1``: a decay rate of an exponential moving average."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"invalid {name}: {value!r} (must be in [0, 1))")


# %%
def _l2_gradient(grad, param, weight_decay):
    """The gradient with L2 weight decay folded in, as a NEW float64 array (a helper for the four steps).

    g = grad + weight_decay * param. With weight_decay == 0 this is just the gradient.

    Args:
        grad: ndarray, any shape (float32 or float64): dL/dparam. Never modified.
        param: ndarray of the same shape: the current parameter value.
        weight_decay: float >= 0, the L2 coefficient lambda.

    Returns:
        float64 ndarray of the same shape. It may share memory with ``grad`` when grad is float64
        and weight_decay is 0, so treat it as read-only: build new arrays from it, never write
        into it.
    """
    ### BEGIN SOLUTION
    g = np.asarray(grad, dtype=np.float64)
    if weight_decay != 0:
        # float64 product, and a new array: the caller's gradient stays as it was
        g = g + weight_decay * np.asarray(param, dtype=np.float64)
    return g
    ### END SOLUTION


# %% [markdown]
# ## SGD, momentum and Nesterov: a better direction
#
# Plain SGD steps along the current gradient: $p \leftarrow p - \eta\,g_t$. In a long narrow
# valley the gradient points mostly across the valley, so SGD zig-zags from wall to wall and
# moves slowly along the floor.
#
# **Momentum** remembers the direction: a ball rolling downhill gathers speed. PyTorch keeps a
# *buffer* $b$ (the velocity), started at the first gradient:
#
# $$b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + g_t, \qquad p \leftarrow p - \eta\, b_t$$
#
# Components that keep their sign add up (up to $1/(1-\mu) = 10\times$ for $\mu = 0.9$); components
# that flip sign every step cancel out, which damps the zig-zag. (CS231n and Keras write
# $v \leftarrow \mu v - \eta g,\ p \leftarrow p + v$: with a constant learning rate it is the same
# trajectory, $v = -\eta b$.)
#
# **Nesterov momentum** looks ahead: it corrects the step with the gradient *after* the momentum
# move. PyTorch's form of it is
#
# $$p \leftarrow p - \eta\,(g_t + \mu\, b_t)$$
#
# with $b_t$ the buffer just updated. Nesterov needs $\mu > 0$ (torch raises otherwise).

# %%
class SGD:
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    torch.optim.SGD's rule, for each parameter p with gradient grad:

        g = grad + weight_decay * p
        with momentum mu > 0:  buf = g (first step), then buf = mu * buf + g
                               update = g + mu * buf  if nesterov  else  buf
        without momentum:      update = g
        p -= lr * update

    Args:
        lr: learning rate, float >= 0 (required).
        momentum: mu, float >= 0 (default 0.0: plain SGD).
        nesterov: bool (default False); needs momentum > 0.
        weight_decay: L2 coefficient, float >= 0 (default 0.0).

    Raises:
        ValueError: a negative lr, momentum or weight_decay, or nesterov without momentum.

    State: ``self.state[name]["momentum_buffer"]``, a float64 array of the parameter's shape,
    created on the first step (only when momentum > 0).
    """

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        _check_non_negative("learning rate", lr)
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum > 0")
        self.lr, self.momentum, self.nesterov, self.weight_decay = lr, momentum, nesterov, weight_decay
        self.state = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place, one SGD step.

        Args:
            params: dict name -> ndarray (float32 or float64), updated in place.
            grads: dict with the same keys -> ndarray of the same shape; not modified.

        Returns:
            None.
        """
        ### BEGIN SOLUTION
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            update = g
            if self.momentum != 0:
                state = self.state.setdefault(name, {})
                if "momentum_buffer" not in state:
                    buf = g.copy()  # a copy: g may be the caller's own gradient array
                else:
                    buf = self.momentum * state["momentum_buffer"] + g
                state["momentum_buffer"] = buf
                update = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * update
        ### END SOLUTION


# %% [markdown]
# ## Adagrad: a step size for each parameter
#
# One learning rate for all weights is a compromise: some weights see large gradients at every
# step, others (tied to rare features) see small or rare ones. **Adagrad** divides each
# parameter's step by the root of the sum of all its past squared gradients, elementwise:
#
# $$s_t = s_{t-1} + g_t^2, \qquad p \leftarrow p - \eta\,\frac{g_t}{\sqrt{s_t} + \epsilon}$$
#
# with $s_0 = 0$. Parameters with a history of large gradients take small steps, rarely-updated
# ones take large steps. The flaw: $s_t$ only grows, so the effective learning rate shrinks
# towards zero and training can stall. PyTorch's defaults: `lr=0.01`, `eps=1e-10`, and $\epsilon$
# is added **outside** the square root.

# %%
class Adagrad:
    """Adagrad: per-parameter step sizes from the running SUM of squared gradients.

    torch.optim.Adagrad's rule (lr_decay = 0, initial_accumulator_value = 0):

        g = grad + weight_decay * p
        sum = sum + g * g                      (elementwise; starts at 0)
        p  -= lr * g / (sqrt(sum) + eps)       (eps OUTSIDE the root)

    Args:
        lr: learning rate, float >= 0 (default 0.01).
        eps: float >= 0 added to the root (default 1e-10).
        weight_decay: L2 coefficient, float >= 0 (default 0.0).

    Raises:
        ValueError: a negative lr, eps or weight_decay.

    State: ``self.state[name]["sum"]``, a float64 array of the parameter's shape.
    """

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0):
        _check_non_negative("learning rate", lr)
        _check_non_negative("eps", eps)
        _check_non_negative("weight_decay", weight_decay)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.state = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place, one Adagrad step.

        Args:
            params: dict name -> ndarray (float32 or float64), updated in place.
            grads: dict with the same keys -> ndarray of the same shape; not modified.

        Returns:
            None.
        """
        ### BEGIN SOLUTION
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"sum": np.zeros(p.shape)})
            state["sum"] = state["sum"] + g * g
            p -= self.lr * g / (np.sqrt(state["sum"]) + self.eps)
        ### END SOLUTION


# %% [markdown]
# ## RMSProp: forget the distant past
#
# **RMSProp** fixes Adagrad's ever-shrinking steps by replacing the sum with an exponential moving
# average, which forgets old gradients:
#
# $$s_t = \alpha\, s_{t-1} + (1 - \alpha)\, g_t^2, \qquad p \leftarrow p - \eta\,\frac{g_t}{\sqrt{s_t} + \epsilon}$$
#
# with $s_0 = 0$. The average spans roughly the last $1/(1-\alpha)$ steps: 100 steps for PyTorch's
# default $\alpha = 0.99$. PyTorch's defaults: `lr=0.01`, `alpha=0.99`, `eps=1e-8`, $\epsilon$
# outside the root.

# %%
class RMSProp:
    """RMSProp: per-parameter step sizes from a moving AVERAGE of squared gradients.

    torch.optim.RMSprop's rule (momentum = 0, centered = False):

        g = grad + weight_decay * p
        square_avg = alpha * square_avg + (1 - alpha) * g * g    (starts at 0)
        p -= lr * g / (sqrt(square_avg) + eps)                    (eps OUTSIDE the root)

    Args:
        lr: learning rate, float >= 0 (default 0.01).
        alpha: smoothing constant of the average, float >= 0 (default 0.99; Keras calls it rho
            and defaults to 0.9).
        eps: float >= 0 added to the root (default 1e-8).
        weight_decay: L2 coefficient, float >= 0 (default 0.0).

    Raises:
        ValueError: a negative lr, alpha, eps or weight_decay.

    State: ``self.state[name]["square_avg"]``, a float64 array of the parameter's shape.
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        _check_non_negative("learning rate", lr)
        _check_non_negative("alpha", alpha)
        _check_non_negative("eps", eps)
        _check_non_negative("weight_decay", weight_decay)
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        self.state = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place, one RMSProp step.

        Args:
            params: dict name -> ndarray (float32 or float64), updated in place.
            grads: dict with the same keys -> ndarray of the same shape; not modified.

        Returns:
            None.
        """
        ### BEGIN SOLUTION
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(name, {"square_avg": np.zeros(p.shape)})
            state["square_avg"] = self.alpha * state["square_avg"] + (1 - self.alpha) * g * g
            p -= self.lr * g / (np.sqrt(state["square_avg"]) + self.eps)
        ### END SOLUTION


# %% [markdown]
# ## Adam: direction and step size together
#
# **Adam** keeps two moving averages per parameter: of the gradient (the *first moment* $m$,
# momentum's direction) and of the squared gradient (the *second moment* $v$, RMSProp's step
# size). Both start at zero, so in the first steps they are biased towards zero; dividing by
# $1 - \beta^t$ removes that bias. The step counter $t$ is incremented **first**, so the first
# step uses $t = 1$:
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2$$
# $$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
#   p \leftarrow p - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$
#
# At $t = 1$, $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the first step is about
# $\eta\,\mathrm{sign}(g_1)$ whatever the gradient's scale. (That is also why swapping $\beta_1$
# and $\beta_2$ goes unnoticed at the first step and shows from the second on.) PyTorch's
# defaults: `lr=0.001`, `betas=(0.9, 0.999)`, `eps=1e-8`. Weight decay here is plain L2 added to
# the gradient (`torch.optim.Adam`), not AdamW's decoupled decay.
#
# ## PyTorch and Keras do not agree
#
# The same name does not always mean the same rule. This course follows PyTorch:
#
# | | PyTorch (this course) | Keras |
# |---|---|---|
# | SGD momentum | $b = \mu b + g$, $p \mathrel{-}= \eta b$ | $v = \mu v - \eta g$, $p \mathrel{+}= v$ (same for a constant $\eta$) |
# | Adagrad | $\epsilon = 10^{-10}$ **outside** the root: $\sqrt{s} + \epsilon$; $s_0 = 0$ | $\epsilon = 10^{-7}$ **inside**: $\sqrt{s + \epsilon}$; $s_0 = 0.1$ |
# | RMSProp | `alpha=0.99`, $\epsilon = 10^{-8}$ outside the root; `lr=0.01` | `rho=0.9`, $\epsilon = 10^{-7}$ inside the root; `lr=0.001` |
# | Adam | $\epsilon = 10^{-8}$ added to $\sqrt{\hat v_t}$ | "epsilon hat" $= 10^{-7}$ added to $\sqrt{v_t}$, with $\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ |
#
# With tiny gradients, or a large $\epsilon$ such as 0.1, the placement of $\epsilon$ changes the
# step a lot: $\sqrt{10^{-4}} + 0.1 = 0.11$ but $\sqrt{10^{-4} + 0.1} \approx 0.32$.

# %%
class Adam:
    """Adam: bias-corrected moving averages of the gradient and of its square.

    torch.optim.Adam's rule (amsgrad = False), for each parameter:

        g = grad + weight_decay * p                      (L2, not AdamW)
        t = t + 1                                        (first step: t = 1)
        m = beta1 * m + (1 - beta1) * g                  (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t),  v_hat = v / (1 - beta2**t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        lr: learning rate, float >= 0 (default 0.001).
        betas: (beta1, beta2), each in [0, 1) (default (0.9, 0.999)).
        eps: float >= 0 added to sqrt(v_hat) (default 1e-8).
        weight_decay: L2 coefficient, float >= 0 (default 0.0).

    Raises:
        ValueError: a negative lr, eps or weight_decay, or a beta outside [0, 1).

    State: ``self.state[name]`` holds "step" (int, the t above), "exp_avg" (m) and "exp_avg_sq"
    (v), float64 arrays of the parameter's shape.
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        _check_non_negative("learning rate", lr)
        _check_non_negative("eps", eps)
        _check_beta("beta1", betas[0])
        _check_beta("beta2", betas[1])
        _check_non_negative("weight_decay", weight_decay)
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        self.state = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place, one Adam step.

        Args:
            params: dict name -> ndarray (float32 or float64), updated in place.
            grads: dict with the same keys -> ndarray of the same shape; not modified.

        Returns:
            None.
        """
        ### BEGIN SOLUTION
        beta1, beta2 = self.betas
        for name, p in params.items():
            g = _l2_gradient(grads[name], p, self.weight_decay)
            state = self.state.setdefault(
                name, {"step": 0, "exp_avg": np.zeros(p.shape), "exp_avg_sq": np.zeros(p.shape)}
            )
            state["step"] += 1
            t = state["step"]
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m_hat = state["exp_avg"] / (1 - beta1**t)
            v_hat = state["exp_avg_sq"] / (1 - beta2**t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# %% [markdown]
# ## Mini-batches
#
# `minibatches` cuts a data set into batches for one epoch. With an `rng` (a NumPy
# `Generator`), the visiting order is `rng.permutation(N)`, one call per epoch, so that each
# epoch sees a fresh shuffle; without one, the order is `0, 1, ..., N-1`. The batches are
# consecutive slices of that order, `batch_size` long; the last one holds what is left (it is
# never dropped). Every sample appears exactly once per epoch.
#
# It is a *generator*: write it with `yield`, so that the caller loops over it,
# `for X_batch, y_batch in minibatches(X, y, 32, rng):`, and no batch is built before it is needed.

# %%
def _check_batch_size(batch_size):
    """Raise ValueError unless ``batch_size`` is a positive integer (bools are not)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


# %%
def minibatches(X, y, batch_size, rng=None):
    """Yield the mini-batches ``(X_batch, y_batch)`` of one epoch.

    order = rng.permutation(N) if rng is given, else np.arange(N); the batches are
    order[0:B], order[B:2B], ...: ceil(N / B) of them, the last one partial when B does not
    divide N (N = 10, B = 3 gives sizes 3, 3, 3, 1). N = 0 yields nothing.

    Args:
        X: ndarray (N, ...) of any dtype: one sample per row (first axis).
        y: ndarray (N, ...) of any dtype: the targets, aligned with X.
        batch_size: B, a positive int.
        rng: a numpy.random.Generator, or None for the original order. ``rng.permutation(N)``
            is called once per epoch (advancing the generator).

    Yields:
        (X_batch, y_batch): ndarrays of shapes (b, ...) with b = B (b <= B for the last), the
        dtypes of X and y, holding the rows of X and y at the same indices. They are copies, so
        writing into a batch leaves X and y unchanged.

    Raises:
        ValueError (when the generator starts): X and y of different lengths, or a batch_size
        that is not a positive integer.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y hold different numbers of samples: {len(X)} != {len(y)}")
    _check_batch_size(batch_size)
    ### BEGIN SOLUTION
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    for start in range(0, n, batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]  # fancy indexing copies
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# First, a narrow valley: $f(w) = \tfrac12 (w_1^2 + 25\, w_2^2)$, gradient $(w_1, 25\, w_2)$,
# minimum at $(0, 0)$, started from $(-4, 1)$. Plain SGD must keep the learning rate small for
# the steep $w_2$ direction, so it crawls along $w_1$; momentum and the adaptive methods get
# much closer in the same 50 steps.

# %% [example]
if __name__ == "__main__":
    def valley_gradient(w):
        return np.array([1.0, 25.0]) * w

    optimizers = {
        "SGD": SGD(lr=0.03),
        "SGD + momentum 0.9": SGD(lr=0.03, momentum=0.9),
        "SGD + Nesterov 0.9": SGD(lr=0.03, momentum=0.9, nesterov=True),
        "Adagrad": Adagrad(lr=0.5),
        "RMSProp": RMSProp(lr=0.05),
        "Adam": Adam(lr=0.3),
    }
    for label, optimizer in optimizers.items():
        params = {"w": np.array([-4.0, 1.0])}
        for _ in range(50):
            optimizer.step(params, {"w": valley_gradient(params["w"])})
        w = params["w"]
        print(f"{label:20s} w = [{w[0]:+.4f}, {w[1]:+.4f}]   f(w) = {0.5 * (w[0]**2 + 25 * w[1]**2):.2e}")

# %% [markdown]
# Then the batches of an epoch: 10 samples in batches of 3, in order and shuffled, and the
# steps-per-epoch count of the MNIST example. Finally a linear regression trained with
# mini-batch SGD: a few epochs of shuffled batches recover the true weights.

# %% [example]
if __name__ == "__main__":
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    print("in order:", [y_batch.tolist() for _, y_batch in minibatches(X, y, 3)])
    rng = np.random.default_rng(0)
    for epoch in range(2):
        print(f"epoch {epoch}:", [y_batch.tolist() for _, y_batch in minibatches(X, y, 3, rng)])
    mnist_sized = np.zeros((60_000, 1), dtype=np.float32)
    print("steps per epoch, 60,000 samples in batches of 1000:",
          sum(1 for _ in minibatches(mnist_sized, mnist_sized, 1000)))

    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3))
    true_W, true_b = np.array([[2.0], [-1.0], [0.5]]), np.array([0.3])
    y = X @ true_W + true_b + 0.01 * rng.normal(size=(500, 1))
    params = {"W": np.zeros((3, 1)), "b": np.zeros(1)}
    optimizer = SGD(lr=0.1, momentum=0.5)
    for _epoch in range(5):
        for X_batch, y_batch in minibatches(X, y, 50, rng):
            error = X_batch @ params["W"] + params["b"] - y_batch      # MSE: mean of error**2
            grads = {"W": 2 * X_batch.T @ error / len(X_batch), "b": 2 * error.mean(axis=0)}
            optimizer.step(params, grads)
    print("learned W:", params["W"].ravel().round(3), "b:", params["b"].round(3),
          "(true: [2, -1, 0.5], 0.3)")
