"""Assignment 1: the perceptron

Implement Rosenblatt's perceptron in NumPy: a step activation, the online learning rule, and
prediction. Run this file (`python perceptron.py`) to see the examples at the bottom, and check
your work with `dlgrade check perceptron`.
"""

# %% [markdown]
# # The perceptron
#
# A neuron computes a **weighted sum** of its inputs plus a **bias**, then an **activation**:
#
# $$z = \mathbf{w} \cdot \mathbf{x} + b, \qquad a = \mathrm{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}$$
#
# The weights are connection strengths: they are not written by hand but *learned from data*.
# The perceptron learns online, one sample at a time, in the order the samples are given:
#
# $$\hat y = \mathrm{step}(\mathbf{w}\cdot\mathbf{x}_i + b), \quad e = y_i - \hat y, \quad
#   \mathbf{w} \leftarrow \mathbf{w} + \eta\, e\, \mathbf{x}_i, \quad b \leftarrow b + \eta\, e$$
#
# A correct prediction gives $e = 0$ and changes nothing; a mistake moves the decision boundary
# towards the misclassified sample. On linearly separable data (AND, OR) the rule converges;
# on XOR no straight line separates the classes, so no perceptron can learn it.
#
# **Conventions.** Inputs `X` have shape `(N, D)`: N samples, D features. The threshold is
# strict: `step(0) == 0`. Accept float32 and float64 input; never modify your inputs.

# %%
import numpy as np


# %%
def step(z):
    """The Heaviside step activation, elementwise.

    step(z) = 1 where z > 0, else 0. The threshold is strict: step(0) is 0.

    Args:
        z: ndarray of any shape (float32 or float64), or a scalar.

    Returns:
        ndarray of integers (int64), the same shape as ``z``, holding only 0 and 1.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def perceptron_fit(X, y, epochs=50, lr=0.2):
    """Train a perceptron with the online (sample-by-sample) learning rule.

    Start from zeros: ``w = np.zeros(D)`` (float64) and ``b = 0.0``. For each of ``epochs``
    passes, visit the samples in their given order, i = 0 .. N-1, and update after each one:

        pred = step(X[i] @ w + b)
        err  = y[i] - pred
        w   += lr * err * X[i]
        b   += lr * err

    Args:
        X: ndarray (N, D), float32 or float64: one sample per row.
        y: ndarray (N,) of 0/1 labels (int or float).
        epochs: number of passes over the data (default 50).
        lr: learning rate (default 0.2).

    Returns:
        (w, b): ``w`` is a float64 ndarray of shape (D,); ``b`` is a Python float.
        ``X`` and ``y`` are left unchanged.

    Example: on the AND gate with the defaults, w = [0.4, 0.2] and b = -0.4.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def perceptron_predict(X, w, b):
    """Predict 0/1 labels with a trained perceptron: step(X @ w + b).

    Args:
        X: ndarray (N, D), float32 or float64.
        w: ndarray (D,).
        b: float.

    Returns:
        ndarray (N,) of integers (int64), each 0 or 1.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it: logic gates
#
# AND and OR are linearly separable, so the perceptron learns them. XOR is not: watch it fail.

# %% [example]
if __name__ == "__main__":
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    for gate, y in {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}.items():
        w, b = perceptron_fit(X, np.array(y))
        print(f"{gate}: w = {w}, b = {b:+.2f}, predictions = {perceptron_predict(X, w, b)}, targets = {y}")
