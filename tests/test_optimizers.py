"""Optimizers: the model answer and the torch reference against torch.optim, step after step.

torch.optim.{SGD, Adagrad, RMSprop, Adam} and torch.utils.data.DataLoader are the independent
oracles. Every trajectory runs 5 steps with a fresh gradient at each step, on a non-square W
(3, 4) and a bias b (4,), and is compared after every step (grading-facts, sections 1-3).
"""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from autograder.tensors import as_tensor, to_numpy
from support import assert_close, assert_unchanged, untouched

ASSIGNMENT = "optimizers"  # the answer and reference fixtures (conftest) load it

STEPS = 5
SHAPES = {"W": (3, 4), "b": (4,)}
# Optimizer trajectories in float64: the same arithmetic in a different order, so agreement to
# ~1e-15 is expected; rtol 1e-10 (grading-facts, section 2) leaves room, atol covers values near 0.
RTOL64, ATOL64 = 1e-10, 1e-12
RTOL32, ATOL32 = 1.3e-6, 1e-5  # torch.testing's float32 defaults, against the float64 oracle

TORCH_OPTIMIZERS = {
    "SGD": torch.optim.SGD,
    "Adagrad": torch.optim.Adagrad,
    "RMSProp": torch.optim.RMSprop,
    "Adam": torch.optim.Adam,
}

# (optimizer, hyperparameters, gradient scale). The contract's keyword names are torch's, so the
# same dict configures the answer, the reference and the oracle. A gradient scale of 0.01 with
# eps = 0.1 makes sqrt(s) and eps comparable: eps inside or outside the root then differ a lot.
# Adam's betas appear in both orders: a swap shows from the second step on.
CASES = [
    ("SGD", {"lr": 0.1}, 1.0),
    ("SGD", {"lr": 0.1, "weight_decay": 0.3}, 1.0),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, 1.0),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, 1.0),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, 1.0),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.2}, 1.0),
    ("Adagrad", {"lr": 0.1}, 1.0),
    ("Adagrad", {"lr": 0.5, "eps": 0.1}, 0.01),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.2}, 1.0),
    ("RMSProp", {"lr": 0.01}, 1.0),
    ("RMSProp", {"lr": 0.02, "alpha": 0.9}, 1.0),
    ("RMSProp", {"lr": 0.05, "alpha": 0.8, "eps": 0.1}, 0.01),
    ("RMSProp", {"lr": 0.01, "weight_decay": 0.1}, 1.0),
    ("Adam", {"lr": 0.01}, 1.0),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.95)}, 1.0),
    ("Adam", {"lr": 0.05, "betas": (0.95, 0.8)}, 1.0),
    ("Adam", {"lr": 0.05, "eps": 0.1}, 0.01),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}, 1.0),
    ("Adam", {"lr": 0.1, "betas": (0.5, 0.7), "eps": 0.1, "weight_decay": 0.05}, 0.01),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in hp.items())}-g{scale}" for name, hp, scale in CASES]

# Default hyperparameters: gradients near the default eps expose a wrong default eps (Keras'
# 1e-7); changing unit gradients expose a wrong default alpha/betas after the first step.
DEFAULT_CASES = [
    ("SGD", {"lr": 0.1}, 1.0),
    ("Adagrad", {}, 1.0),
    ("Adagrad", {}, 1e-10),
    ("RMSProp", {}, 1.0),
    ("RMSProp", {}, 1e-8),
    ("Adam", {}, 1.0),
    ("Adam", {}, 1e-8),
]


# ---------------------------------------------------------------- helpers

def make_problem(seed, grad_scale, dtype=np.float64):
    """Non-zero, non-equal initial parameters and STEPS different gradients (changing signs)."""
    rng = np.random.default_rng(seed)
    params0 = {k: rng.normal(size=shape).astype(dtype) for k, shape in SHAPES.items()}
    grads_seq = [{k: (grad_scale * rng.normal(size=shape)).astype(dtype) for k, shape in SHAPES.items()}
                 for _ in range(STEPS)]
    return params0, grads_seq


def oracle_trajectory(name, hparams, params0, grads_seq, torch_class=None):
    """The parameters after each step of torch.optim, in float64, with p.grad set by hand."""
    tensors = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params0.items()}
    optimizer = (torch_class or TORCH_OPTIMIZERS[name])(list(tensors.values()), **hparams)
    snapshots = []
    for grads in grads_seq:
        for k, t in tensors.items():
            t.grad = torch.tensor(np.asarray(grads[k], dtype=np.float64))
        optimizer.step()
        snapshots.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return snapshots


def answer_trajectory(optimizer, params0, grads_seq):
    """Run the NumPy optimizer; check in-place updates and untouched gradients along the way."""
    params = {k: v.copy() for k, v in params0.items()}
    arrays = dict(params)  # the very objects the caller (a model) holds
    grads_before = [{k: g.copy() for k, g in grads.items()} for grads in grads_seq]
    snapshots = []
    for grads in grads_seq:
        assert optimizer.step(params, grads) is None
        for k, array in arrays.items():
            assert params[k] is array, f"{k}: step must update the array in place, not rebind params[{k!r}]"
            assert array.dtype == params0[k].dtype and array.shape == params0[k].shape
        snapshots.append({k: v.copy() for k, v in params.items()})
    for before, after in zip(grads_before, grads_seq):
        for k in before:
            np.testing.assert_array_equal(after[k], before[k], err_msg=f"step modified grads[{k!r}]")
    return snapshots


def reference_trajectory(optimizer, params0, grads_seq, device, dtype=torch.float64):
    """Run the torch reference on tensors of ``device``; check in-place updates."""
    params = {k: as_tensor(v, device, dtype) for k, v in params0.items()}
    pointers = {k: t.data_ptr() for k, t in params.items()}
    tensors = dict(params)
    snapshots = []
    for grads in grads_seq:
        optimizer.step(params, grads)
        for k, t in tensors.items():
            assert params[k] is t and t.data_ptr() == pointers[k] and t.dtype == dtype
            assert str(t.device).startswith(device)
        snapshots.append({k: np.array(to_numpy(t), copy=True) for k, t in params.items()})
    return snapshots


def assert_same_trajectory(actual, expected, rtol, atol, what):
    assert len(actual) == len(expected) == STEPS
    for step, (got, want) in enumerate(zip(actual, expected), start=1):
        for k in want:
            assert_close(got[k], want[k], rtol=rtol, atol=atol, what=f"{what}, {k} after step {step}")


# ---------------------------------------------------------------- optimizers vs torch.optim

@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name, hparams, grad_scale", CASES, ids=CASE_IDS)
def test_answer_matches_torch_optim(answer, name, hparams, grad_scale, seed):
    params0, grads_seq = make_problem(seed, grad_scale)
    expected = oracle_trajectory(name, hparams, params0, grads_seq)
    got = answer_trajectory(getattr(answer, name)(**hparams), params0, grads_seq)
    assert_same_trajectory(got, expected, RTOL64, ATOL64, f"{name}({hparams})")


@pytest.mark.parametrize("name, hparams, grad_scale", CASES, ids=CASE_IDS)
def test_reference_matches_torch_optim(reference, device, name, hparams, grad_scale):
    params0, grads_seq = make_problem(2, grad_scale)
    expected = oracle_trajectory(name, hparams, params0, grads_seq)
    got = reference_trajectory(getattr(reference, name)(**hparams, device=device), params0, grads_seq, device)
    assert_same_trajectory(got, expected, RTOL64, ATOL64, f"reference {name}({hparams})")


@pytest.mark.parametrize("name, hparams, grad_scale", DEFAULT_CASES)
def test_defaults_are_torch_defaults(answer, reference, device, name, hparams, grad_scale):
    """lr=0.01/eps=1e-10 (Adagrad), lr=0.01/alpha=0.99/eps=1e-8 (RMSProp), lr=1e-3/betas=(0.9, 0.999)/eps=1e-8 (Adam)."""
    params0, grads_seq = make_problem(3, grad_scale)
    expected = oracle_trajectory(name, hparams, params0, grads_seq)
    got = answer_trajectory(getattr(answer, name)(**hparams), params0, grads_seq)
    assert_same_trajectory(got, expected, RTOL64, ATOL64, f"{name} defaults")
    got = reference_trajectory(getattr(reference, name)(**hparams, device=device), params0, grads_seq, device)
    assert_same_trajectory(got, expected, RTOL64, ATOL64, f"reference {name} defaults")


@pytest.mark.parametrize("name, hparams, grad_scale", CASES, ids=CASE_IDS)
def test_answer_keeps_float32_params_float32(answer, name, hparams, grad_scale):
    """float32 params and grads: same float32 arrays updated in place, close to the float64 oracle."""
    params0, grads_seq = make_problem(4, grad_scale, dtype=np.float32)
    expected = oracle_trajectory(name, hparams, params0, grads_seq)
    got = answer_trajectory(getattr(answer, name)(**hparams), params0, grads_seq)
    assert all(v.dtype == np.float32 for snapshot in got for v in snapshot.values())
    assert_same_trajectory(got, expected, RTOL32, ATOL32, f"float32 {name}({hparams})")


@pytest.mark.parametrize("name, hparams, grad_scale", CASES, ids=CASE_IDS)
def test_reference_in_float32(reference, device, name, hparams, grad_scale):
    params0, grads_seq = make_problem(5, grad_scale, dtype=np.float32)
    expected = oracle_trajectory(name, hparams, params0, grads_seq)
    optimizer = getattr(reference, name)(**hparams, device=device, dtype=torch.float32)
    got = reference_trajectory(optimizer, params0, grads_seq, device, dtype=torch.float32)
    assert_same_trajectory(got, expected, RTOL32, ATOL32, f"float32 reference {name}({hparams})")


def test_state_is_kept_per_parameter(answer):
    """Two optimizers never share state, and a parameter's state follows its name, not the call."""
    params0, grads_seq = make_problem(6, 1.0)
    hparams = {"lr": 0.05, "betas": (0.8, 0.95)}
    expected = oracle_trajectory("Adam", hparams, params0, grads_seq)
    first, second = answer.Adam(**hparams), answer.Adam(**hparams)
    got_first = answer_trajectory(first, params0, grads_seq)
    got_second = answer_trajectory(second, params0, grads_seq)
    assert_same_trajectory(got_first, expected, RTOL64, ATOL64, "first Adam")
    assert_same_trajectory(got_second, expected, RTOL64, ATOL64, "second Adam, same data")


INVALID = [
    ("SGD", {"lr": -0.1}),
    ("SGD", {"lr": 0.1, "momentum": -0.5}),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-4}),
    ("SGD", {"lr": 0.1, "nesterov": True}),  # Nesterov without momentum
    ("Adagrad", {"lr": -0.01}),
    ("Adagrad", {"eps": -1e-10}),
    ("Adagrad", {"weight_decay": -0.1}),
    ("RMSProp", {"lr": -0.01}),
    ("RMSProp", {"alpha": -0.9}),
    ("RMSProp", {"eps": -1e-8}),
    ("RMSProp", {"weight_decay": -0.1}),
    ("Adam", {"lr": -1e-3}),
    ("Adam", {"eps": -1e-8}),
    ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}),
    ("Adam", {"weight_decay": -0.1}),
]


@pytest.mark.parametrize("name, hparams", INVALID)
def test_invalid_hyperparameters_raise_like_torch(answer, reference, name, hparams):
    with pytest.raises(ValueError):
        TORCH_OPTIMIZERS[name]([torch.zeros(2, requires_grad=True)], **hparams)
    with pytest.raises(ValueError):
        getattr(answer, name)(**hparams)
    with pytest.raises(ValueError):
        getattr(reference, name)(**hparams)


# ---------------------------------------------------------------- the tests can tell wrong from right

def numpy_rule_trajectory(rule, params0, grads_seq):
    """Final parameters under ``rule(state, g, t) -> delta`` (p -= delta), a deliberately wrong variant."""
    params = {k: v.astype(np.float64) for k, v in params0.items()}
    states = {k: {} for k in params}
    for t, grads in enumerate(grads_seq, start=1):
        for k in params:
            params[k] = params[k] - rule(states[k], grads[k], t)
    return params


def adagrad_eps_inside(lr, eps):
    def rule(state, g, t):
        state["s"] = state.get("s", 0.0) + g * g
        return lr * g / np.sqrt(state["s"] + eps)
    return rule


def rmsprop_eps_inside(lr, alpha, eps):
    def rule(state, g, t):
        state["s"] = alpha * state.get("s", 0.0) + (1 - alpha) * g * g
        return lr * g / np.sqrt(state["s"] + eps)
    return rule


def adam_variant(lr, beta1, beta2, eps, bias_correction=True, eps_hat=False):
    def rule(state, g, t):
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        if eps_hat:  # Keras: the bias corrections folded into the learning rate, eps on sqrt(v)
            return lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * state["m"] / (np.sqrt(state["v"]) + eps)
        m, v = (state["m"] / (1 - beta1**t), state["v"] / (1 - beta2**t)) if bias_correction else (state["m"], state["v"])
        return lr * m / (np.sqrt(v) + eps)
    return rule


def torch_variant(name, hparams, torch_class=None):
    return lambda params0, grads_seq: oracle_trajectory(name, hparams, params0, grads_seq, torch_class)[-1]


def rule_variant(rule):
    return lambda params0, grads_seq: numpy_rule_trajectory(rule, params0, grads_seq)


# (the correct optimizer and case, a classic mistake made on it)
MUTANTS = [
    ("SGD", {"lr": 0.1, "weight_decay": 0.3}, 1.0, "weight decay ignored", torch_variant("SGD", {"lr": 0.1})),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, 1.0, "momentum as an average (dampening = mu)",
     torch_variant("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.9})),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, 1.0, "Nesterov ignored",
     torch_variant("SGD", {"lr": 0.05, "momentum": 0.9})),
    ("Adagrad", {"lr": 0.5, "eps": 0.1}, 0.01, "eps inside the root", rule_variant(adagrad_eps_inside(0.5, 0.1))),
    ("RMSProp", {"lr": 0.01}, 1.0, "Keras' rho = 0.9 for alpha", torch_variant("RMSProp", {"lr": 0.01, "alpha": 0.9})),
    ("RMSProp", {"lr": 0.05, "alpha": 0.8, "eps": 0.1}, 0.01, "eps inside the root",
     rule_variant(rmsprop_eps_inside(0.05, 0.8, 0.1))),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.95)}, 1.0, "betas swapped",
     torch_variant("Adam", {"lr": 0.05, "betas": (0.95, 0.8)})),
    ("Adam", {"lr": 0.01}, 1.0, "no bias correction",
     rule_variant(adam_variant(0.01, 0.9, 0.999, 1e-8, bias_correction=False))),
    ("Adam", {"lr": 0.05, "eps": 0.1}, 0.01, "Keras' eps-hat", rule_variant(adam_variant(0.05, 0.9, 0.999, 0.1, eps_hat=True))),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}, 1.0, "decoupled weight decay (AdamW)",
     torch_variant("Adam", {"lr": 0.01, "weight_decay": 0.1}, torch_class=torch.optim.AdamW)),
]


@pytest.mark.parametrize("name, hparams, grad_scale, mistake, variant", MUTANTS, ids=[m[3] for m in MUTANTS])
def test_cases_expose_classic_mistakes(name, hparams, grad_scale, mistake, variant):
    """On the inputs above, each classic wrong variant lands far outside the tolerance."""
    assert (name, hparams, grad_scale) in CASES
    params0, grads_seq = make_problem(0, grad_scale)
    correct = oracle_trajectory(name, hparams, params0, grads_seq)[-1]
    wrong = variant(params0, grads_seq)
    gap = max(np.max(np.abs(wrong[k] - correct[k]) / (np.abs(correct[k]) + 1e-12)) for k in correct)
    assert gap > 1e-4, f"{name} {mistake}: relative gap {gap:.1e} is too small to be caught"


# ---------------------------------------------------------------- minibatches vs DataLoader

N = 10


def make_data(dtype=np.float64, feature_shape=(3,)):
    """X rows are tagged by their index (X[i] = i + offsets), y[i] = i: batches reveal the order."""
    X = (np.arange(N).reshape((N,) + (1,) * len(feature_shape))
         + np.arange(np.prod(feature_shape)).reshape(feature_shape) / 10).astype(dtype)
    y = np.arange(N, dtype=np.int64)
    return X, y


def dataloader_batches(X, y, batch_size, order):
    """The oracle: DataLoader over the samples in ``order``, keeping the last partial batch."""
    dataset = TensorDataset(torch.from_numpy(X.copy()), torch.from_numpy(y.copy()))
    loader = DataLoader(dataset, batch_size=batch_size, sampler=list(order), drop_last=False)
    return [(xb.numpy(), yb.numpy()) for xb, yb in loader]


def assert_same_batches(got, expected, what):
    assert len(got) == len(expected), f"{what}: {len(got)} batches, expected {len(expected)}"
    for i, ((xb, yb), (xe, ye)) in enumerate(zip(got, expected)):
        assert_close(xb, xe, rtol=0, atol=0, what=f"{what}: X of batch {i}")
        np.testing.assert_array_equal(to_numpy(yb), ye, err_msg=f"{what}: y of batch {i}")
        assert to_numpy(yb).shape == ye.shape


@pytest.mark.parametrize("batch_size", [3, 1, 4, 10, 12])
@pytest.mark.parametrize("seed", [None, 0, 7])
def test_minibatches_match_dataloader(answer, batch_size, seed):
    X, y = make_data()
    before = untouched(X, y)
    order = np.arange(N) if seed is None else np.random.default_rng(seed).permutation(N)
    rng = None if seed is None else np.random.default_rng(seed)
    got = list(answer.minibatches(X, y, batch_size, rng=rng))
    assert_same_batches(got, dataloader_batches(X, y, batch_size, order), f"batch_size={batch_size}, seed={seed}")
    assert all(isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray) for xb, yb in got)
    assert_unchanged(before, (X, y))


@pytest.mark.parametrize("batch_size", [3, 4])
@pytest.mark.parametrize("seed", [None, 0])
def test_reference_minibatches_match_dataloader(reference, device, batch_size, seed):
    X, y = make_data()
    order = np.arange(N) if seed is None else np.random.default_rng(seed).permutation(N)
    rng = None if seed is None else np.random.default_rng(seed)
    got = list(reference.minibatches(X, y, batch_size, rng=rng, device=device))
    assert all(str(xb.device).startswith(device) and xb.dtype == torch.float64 for xb, _ in got)
    assert all(yb.dtype == torch.int64 for _, yb in got)
    assert_same_batches(got, dataloader_batches(X, y, batch_size, order), f"reference batch_size={batch_size}")


def test_minibatches_last_batch_is_partial_and_every_sample_once(answer):
    """N = 10 in batches of 3: sizes 3, 3, 3, 1, i.e. ceil(N / B) = 4 steps for the epoch."""
    X, y = make_data()
    for rng in (None, np.random.default_rng(11)):
        batches = list(answer.minibatches(X, y, 3, rng=rng))
        assert [len(yb) for _, yb in batches] == [3, 3, 3, 1]
        assert [xb.shape for xb, _ in batches] == [(3, 3), (3, 3), (3, 3), (1, 3)]
        seen = np.concatenate([yb for _, yb in batches])
        np.testing.assert_array_equal(np.sort(seen), np.arange(N))
        for xb, yb in batches:  # X and y rows stay paired
            assert_close(xb, X[yb], rtol=0, atol=0, what="X rows follow y")


def test_minibatches_steps_per_epoch_mnist(answer):
    """The course's example: 60,000 samples in batches of 1000 are 60 steps per epoch."""
    X = np.zeros((60_000, 1), dtype=np.float32)
    y = np.zeros(60_000, dtype=np.int64)
    assert sum(1 for _ in answer.minibatches(X, y, 1000)) == 60


def test_minibatches_same_seed_same_order_and_fresh_shuffle_each_epoch(answer):
    """One rng.permutation(N) call per epoch: equal seeds give equal epochs; a shared rng reshuffles."""
    X, y = make_data()

    def epoch_orders(rng, epochs):
        return [np.concatenate([yb for _, yb in answer.minibatches(X, y, 4, rng=rng)]) for _ in range(epochs)]

    first, second = epoch_orders(np.random.default_rng(5), 3), epoch_orders(np.random.default_rng(5), 3)
    twin = np.random.default_rng(5)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, twin.permutation(N))
    assert not np.array_equal(first[0], first[1]), "each epoch must draw a fresh permutation"
    assert not np.array_equal(first[0], np.arange(N)), "with an rng the order must be shuffled"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatches_keep_dtypes_and_feature_shapes(answer, dtype):
    X, y = make_data(dtype=dtype, feature_shape=(2, 3))
    targets = X[:, 0, 0].astype(dtype)  # float targets (regression), aligned with X
    order = np.random.default_rng(1).permutation(N)
    got = list(answer.minibatches(X, targets, 4, rng=np.random.default_rng(1)))
    assert all(xb.dtype == dtype and yb.dtype == dtype for xb, yb in got)
    assert [xb.shape for xb, _ in got] == [(4, 2, 3), (4, 2, 3), (2, 2, 3)]
    expected = dataloader_batches(X, targets, 4, order)
    for (xb, yb), (xe, ye) in zip(got, expected):
        assert_close(xb, xe, rtol=0, atol=0, what="X batch")
        assert_close(yb, ye, rtol=0, atol=0, what="y batch")


def test_minibatches_batches_are_copies(answer):
    X, y = make_data()
    before = untouched(X, y)
    for xb, yb in answer.minibatches(X, y, 3):
        xb[...] = -1.0
        yb[...] = -1
    assert_unchanged(before, (X, y))


def test_minibatches_of_empty_data_yield_nothing(answer, reference):
    X, y = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    assert list(answer.minibatches(X, y, 3)) == []
    assert list(answer.minibatches(X, y, 3, rng=np.random.default_rng(0))) == []
    assert list(reference.minibatches(X, y, 3)) == []


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True])
def test_minibatches_reject_bad_batch_sizes(answer, reference, batch_size):
    X, y = make_data()
    with pytest.raises(ValueError):
        list(answer.minibatches(X, y, batch_size))
    with pytest.raises(ValueError):
        list(reference.minibatches(X, y, batch_size))


def test_minibatches_reject_misaligned_data(answer, reference):
    X, y = make_data()
    with pytest.raises(ValueError):
        list(answer.minibatches(X, y[:-1], 3))
    with pytest.raises(ValueError):
        list(reference.minibatches(X, y[:-1], 3))
