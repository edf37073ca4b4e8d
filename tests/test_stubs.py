"""Every function of the student release is a stub that raises NotImplementedError.

The same calls succeed on the model answers, which proves the calls themselves are valid.
"""

import numpy as np
import pytest

from autograder.course import load_module
from support import ASSIGNMENTS, CONTRACT

from conftest import REPOSITORY


def sample_calls(rng):
    """One valid call per contract name: {assignment: {name: call(module)}}."""
    X, y = rng.normal(size=(4, 3)), np.array([0, 1, 1, 0])
    params = {"W1": rng.normal(size=(3, 5)), "b1": np.zeros(5), "W2": rng.normal(size=(5, 2)), "b2": np.zeros(2)}
    T = rng.random((4, 2))
    logits, labels = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    probs = np.array([0.1, 0.9, 0.5, 0.3])

    def optimizer(name, **kwargs):
        def call(m):
            weights = {"W": rng.normal(size=(3, 2))}
            getattr(m, name)(**kwargs).step(weights, {"W": np.ones((3, 2))})
        return call

    def initializer(name):
        return lambda m: getattr(m, name)((3, 4), np.random.default_rng(0))

    return {
        "perceptron": {
            "step": lambda m: m.step(X),
            "perceptron_fit": lambda m: m.perceptron_fit(X, y),
            "perceptron_predict": lambda m: m.perceptron_predict(X, np.ones(3), 0.5),
        },
        "mlp": {
            "sigmoid": lambda m: m.sigmoid(X),
            "sigmoid_backward": lambda m: m.sigmoid_backward(probs),
            "forward": lambda m: m.forward(X, params),
            "loss": lambda m: m.loss(T, T * 0.5),
            "backward": lambda m: m.backward(params, m.forward(X, params)[1], T),
            "train": lambda m: m.train(X, T, params, 3, 0.1),
        },
        "initializers": {name: initializer(name) for name in CONTRACT["initializers"]},
        "optimizers": {
            "SGD": optimizer("SGD", lr=0.1, momentum=0.9),
            "Adagrad": optimizer("Adagrad"),
            "RMSProp": optimizer("RMSProp"),
            "Adam": optimizer("Adam"),
            "minibatches": lambda m: list(m.minibatches(X, y, 3)),
        },
        "dropout": {
            "dropout_forward": lambda m: m.dropout_forward(X, 0.3, rng=np.random.default_rng(0)),
            "dropout_backward": lambda m: m.dropout_backward(X, np.ones_like(X)),
            "l2_penalty": lambda m: m.l2_penalty([X, params["W1"]], 0.1),
            "l2_grad": lambda m: m.l2_grad(X, 0.1),
            "l1_penalty": lambda m: m.l1_penalty([X, params["W1"]], 0.1),
            "l1_grad": lambda m: m.l1_grad(X, 0.1),
        },
        "losses": {
            "softmax": lambda m: m.softmax(logits),
            "log_softmax": lambda m: m.log_softmax(logits),
            "cross_entropy": lambda m: m.cross_entropy(logits, labels),
            "cross_entropy_grad": lambda m: m.cross_entropy_grad(logits, labels),
            "binary_cross_entropy": lambda m: m.binary_cross_entropy(probs, y),
            "binary_cross_entropy_with_logits": lambda m: m.binary_cross_entropy_with_logits(X[:, 0], y),
            "mse_loss": lambda m: m.mse_loss(X, X * 2),
        },
        "activations": {
            "tanh": lambda m: m.tanh(X),
            "tanh_backward": lambda m: m.tanh_backward(X, X),
            "relu": lambda m: m.relu(X),
            "relu_backward": lambda m: m.relu_backward(X, X),
            "leaky_relu": lambda m: m.leaky_relu(X),
            "leaky_relu_backward": lambda m: m.leaky_relu_backward(X, X),
        },
        "normalization": {
            "minmax_fit": lambda m: m.minmax_fit(X),
            "minmax_transform": lambda m: m.minmax_transform(X, X.min(axis=0), X.max(axis=0)),
            "zscore_fit": lambda m: m.zscore_fit(X),
            "zscore_transform": lambda m: m.zscore_transform(X, X.mean(axis=0), X.std(axis=0)),
            "scale_splits": lambda m: m.scale_splits(X, X[:2], X[2:], "minmax"),
            "batchnorm_forward_train": lambda m: m.batchnorm_forward_train(X, np.ones(3), np.zeros(3), np.zeros(3),
                                                                           np.ones(3), 0.3, 1e-5),
            "batchnorm_forward_eval": lambda m: m.batchnorm_forward_eval(X, np.ones(3), np.zeros(3), np.zeros(3),
                                                                         np.ones(3), 1e-5),
            "batchnorm_backward": lambda m: m.batchnorm_backward(X, (X - X.mean(axis=0), np.ones(3), np.ones(3))),
        },
        "training": {
            "train_val_test_split": lambda m: m.train_val_test_split(20, 0.2, 0.2, np.random.default_rng(0), y.repeat(5)),
            "kfold_indices": lambda m: m.kfold_indices(10, 3, np.random.default_rng(0)),
            "EarlyStopping": lambda m: m.EarlyStopping(2, 0.01).step(0.5, params),
            "train_mlp": lambda m: m.train_mlp(X, y, X, y, hidden=(4,), epochs=2, batch_size=2, lr=0.01, dropout=0.1,
                                               l2=1e-4, patience=1, rng=np.random.default_rng(0)),
        },
    }


CASES = [(a, name) for a in ASSIGNMENTS for name in CONTRACT[a]]


def test_every_contract_name_has_a_sample_call():
    calls = sample_calls(np.random.default_rng(0))
    assert {(a, name) for a in calls for name in calls[a]} == set(CASES)


@pytest.fixture(scope="module")
def stubs():
    return {a: load_module(REPOSITORY / "assignments" / a / f"{a}.py", f"dlgrade_release_stub_{a}") for a in ASSIGNMENTS}


@pytest.mark.parametrize("assignment, name", CASES)
def test_stub_raises_not_implemented(stubs, assignment, name):
    call = sample_calls(np.random.default_rng(0))[assignment][name]
    with pytest.raises(NotImplementedError):
        call(stubs[assignment])


@pytest.mark.parametrize("assignment, name", CASES)
def test_model_answer_accepts_the_same_call(course, assignment, name):
    sample_calls(np.random.default_rng(0))[assignment][name](course.load_answer(assignment))
