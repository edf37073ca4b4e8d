"""Perceptron: the model answer against the torch reference, and the learning behaviour."""

import numpy as np
import pytest

from support import assert_close, assert_unchanged, untouched

ASSIGNMENT = "perceptron"  # the answer and reference fixtures (conftest) load it

GATES_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_is_strict_and_integer(answer, reference, device, dtype):
    z = np.array([[-2.0, -1e-12, 0.0], [1e-12, 0.5, 3.0]], dtype=dtype)
    expected = np.array([[0, 0, 0], [1, 1, 1]])
    out = answer.step(z)
    assert out.shape == z.shape and np.issubdtype(out.dtype, np.integer)
    np.testing.assert_array_equal(out, expected)
    ref = reference.step(z, device=device)
    assert str(ref.device).startswith(device)
    np.testing.assert_array_equal(ref.cpu().numpy(), expected)


def test_curriculum_worked_example(answer, reference, device):
    """The course notes: AND with epochs=50, lr=0.2 and zero init learns w=[0.4, 0.2], b=-0.4."""
    y = np.array(GATES["AND"])
    for w, b in (answer.perceptron_fit(GATES_X, y), reference.perceptron_fit(GATES_X, y, device=device)):
        assert_close(w, [0.4, 0.2], atol=1e-12, what="w")
        assert b == pytest.approx(-0.4, abs=1e-12)
    w, b = answer.perceptron_fit(GATES_X, y)
    assert w.dtype == np.float64 and type(b) is float


@pytest.mark.parametrize("gate", ["AND", "OR"])
def test_learns_linearly_separable_gates(answer, reference, device, gate):
    y = np.array(GATES[gate])
    w, b = answer.perceptron_fit(GATES_X, y)
    np.testing.assert_array_equal(answer.perceptron_predict(GATES_X, w, b), y)
    rw, rb = reference.perceptron_fit(GATES_X, y, device=device)
    np.testing.assert_array_equal(reference.perceptron_predict(GATES_X, rw, rb, device=device).cpu().numpy(), y)


def test_cannot_learn_xor(answer, reference, device):
    """No line separates XOR: whatever the training, some prediction is wrong."""
    y = np.array(GATES["XOR"])
    for epochs in (1, 50, 500):
        w, b = answer.perceptron_fit(GATES_X, y, epochs=epochs)
        assert (answer.perceptron_predict(GATES_X, w, b) != y).any()
        rw, rb = reference.perceptron_fit(GATES_X, y, epochs=epochs, device=device)
        assert (reference.perceptron_predict(GATES_X, rw, rb, device=device).cpu().numpy() != y).any()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_answer_matches_reference_trajectory(answer, reference, device, seed, dtype):
    """Integer inputs and dyadic learning rates: exact arithmetic, so trajectories must agree exactly."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(13, 3)).astype(dtype)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.25 > 0).astype(np.int64)
    before = untouched(X, y)
    for epochs, lr in ((1, 0.5), (7, 0.25)):
        w, b = answer.perceptron_fit(X, y, epochs=epochs, lr=lr)
        rw, rb = reference.perceptron_fit(X, y, epochs=epochs, lr=lr, device=device)
        assert_close(w, rw, rtol=0, atol=0, what="w")
        assert b == rb
        np.testing.assert_array_equal(answer.perceptron_predict(X, w, b),
                                      reference.perceptron_predict(X, rw, rb, device=device).cpu().numpy())
    assert_unchanged(before, (X, y))


def test_separable_data_converges(answer):
    """Perceptron convergence theorem: on separable data with a margin, training ends error-free."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 4))
    margin = X @ np.array([1.5, -1.0, 0.5, 2.0]) - 0.3
    X, margin = X[np.abs(margin) > 0.5], margin[np.abs(margin) > 0.5]
    y = (margin > 0).astype(np.int64)
    w, b = answer.perceptron_fit(X, y, epochs=200, lr=0.1)
    np.testing.assert_array_equal(answer.perceptron_predict(X, w, b), y)
