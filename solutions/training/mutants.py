"""Known mistakes in the training assignment (hidden): each a real NumPy version, named
``<function>__<mistake>``, that a student who makes the mistake hands in.

They are protocol mistakes: their outputs are random, so no mutant of the torch reference could be
matched value by value. The checks recognize each by its BEHAVIOUR (folds that overlap, a run that
went on past its best validation loss, weights whose validation loss is the last epoch's, a
validation loss that changes when the labels of the validation part do not matter...) and name
it through a Finding (see hidden_checks.py).
"""

import copy

import numpy as np

from autograder.judge.mutants import Mutant

ASSIGNMENT = "training"


# ---------------------------------------------------------------- the split

def train_val_test_split__no_shuffle(n, val_fraction, test_fraction, rng, stratify=None):
    n_test, n_val = int(round(test_fraction * n)), int(round(val_fraction * n))
    order = np.arange(n, dtype=np.int64)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def train_val_test_split__unstratified(n, val_fraction, test_fraction, rng, stratify=None):
    order = rng.permutation(n).astype(np.int64)
    n_test, n_val = int(round(test_fraction * n)), int(round(val_fraction * n))
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


# ---------------------------------------------------------------- k-fold

def kfold_indices__overlapping(n, k, rng):
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return [rng.choice(n, size=size, replace=False).astype(np.int64) for size in sizes]


def kfold_indices__remainder_last(n, k, rng):
    order = rng.permutation(n).astype(np.int64)
    size = n // k
    return [order[i * size:(i + 1) * size] if i < k - 1 else order[i * size:] for i in range(k)]


# ---------------------------------------------------------------- early stopping

class EarlyStopping__keeps_last:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_params, self.epoch = float("inf"), -1, None, -1

    def step(self, loss, params):
        self.epoch += 1
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = float(loss), self.epoch
        self.best_params = copy.deepcopy(params)
        return self.epoch - self.best_epoch >= self.patience


class EarlyStopping__ignores_min_delta:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_params, self.epoch = float("inf"), -1, None, -1

    def step(self, loss, params):
        self.epoch += 1
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = float(loss), self.epoch
            self.best_params = copy.deepcopy(params)
        return self.epoch - self.best_epoch >= self.patience


# ---------------------------------------------------------------- the training loop

def _train_mlp__with_mistake(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
          fit=None, monitor="val", keep="best", val_l2=False, val_dropout=False, labels_apart=False):
    """The model answer's loop with one mistake switched on (shared by the mistakes below)."""
    X_train, X_val = np.asarray(X_train, dtype=np.float64), np.asarray(X_val, dtype=np.float64)
    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    X_fit, y_fit = (X_train, y_train) if fit is None else fit
    n, d = X_fit.shape
    params = init_mlp((d, *hidden, int(y_train.max()) + 1), rng)  # noqa: F821 - the answer's given code
    adam, stopper = Adam(lr), EarlyStopping(patience)  # noqa: F821
    history = {"train_loss": [], "val_loss": []}
    for _ in range(epochs):
        order = rng.permutation(n)
        labels = rng.permutation(n) if labels_apart else order
        total = 0.0
        for start in range(0, n, batch_size):
            batch, batch_labels = order[start:start + batch_size], labels[start:start + batch_size]
            logits, cache = mlp_forward(params, X_fit[batch], dropout, rng)  # noqa: F821
            data_loss, dlogits = softmax_cross_entropy(logits, y_fit[batch_labels])  # noqa: F821
            grads = mlp_backward(params, cache, dlogits)  # noqa: F821
            for name in grads:
                if name.startswith("W"):
                    grads[name] = grads[name] + l2 * params[name]
            adam.step(params, grads)
            total += data_loss * len(batch)
        history["train_loss"].append(total / n)
        if val_dropout:
            logits, _ = mlp_forward(params, X_val, dropout, rng)  # noqa: F821
            val_loss = softmax_cross_entropy(logits, y_val)[0]  # noqa: F821
        else:
            val_loss = evaluation_loss(params, X_val, y_val)  # noqa: F821
        if val_l2:
            val_loss += l2_penalty(params, l2)  # noqa: F821
        history["val_loss"].append(val_loss)
        if stopper.step(history["train_loss" if monitor == "train" else "val_loss"][-1], params):
            break
    return (copy.deepcopy(params) if keep == "last" else stopper.best_params), history


def train_mlp__validation_in_training(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout,
                                      l2, patience, rng):
    fit = (np.concatenate([np.asarray(X_train, dtype=np.float64), np.asarray(X_val, dtype=np.float64)]),
           np.concatenate([np.asarray(y_train), np.asarray(y_val)]))
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng, fit=fit)


def train_mlp__stops_on_training_loss(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout,
                                      l2, patience, rng):
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
                 monitor="train")


def train_mlp__last_weights(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout, l2,
                            patience, rng):
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
                 keep="last")


def train_mlp__l2_in_validation_loss(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout,
                                     l2, patience, rng):
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
                 val_l2=True)


def train_mlp__dropout_at_evaluation(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout,
                                     l2, patience, rng):
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
                 val_dropout=True)


def train_mlp__labels_shuffled_apart(X_train, y_train, X_val, y_val, *, hidden, epochs, batch_size, lr, dropout,
                                     l2, patience, rng):
    return _train_mlp(X_train, y_train, X_val, y_val, hidden, epochs, batch_size, lr, dropout, l2, patience, rng,
                 labels_apart=True)


_train_mlp = _train_mlp__with_mistake  # its name in the submission (numpy_source renames it)


def _mistake(function, mistake, title, hint, submission, affects=()):
    return Mutant(f"{ASSIGNMENT}.{function}.{mistake}", f"{ASSIGNMENT}.{function}", title, hint,
                  submission=submission, affects=tuple(f"{ASSIGNMENT}.{a}" for a in affects))


def _with_loop(piece):
    """A train_mlp mistake's NumPy version: the shared loop first, then the function."""
    return (_train_mlp__with_mistake, piece)


MUTANTS = [
    _mistake("train_val_test_split", "no_shuffle", "the samples are not shuffled before the split",
             "Draw a permutation of the indices from rng first (rng.permutation(n)), then cut it: data stored in "
             "order (all the 0s, then the 1s) would otherwise give parts with other classes.",
             train_val_test_split__no_shuffle),
    _mistake("train_val_test_split", "unstratified", "stratify is ignored: the parts lose the class proportions",
             "With stratify, split each class on its own: round(test_fraction * n_c) test and "
             "round(val_fraction * n_c) validation samples of the n_c samples of class c.",
             train_val_test_split__unstratified),
    _mistake("kfold_indices", "overlapping", "the folds overlap and leave samples out",
             "Shuffle once (rng.permutation(n)) and cut that one order into k consecutive pieces: drawing each "
             "fold on its own puts some samples in two folds and others in none.",
             kfold_indices__overlapping),
    _mistake("kfold_indices", "remainder_last", "the leftover n % k samples all go to the last fold",
             "As scikit-learn's KFold: every fold has n // k samples and the FIRST n % k folds one more.",
             kfold_indices__remainder_last),
    _mistake("EarlyStopping", "keeps_last", "early stopping keeps the last weights instead of the best",
             "Copy the params (copy.deepcopy) only when the loss improves: those are the weights to restore; "
             "the last ones are `patience` epochs into overfitting.",
             EarlyStopping__keeps_last, affects=("EarlyStopping", "train_mlp")),  # the loop returns its best_params
    _mistake("EarlyStopping", "ignores_min_delta", "an improvement smaller than min_delta counts as one",
             "A loss improves only when it is below best_loss - min_delta; smaller gains are noise.",
             EarlyStopping__ignores_min_delta),
    _mistake("train_mlp", "validation_in_training", "the validation part is used for training",
             "Take the gradient steps on X_train, y_train only: the validation part only watches the loss. "
             "Training on it is data leakage, and its loss then says nothing about new data.",
             _with_loop(train_mlp__validation_in_training)),
    _mistake("train_mlp", "stops_on_training_loss", "early stopping watches the training loss",
             "Hand early stopping the VALIDATION loss of each epoch: the training loss keeps falling while "
             "the network overfits, so it never stops in time.",
             _with_loop(train_mlp__stops_on_training_loss)),
    _mistake("train_mlp", "last_weights", "the last epoch's weights are returned instead of the best",
             "Return early stopping's best_params (the epoch with the lowest validation loss), not the "
             "params the loop ended with.",
             _with_loop(train_mlp__last_weights)),
    _mistake("train_mlp", "l2_in_validation_loss", "the L2 penalty is added to the validation loss",
             "The validation loss is the plain cross-entropy in evaluation mode (evaluation_loss): the L2 "
             "penalty belongs to the training objective only.",
             _with_loop(train_mlp__l2_in_validation_loss)),
    _mistake("train_mlp", "dropout_at_evaluation", "dropout is applied when computing the validation loss",
             "Evaluate with mlp_forward(params, X) (rng=None): dropout is for training steps only, and a "
             "random validation loss makes early stopping pick a random epoch.",
             _with_loop(train_mlp__dropout_at_evaluation)),
    _mistake("train_mlp", "labels_shuffled_apart", "the labels are shuffled apart from their samples",
             "Shuffle the indices once per epoch and take X[idx] and y[idx] with the same idx: two "
             "permutations break every (sample, label) pair and the network can only learn the class shares.",
             _with_loop(train_mlp__labels_shuffled_apart)),
]
