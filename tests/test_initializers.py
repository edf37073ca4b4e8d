"""Initializers: the model answer, the torch reference and torch.nn.init draw from one distribution.

Random output is never graded by seed matching (CPU and GPU streams differ, and two correct answers
may consume the generator differently). Every draw is checked as a sample instead: 65,536 entries
of a NON-square matrix (so fan_in and fan_out cannot be confused unnoticed), mean and standard
deviation within 6 standard errors of the target, a Kolmogorov-Smirnov test at alpha = 1e-6
against the exact CDF, and exact bounds for the uniforms. The same check must reject the classic
wrong variants, which proves that it discriminates.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats

ASSIGNMENT = "initializers"  # the answer and reference fixtures (conftest) load it

NAMES = ["lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform"]
SHAPES = [(512, 128), (128, 512)]  # (fan_in, fan_out): 65,536 samples, fan_in != fan_out
ALPHA = 1e-6          # KS significance: false rejections are negligible, wrong variants are far away
STANDARD_ERRORS = 6   # tolerance of the mean and std checks
KURTOSIS = {"normal": 3.0, "uniform": 1.8}  # E[w^4] / var^2, sets the standard error of the std


# ---------------------------------------------------------------- the target, written independently

def target_variance(name, shape):
    """The course's formulas, restated here so the test does not trust the reference."""
    fan_in, fan_out = shape
    rule = name.split("_")[0]
    return {"lecun": 1.0 / fan_in, "xavier": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in}[rule]


def family(name):
    return name.split("_")[1]


def target_distribution(name, shape):
    """The exact (untruncated) scipy distribution the initializer must sample."""
    var = target_variance(name, shape)
    if family(name) == "normal":
        return stats.norm(loc=0.0, scale=math.sqrt(var))
    bound = math.sqrt(3.0 * var)
    return stats.uniform(loc=-bound, scale=2.0 * bound)


def distribution_failures(weights, name, shape):
    """Reasons why ``weights`` is not a sample of ``name``'s target distribution ([] if none)."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    n, var = w.size, target_variance(name, shape)
    std = math.sqrt(var)
    failures = []
    mean_error = std / math.sqrt(n)
    if abs(w.mean()) > STANDARD_ERRORS * mean_error:
        failures.append(f"mean {w.mean():.3g} is {abs(w.mean()) / mean_error:.1f} standard errors from 0")
    # Standard error of a sample std: std * sqrt((kurtosis - 1) / (4 n)); std / sqrt(2 n) for a normal.
    std_error = std * math.sqrt((KURTOSIS[family(name)] - 1.0) / (4.0 * n))
    if abs(w.std() - std) > STANDARD_ERRORS * std_error:
        failures.append(f"std {w.std():.4g} != {std:.4g} ({abs(w.std() - std) / std_error:.1f} standard errors)")
    ks = stats.kstest(w, target_distribution(name, shape).cdf)
    if ks.pvalue < ALPHA:
        failures.append(f"KS test against the exact CDF: D = {ks.statistic:.4f}, p = {ks.pvalue:.2g}")
    if family(name) == "uniform":
        bound, largest = math.sqrt(3.0 * var), np.abs(w).max()
        if largest > bound * (1 + 1e-12):  # 1e-12: sqrt(6/n) vs sqrt(3)*sqrt(2/n) may differ by an ulp
            failures.append(f"max |w| = {largest:.6g} exceeds the bound a = {bound:.6g}")
        # P(max |w| < a (1 - t)) = (1 - t)^n: t = 25/n fails a correct sampler with probability e^-25.
        if largest < bound * (1.0 - 25.0 / n):
            failures.append(f"max |w| = {largest:.6g} never approaches the bound a = {bound:.6g}")
    return failures


def assert_matches_target(weights, name, shape, who):
    failures = distribution_failures(weights, name, shape)
    assert not failures, f"{who} {name}{shape}: " + "; ".join(failures)


# ---------------------------------------------------------------- the independent oracle

def oracle(name, shape, generator=None, device="cpu"):
    """torch.nn.init on a torch-layout (fan_out, fan_in) weight, transposed to (fan_in, fan_out).

    torch has no LeCun: it is Kaiming with gain 1 (nonlinearity='linear'); He is Kaiming with the
    ReLU gain sqrt(2); both use mode='fan_in', i.e. W.size(1) of the torch layout.
    """
    fan_in, fan_out = shape
    weight = torch.empty((fan_out, fan_in), dtype=torch.float64, device=device)
    rule, kind = name.split("_")
    if rule == "xavier":
        getattr(torch.nn.init, f"xavier_{kind}_")(weight, generator=generator)
    else:
        gain = "linear" if rule == "lecun" else "relu"
        getattr(torch.nn.init, f"kaiming_{kind}_")(weight, mode="fan_in", nonlinearity=gain, generator=generator)
    return weight.T.cpu().numpy()


def torch_generator(device, seed):
    return torch.Generator(device=device).manual_seed(seed)


# ---------------------------------------------------------------- all three sample the target

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_answer_samples_the_target(answer, name, shape):
    weights = getattr(answer, name)(shape, np.random.default_rng(11))
    assert isinstance(weights, np.ndarray) and weights.shape == shape and weights.dtype == np.float64
    assert_matches_target(weights, name, shape, "answer")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_reference_samples_the_target(reference, device, name, shape):
    weights = getattr(reference, name)(shape, generator=torch_generator(device, 12), device=device)
    assert isinstance(weights, torch.Tensor) and str(weights.device).startswith(device)
    assert tuple(weights.shape) == shape and weights.dtype == torch.float64
    assert_matches_target(weights.cpu().numpy(), name, shape, "reference")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_oracle_agrees_with_the_formulas(device, name, shape):
    """torch.nn.init meets the test's own formulas: the target itself is right."""
    assert_matches_target(oracle(name, shape, torch_generator(device, 13), device), name, shape, "torch.nn.init")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_answer_and_reference_match_the_oracle_sample(answer, reference, device, name, shape):
    """Two-sample KS: the answer's and the reference's draws are indistinguishable from torch.nn.init's."""
    expected = oracle(name, shape, torch_generator(device, 14), device).ravel()
    draws = {
        "answer": getattr(answer, name)(shape, np.random.default_rng(15)),
        "reference": getattr(reference, name)(shape, generator=torch_generator(device, 16), device=device),
    }
    for who, weights in draws.items():
        weights = np.asarray(weights.cpu() if isinstance(weights, torch.Tensor) else weights).ravel()
        result = stats.ks_2samp(weights, expected)
        assert result.pvalue >= ALPHA, f"{who} {name}{shape} vs torch.nn.init: D = {result.statistic:.4f}"


# ---------------------------------------------------------------- the check rejects wrong variants

def _fans(shape):
    return shape[0], shape[1]


def _he_normal_fan_out(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / _fans(shape)[1]), size=shape)


def _he_uniform_fan_out(shape, rng):
    bound = math.sqrt(6.0 / _fans(shape)[1])
    return rng.uniform(-bound, bound, size=shape)


def _lecun_normal_variance_as_std(shape, rng):
    return rng.normal(0.0, 1.0 / _fans(shape)[0], size=shape)


def _xavier_normal_variance_as_std(shape, rng):
    return rng.normal(0.0, 2.0 / sum(_fans(shape)), size=shape)


def _he_normal_drawn_uniform(shape, rng):
    bound = math.sqrt(6.0 / _fans(shape)[0])  # right variance, wrong family
    return rng.uniform(-bound, bound, size=shape)


def _he_uniform_drawn_normal(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / _fans(shape)[0]), size=shape)


def _xavier_normal_truncated_keras(shape, rng):
    """Keras: truncated at 2 std, scale divided by 0.8796 so that the variance is right."""
    std = math.sqrt(2.0 / sum(_fans(shape))) / 0.87962566103423978
    return stats.truncnorm(-2.0, 2.0, scale=std).rvs(size=shape, random_state=rng)


def _lecun_normal_truncated_plain(shape, rng):
    std = math.sqrt(1.0 / _fans(shape)[0])
    return stats.truncnorm(-2.0, 2.0, scale=std).rvs(size=shape, random_state=rng)


def _he_normal_with_lecun_variance(shape, rng):
    return rng.normal(0.0, math.sqrt(1.0 / _fans(shape)[0]), size=shape)


def _xavier_uniform_bound_is_std(shape, rng):
    bound = math.sqrt(2.0 / sum(_fans(shape)))  # forgot the factor 3
    return rng.uniform(-bound, bound, size=shape)


def _lecun_uniform_from_zero(shape, rng):
    return rng.uniform(0.0, math.sqrt(3.0 / _fans(shape)[0]), size=shape)


def _he_normal_standard(shape, rng):
    return rng.normal(size=shape)


WRONG_VARIANTS = [
    ("he_normal", _he_normal_fan_out),
    ("he_uniform", _he_uniform_fan_out),
    ("lecun_normal", _lecun_normal_variance_as_std),
    ("xavier_normal", _xavier_normal_variance_as_std),
    ("he_normal", _he_normal_drawn_uniform),
    ("he_uniform", _he_uniform_drawn_normal),
    ("xavier_normal", _xavier_normal_truncated_keras),
    ("lecun_normal", _lecun_normal_truncated_plain),
    ("he_normal", _he_normal_with_lecun_variance),
    ("xavier_uniform", _xavier_uniform_bound_is_std),
    ("lecun_uniform", _lecun_uniform_from_zero),
    ("he_normal", _he_normal_standard),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, variant", WRONG_VARIANTS, ids=[v.__name__.strip("_") for _, v in WRONG_VARIANTS])
def test_wrong_variants_are_rejected(name, variant, shape):
    weights = variant(shape, np.random.default_rng(17))
    assert distribution_failures(weights, name, shape), f"{variant.__name__} passed as {name}{shape}"


# ---------------------------------------------------------------- the rng contract, shapes, dtypes

@pytest.mark.parametrize("name", NAMES)
def test_rng_is_the_only_source_of_randomness(answer, name):
    init, shape = getattr(answer, name), (7, 3)
    np.random.seed(0)
    first = init(shape, np.random.default_rng(5))
    after_first = np.random.random()
    np.random.seed(0)
    np.random.random()  # the global stream, had it been used, would now be elsewhere
    again = init(shape, np.random.default_rng(5))
    np.testing.assert_array_equal(first, again, err_msg="same seed, different weights")
    np.random.seed(0)
    assert np.random.random() == after_first, "the global np.random state was consumed"
    assert not np.array_equal(first, init(shape, np.random.default_rng(6))), "different seeds, same weights"
    rng = np.random.default_rng(5)
    assert not np.array_equal(init(shape, rng), init(shape, rng)), "the generator did not advance"


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (7, 3), (1, 10), (10, 1)])
@pytest.mark.parametrize("name", NAMES)
def test_exact_shape_and_float64(answer, reference, device, name, shape):
    weights = getattr(answer, name)(shape, np.random.default_rng(3))
    assert isinstance(weights, np.ndarray) and weights.shape == shape and weights.dtype == np.float64
    ref = getattr(reference, name)(shape, generator=torch_generator(device, 3), device=device)
    assert tuple(ref.shape) == shape and ref.dtype == torch.float64
    ref32 = getattr(reference, name)(shape, device=device, dtype=torch.float32)
    assert ref32.dtype == torch.float32
    for w in (weights, ref.cpu().numpy()):
        assert np.all(np.isfinite(w))
        if family(name) == "uniform":
            assert np.abs(w).max() <= math.sqrt(3.0 * target_variance(name, shape)) * (1 + 1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_reference_generator_is_its_only_randomness(reference, device, name):
    init, shape = getattr(reference, name), (7, 3)
    first = init(shape, generator=torch_generator(device, 8), device=device)
    torch.manual_seed(99)  # the default generator must not matter when one is given
    again = init(shape, generator=torch_generator(device, 8), device=device)
    assert torch.equal(first, again)
    assert not torch.equal(first, init(shape, generator=torch_generator(device, 9), device=device))


def test_reference_variances_match_the_formulas(reference):
    for name in NAMES:
        for shape in SHAPES + [(3, 7)]:
            assert reference.variance(name, shape) == pytest.approx(target_variance(name, shape), rel=1e-15)


# ---------------------------------------------------------------- what initialization is for

def signal_mean_squares(init, activation, widths, rng):
    """Mean square of the activations after each dense layer of a stack with the given widths."""
    h = rng.normal(size=(128, widths[0]))
    out = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        h = activation(h @ init((fan_in, fan_out), rng))
        out.append(np.mean(h ** 2))
    return np.array(out)


# Wide, non-square layers: a finite layer's gain fluctuates (log-sd about 0.17 after these five
# ReLU layers, measured over 300 seeds), so the band [1/3, 3] is about 6.5 standard deviations wide.
WIDTHS = [512, 384, 512, 256, 384, 256]


def test_he_keeps_the_relu_signal_lecun_the_linear_signal(answer):
    """Var(z) = fan_in * var(w) * E[x^2]: He (ReLU) and LeCun (linear) keep E[h^2] near 1 layer after layer.

    A wrong rule drifts by a factor 2 per layer (32 after five), N(0, 1) weights explode.
    """
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    he = signal_mean_squares(answer.he_normal, relu, WIDTHS, np.random.default_rng(21))
    lecun = signal_mean_squares(answer.lecun_uniform, lambda z: z, WIDTHS, np.random.default_rng(22))
    for scales in (he, lecun):
        assert np.all((scales > 1 / 3) & (scales < 3.0)), scales
    naive = signal_mean_squares(lambda s, rng: rng.normal(size=s), relu, WIDTHS, np.random.default_rng(23))
    assert naive[-1] > 1e8, "N(0, 1) weights should make a deep ReLU signal explode"
