"""The training assignment: the model answer against scikit-learn's splits and folds, the torch
reference's loop, the digits kept apart, and the outcome check (bands, hostile runs, curves).

The rubric-wide tests (tests/test_rubrics.py) grade the model answer (full marks), the stub (0)
and every known mistake (loses points and is named) for this assignment as for the others."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, train_test_split

from autograder.judge.checks import Finding, Trial
from autograder.judge.outcome import Bands, OutcomeCheck, Unusable, validated_run
from autograder.judge.results import Curves
from grading import grade, plan_for, write_submission

ASSIGNMENT = "training"  # the answer and reference fixtures (conftest) load it


# ---------------------------------------------------------------- oracles: scikit-learn

@pytest.mark.parametrize("n, k", [(10, 3), (23, 4), (100, 7), (64, 8), (5, 5)])
def test_kfold_sizes_and_coverage_are_scikit_learns(answer, n, k):
    folds = answer.kfold_indices(n, k, np.random.default_rng(n * k))
    oracle = [len(test) for _, test in KFold(n_splits=k, shuffle=True, random_state=0).split(np.zeros(n))]
    assert [len(f) for f in folds] == oracle
    assert all(f.dtype == np.int64 for f in folds)
    np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(n))


def test_kfold_shuffles_with_the_given_rng(answer):
    first = answer.kfold_indices(50, 5, np.random.default_rng(1))
    again = answer.kfold_indices(50, 5, np.random.default_rng(1))
    other = answer.kfold_indices(50, 5, np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    assert not np.array_equal(np.concatenate(first), np.arange(50))


@pytest.mark.parametrize("n, val, test", [(203, 0.15, 0.25), (1000, 0.2, 0.2), (37, 0.1, 0.3)])
def test_split_sizes_are_train_test_splits(answer, n, val, test):
    train_idx, val_idx, test_idx = answer.train_val_test_split(n, val, test, np.random.default_rng(0))
    rest, oracle_test = train_test_split(np.arange(n), test_size=round(test * n), random_state=0)
    _, oracle_val = train_test_split(rest, test_size=round(val * n), random_state=0)
    assert (len(val_idx), len(test_idx)) == (len(oracle_val), len(oracle_test))
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, val_idx, test_idx])), np.arange(n))


def test_stratified_split_keeps_the_proportions_of_train_test_split(answer):
    y = np.repeat([0, 1, 2, 3], [400, 150, 40, 10])
    train_idx, val_idx, test_idx = answer.train_val_test_split(len(y), 0.2, 0.2, np.random.default_rng(3), stratify=y)
    _, oracle_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    for part in (val_idx, test_idx):
        counts = np.bincount(y[part], minlength=4)
        np.testing.assert_allclose(counts, np.bincount(y[oracle_test], minlength=4), atol=1)
    unstratified = [answer.train_val_test_split(len(y), 0.2, 0.2, np.random.default_rng(s))[1] for s in range(20)]
    assert max(np.abs(np.bincount(y[v], minlength=4) - 0.2 * np.bincount(y)).max() for v in unstratified) > 1


# ---------------------------------------------------------------- early stopping and the loop

def test_early_stopping_keeps_a_copy_of_the_best_weights(answer):
    stopper = answer.EarlyStopping(patience=2, min_delta=0.1)
    params = {"W": np.zeros(3)}
    flags = []
    for loss in [1.0, 0.5, 0.45, 0.7]:
        flags.append(stopper.step(loss, params))
        params["W"] += 1.0  # the loop's optimizer updates in place
    assert flags == [False, False, False, True]
    assert (stopper.best_loss, stopper.best_epoch) == (0.5, 1)
    np.testing.assert_array_equal(stopper.best_params["W"], np.ones(3))


def test_the_answer_and_the_torch_reference_train_the_same_network(answer, reference):
    data = reference.digits_parts()
    setting = {**reference.GRADED_RUN, "epochs": 3}
    params, history = answer.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                                       rng=np.random.default_rng(5), **setting)
    ref_params, ref_history = reference.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                                                  rng=np.random.default_rng(5), **setting)
    np.testing.assert_allclose(history["val_loss"], ref_history["val_loss"], rtol=1e-9)
    np.testing.assert_allclose(history["train_loss"], ref_history["train_loss"], rtol=1e-9)
    for name, value in params.items():
        np.testing.assert_allclose(value, ref_params[name].numpy(), rtol=1e-8, atol=1e-10)


def test_the_digits_are_split_once_and_stratified(reference):
    data = reference.digits_parts()
    assert data is reference.digits_parts()
    assert [data[f"X_{p}"].shape for p in ("train", "val", "test")] == [(1077, 64), (360, 64), (360, 64)]
    rows = {tuple(row) for row in data["X_test"]}
    assert not any(tuple(row) in rows for row in data["X_train"][:200])
    assert np.bincount(data["y_test"]).min() >= 35
    assert not data["X_test"].flags.writeable


# ---------------------------------------------------------------- the outcome check, generically

def test_bands_are_full_above_the_line_linear_between_and_zero_below():
    bands = Bands(full=0.9, floor=0.5)
    assert [bands.fraction(a) for a in (1.0, 0.9, 0.7, 0.5, 0.49)] == [1.0, 1.0, pytest.approx(0.5), 0.0, 0.0]
    with pytest.raises(ValueError):
        Bands(full=0.5, floor=0.6)


SHAPES = {"W1": (3, 2), "b1": (2,)}
GOOD = {"W1": np.ones((3, 2)), "b1": np.zeros(2)}
HISTORY = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}


def test_a_valid_run_is_read_as_float64_curves():
    run = validated_run(7, (GOOD, HISTORY), SHAPES, ("train_loss", "val_loss"), 10)
    assert run.seed == 7 and run.curves == HISTORY and run.params["W1"].dtype == np.float64


@pytest.mark.parametrize("answer, problem", [
    ((GOOD,), "pair"),
    (({"W1": np.ones((3, 2))}, HISTORY), "keys"),
    (({**GOOD, "W1": np.full((3, 2), np.nan)}, HISTORY), "NaN"),
    (({**GOOD, "W1": np.ones((2, 3))}, HISTORY), "shape"),
    (({**GOOD, "W1": np.ones((3, 2), dtype=object)}, HISTORY), "object"),
    (({**GOOD, "W1": np.ones((1000, 1000))}, HISTORY), "shape"),
    ((GOOD, {"train_loss": [1.0]}), "history"),
    ((GOOD, {"train_loss": [1.0] * 11, "val_loss": [1.0] * 11}), "1 to 10"),
    ((GOOD, {"train_loss": [1.0, float("inf")], "val_loss": [1.0, 0.5]}), "NaN or inf"),
    ((GOOD, {"train_loss": [1.0, 0.5], "val_loss": [1.0]}), "lengths"),
    ((GOOD, {"train_loss": "1, 2", "val_loss": [1.0]}), "one value per epoch"),
])
def test_a_hostile_run_is_unusable_never_a_crash(answer, problem):
    with pytest.raises(Unusable, match=problem):
        validated_run(0, answer, SHAPES, ("train_loss", "val_loss"), 10)


def test_an_outcome_check_cannot_be_public():
    with pytest.raises(ValueError, match="hidden"):
        OutcomeCheck(name="o", exercise="a.f", points=1, visibility="public", data=dict, train=None, shapes=dict,
                     curves={}, measure=None, bands=Bands(0.9, 0.5))


class _Session:
    def __init__(self, answers):
        self.answers, self.calls = list(answers), 0

    def fetch(self, value):
        self.calls += 1
        return self.answers.pop(0)

    def checkpoint(self):
        pass


class _Oracle:
    mutants = ()

    def __init__(self, accuracies):
        self.accuracies = list(accuracies)

    def expected(self, check, key, compute):
        return compute(self)

    def accuracy(self):
        return self.accuracies.pop(0)


def _outcome(accuracies, answers, seeds=3, diagnose=None):
    check = OutcomeCheck(name="o", exercise="a.f", points=10, data=dict, train=lambda ns, data, rng: "run",
                         shapes=lambda data: SHAPES, curves={"train_loss": "training loss", "val_loss": "validation loss"},
                         measure=lambda ns, params, data: ns.accuracy(), bands=Bands(0.9, 0.5), seeds=seeds,
                         diagnose=diagnose)
    session = _Session(answers)

    class Student:
        def rng(self, seed):
            return seed

    trial = Trial(check, session, _Oracle(accuracies), seed=1)
    trial.student = Student()
    return check.run(trial), session


def test_the_best_of_several_runs_counts_and_a_full_run_ends_the_check():
    verdict, session = _outcome([0.6, 0.95, 0.99], [(GOOD, HISTORY)] * 3)
    assert verdict.passed and session.calls == 2  # the second run reached the line: no third
    assert isinstance(verdict.curves, Curves)
    assert verdict.curves.series == {"training loss": HISTORY["train_loss"], "validation loss": HISTORY["val_loss"]}


def test_partial_credit_is_the_bands_of_the_best_run_and_a_finding_names_its_mistake():
    verdict, session = _outcome([0.6, 0.7, 0.55], [(GOOD, HISTORY)] * 3,
                                diagnose=lambda runs: Finding("because", "a.f.m") if len(runs) == 3 else None)
    assert not verdict.passed and session.calls == 3
    assert verdict.fraction == pytest.approx(0.5)
    assert "0.700 (best of 3 runs: 0.600, 0.700, 0.550)" in verdict.message and "because" in verdict.message
    assert verdict.mistake is None  # no such known mistake among the oracle's: nothing named


def test_a_hostile_run_is_a_verdict_with_no_points():
    verdict, _ = _outcome([0.99], [({"W1": np.full((3, 2), np.nan), "b1": np.zeros(2)}, HISTORY)])
    assert not verdict.passed and verdict.fraction is None and "NaN" in verdict.message


# ---------------------------------------------------------------- the outcome check on a submission

@pytest.fixture(scope="module")
def plan(course):
    return plan_for(course, ASSIGNMENT)


def _outcome_result(result):
    (test,) = [t for t in result.tests if t.name.startswith("train_mlp on the handwritten digits")]
    return test


def test_a_correct_loop_gets_full_marks_and_its_curves_beside_the_reference_band(course, plan, tmp_path):
    import jsonschema

    from autograder.judge.schemas import NATIVE

    folder = write_submission(tmp_path, ASSIGNMENT, course.answer_source(ASSIGNMENT).read_text())
    result = grade(folder, plan)
    jsonschema.validate(result.to_json(), NATIVE)  # the curves travel in the result file as the schema says
    test = _outcome_result(result)
    assert test.score == test.max_score == 20
    assert set(test.curves.series) == {"training loss", "validation loss"}
    lengths = {len(v) for v in test.curves.series.values()}
    assert len(lengths) == 1 and 1 <= lengths.pop() <= Curves.MAX_EPOCHS
    assert all(np.isfinite(v).all() for v in test.curves.series.values())
    assert set(test.curves.band) == {"training loss", "validation loss"}


HOSTILE = {
    "nan": "    p, h = _train(*a, **k)\n    p['W1'] = p['W1'] * np.nan\n    return p, h\n",
    "shape": "    p, h = _train(*a, **k)\n    p['W2'] = p['W2'].T\n    return p, h\n",
    "huge": "    p, h = _train(*a, **k)\n    p['W1'] = np.zeros((4000, 4000))\n    return p, h\n",
    "history": "    p, h = _train(*a, **k)\n    return p, {'train_loss': [0.1] * 5000, 'val_loss': [0.1] * 5000}\n",
    "not_a_pair": "    return 'trained!'\n",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_training_results_are_verdicts_not_crashes(course, plan, tmp_path, kind):
    source = (course.answer_source(ASSIGNMENT).read_text() + "\n_train = train_mlp\n\n"
              "def train_mlp(*a, **k):\n" + HOSTILE[kind])
    test = _outcome_result(grade(write_submission(tmp_path, ASSIGNMENT, source), plan))
    assert test.score == 0 and test.outcome in ("failed", "error")
    assert test.curves is None


def test_the_test_part_of_the_digits_never_reaches_the_submission(reference):
    from autograder.course import load_sibling

    sent = []

    class Student:
        def train_mlp(self, *args, **kwargs):
            sent.extend(list(args) + list(kwargs.values()))

    checks = load_sibling(reference.__file__, "hidden_checks")
    data = reference.digits_parts()
    checks._train_on_digits(Student(), data, rng=None)
    arrays = [a for a in sent if isinstance(a, np.ndarray)]
    assert len(arrays) == 4
    for part in ("X_test", "y_test"):
        assert not any(a.shape == data[part].shape and np.array_equal(a, data[part]) for a in arrays)
    assert sum(a.shape == data["X_val"].shape and np.array_equal(a, data["X_val"]) for a in arrays) == 1


def test_the_model_answer_learns_every_draw_of_the_probes_classes(answer, reference):
    """The "learns well-separated classes" probe on 100 hidden draws: a correct loop never fails it
    by bad luck (its line, 90 % training accuracy, is far below what a working loop reaches)."""
    from autograder.course import load_sibling

    public = load_sibling(reference.__file__, "public_checks")
    accuracies = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        data = public.blobs(rng, 90, 45)
        params, _ = answer.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                                     rng=np.random.default_rng(int(rng.integers(2**31))), **public.LEARN)
        accuracies.append((public.trusted_logits(params, data["X_train"]).argmax(axis=1) == data["y_train"]).mean())
    assert min(accuracies) >= 0.95
