"""Dropout and weight penalties: the model answer against the torch reference and torch's own ops.

Dropout is random, and a mask is never graded by seed matching against torch (rand > p and
rand >= p, or CPU and GPU streams, give different masks). Two links are exact instead: the answer
and the reference fed the SAME uniform draw (``rng.random(x.shape)``) give the same output, and
the reference fed torch.nn.functional.dropout's keep pattern gives F.dropout's output. The rest
is statistics at N = 10^6: the dropped fraction within p +- 6 sqrt(p (1 - p) / N), every kept
value exactly x / (1 - p), evaluation exactly the identity. p is the DROP probability; the
values 0.1 and 0.8 tell it apart from the keep probability (p = 0.5 would not).
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from support import F32, assert_close, assert_unchanged, strict_numerics, untouched

ASSIGNMENT = "dropout"  # the answer and reference fixtures (conftest) load it

SHAPE = (37, 23)       # non-square, batch >= 2
EXACT_PS = [0.0, 0.1, 0.8, 1.0]
STAT_PS = [0.1, 0.3, 0.8]
N_STAT = 1_000_000
STANDARD_ERRORS = 6


def nonzero_input(shape, seed, dtype=np.float64):
    """Entries bounded away from 0, of both signs: a zero in the output can only mean 'dropped'."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)).astype(dtype)


def numpy_of(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


# ---------------------------------------------------------------- answer == reference, same draw

@pytest.mark.parametrize("p", EXACT_PS)
@pytest.mark.parametrize("seed", [0, 1])
def test_answer_matches_reference_given_the_same_draw(answer, reference, device, p, seed):
    x = nonzero_input(SHAPE, seed)
    before = untouched(x)
    out, mask = answer.dropout_forward(x, p, rng=np.random.default_rng(seed))
    uniform = np.random.default_rng(seed).random(x.shape)  # the draw the contract prescribes
    ref_out, ref_mask = reference.dropout_forward(x, p, uniform=uniform, device=device)
    assert str(ref_out.device).startswith(device)
    assert isinstance(out, np.ndarray) and isinstance(mask, np.ndarray)
    np.testing.assert_array_equal(out == 0, numpy_of(ref_out) == 0, err_msg=(
        f"p={p}: other units dropped than the contract's keep = rng.random(x.shape) >= p"))
    assert_close(out, ref_out, what=f"out, p={p}")
    assert_close(mask, ref_mask, what=f"mask, p={p}")
    assert_close(out, x * mask, what="out = x * mask")
    np.testing.assert_array_equal(before[0], x)


@pytest.mark.parametrize("p", [0.1, 0.8])
def test_float32_input_is_accepted(answer, reference, device, p):
    x32 = nonzero_input(SHAPE, 2, np.float32)
    before = untouched(x32)
    out, mask = answer.dropout_forward(x32, p, rng=np.random.default_rng(3))
    assert np.issubdtype(out.dtype, np.floating) and out.shape == SHAPE and mask.shape == SHAPE
    uniform = np.random.default_rng(3).random(SHAPE)
    ref_out, ref_mask = reference.dropout_forward(x32, p, uniform=uniform, device=device)
    assert_close(out, ref_out, **F32, what="float32 out")
    assert_close(mask, ref_mask, **F32, what="float32 mask")
    dout = nonzero_input(SHAPE, 4, np.float32)
    assert_close(answer.dropout_backward(dout, mask), reference.dropout_backward(dout, ref_mask, device=device),
                 **F32, what="float32 backward")
    np.testing.assert_array_equal(before[0], x32)
    ref32, _ = reference.dropout_forward(x32, p, uniform=uniform, device=device, dtype=torch.float32)
    assert ref32.dtype == torch.float32
    assert_close(ref32, ref_out, **F32, what="reference in float32")


# ---------------------------------------------------------------- the oracle: F.dropout

@pytest.mark.parametrize("p", STAT_PS)
def test_reference_reproduces_f_dropout_given_its_keep_pattern(reference, device, p):
    x = nonzero_input(SHAPE, 5)
    torch.manual_seed(6)
    expected = F.dropout(torch.tensor(x, device=device), p=p, training=True)
    kept = numpy_of(expected) != 0
    uniform = np.where(kept, (1.0 + p) / 2.0, p / 2.0)  # u >= p exactly where F.dropout kept
    out, _ = reference.dropout_forward(x, p, uniform=uniform, device=device)
    assert_close(out, expected, what=f"reference vs F.dropout, p={p}")


def dropout_statistics_failures(out, x, p):
    """Why ``out`` is not inverted dropout of ``x`` with drop probability p ([] if it is)."""
    out, x = np.asarray(out, dtype=np.float64), np.asarray(x, dtype=np.float64)
    n, failures = out.size, []
    dropped = np.mean(out == 0)
    tolerance = STANDARD_ERRORS * math.sqrt(p * (1 - p) / n)
    if abs(dropped - p) > tolerance:
        failures.append(f"dropped fraction {dropped:.5f}, expected {p} +- {tolerance:.5f}")
    kept = out != 0
    if not np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-12, atol=0):
        failures.append("kept values are not x / (1 - p)")
    return failures


@pytest.mark.parametrize("p", STAT_PS)
def test_statistics_of_answer_reference_and_f_dropout(answer, reference, device, p):
    x = nonzero_input((1000, N_STAT // 1000), 7)
    torch.manual_seed(8)
    outputs = {
        "answer": answer.dropout_forward(x, p, rng=np.random.default_rng(9))[0],
        "reference": numpy_of(reference.dropout_forward(
            x, p, generator=torch.Generator(device=device).manual_seed(10), device=device)[0]),
        "F.dropout": numpy_of(F.dropout(torch.tensor(x, device=device), p=p, training=True)),
    }
    for who, out in outputs.items():
        assert out.shape == x.shape
        failures = dropout_statistics_failures(out, x, p)
        assert not failures, f"{who}, p={p}: " + "; ".join(failures)


@pytest.mark.parametrize("p", STAT_PS)
def test_inverted_scaling_keeps_the_expectation(answer, p):
    """E[out] = x: the mean of dropout(ones) is 1 within 6 standard errors, sqrt(p / ((1-p) N))."""
    out, _ = answer.dropout_forward(np.ones((1000, N_STAT // 1000)), p, rng=np.random.default_rng(11))
    assert abs(out.mean() - 1.0) <= STANDARD_ERRORS * math.sqrt(p / ((1 - p) * N_STAT))


def test_statistics_check_rejects_keep_probability_and_missing_scaling():
    """The check discriminates: p used as the keep probability, or no 1/(1-p), fails it."""
    x, p = nonzero_input((1000, 1000), 12), 0.1
    u = np.random.default_rng(13).random(x.shape)
    keep_prob_bug = x * (u < p) / p              # keeps 10 % instead of dropping 10 %
    unscaled_bug = x * (u >= p)                  # forgot the inverted scaling
    flipped_scale_bug = x * (u >= p) * (1 - p)   # scaled down instead of up
    for bug in (keep_prob_bug, unscaled_bug, flipped_scale_bug):
        assert dropout_statistics_failures(bug, x, p)
    assert not dropout_statistics_failures(x * (u >= p) / (1 - p), x, p)


# ---------------------------------------------------------------- evaluation, edges, randomness

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_evaluation_is_exactly_the_identity(answer, reference, device, dtype):
    x = nonzero_input(SHAPE, 14, dtype)
    before = untouched(x)
    for p in (0.1, 0.8, 1.0):
        out, mask = answer.dropout_forward(x, p, train=False, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(out, x)
        np.testing.assert_array_equal(mask, np.ones(SHAPE))
        ref_out, ref_mask = reference.dropout_forward(x, p, train=False, device=device)
        np.testing.assert_array_equal(numpy_of(ref_out), x.astype(np.float64))
        np.testing.assert_array_equal(numpy_of(ref_mask), np.ones(SHAPE))
        oracle = F.dropout(torch.tensor(x, device=device), p=p, training=False)
        np.testing.assert_array_equal(numpy_of(oracle), x)
    np.testing.assert_array_equal(before[0], x)


def test_p_zero_in_training_is_the_identity(answer, reference, device):
    x = nonzero_input(SHAPE, 15)
    out, mask = answer.dropout_forward(x, 0.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(mask, np.ones(SHAPE))
    ref_out, _ = reference.dropout_forward(x, 0.0, device=device)
    np.testing.assert_array_equal(numpy_of(ref_out), x)


def test_p_one_drops_everything_without_warnings(answer, reference, device):
    x = nonzero_input(SHAPE, 16)
    with strict_numerics():
        out, mask = answer.dropout_forward(x, 1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, np.zeros(SHAPE))
    np.testing.assert_array_equal(mask, np.zeros(SHAPE))
    ref_out, ref_mask = reference.dropout_forward(x, 1.0, device=device)
    assert torch.all(ref_out == 0) and torch.all(ref_mask == 0)
    np.testing.assert_array_equal(numpy_of(F.dropout(torch.tensor(x), p=1.0)), np.zeros(SHAPE))


@pytest.mark.parametrize("p", [-0.1, 1.1])
@pytest.mark.parametrize("train", [True, False])
def test_probability_outside_zero_one_is_rejected(answer, reference, p, train):
    x = nonzero_input(SHAPE, 17)
    with pytest.raises(ValueError):
        answer.dropout_forward(x, p, train=train, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        reference.dropout_forward(x, p, train=train)
    with pytest.raises(ValueError):  # the oracle agrees that this is an error
        F.dropout(torch.tensor(x), p=p, training=train)


def test_rng_is_the_only_source_of_randomness(answer):
    x = nonzero_input((64, 48), 18)
    np.random.seed(0)
    _, first = answer.dropout_forward(x, 0.3, rng=np.random.default_rng(4))
    after_first = np.random.random()
    np.random.seed(1)
    _, again = answer.dropout_forward(x, 0.3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, again, err_msg="same seed, different masks")
    np.random.seed(0)
    assert np.random.random() == after_first, "the global np.random state was consumed"


def test_two_calls_give_different_masks(answer, reference, device):
    x = nonzero_input((64, 48), 19)
    rng = np.random.default_rng(20)
    assert not np.array_equal(answer.dropout_forward(x, 0.3, rng=rng)[1], answer.dropout_forward(x, 0.3, rng=rng)[1])
    assert not np.array_equal(answer.dropout_forward(x, 0.3)[1], answer.dropout_forward(x, 0.3)[1]), \
        "rng=None must draw fresh randomness"
    generator = torch.Generator(device=device).manual_seed(21)
    first = reference.dropout_forward(x, 0.3, generator=generator, device=device)[1]
    assert not torch.equal(first, reference.dropout_forward(x, 0.3, generator=generator, device=device)[1])


# ---------------------------------------------------------------- backward

@pytest.mark.parametrize("p", [0.1, 0.8])
def test_backward_matches_autograd(answer, reference, device, p):
    """dL/dx of out = x * mask is dout * mask: autograd of that product, with each side's own mask."""
    x, dout = nonzero_input(SHAPE, 22), nonzero_input(SHAPE, 23)
    _, mask = answer.dropout_forward(x, p, rng=np.random.default_rng(24))
    before = untouched(dout, mask)
    grad = answer.dropout_backward(dout, mask)
    assert isinstance(grad, np.ndarray) and grad.shape == SHAPE
    assert_close(grad, autograd_of_masked_product(x, mask, dout, device), what="answer backward vs autograd")
    assert np.all(grad[mask == 0] == 0), "dropped units must get no gradient"
    _, ref_mask = reference.dropout_forward(x, p, generator=torch.Generator(device=device).manual_seed(24),
                                            device=device)
    assert_close(reference.dropout_backward(dout, ref_mask, device=device),
                 autograd_of_masked_product(x, ref_mask, dout, device), what="reference backward vs autograd")
    assert_unchanged(before, (dout, mask))


def autograd_of_masked_product(x, mask, dout, device):
    """dL/dx by autograd, for the reference's forward out = x * mask and upstream gradient dout."""
    x_t = torch.tensor(x, device=device, requires_grad=True)
    mask_t = torch.as_tensor(numpy_of(mask), dtype=torch.float64, device=device)
    (x_t * mask_t).backward(torch.tensor(dout, device=device))
    return x_t.grad


# ---------------------------------------------------------------- L2 and L1 penalties

def weight_list(seed, dtype=np.float64):
    """Non-square matrices and a bias-like vector, entries away from 0 (the L1 kink)."""
    rng = np.random.default_rng(seed)
    shapes = [(5, 3), (3, 7), (7,)]
    return [(rng.uniform(0.1, 2.0, s) * rng.choice([-1.0, 1.0], s)).astype(dtype) for s in shapes]


def torch_penalty_and_grads(weights, lam, kind, device):
    """The oracle: torch.linalg norms and autograd, computed independently of the reference."""
    leaves = [torch.tensor(np.asarray(w, dtype=np.float64), device=device, requires_grad=True) for w in weights]
    if kind == "l2":
        penalty = 0.5 * lam * sum(torch.linalg.vector_norm(t, 2) ** 2 for t in leaves)
    else:
        penalty = lam * sum(torch.linalg.vector_norm(t, 1) for t in leaves)
    penalty.backward()
    return penalty.item(), [t.grad for t in leaves]


@pytest.mark.parametrize("kind", ["l2", "l1"])
@pytest.mark.parametrize("lam", [0.01, 0.3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_penalties_and_gradients_match_autograd(answer, reference, device, kind, lam, dtype):
    rtol, atol = (1e-7, 1e-10) if dtype == np.float64 else (F32["rtol"], F32["atol"])
    weights = weight_list(25, dtype)
    before = untouched(*weights)
    expected, expected_grads = torch_penalty_and_grads(weights, lam, kind, device)
    penalty, grad = getattr(answer, f"{kind}_penalty"), getattr(answer, f"{kind}_grad")
    value = penalty(weights, lam)
    assert np.ndim(value) == 0
    assert float(value) == pytest.approx(expected, rel=rtol, abs=atol)
    ref_value = getattr(reference, f"{kind}_penalty")(weights, lam, device=device)
    assert ref_value.ndim == 0 and ref_value.item() == pytest.approx(expected, rel=1e-12)
    for w, expected_grad in zip(weights, expected_grads):
        assert_close(grad(w, lam), expected_grad, rtol=rtol, atol=atol, what=f"{kind}_grad {w.shape}")
        assert_close(getattr(reference, f"{kind}_grad")(w, lam, device=device), expected_grad,
                     what=f"reference {kind}_grad")
    assert_unchanged(before, weights)


def test_penalty_of_no_weights_is_zero(answer):
    assert float(answer.l2_penalty([], 0.3)) == 0.0
    assert float(answer.l1_penalty([], 0.3)) == 0.0


def test_l1_gradient_is_zero_at_zero(answer, reference, device):
    """The subgradient sign(0) = 0, as autograd of |w| gives."""
    w = np.array([[-1.5, 0.0, 2.0], [0.0, 0.25, -0.0]])
    _, (expected,) = torch_penalty_and_grads([w], 0.3, "l1", device)
    assert_close(answer.l1_grad(w, 0.3), expected, what="l1_grad with zeros")
    assert_close(reference.l1_grad(w, 0.3, device=device), expected, what="reference l1_grad with zeros")
    assert_close(answer.l1_grad(w, 0.3), [[-0.3, 0.0, 0.3], [0.0, 0.3, 0.0]], what="lam * sign(w)")


def test_l2_gradient_is_sgd_weight_decay(answer, device):
    """torch.optim.SGD(weight_decay=lam) adds lam * w to the gradient: with a zero data gradient and
    lr = 1, one step moves w by exactly -l2_grad(w, lam)."""
    lam = 0.3
    for w in weight_list(26):
        param = torch.nn.Parameter(torch.tensor(w, device=device))
        param.grad = torch.zeros_like(param)
        torch.optim.SGD([param], lr=1.0, weight_decay=lam).step()
        assert_close(answer.l2_grad(w, lam), w - numpy_of(param), what="weight decay step")
