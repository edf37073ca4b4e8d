"""Hidden torch reference for the training assignment: the grading oracle, and the data.

- :func:`digits_parts` (from ``digits.py``): scikit-learn's bundled handwritten digits, split once
  into training, validation and test parts; the test part never leaves the judge.
- :func:`forward`: the ReLU MLP's logits, in torch on any device: how the judge evaluates the
  parameters a submission trained.
- :func:`train_mlp`: the reference training loop (the model answer's algorithm in torch, the same
  draws from the same NumPy generator): what the bands are calibrated on.

Outputs are tensors on the device (float64 unless told otherwise).
"""

import numpy as np
import torch

from autograder.course import load_sibling
from autograder.tensors import DEFAULT_DTYPE, as_tensor

# The data and the graded run live in digits.py (no torch there: the grade-batch coordinator loads
# the hidden checks, which need them, without importing torch).
digits = load_sibling(__file__, "digits")
SPLIT_SEED, VAL_FRACTION, TEST_FRACTION = digits.SPLIT_SEED, digits.VAL_FRACTION, digits.TEST_FRACTION
GRADED_RUN, digits_parts = digits.GRADED_RUN, digits.digits_parts


def layer_count(params) -> int:
    return sum(1 for name in params if name.startswith("W"))


def _forward(params, X, masks=None):
    """Logits (N, K) of tensors; ``masks``: one dropout mask per hidden layer (training mode)."""
    A = X
    last = layer_count(params)
    for layer in range(1, last):
        A = torch.clamp(A @ params[f"W{layer}"] + params[f"b{layer}"], min=0.0)
        if masks is not None:
            A = A * masks[layer - 1]
    return A @ params[f"W{last}"] + params[f"b{last}"]


def forward(params, X, device=None, dtype=DEFAULT_DTYPE):
    """params {"W1" (D, H1), "b1" (H1,), ..., "bL" (K,)}, X (N, D) -> logits (N, K), evaluation mode."""
    return _forward({name: as_tensor(value, device, dtype) for name, value in params.items()},
                    as_tensor(X, device, dtype))


def _cross_entropy(logits, y):
    return torch.nn.functional.cross_entropy(logits, y)


def evaluation_loss(params, X, y, device=None, dtype=DEFAULT_DTYPE):
    """The plain cross-entropy of (X, y) in evaluation mode (0-d tensor)."""
    logits = forward(params, X, device, dtype)
    return _cross_entropy(logits, torch.as_tensor(np.array(y, dtype=np.int64), device=logits.device))


def train_mlp(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
              device=None, dtype=DEFAULT_DTYPE):
    """The reference loop: He init, per-epoch shuffle, mini-batches, dropout, L2, torch.optim.Adam,
    early stopping on the validation loss (min_delta 0) restoring the best weights. Draws from
    ``rng`` (NumPy) in the model answer's order: init, then per epoch the permutation, then each
    batch's dropout masks. Returns (params dict of tensors, {"train_loss": [...], "val_loss": [...]})."""
    X_train, X_val = as_tensor(X_train, device, dtype), as_tensor(X_val, device, dtype)
    y_train = torch.as_tensor(np.array(y_train, dtype=np.int64), device=X_train.device)
    y_val = torch.as_tensor(np.array(y_val, dtype=np.int64), device=X_train.device)
    sizes = (X_train.shape[1], *hidden, int(y_train.max()) + 1)
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        params[f"W{layer}"] = as_tensor(W, device, dtype).requires_grad_()
        params[f"b{layer}"] = torch.zeros(fan_out, dtype=dtype, device=X_train.device, requires_grad=True)
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    best, best_loss, since = None, float("inf"), 0
    n = X_train.shape[0]
    for _ in range(epochs):
        order = torch.as_tensor(rng.permutation(n), device=X_train.device)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            masks = None
            if dropout > 0:
                masks = [as_tensor((rng.random((len(batch), h)) >= dropout) / (1.0 - dropout), device, dtype)
                         for h in hidden]
            data_loss = _cross_entropy(_forward(params, X_train[batch], masks), y_train[batch])
            penalty = 0.5 * l2 * sum((w**2).sum() for name, w in params.items() if name.startswith("W"))
            optimizer.zero_grad()
            (data_loss + penalty).backward()
            optimizer.step()
            total += float(data_loss.detach()) * len(batch)
        history["train_loss"].append(total / n)
        with torch.no_grad():
            val_loss = float(_cross_entropy(_forward(params, X_val), y_val))
        history["val_loss"].append(val_loss)
        if val_loss < best_loss:
            best_loss, since = val_loss, 0
            best = {name: value.detach().clone() for name, value in params.items()}
        else:
            since += 1
            if since >= patience:
                break
    return best, history


def accuracy(params, X, y, device=None) -> float:
    """The share of rows of X whose largest logit is the label y (evaluation mode)."""
    logits = forward(params, X, device)
    return float((logits.argmax(dim=1).cpu().numpy() == np.asarray(y)).mean())
