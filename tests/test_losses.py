"""Losses: the model answer against the torch reference, and both against torch.nn.functional.

The oracle is torch.nn.functional (softmax, log_softmax, cross_entropy, binary_cross_entropy,
binary_cross_entropy_with_logits, mse_loss) and autograd for the cross-entropy gradient.
Inputs are randomized and seeded (N >= 2, C >= 3, never square), plus the extremes: logits of
+-1000, probabilities of exactly 0 and 1.
"""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from support import F32, assert_close, assert_unchanged, strict_numerics, t64, untouched

ASSIGNMENT = "losses"  # the answer and reference fixtures (conftest) load it
LOSSES = ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss")


def random_logits(seed, shape=(6, 4), scale=3.0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


def random_labels(seed, n, c):
    """Class indices that use every class at least once when n >= c (so one-hot bugs show)."""
    rng = np.random.default_rng(seed + 1000)
    return rng.permutation(np.arange(n) % c).astype(np.int64)


def random_distributions(seed, n, c):
    return np.random.default_rng(seed + 2000).dirichlet(np.ones(c), size=n)


def assert_scalar(value, what):
    """A loss is a 0-d float (a Python float, a NumPy float scalar or a 0-d array)."""
    assert np.shape(value) == (), f"{what}: a loss must be 0-d, got shape {np.shape(value)}"
    assert np.issubdtype(np.asarray(value).dtype, np.floating), f"{what}: not a float"


def check_three_way(ours, ref, oracle, device, what, **tolerance):
    """The answer, the reference (on ``device``) and the oracle agree."""
    assert str(ref.device).startswith(device), f"{what}: reference not on {device}"
    assert_close(ref, oracle, what=f"{what}: reference vs torch.nn.functional", **tolerance)
    assert_close(ours, oracle, what=f"{what}: answer vs torch.nn.functional", **tolerance)


# ---------------------------------------------------------------- softmax and log-softmax


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape, axis", [((5, 3), -1), ((4, 7), 1), ((4, 7), 0), ((2, 3, 5), 0),
                                         ((2, 3, 5), 1), ((2, 3, 5), -1)])
def test_softmax_and_log_softmax_match_torch(answer, reference, device, seed, shape, axis):
    z = random_logits(seed, shape)
    before = untouched(z)
    for name, oracle in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        ours = getattr(answer, name)(z, axis=axis)
        ref = getattr(reference, name)(z, axis=axis, device=device)
        check_three_way(ours, ref, oracle(t64(z), dim=axis), device, f"{name} axis={axis}")
        assert ours.dtype == np.float64
    np.testing.assert_allclose(answer.softmax(z, axis=axis).sum(axis=axis), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(before[0], z)


def test_softmax_default_axis_is_last(answer):
    z = random_logits(3, (4, 6))
    assert_close(answer.softmax(z), answer.softmax(z, axis=-1), rtol=0, atol=0, what="softmax")
    assert_close(answer.log_softmax(z), answer.log_softmax(z, axis=1), rtol=0, atol=0, what="log_softmax")


def test_softmax_is_invariant_to_a_constant_shift(answer):
    """softmax(z + c) == softmax(z): the identity that justifies subtracting the max."""
    z = random_logits(4, (3, 5))
    shifts = np.array([[-700.0], [3.5], [900.0]])
    assert_close(answer.softmax(z + shifts), answer.softmax(z), rtol=1e-9, atol=1e-12, what="shifted")


EXTREME_LOGITS = np.array([[1000.0, 0.0, -1000.0],
                           [-1000.0, -1000.0, -999.0],
                           [1000.0, 1000.0, 1000.0],
                           [0.0, -1000.0, 1000.0]])


@pytest.mark.parametrize("z, axis", [(EXTREME_LOGITS, -1), (EXTREME_LOGITS, 0),
                                     (np.stack([EXTREME_LOGITS, -EXTREME_LOGITS]), 0),
                                     (np.stack([EXTREME_LOGITS, -EXTREME_LOGITS]), 1)])
def test_softmax_is_stable_at_extreme_logits(answer, reference, device, z, axis):
    """Logits of +-1000: the naive exp overflows to nan; the max-shifted form is finite and exact."""
    with strict_numerics():
        ours_p, ours_logp = answer.softmax(z, axis=axis), answer.log_softmax(z, axis=axis)
    check_three_way(ours_p, reference.softmax(z, axis=axis, device=device),
                    F.softmax(t64(z), dim=axis), device, "softmax at +-1000")
    check_three_way(ours_logp, reference.log_softmax(z, axis=axis, device=device),
                    F.log_softmax(t64(z), dim=axis), device, "log_softmax at +-1000")
    # -1000 below the max must come out as -1000 in log space, not -inf from log(0).
    assert np.min(ours_logp) <= -999.0


# ---------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n, c", [(6, 4), (5, 3), (2, 7)])
def test_cross_entropy_with_class_indices(answer, reference, device, seed, n, c):
    logits, y = random_logits(seed, (n, c)), random_labels(seed, n, c)
    before = untouched(logits, y)
    ours = answer.cross_entropy(logits, y)
    assert_scalar(ours, "cross_entropy")
    check_three_way(ours, reference.cross_entropy(logits, y, device=device),
                    F.cross_entropy(t64(logits), torch.tensor(y)), device, "cross_entropy (indices)")
    assert_unchanged(before, (logits, y))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n, c", [(6, 4), (3, 5)])
def test_cross_entropy_with_target_probabilities(answer, reference, device, seed, n, c):
    """Soft labels (N, C): the mean still divides by N, not N * C."""
    logits, p = random_logits(seed, (n, c)), random_distributions(seed, n, c)
    before = untouched(logits, p)
    ours = answer.cross_entropy(logits, p)
    assert_scalar(ours, "cross_entropy")
    check_three_way(ours, reference.cross_entropy(logits, p, device=device),
                    F.cross_entropy(t64(logits), t64(p)), device, "cross_entropy (probabilities)")
    assert_unchanged(before, (logits, p))


def test_one_hot_probabilities_equal_class_indices(answer):
    logits, y = random_logits(9, (6, 4)), random_labels(9, 6, 4)
    one_hot = np.eye(4)[y]
    assert answer.cross_entropy(logits, one_hot) == pytest.approx(answer.cross_entropy(logits, y), rel=1e-12)
    assert_close(answer.cross_entropy_grad(logits, one_hot), answer.cross_entropy_grad(logits, y), what="grad")


# Exact values: with the log-sum-exp, +-1000 is represented exactly and log(1 + e^-1000) is 0.
EXACT_CROSS_ENTROPY = [
    ([[1000.0, 0.0], [0.0, -1000.0]], [1, 0], 500.0),
    ([[1000.0, 0.0], [0.0, 1000.0]], [1, 1], 500.0),
    ([[1000.0, 0.0], [0.0, -1000.0]], [1, 1], 1000.0),  # each sample misses by 1000
    ([[1000.0, 0.0], [0.0, -1000.0]], [0, 0], 0.0),
]


@pytest.mark.parametrize("logits, y, expected", EXACT_CROSS_ENTROPY)
def test_cross_entropy_is_exact_at_extreme_logits(answer, reference, device, logits, y, expected):
    logits, y = np.array(logits), np.array(y)
    assert F.cross_entropy(t64(logits), torch.tensor(y)).item() == expected  # the oracle agrees
    with strict_numerics():
        ours = answer.cross_entropy(logits, y)
        grad = answer.cross_entropy_grad(logits, y)
    assert float(ours) == expected
    assert float(reference.cross_entropy(logits, y, device=device)) == expected
    assert np.all(np.isfinite(grad))


def test_cross_entropy_notes_worked_example(answer, reference, device):
    """The notes: the true class gets probability 0.7, so the loss is -ln(0.7) = 0.35667."""
    logits, y = np.log([[0.2, 0.7, 0.1]]), np.array([1])
    for value in (answer.cross_entropy(logits, y), reference.cross_entropy(logits, y, device=device)):
        assert float(value) == pytest.approx(0.35667494393873245, abs=1e-12)
        assert round(float(value), 5) == 0.35667


# ---------------------------------------------------------------- cross-entropy gradient


def autograd_cross_entropy_grad(logits, target):
    """The gradient of F.cross_entropy (mean) with respect to the logits, by autograd."""
    leaf = t64(logits).requires_grad_(True)
    F.cross_entropy(leaf, target).backward()
    return leaf.grad


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n, c", [(6, 4), (3, 5)])
@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_cross_entropy_grad_matches_autograd(answer, reference, device, seed, n, c, soft):
    logits = random_logits(seed, (n, c))
    y = random_distributions(seed, n, c) if soft else random_labels(seed, n, c)
    target = t64(y) if soft else torch.tensor(y)
    before = untouched(logits, y)
    ours = answer.cross_entropy_grad(logits, y)
    assert ours.dtype == np.float64
    check_three_way(ours, reference.cross_entropy_grad(logits, y, device=device),
                    autograd_cross_entropy_grad(logits, target), device, "cross_entropy_grad")
    assert_unchanged(before, (logits, y))


def test_cross_entropy_grad_at_extreme_logits(answer, reference, device):
    logits, y = EXTREME_LOGITS, np.array([2, 0, 1, 2])
    with strict_numerics():
        ours = answer.cross_entropy_grad(logits, y)
    check_three_way(ours, reference.cross_entropy_grad(logits, y, device=device),
                    autograd_cross_entropy_grad(logits, torch.tensor(y)), device, "grad at +-1000")


# ---------------------------------------------------------------- binary cross-entropy


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(7,), (5, 3)])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_binary_cross_entropy_matches_torch(answer, reference, device, seed, shape, soft):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, size=shape)
    y = rng.uniform(size=shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)
    before = untouched(p, y)
    ours = answer.binary_cross_entropy(p, y)
    assert_scalar(ours, "binary_cross_entropy")
    check_three_way(ours, reference.binary_cross_entropy(p, y, device=device),
                    F.binary_cross_entropy(t64(p), t64(y)), device, "binary_cross_entropy")
    assert_unchanged(before, (p, y))


@pytest.mark.parametrize("p, y, expected", [
    ([0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0], 50.0),  # each wrong element costs exactly 100
    ([[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], 100.0),
    ([0.0, 1.0], [0.0, 1.0], 0.0),
    ([0.0, 1.0, 0.5], [0.3, 0.3, 1.0], (30.0 + 70.0 + np.log(2.0)) / 3),  # soft labels
])
def test_binary_cross_entropy_clamps_logs_at_minus_100(answer, reference, device, p, y, expected):
    p, y = np.array(p), np.array(y)
    with strict_numerics():
        ours = answer.binary_cross_entropy(p, y)
    check_three_way(ours, reference.binary_cross_entropy(p, y, device=device),
                    F.binary_cross_entropy(t64(p), t64(y)), device, "binary_cross_entropy at 0 and 1")
    assert float(ours) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(7,), (5, 3)])
def test_binary_cross_entropy_with_logits_matches_torch(answer, reference, device, seed, shape):
    rng = np.random.default_rng(seed)
    z, y = rng.normal(scale=4.0, size=shape), rng.uniform(size=shape)
    before = untouched(z, y)
    ours = answer.binary_cross_entropy_with_logits(z, y)
    assert_scalar(ours, "binary_cross_entropy_with_logits")
    check_three_way(ours, reference.binary_cross_entropy_with_logits(z, y, device=device),
                    F.binary_cross_entropy_with_logits(t64(z), t64(y)), device, "bce_with_logits")
    assert_unchanged(before, (z, y))


@pytest.mark.parametrize("z, y, expected", [
    ([1000.0, -1000.0, 1000.0, -1000.0], [1.0, 0.0, 0.0, 1.0], 500.0),
    ([[1000.0, -1000.0], [0.0, 1000.0]], [[0.5, 0.5], [1.0, 1.0]], (500.0 + 500.0 + np.log(2.0)) / 4),
])
def test_binary_cross_entropy_with_logits_is_stable(answer, reference, device, z, y, expected):
    z, y = np.array(z), np.array(y)
    with strict_numerics():
        ours = answer.binary_cross_entropy_with_logits(z, y)
    check_three_way(ours, reference.binary_cross_entropy_with_logits(z, y, device=device),
                    F.binary_cross_entropy_with_logits(t64(z), t64(y)), device, "bce_with_logits at +-1000")
    assert float(ours) == pytest.approx(expected, rel=1e-12)


def test_bce_with_logits_equals_bce_of_sigmoid(answer):
    """Away from saturation the two BCE forms agree: the logits form only adds stability."""
    rng = np.random.default_rng(11)
    z, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    assert answer.binary_cross_entropy_with_logits(z, y) == pytest.approx(
        answer.binary_cross_entropy(1 / (1 + np.exp(-z)), y), rel=1e-12)


# ---------------------------------------------------------------- mean squared error


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(6,), (5, 3), (2, 3, 4)])
def test_mse_loss_matches_torch(answer, reference, device, seed, shape):
    rng = np.random.default_rng(seed)
    y_hat, y = rng.normal(size=shape), rng.normal(size=shape)
    before = untouched(y_hat, y)
    ours = answer.mse_loss(y_hat, y)
    assert_scalar(ours, "mse_loss")
    check_three_way(ours, reference.mse_loss(y_hat, y, device=device),
                    F.mse_loss(t64(y_hat), t64(y)), device, "mse_loss")
    assert_unchanged(before, (y_hat, y))


def test_mse_loss_averages_all_elements_unlike_the_notes(answer):
    """torch's mean over all n elements is the notes' E = 1/2 sum (t - o)^2 times 2 / n."""
    y_hat = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]])
    y = np.array([[1.5, 2.0, 0.0], [2.0, 4.0, 1.0]])
    notes_e = 0.5 * np.sum((y - y_hat) ** 2)  # 0.5 * (0.25 + 0 + 0.25 + 1 + 0 + 4) = 2.75
    assert float(answer.mse_loss(y_hat, y)) == pytest.approx(5.5 / 6, rel=1e-12)
    assert float(answer.mse_loss(y_hat, y)) == pytest.approx(2 * notes_e / y.size, rel=1e-12)


# ---------------------------------------------------------------- float32 input


def float32_cases(seed):
    """(function name, args) with N >= 2, C >= 3, non-square, for every function of the contract."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(5, 4))
    return [
        ("softmax", (logits,)),
        ("log_softmax", (logits,)),
        ("cross_entropy", (logits, random_labels(seed, 5, 4))),
        ("cross_entropy", (logits, random_distributions(seed, 5, 4))),
        ("cross_entropy_grad", (logits, random_labels(seed, 5, 4))),
        ("cross_entropy_grad", (logits, random_distributions(seed, 5, 4))),
        ("binary_cross_entropy", (rng.uniform(0.01, 0.99, size=(5, 3)), rng.integers(0, 2, (5, 3)).astype(float))),
        ("binary_cross_entropy", (np.array([0.0, 1.0, 0.25]), np.array([1.0, 1.0, 0.0]))),
        ("binary_cross_entropy_with_logits", (rng.normal(scale=4.0, size=(5, 3)), rng.uniform(size=(5, 3)))),
        ("binary_cross_entropy_with_logits", (np.array([1000.0, -1000.0, 0.5]), np.array([0.0, 0.0, 1.0]))),
        ("mse_loss", (rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))),
        ("cross_entropy", (EXTREME_LOGITS, np.array([2, 0, 1, 2]))),
        ("softmax", (EXTREME_LOGITS,)),
    ]


FLOAT32_SEED = 5


@pytest.mark.parametrize("case", range(len(float32_cases(FLOAT32_SEED))))
def test_float32_input_is_accepted(answer, reference, case):
    """float32 arrays in (targets that are probabilities too): float32 accuracy against float64."""
    name, args = float32_cases(FLOAT32_SEED)[case]
    args32 = tuple(a.astype(np.float32) if np.issubdtype(a.dtype, np.floating) else a for a in args)
    before = untouched(*args32)
    with strict_numerics():
        ours = getattr(answer, name)(*args32)
    assert np.all(np.isfinite(ours))
    if name not in LOSSES:
        assert ours.dtype == np.float32, f"{name}: float32 in, {ours.dtype} out"
    # The reference sees the same (float32-rounded) values, computed in float64.
    assert_close(ours, getattr(reference, name)(*args32), what=f"{name} float32", **F32)
    assert_unchanged(before, args32)
