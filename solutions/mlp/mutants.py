"""Known mistakes in the mlp assignment (hidden): torch variants of the reference, and the same
mistake in NumPy (``submission``) for the project's tests.

The reference's public functions and its ``train`` go through ``_sigmoid``, ``_forward``, ``_loss``
and ``_backward``, so a mutant replaces the helper the mistake lives in, and every function built
on it (as in the model answer: forward -> backward's cache -> train) picks the mistake up.
"""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.judge.mutants import Mutant
from autograder.tensors import DEFAULT_DTYPE, as_tensor

reference = load_sibling(__file__, "reference")
PARAM_NAMES = reference.PARAM_NAMES
EVERYTHING_DOWNSTREAM_OF_SIGMOID = ("mlp.sigmoid", "mlp.forward", "mlp.backward", "mlp.train")


# ---------------------------------------------------------------- sigmoid and its derivative

def _sigmoid_naive(z):
    e = torch.exp(z)
    return e / (1 + e)


def _sigmoid_again(a, device=None, dtype=DEFAULT_DTYPE):
    s = reference._sigmoid(as_tensor(a, device, dtype))
    return s * (1 - s)


def _tanh_derivative(a, device=None, dtype=DEFAULT_DTYPE):
    a = as_tensor(a, device, dtype)
    return 1 - a**2


def _backward_with(derivative):
    """The model answer's backward with ``derivative(activation)`` in place of a * (1 - a)."""

    def _backward(params, cache, T):
        X, A1, Y = cache
        dZ2 = (Y - T) / Y.shape[0] * derivative(Y)
        dZ1 = (dZ2 @ params["W2"].T) * derivative(A1)
        return {"W1": X.T @ dZ1, "b1": dZ1.sum(dim=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(dim=0)}

    return _backward


def _sigmoid_again_tensor(a):
    s = reference._sigmoid(a)
    return s * (1 - s)


# ---------------------------------------------------------------- forward and loss

def _forward_linear_output(X, params):
    A1 = reference._sigmoid(X @ params["W1"] + params["b1"])
    Y = A1 @ params["W2"] + params["b2"]
    return Y, (X, A1, Y)


def _loss_no_half(Y, T):
    return ((Y - T) ** 2).sum() / Y.shape[0]


def _loss_summed(Y, T):
    return 0.5 * ((Y - T) ** 2).sum()


def _loss_mean_over_elements(Y, T):
    return 0.5 * ((Y - T) ** 2).mean()


# ---------------------------------------------------------------- backward

def _backward_preactivation(params, cache, T):
    X, A1, Y = cache
    Z1 = X @ params["W1"] + params["b1"]
    Z2 = A1 @ params["W2"] + params["b2"]
    dZ2 = (Y - T) / Y.shape[0] * Z2 * (1 - Z2)
    dZ1 = (dZ2 @ params["W2"].T) * Z1 * (1 - Z1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(dim=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(dim=0)}


def _backward_bias_averaged(params, cache, T):
    grads = reference._backward(params, cache, T)
    N = cache[0].shape[0]
    return {**grads, "b1": grads["b1"] / N, "b2": grads["b2"] / N}


def _backward_bias_wrong_axis(params, cache, T):
    X, A1, Y = cache
    dZ2 = (Y - T) / Y.shape[0] * Y * (1 - Y)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(dim=1), "W2": A1.T @ dZ2, "b2": dZ2.sum(dim=1)}


def _backward_no_mean(params, cache, T):
    grads = reference._backward(params, cache, T)
    N = cache[0].shape[0]
    return {name: grads[name] * N for name in PARAM_NAMES}


def _backward_transposed_dW2(params, cache, T):
    grads = reference._backward(params, cache, T)
    return {**grads, "W2": grads["W2"].T}


# ---------------------------------------------------------------- train

def _train_ascent(X, T, params, epochs, lr, device=None, dtype=DEFAULT_DTYPE):
    return reference.train(X, T, params, epochs, -lr, device=device, dtype=dtype)


def _train_losses_after_update(X, T, params, epochs, lr, device=None, dtype=DEFAULT_DTYPE):
    X, T = as_tensor(X, device, dtype), as_tensor(T, device, dtype)
    params = reference._params(params, device, dtype)
    losses = torch.empty(epochs, dtype=dtype, device=X.device)
    for epoch in range(epochs):
        Y, cache = reference._forward(X, params)
        grads = reference._backward(params, cache, T)
        params = {name: params[name] - lr * grads[name] for name in PARAM_NAMES}
        losses[epoch] = reference._loss(reference._forward(X, params)[0], T)
    return params, losses


# ---------------------------------------------------------------- NumPy fragments (model answer + this)









# ---------------------------------------------------------------- the same mistakes in NumPy
# What a student who makes each mistake writes: real code, named <function>__<mistake>. The project's
# tests append each one (renamed to <function>) to the model answer, whose helpers it may call.

answer = load_sibling(__file__, "mlp")
PARAM_NAMES = answer.PARAM_NAMES
backward = answer.backward
forward = answer.forward
loss = answer.loss
sigmoid = answer.sigmoid
sigmoid_backward = answer.sigmoid_backward


# mlp.sigmoid.naive_overflow: sigmoid computed as exp(z) / (1 + exp(z)): exp overflows to inf and gives NaN for large z
def sigmoid__naive_overflow(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z) / (1 + np.exp(z))


# mlp.sigmoid_backward.sigmoid_again: sigmoid_backward applies the sigmoid again to its input, which is already the activation
def sigmoid_backward__sigmoid_again(a):
    s = sigmoid(a)
    return s * (1 - s)


# mlp.sigmoid_backward.tanh_derivative: sigmoid_backward returns 1 - a**2, the derivative of tanh, not of the sigmoid
def sigmoid_backward__tanh_derivative(a):
    a = np.asarray(a)
    return 1 - a ** 2


# mlp.forward.linear_output: forward returns the output pre-activation Z2 = A1 @ W2 + b2 without the final sigmoid
def forward__linear_output(X, params):
    X = np.asarray(X)
    A1 = sigmoid(X @ params['W1'] + params['b1'])
    Y = A1 @ params['W2'] + params['b2']
    return Y, (X, A1, Y)


# mlp.loss.no_half: loss without the factor 1/2: sum((Y - T)**2) / N
def loss__no_half(Y, T):
    Y, T = np.asarray(Y), np.asarray(T)
    if Y.shape != T.shape:
        raise ValueError('shapes differ')
    return float(np.sum((Y - T) ** 2) / Y.shape[0])


# mlp.loss.summed: loss summed over the batch instead of averaged: 0.5 * sum((Y - T)**2) without the / N
def loss__summed(Y, T):
    Y, T = np.asarray(Y), np.asarray(T)
    if Y.shape != T.shape:
        raise ValueError('shapes differ')
    return float(0.5 * np.sum((Y - T) ** 2))


# mlp.loss.mean_over_elements: loss averaged over all N*K elements (0.5 * np.mean) instead of over the N samples
def loss__mean_over_elements(Y, T):
    Y, T = np.asarray(Y), np.asarray(T)
    if Y.shape != T.shape:
        raise ValueError('shapes differ')
    return float(0.5 * np.mean((Y - T) ** 2))


# mlp.backward.preactivation_derivative: backward applies the sigmoid derivative to the pre-activations Z instead of the activations A
def forward__preactivation_derivative(X, params):
    X = np.asarray(X)
    Z1 = X @ params["W1"] + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    Y = sigmoid(Z2)
    return Y, (X, Z1, A1, Z2, Y)


def backward__preactivation_derivative(params, cache, T):
    X, Z1, A1, Z2, Y = cache
    N = Y.shape[0]
    dZ2 = (Y - np.asarray(T)) / N * sigmoid_backward(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(Z1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


# mlp.backward.bias_averaged: bias gradients averaged over the batch (mean over axis 0) instead of summed
def backward__bias_averaged(params, cache, T):
    X, A1, Y = cache
    T = np.asarray(T)
    N = Y.shape[0]
    dZ2 = (Y - T) / N * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.mean(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.mean(axis=0)}


# mlp.backward.bias_wrong_axis: bias gradients summed over axis 1 (the units) instead of axis 0 (the samples)
def backward__bias_wrong_axis(params, cache, T):
    X, A1, Y = cache
    T = np.asarray(T)
    N = Y.shape[0]
    dZ2 = (Y - T) / N * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=1), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=1)}


# mlp.backward.no_mean: backward without the 1/N of the loss: every gradient is N times too large
def backward__no_mean(params, cache, T):
    X, A1, Y = cache
    T = np.asarray(T)
    N = Y.shape[0]  # noqa: F841 (the mistake: N is never used)
    dZ2 = (Y - T) / 1 * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


# mlp.backward.transposed_dW2: dW2 computed as dZ2.T @ A1: the gradient has the transposed shape (K, H)
def backward__transposed_dW2(params, cache, T):
    X, A1, Y = cache
    T = np.asarray(T)
    N = Y.shape[0]
    dZ2 = (Y - T) / N * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": dZ2.T @ A1, "b2": dZ2.sum(axis=0)}


# mlp.train.gradient_ascent: train adds the gradient (p + lr * grad): gradient ascent, the loss grows
def train__gradient_ascent(X, T, params, epochs, lr):
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    params = {name: np.array(params[name], dtype=np.float64) for name in PARAM_NAMES}
    losses = np.empty(epochs)
    for epoch in range(epochs):
        Y, cache = forward(X, params)
        losses[epoch] = loss(Y, T)
        grads = backward(params, cache, T)
        params = {name: params[name] + lr * grads[name] for name in PARAM_NAMES}
    return params, losses


# mlp.train.losses_after_update: train records the loss after each update instead of before it
def train__losses_after_update(X, T, params, epochs, lr):
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    params = {name: np.array(params[name], dtype=np.float64) for name in PARAM_NAMES}
    losses = np.empty(epochs)
    for epoch in range(epochs):
        Y, cache = forward(X, params)
        grads = backward(params, cache, T)
        params = {name: params[name] - lr * grads[name] for name in PARAM_NAMES}
        losses[epoch] = loss(forward(X, params)[0], T)
    return params, losses


MUTANTS = [
    Mutant(
        id="mlp.sigmoid.naive_overflow", exercise="mlp.sigmoid",
        title="sigmoid computed as exp(z) / (1 + exp(z)): exp overflows to inf and gives NaN for large z",
        hint="Only ever exponentiate -|z|: with e = exp(-|z|), sigmoid is 1/(1+e) for z >= 0 and e/(1+e) for z < 0.",
        overrides={"_sigmoid": _sigmoid_naive},
        submission=sigmoid__naive_overflow,
        affects=EVERYTHING_DOWNSTREAM_OF_SIGMOID,  # the model answer's forward (so backward, train) calls sigmoid
    ),
    Mutant(
        id="mlp.sigmoid_backward.sigmoid_again", exercise="mlp.sigmoid_backward",
        title="sigmoid_backward applies the sigmoid again to its input, which is already the activation",
        hint="sigmoid_backward receives a = sigmoid(z): return a * (1 - a) directly, without calling sigmoid.",
        overrides={"sigmoid_backward": _sigmoid_again, "_backward": _backward_with(_sigmoid_again_tensor)},
        submission=sigmoid_backward__sigmoid_again,
        affects=("mlp.sigmoid_backward", "mlp.backward", "mlp.train"),  # backward calls sigmoid_backward
    ),
    Mutant(
        id="mlp.sigmoid_backward.tanh_derivative", exercise="mlp.sigmoid_backward",
        title="sigmoid_backward returns 1 - a**2, the derivative of tanh, not of the sigmoid",
        hint="For a = sigmoid(z), d a / d z = a * (1 - a).",
        overrides={"sigmoid_backward": _tanh_derivative, "_backward": _backward_with(lambda a: 1 - a**2)},
        submission=sigmoid_backward__tanh_derivative,
        affects=("mlp.sigmoid_backward", "mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.forward.linear_output", exercise="mlp.forward",
        title="forward returns the output pre-activation Z2 = A1 @ W2 + b2 without the final sigmoid",
        hint="Both layers are sigmoid layers: Y = sigmoid(A1 @ W2 + b2), with outputs in [0, 1].",
        overrides={"_forward": _forward_linear_output},
        submission=(forward__linear_output),
        affects=("mlp.forward", "mlp.backward", "mlp.train"),  # backward uses the cache, train calls forward
    ),
    Mutant(
        id="mlp.loss.no_half", exercise="mlp.loss",
        title="loss without the factor 1/2: sum((Y - T)**2) / N",
        hint="L = 0.5 * sum((Y - T)**2) / N: the 1/2 cancels the 2 of the derivative, so dY = (Y - T) / N.",
        overrides={"_loss": _loss_no_half},
        submission=loss__no_half,
        affects=("mlp.loss", "mlp.train"),  # train records loss(Y, T)
    ),
    Mutant(
        id="mlp.loss.summed", exercise="mlp.loss",
        title="loss summed over the batch instead of averaged: 0.5 * sum((Y - T)**2) without the / N",
        hint="Divide by the batch size N = Y.shape[0], so that the loss does not grow with the batch.",
        overrides={"_loss": _loss_summed},
        submission=loss__summed,
        affects=("mlp.loss", "mlp.train"),
    ),
    Mutant(
        id="mlp.loss.mean_over_elements", exercise="mlp.loss",
        title="loss averaged over all N*K elements (0.5 * np.mean) instead of over the N samples",
        hint="Divide the half sum of squares by N = Y.shape[0] only; np.mean also divides by the K outputs.",
        overrides={"_loss": _loss_mean_over_elements},
        submission=loss__mean_over_elements,
        affects=("mlp.loss", "mlp.train"),
    ),
    Mutant(
        id="mlp.backward.preactivation_derivative", exercise="mlp.backward",
        title="backward applies the sigmoid derivative to the pre-activations Z instead of the activations A",
        hint="sigmoid_backward takes the OUTPUT a = sigmoid(z): use sigmoid_backward(Y) and sigmoid_backward(A1).",
        overrides={"_backward": _backward_preactivation},
        submission=(forward__preactivation_derivative, backward__preactivation_derivative),
        affects=("mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.backward.bias_averaged", exercise="mlp.backward",
        title="bias gradients averaged over the batch (mean over axis 0) instead of summed",
        hint="dY already carries the 1/N of the loss: db = dZ.sum(axis=0), not dZ.mean(axis=0).",
        overrides={"_backward": _backward_bias_averaged},
        submission=backward__bias_averaged,
        affects=("mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.backward.bias_wrong_axis", exercise="mlp.backward",
        title="bias gradients summed over axis 1 (the units) instead of axis 0 (the samples)",
        hint="db1 has one entry per hidden unit: sum dZ1 over the batch axis, dZ1.sum(axis=0), shape (H,).",
        overrides={"_backward": _backward_bias_wrong_axis},
        submission=backward__bias_wrong_axis,
        affects=("mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.backward.no_mean", exercise="mlp.backward",
        title="backward without the 1/N of the loss: every gradient is N times too large",
        hint="The loss averages over the N samples, so dY = (Y - T) / N.",
        overrides={"_backward": _backward_no_mean},
        submission=backward__no_mean,
        affects=("mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.backward.transposed_dW2", exercise="mlp.backward",
        title="dW2 computed as dZ2.T @ A1: the gradient has the transposed shape (K, H)",
        hint="Every gradient has its parameter's shape: dW2 = A1.T @ dZ2, (H, N) @ (N, K) = (H, K).",
        overrides={"_backward": _backward_transposed_dW2},
        submission=backward__transposed_dW2,
        affects=("mlp.backward", "mlp.train"),
    ),
    Mutant(
        id="mlp.train.gradient_ascent", exercise="mlp.train",
        title="train adds the gradient (p + lr * grad): gradient ascent, the loss grows",
        hint="The gradient points uphill: step against it, p = p - lr * grad.",
        overrides={"train": _train_ascent},
        submission=train__gradient_ascent,
    ),
    Mutant(
        id="mlp.train.losses_after_update", exercise="mlp.train",
        title="train records the loss after each update instead of before it",
        hint="losses[i] is the loss before update i: losses[0] is the loss at the initial parameters.",
        overrides={"train": _train_losses_after_update},
        submission=train__losses_after_update,
    ),
]
