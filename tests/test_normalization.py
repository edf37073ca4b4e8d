"""Normalization: the model answer and the torch reference against independent oracles.

The scalers are checked against scikit-learn's MinMaxScaler and StandardScaler (population std,
a constant feature divided by 1), batch normalization against torch.nn.BatchNorm1d itself in
train() and eval() mode, and its backward against torch's autograd on the ORIGINAL batch (the
reference's backward rebuilds a batch from the cache; these tests show that is exact). Inputs are
the discriminating kind: features on scales from 0.01 to 1000, small batches (biased and unbiased
variance differ), momentum away from 0.1 and 0.5, a constant feature.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from autograder.judge.rubric import load_rubric
from support import F32, assert_close, assert_unchanged, strict_numerics, untouched

ASSIGNMENT = "normalization"  # the answer and reference fixtures (conftest) load it

SCALES = np.array([0.01, 1.0, 30.0, 1000.0])
OFFSETS = np.array([0.02, -2.0, 40.0, 1500.0])
CONSTANT_COLUMN = 2


def features(n, seed, constant=False, shift=0.0, widen=1.0):
    """(n, 4) samples on very different scales; the third feature constant (2.5) if asked."""
    rng = np.random.default_rng(seed)
    X = OFFSETS + SCALES * (shift + widen * rng.standard_normal((n, SCALES.size)))
    if constant:
        X[:, CONSTANT_COLUMN] = 2.5
    return X


def numpy_of(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


# ---------------------------------------------------------------- the scalers against scikit-learn

@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("n", [2, 5, 40])
def test_minmax_matches_sklearn_on_training_and_other_data(answer, reference, device, n, constant):
    train, other = features(n, 1, constant), features(7, 2, shift=1.5, widen=2.0)
    before = untouched(train, other)
    oracle = MinMaxScaler().fit(train)
    lo, hi = answer.minmax_fit(train)
    assert_close(lo, oracle.data_min_, what="lo")
    assert_close(hi, oracle.data_max_, what="hi")
    for data in (train, other):
        expected = oracle.transform(data)
        with strict_numerics():
            assert_close(answer.minmax_transform(data, lo, hi), expected, what="answer")
        ref_lo, ref_hi = reference.minmax_fit(train, device=device)
        assert_close(reference.minmax_transform(data, ref_lo, ref_hi, device=device), expected, what="reference")
    assert_unchanged(before, (train, other))


@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("n", [2, 5, 40])
def test_zscore_matches_sklearn_population_std(answer, reference, device, n, constant):
    train, other = features(n, 3, constant), features(7, 4, shift=-1.5, widen=2.0)
    oracle = StandardScaler().fit(train)
    mean, std = answer.zscore_fit(train)
    assert_close(mean, oracle.mean_, what="mean")
    assert_close(std, np.sqrt(oracle.var_), what="std (ddof = 0)")
    ref_mean, ref_std = reference.zscore_fit(train, device=device)
    assert_close(ref_std, np.sqrt(oracle.var_), what="reference std")
    for data in (train, other):
        expected = oracle.transform(data)
        with strict_numerics():
            assert_close(answer.zscore_transform(data, mean, std), expected, what="answer")
        assert_close(reference.zscore_transform(data, ref_mean, ref_std, device=device), expected, what="reference")


def test_a_constant_feature_maps_to_zero_without_nan_or_warnings(answer, reference):
    train = features(9, 5, constant=True)
    with strict_numerics():
        minmax = answer.minmax_transform(train, *answer.minmax_fit(train))
        zscore = answer.zscore_transform(train, *answer.zscore_fit(train))
    for scaled in (minmax, zscore, numpy_of(reference.minmax_transform(train, *reference.minmax_fit(train))),
                   numpy_of(reference.zscore_transform(train, *reference.zscore_fit(train)))):
        np.testing.assert_array_equal(scaled[:, CONSTANT_COLUMN], np.zeros(9))
        assert np.isfinite(scaled).all()
    assert answer.zscore_fit(train)[1][CONSTANT_COLUMN] == 0.0  # the std itself stays 0: transform guards


@pytest.mark.parametrize("method, scaler", [("minmax", MinMaxScaler), ("zscore", StandardScaler)])
def test_scale_splits_fits_on_the_training_part_only(answer, reference, device, method, scaler):
    train, val, test = features(30, 6, True), features(10, 7, shift=2.0), features(12, 8, shift=-1.0, widen=3.0)
    before = untouched(train, val, test)
    oracle = scaler().fit(train)
    leaky = scaler().fit(np.concatenate([train, val, test]))
    parts = answer.scale_splits(train, val, test, method)
    ref_parts = reference.scale_splits(train, val, test, method, device=device)
    assert len(parts) == len(ref_parts) == 3
    for part, ref_part, data in zip(parts, ref_parts, (train, val, test)):
        assert_close(part, oracle.transform(data), what=f"{method} answer")
        assert_close(ref_part, oracle.transform(data), what=f"{method} reference")
        assert not np.allclose(part, leaky.transform(data)), "fitting on all the data would give the same"
    assert_unchanged(before, (train, val, test))
    with pytest.raises(ValueError):
        answer.scale_splits(train, val, test, "robust")
    with pytest.raises(ValueError):
        reference.scale_splits(train, val, test, "robust")


def test_scalers_keep_float32(answer, reference):
    train, other = features(20, 9, True).astype(np.float32), features(6, 10, shift=1.0).astype(np.float32)
    for fit, transform, scaler in ((answer.minmax_fit, answer.minmax_transform, MinMaxScaler),
                                   (answer.zscore_fit, answer.zscore_transform, StandardScaler)):
        statistics = fit(train)
        assert all(s.dtype == np.float32 for s in statistics)
        scaled = transform(other, *statistics)
        assert scaled.dtype == np.float32
        oracle = scaler().fit(train.astype(np.float64))
        assert_close(scaled, oracle.transform(other.astype(np.float64)), **F32, what=scaler.__name__)
    assert all(p.dtype == np.float32 for p in answer.scale_splits(train, other, other, "zscore"))


# Dyadic values (multiples of 1/8 up to 1000) keep a constant column's mean exact and its std
# exactly 0, as scikit-learn's own constant-feature rule sees it; other columns vary by >= 1/8.
_dyadic = st.integers(-8000, 8000).map(lambda k: k / 8)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)), elements=_dyadic),
       st.integers(0, 4))
def test_scalers_agree_with_sklearn_on_any_data(answer, X, constant_column):
    X = X.copy()
    if constant_column < X.shape[1]:
        X[:, constant_column] = X[0, constant_column]
    with strict_numerics():
        minmax = answer.minmax_transform(X, *answer.minmax_fit(X))
        zscore = answer.zscore_transform(X, *answer.zscore_fit(X))
    # scikit-learn computes X * (1 / range) - lo * (1 / range): the same value up to rounding of
    # terms as large as 1000 * 8 (a range of 1/8), ~2e-12 at worst.
    np.testing.assert_allclose(minmax, MinMaxScaler().fit_transform(X), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(zscore, StandardScaler().fit_transform(X), rtol=1e-9, atol=1e-9)
    assert minmax.min() >= 0.0 and minmax.max() <= 1.0  # the training data lands in [0, 1]
    varying = X.max(axis=0) > X.min(axis=0)
    np.testing.assert_allclose(zscore[:, varying].std(axis=0), 1.0, rtol=1e-9)
    np.testing.assert_allclose(zscore.mean(axis=0), 0.0, atol=1e-9)


# ---------------------------------------------------------------- batch norm against torch.nn.BatchNorm1d

def batch_problem(n, seed, d=4):
    rng = np.random.default_rng(seed)
    scales = np.array([0.1, 1.0, 5.0, 20.0])[:d]
    return {
        "x": rng.normal(size=d) + scales * rng.standard_normal((n, d)),
        "gamma": rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d),
        "beta": rng.normal(size=d),
        "running_mean": rng.normal(3.0, 1.0, d),
        "running_var": rng.uniform(0.2, 4.0, d),
    }


def torch_layer(problem, momentum, eps, device="cpu", dtype=torch.float64):
    """The oracle: a torch.nn.BatchNorm1d holding the problem's parameters and running statistics."""
    d = problem["gamma"].shape[0]
    layer = torch.nn.BatchNorm1d(d, eps=eps, momentum=momentum, device=device, dtype=dtype)
    with torch.no_grad():
        for name, value in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"),
                            ("running_var", "running_var")):
            getattr(layer, name).copy_(torch.tensor(problem[value], dtype=dtype))
    return layer


@pytest.mark.parametrize("momentum", [0.1, 0.3, 0.7])
@pytest.mark.parametrize("n", [2, 5, 32])
def test_forward_train_matches_batchnorm1d(answer, reference, device, n, momentum):
    problem, eps = batch_problem(n, n), 0.01
    before = untouched(*problem.values())
    layer = torch_layer(problem, momentum, eps, device).train()
    expected = layer(torch.tensor(problem["x"], device=device))
    out, new_mean, new_var, cache = answer.batchnorm_forward_train(*problem.values(), momentum, eps)
    ref = reference.batchnorm_forward_train(*problem.values(), momentum, eps, device=device)
    for who, result in (("answer", (out, new_mean, new_var)), ("reference", ref[:3])):
        assert_close(result[0], expected, what=f"{who} out")
        assert_close(result[1], layer.running_mean, what=f"{who} running_mean")
        assert_close(result[2], layer.running_var, what=f"{who} running_var (unbiased)")
    for mine, theirs, what in zip(cache, ref[3], ("x_hat", "inv_std", "gamma")):
        assert_close(mine, theirs, what=f"cache {what}")
    assert_unchanged(before, problem.values())


def test_running_statistics_follow_batchnorm1d_over_many_batches(answer):
    problem, rng = batch_problem(8, 11), np.random.default_rng(12)
    layer = torch_layer(problem, 0.3, 1e-5).train()
    mean, var = problem["running_mean"], problem["running_var"]
    for _ in range(25):
        x = rng.normal([5.0, -2.0, 0.0, 1.0], [3.0, 0.5, 10.0, 1.0], size=(8, 4))
        layer(torch.tensor(x))
        _, mean, var, _ = answer.batchnorm_forward_train(x, problem["gamma"], problem["beta"], mean, var, 0.3, 1e-5)
    assert_close(mean, layer.running_mean, what="running_mean after 25 batches")
    assert_close(var, layer.running_var, what="running_var after 25 batches")


@pytest.mark.parametrize("n", [1, 3, 16])
def test_forward_eval_matches_batchnorm1d_and_ignores_the_batch(answer, reference, device, n):
    problem, eps = batch_problem(n, 20 + n), 0.2
    layer = torch_layer(problem, 0.1, eps, device).eval()
    expected = layer(torch.tensor(problem["x"], device=device))
    out = answer.batchnorm_forward_eval(*problem.values(), eps)
    assert_close(out, expected, what="answer eval")
    assert_close(reference.batchnorm_forward_eval(*problem.values(), eps, device=device), expected, what="reference")
    alone = answer.batchnorm_forward_eval(problem["x"][:1], *list(problem.values())[1:], eps)
    assert_close(alone, out[:1], what="a sample alone and in its batch")


@pytest.mark.parametrize("momentum", [0.3, 0.7])
@pytest.mark.parametrize("n", [2, 5, 16])
def test_backward_matches_autograd_through_batchnorm1d(answer, reference, device, n, momentum):
    problem, eps = batch_problem(n, 30 + n), 0.01
    dout = np.random.default_rng(40 + n).standard_normal(problem["x"].shape)
    layer = torch_layer(problem, momentum, eps, device).train()
    x = torch.tensor(problem["x"], device=device, requires_grad=True)
    layer(x).backward(torch.tensor(dout, device=device))
    expected = (x.grad, layer.weight.grad, layer.bias.grad)
    cache = answer.batchnorm_forward_train(*problem.values(), momentum, eps)[3]
    before = untouched(dout, *cache)
    ref_cache = reference.batchnorm_forward_train(*problem.values(), momentum, eps, device=device)[3]
    for who, grads in (("answer", answer.batchnorm_backward(dout, cache)),
                       ("reference", reference.batchnorm_backward(dout, [numpy_of(t) for t in ref_cache],
                                                                  device=device))):
        for mine, theirs, what in zip(grads, expected, ("dx", "dgamma", "dbeta")):
            assert_close(mine, theirs, what=f"{who} {what}")
    assert_unchanged(before, (dout, *cache))


def test_float32_batch_norm_stays_float32(answer):
    problem = {k: v.astype(np.float32) for k, v in batch_problem(6, 50).items()}
    out, mean, var, cache = answer.batchnorm_forward_train(*problem.values(), 0.3, 1e-5)
    grads = answer.batchnorm_backward(np.ones_like(problem["x"]), cache)
    evaluated = answer.batchnorm_forward_eval(*problem.values(), 1e-5)
    for value in (out, mean, var, *cache, *grads, evaluated):
        assert value.dtype == np.float32
    layer = torch_layer({k: v.astype(np.float64) for k, v in problem.items()}, 0.3, 1e-5).train()
    assert_close(out, layer(torch.tensor(problem["x"], dtype=torch.float64)), **F32, what="float32 out")


def test_a_feature_constant_in_the_batch_gives_beta_without_nan(answer, reference):
    problem = batch_problem(5, 60)
    problem["x"][:, 1] = 3.0
    with strict_numerics():
        out, _, new_var, cache = answer.batchnorm_forward_train(*problem.values(), 0.3, 1e-5)
        dx = answer.batchnorm_backward(np.ones_like(out), cache)[0]
    np.testing.assert_allclose(out[:, 1], problem["beta"][1], rtol=0, atol=1e-12)
    assert np.isfinite(dx).all() and np.isfinite(new_var).all()
    assert_close(out, reference.batchnorm_forward_train(*problem.values(), 0.3, 1e-5)[0], what="reference")


def test_training_needs_a_batch_of_two(answer, reference):
    problem = batch_problem(1, 70)
    with pytest.raises(ValueError):
        answer.batchnorm_forward_train(*problem.values(), 0.1, 1e-5)
    with pytest.raises(ValueError):
        reference.batchnorm_forward_train(*problem.values(), 0.1, 1e-5)
    with pytest.raises(ValueError):  # the oracle agrees
        torch_layer(problem, 0.1, 1e-5).train()(torch.tensor(problem["x"]))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 9), st.integers(1, 5), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_batch_norm_matches_batchnorm1d_on_any_batch(answer, n, d, momentum, seed):
    rng = np.random.default_rng(seed)
    problem = {"x": rng.normal(size=d) + rng.uniform(0.1, 10, d) * rng.standard_normal((n, d)),
               "gamma": rng.normal(size=d), "beta": rng.normal(size=d),
               "running_mean": rng.normal(size=d), "running_var": rng.uniform(0.1, 5, d)}
    layer = torch_layer(problem, momentum, 1e-3).train()
    x = torch.tensor(problem["x"], requires_grad=True)
    dout = rng.standard_normal((n, d))
    layer(x).backward(torch.tensor(dout))
    out, mean, var, cache = answer.batchnorm_forward_train(*problem.values(), momentum, 1e-3)
    dx, dgamma, dbeta = answer.batchnorm_backward(dout, cache)
    for mine, theirs in ((mean, layer.running_mean), (var, layer.running_var), (dx, x.grad),
                         (dgamma, layer.weight.grad), (dbeta, layer.bias.grad)):
        assert_close(mine, theirs, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- the known mistakes

REQUIRED_MISTAKES = {
    "normalization.batchnorm_forward_train.unbiased_normalize",
    "normalization.batchnorm_forward_train.biased_running_var",
    "normalization.batchnorm_forward_train.momentum_inverted",
    "normalization.batchnorm_forward_train.eps_outside_sqrt",
    "normalization.batchnorm_forward_eval.batch_statistics",
    "normalization.batchnorm_forward_eval.no_eps",
    "normalization.batchnorm_backward.wrong_axis",
    "normalization.batchnorm_backward.mean_ignored",
    "normalization.scale_splits.fit_on_all",
    "normalization.minmax_transform.zero_range",
    "normalization.zscore_fit.ddof1",
}


def test_the_catalogue_holds_the_classic_mistakes(course):
    """Each is graded, must lose points and be named in tests/test_rubrics.py (and `dlgrade validate`)."""
    mutants = {m.id: m for m in load_rubric(course, ASSIGNMENT).mutants}
    assert REQUIRED_MISTAKES <= set(mutants)
    assert all(m.title and m.hint and m.submission_source for m in mutants.values())


@pytest.mark.parametrize("mutant_id", sorted(REQUIRED_MISTAKES))
def test_each_numpy_mistake_differs_from_the_answer_and_matches_its_torch_variant(course, mutant_id):
    """The NumPy version of a mistake and its torch variant agree, and both differ from the answer,
    on the public inputs of its exercise: the mutant the grader matches is the mistake students make."""
    from autograder.course import load_module
    from autograder.judge.oracle import Namespace, mutant_module, to_plain

    (mutant,) = [m for m in load_rubric(course, ASSIGNMENT).mutants if m.id == mutant_id]
    answer_source = course.answer_source(ASSIGNMENT).read_text()
    wrong = load_module_from_source(answer_source + "\n\n" + mutant.submission_source, mutant.slug)
    right = course.load_answer(ASSIGNMENT)
    variant = Namespace(mutant_module(course.load_reference(ASSIGNMENT), mutant))
    public = load_module(course.solutions / ASSIGNMENT / "public_checks.py", "normalization_public_checks_test")
    checks = [c for c in public.CHECKS if c.function == mutant.exercise.split(".")[-1]]
    assert checks
    differs = False
    for check in checks:
        inputs = check.inputs(np.random.default_rng(0))
        arguments = {**inputs, **(check.given(Namespace(course.load_reference(ASSIGNMENT)), **inputs)
                                  if getattr(check, "given", None) else {})}
        arguments = to_plain(arguments)
        call = check.analytic if hasattr(check, "analytic") else check.call
        with np.errstate(divide="ignore", invalid="ignore"):
            received, expected = call(wrong, **arguments), call(right, **arguments)
        assert_matches(to_plain(call(variant, **arguments)), received)
        differs |= not same(received, expected)
    assert differs, f"{mutant_id}: no public check tells the mistake from the answer"


def load_module_from_source(source, name):
    import types

    module = types.ModuleType(f"normalization_mistake_{name}")
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - course material, trusted
    return module


def same(a, b):
    from autograder.judge.compare import matches

    return matches(a, b)


def assert_matches(variant, received):
    assert same(received, variant), f"the NumPy mistake gives {received}, its torch variant {variant}"


def test_a_float32_submission_scores_full_marks_whatever_the_seed(course):
    """The hidden inputs are conditioned for float32: a correct submission that computes in float32
    is within float32's tolerances on every draw (with offsets of 50x the spread, 3 of these 14
    seeds failed it: a float32 std is off by ~eps32 * offset / spread)."""
    from pathlib import Path

    from grading import failures, grade, plan_for

    submission = Path(__file__).parent / "fixtures" / "submissions" / "float32" / "normalization.py"
    for seed in range(14):
        result = grade(submission, plan_for(course, ASSIGNMENT, seed=seed))
        assert [(t.name, t.message) for t in failures(result)] == [], f"seed {seed}"
