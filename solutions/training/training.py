"""Assignment 8: training a network on real data

Put the pieces of the earlier assignments together into a training run you can trust: split the
data into training, validation and test parts (shuffled, optionally stratified), build the folds
of k-fold cross-validation, stop training early when the validation loss stops improving, and
write the mini-batch training loop of a ReLU network. The pieces themselves (He initialization,
ReLU, dropout, softmax cross-entropy, Adam) are given below as working code: this assignment
grades the loop and the protocol around it. Run this file (`python training.py`) to see the
examples, and check your work with `dlgrade check training`.
"""

# %% [markdown]
# # Why we hold data back
#
# A network can fit its training data almost perfectly and still be useless on new data: it has
# **overfitted**, memorized the noise of the training set instead of the pattern. The training
# loss cannot tell: it keeps going down. So we keep data the network never learns from:
#
# | part | used for | typical share |
# |---|---|---|
# | **training** | the gradient steps | 60-80 % |
# | **validation** | choosing hyperparameters, and *when to stop* | 10-20 % |
# | **test** | one final, honest estimate of the error | 10-20 % |
#
# The test part is touched once, at the very end. Every decision made while looking at a part
# (a learning rate, a number of epochs, an early stop) fits the model to that part a little:
# decide on the validation part, and the test part stays an unbiased estimate. Using the
# validation or test data for training (or fitting anything, even a scaler, on all the data) is
# **data leakage**: the reported accuracy is then too good to be true.
#
# **Shuffle before you split.** Datasets are often stored in order (all the 0s, then all the 1s):
# the last 20 % would then hold only the last classes. Shuffle the sample indices with the random
# generator you are given, then cut. **Stratify** when classes are imbalanced: split each class
# separately, so that every part keeps the class proportions of the whole.
#
# **Conventions.** Functions receive a NumPy generator `rng` (`np.random.default_rng(seed)`) and
# draw every random number from it (never from `np.random.*`), so that a seed reproduces a run.
# Index arrays are int64. Never modify your inputs.

# %%
import copy

import numpy as np


# %% [markdown]
# ## The given pieces
#
# These are the functions of the earlier assignments, working. Read them: your loop calls them.
# Parameters live in one dict, `{"W1": (D, H1), "b1": (H1,), ..., "WL": (H, K), "bL": (K,)}`,
# weights `(fan_in, fan_out)` used as `X @ W`.

# %%
def he_init(fan_in, fan_out, rng):
    """He (Kaiming) normal weights N(0, 2 / fan_in) of shape (fan_in, fan_out), and zero biases (fan_out,)."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out)


def init_mlp(sizes, rng):
    """Parameters of an MLP with layer sizes ``sizes`` = (D, H1, ..., K): W1, b1, ..., drawn in order."""
    layers = [he_init(fan_in, fan_out, rng) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return {f"{kind}{number}": array for number, pair in enumerate(layers, start=1) for kind, array in zip("Wb", pair)}


def n_layers(params):
    return sum(1 for name in params if name.startswith("W"))


def relu(z):
    return np.maximum(z, 0.0)


def dropout_mask(shape, p, rng):
    """Inverted dropout: keep each unit with probability 1 - p, scaled by 1 / (1 - p)."""
    return (rng.random(shape) >= p) / (1.0 - p)


def mlp_forward(params, X, dropout=0.0, rng=None):
    """Logits (N, K) of the ReLU MLP, and the cache for mlp_backward.

    Dropout (drop probability ``dropout``) after every hidden ReLU, in TRAINING mode only: pass
    ``rng`` to train; ``rng=None`` is evaluation mode (no dropout, no rescaling).
    """
    A, cache = X, []
    for layer in range(1, n_layers(params)):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        mask = dropout_mask(Z.shape, dropout, rng) if (rng is not None and dropout > 0) else None
        cache.append((A, Z, mask))
        A = relu(Z) if mask is None else relu(Z) * mask
    last = n_layers(params)
    cache.append((A, None, None))
    return A @ params[f"W{last}"] + params[f"b{last}"], cache


def mlp_backward(params, cache, dlogits):
    """The gradients of the loss for every parameter, given dL/dlogits (N, K); same keys as params."""
    grads, dA = {}, dlogits
    for layer in range(n_layers(params), 0, -1):
        A, _, _ = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"] = A.T @ dA, dA.sum(axis=0)
        if layer > 1:
            _, Z, mask = cache[layer - 2]
            dA = (dA @ params[f"W{layer}"].T) * (Z > 0)
            if mask is not None:
                dA = dA * mask
    return grads


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of logits (N, K) against integer labels y (N,), and its gradient (N, K)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows, count = np.arange(len(y)), len(y)
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1.0
    return float(-log_probs[rows, y].mean()), dlogits / count


def l2_penalty(params, l2):
    """(l2 / 2) * the sum of the squared WEIGHTS (biases are not penalized)."""
    return 0.5 * l2 * sum(float((w**2).sum()) for name, w in params.items() if name.startswith("W"))


def evaluation_loss(params, X, y):
    """The plain cross-entropy of the network on (X, y) in evaluation mode: no dropout, no L2."""
    return softmax_cross_entropy(mlp_forward(params, X)[0], y)[0]


def accuracy(params, X, y):
    return float((mlp_forward(params, X)[0].argmax(axis=1) == y).mean())


class Adam:
    """torch.optim.Adam (betas 0.9, 0.999, eps 1e-8): ``step(params, grads)`` updates params in place."""

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t, self.m, self.v = 0, {}, {}

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.betas
        for key in params:
            g = grads[key]
            self.m[key] = b1 * self.m.get(key, 0.0) + (1 - b1) * g
            self.v[key] = b2 * self.v.get(key, 0.0) + (1 - b2) * g**2
            params[key] -= self.lr * (self.m[key] / (1 - b1**self.t)) / (np.sqrt(self.v[key] / (1 - b2**self.t)) + self.eps)


# %% [markdown]
# # Splitting the data
#
# `train_val_test_split` returns three int64 index arrays that together hold every index
# `0 .. n-1` exactly once. The sizes: `round(test_fraction * n)` test samples and
# `round(val_fraction * n)` validation samples, the rest for training. With `stratify` (an
# array of n class labels), split each class on its own: `round(test_fraction * n_c)` and
# `round(val_fraction * n_c)` of the `n_c` samples of class c, so that every part keeps the
# class proportions (to within one sample per class).
#
# Draw the shuffling from `rng` (for example `rng.permutation`); the order within each part is
# free, and so is the way you draw, as long as every assignment of samples to parts is possible.

# %%
def train_val_test_split(n, val_fraction, test_fraction, rng, stratify=None):
    """Shuffled train / validation / test indices of n samples.

    Args:
        n: number of samples, int >= 1.
        val_fraction, test_fraction: floats in [0, 1) with a sum below 1.
        rng: numpy Generator; the only source of randomness.
        stratify: None, or an int array (n,) of class labels: split each class separately.

    Returns:
        (train, val, test): int64 arrays (disjoint, together every index 0..n-1 once) of sizes
        n - n_val - n_test, n_val = round(val_fraction * n), n_test = round(test_fraction * n)
        (stratified: the sums over classes of round(val_fraction * n_c), round(test_fraction * n_c)).
    """
    ### BEGIN SOLUTION
    if stratify is None:
        groups = [np.arange(n)]
    else:
        labels = np.asarray(stratify)
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    parts = ([], [], [])
    for group in groups:
        shuffled = group[rng.permutation(len(group))]
        n_test = int(round(test_fraction * len(group)))
        n_val = int(round(val_fraction * len(group)))
        parts[2].append(shuffled[:n_test])
        parts[1].append(shuffled[n_test:n_test + n_val])
        parts[0].append(shuffled[n_test + n_val:])
    return tuple(rng.permutation(np.concatenate(part).astype(np.int64)) for part in parts)
    ### END SOLUTION


# %% [markdown]
# # k-fold cross-validation
#
# With little data, one validation part is a noisy judge. **k-fold cross-validation** cuts the
# shuffled indices into k folds; each fold is the validation part once, while the model trains on
# the other k - 1, and the k validation scores are averaged. Every sample is validated exactly
# once: the folds are **disjoint** and together **cover** all n samples. Their sizes are those of
# scikit-learn's `KFold(n_splits=k, shuffle=True)`: `n // k` each, and the first `n % k` folds
# one larger (n = 10, k = 3: sizes 4, 3, 3).

# %%
def kfold_indices(n, k, rng):
    """The k validation folds of k-fold cross-validation on n samples.

    Args:
        n: number of samples, int >= k.
        k: number of folds, int >= 2.
        rng: numpy Generator, the only source of randomness (the samples are shuffled first).

    Returns:
        A list of k int64 arrays: disjoint, together every index 0..n-1 once; fold i has
        n // k + 1 samples for i < n % k, and n // k for the others.
    """
    ### BEGIN SOLUTION
    order = rng.permutation(n).astype(np.int64)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)]
    ### END SOLUTION


# %% [markdown]
# # Early stopping
#
# Train for long enough and the validation loss turns up again while the training loss keeps
# falling: the network has started to overfit. **Early stopping** watches the *validation* loss
# after every epoch, remembers the best value and a copy of the weights that reached it, and
# stops once `patience` epochs in a row brought no improvement of more than `min_delta`. Then it
# **restores the best weights**: the last ones are `patience` epochs into overfitting.
#
# Watching the *training* loss instead would never stop (it keeps falling), and keeping the last
# weights throws away what early stopping was for.

# %%
class EarlyStopping:
    """Early stopping on a loss to minimize (the validation loss), keeping the best weights.

    Args:
        patience: int >= 1, epochs without improvement tolerated before stopping.
        min_delta: float >= 0; a loss improves when it is below best_loss - min_delta.

    Attributes (after the first ``step``):
        best_loss: the lowest loss seen (float; inf before any step).
        best_epoch: the number of the step that reached it (0 for the first step).
        best_params: a deep copy of the params passed with it (None before any step).
    """

    def __init__(self, patience, min_delta=0.0):
        ### BEGIN SOLUTION
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_params = float("inf"), -1, None
        self.epoch = -1
        ### END SOLUTION

    def step(self, loss, params):
        """Record one epoch's validation ``loss`` and the ``params`` that reached it.

        Returns:
            True when training should stop: ``patience`` steps in a row without improvement.
        """
        ### BEGIN SOLUTION
        self.epoch += 1
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = float(loss), self.epoch
            self.best_params = copy.deepcopy(params)
        return self.epoch - self.best_epoch >= self.patience
        ### END SOLUTION


# %% [markdown]
# # The training loop
#
# One **epoch** is one pass over the training set in mini-batches of `batch_size` (the last one
# may be smaller), in a new random order each epoch: shuffle the *indices* and take `X[idx]` and
# `y[idx]` together, so that every sample keeps its label. Each **step**: forward in training mode
# (dropout on), softmax cross-entropy plus the L2 penalty, backward, add the L2 gradient
# `l2 * W` to every weight's gradient, one Adam step.
#
# After each epoch, record in the history
# - `"train_loss"`: the mean over the epoch's mini-batches of the data loss (cross-entropy, no L2),
#   each batch weighted by its size;
# - `"val_loss"`: `evaluation_loss(params, X_val, y_val)`, evaluation mode: no dropout, no L2;
#
# and hand the validation loss to early stopping. At the end return the best weights.
#
# **Draw order** (so that a seed means something): `init_mlp` first, then per epoch the
# permutation, then the dropout masks of each batch.

# %%
def train_mlp(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout, l2, patience, rng):
    """Train a ReLU MLP with Adam, dropout, L2 and early stopping on the validation loss.

    Args:
        X_train: (N, D) floats; y_train: (N,) int labels in 0..K-1 with K = max(y_train) + 1.
        X_val: (M, D) floats; y_val: (M,) int labels. Used ONLY to watch the validation loss.
        hidden: tuple of hidden layer sizes, e.g. (64,).
        epochs: maximum number of epochs, int >= 1.
        batch_size: int >= 1 (the last batch of an epoch may be smaller).
        lr: Adam's learning rate.
        dropout: drop probability in [0, 1) after every hidden layer (training mode only).
        l2: L2 coefficient: (l2 / 2) * sum of squared weights added to the training loss.
        patience: early stopping's patience (min_delta 0).
        rng: numpy Generator: the initial weights, the batch order and the dropout masks.

    Returns:
        (params, history): the parameters of the epoch with the lowest validation loss (a dict
        of float64 arrays W1 (D, H1), b1 (H1,), ..., bL (K,)), and a dict with "train_loss"
        and "val_loss", lists of floats, one per epoch run (at most ``epochs``).
    """
    ### BEGIN SOLUTION
    X_train, X_val = np.asarray(X_train, dtype=np.float64), np.asarray(X_val, dtype=np.float64)
    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    n, d = X_train.shape
    params = init_mlp((d, *hidden, int(y_train.max()) + 1), rng)
    adam, stopper = Adam(lr), EarlyStopping(patience)
    history = {"train_loss": [], "val_loss": []}
    for _ in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            logits, cache = mlp_forward(params, X_train[batch], dropout, rng)
            data_loss, dlogits = softmax_cross_entropy(logits, y_train[batch])
            grads = mlp_backward(params, cache, dlogits)
            for name in grads:
                if name.startswith("W"):
                    grads[name] = grads[name] + l2 * params[name]
            adam.step(params, grads)
            total += data_loss * len(batch)
        history["train_loss"].append(total / n)
        history["val_loss"].append(evaluation_loss(params, X_val, y_val))
        if stopper.step(history["val_loss"][-1], params):
            break
    return stopper.best_params, history
    ### END SOLUTION


# %% [markdown]
# ## Try it: handwritten digits, and what overfitting looks like
#
# scikit-learn bundles 1,797 handwritten digits of 8x8 pixels (values 0-16). The grader trains
# your loop on a fixed training part of them and measures the accuracy of the weights you return
# on a test part it keeps to itself. Below: the same split, by hand, and the two loss curves.
# Without dropout and L2, and with a patient stop, the validation loss bottoms out and turns up
# while the training loss keeps falling: that gap is overfitting, and the point where the
# validation curve turns is where early stopping keeps the weights.
#
# These example cells use scikit-learn (for the data) and matplotlib (for the plot). The grader
# runs your notebook without them: there, these cells stop before they train anything, the
# feedback notes it, and that costs nothing. Only the functions above are graded.

# %% [example]
if __name__ == "__main__":
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    train, val, test = train_val_test_split(len(y), 0.2, 0.2, np.random.default_rng(0), stratify=y)
    params, history = train_mlp(X[train], y[train], X[val], y[val], hidden=(64,), epochs=60, batch_size=32,
                                lr=1e-3, dropout=0.0, l2=0.0, patience=60, rng=np.random.default_rng(1))
    best = int(np.argmin(history["val_loss"]))
    print(f"{len(history['val_loss'])} epochs; best validation loss {min(history['val_loss']):.3f} at epoch "
          f"{best + 1}; test accuracy {accuracy(params, X[test], y[test]):.3f}")
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    plt.plot(epochs, history["train_loss"], label="training loss")
    plt.plot(epochs, history["val_loss"], label="validation loss")
    plt.axvline(best + 1, linestyle=":", color="gray", label="early stopping keeps this epoch")
    plt.xlabel("epoch")
    plt.ylabel("cross-entropy")
    plt.legend()
    plt.show()

# %% [markdown]
# ## Try it: k-fold cross-validation of the hidden size
#
# Five folds, each the validation part once: the mean validation accuracy and its spread over
# the folds say more than one split can.

# %% [example]
if __name__ == "__main__":
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    train, _, _ = train_val_test_split(len(y), 0.2, 0.2, np.random.default_rng(0), stratify=y)
    folds = kfold_indices(len(train), 5, np.random.default_rng(2))
    for hidden in [(16,), (64,)]:
        scores = []
        for fold in folds:
            rest = np.setdiff1d(np.arange(len(train)), fold)
            fitted, _ = train_mlp(X[train[rest]], y[train[rest]], X[train[fold]], y[train[fold]], hidden=hidden,
                                  epochs=15, batch_size=32, lr=2e-3, dropout=0.1, l2=1e-4, patience=3,
                                  rng=np.random.default_rng(3))
            scores.append(accuracy(fitted, X[train[fold]], y[train[fold]]))
        print(f"hidden {hidden}: validation accuracy {np.mean(scores):.3f} +- {np.std(scores):.3f} over 5 folds")
