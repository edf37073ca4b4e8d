"""Hidden checks of the training assignment: the public probes on seeded random inputs, the
protocol of the training loop, and its outcome on the handwritten digits.

The protocol checks of train_mlp use small synthetic problems built to discriminate:
- two runs of ONE epoch from the same seed, whose validation parts differ only in their labels,
  must return the same weights: the validation part is never trained on;
- a validation part whose labels are wrong on purpose (y + 1 mod K) makes the validation loss
  rise as training goes on: a loop that watches it stops ``patience`` epochs after its minimum;
  one that watches the training loss runs on;
- the returned weights, evaluated by the judge, must have the validation loss of the history's
  best epoch (not the last's), computed in evaluation mode: without the L2 penalty (a run with a
  large l2) and without dropout (a run with dropout 0.5).

The outcome check trains on the digits (scikit-learn's bundled 8x8 images, split once with a fixed
seed: 1,077 training, 360 validation and 360 test images; the test part stays in the judge) and
awards its points by BANDS of the test accuracy of the best of up to OUTCOME_SEEDS runs.
"""

import numpy as np

from autograder.course import load_sibling
from autograder.judge.checks import BehaviourCheck, Finding, OneFetchProbe
from autograder.judge.outcome import Bands, OutcomeCheck
from autograder.judge.results import Band

public = load_sibling(__file__, "public_checks")
digits = load_sibling(__file__, "digits")  # no torch: the batch coordinator loads this module
mistake = public.mistake

# ---------------------------------------------------------------- the outcome on the digits

# Calibration (benchmarks/training_bands.py, 100 seeds 1000-1099 of the reference, run GRADED_RUN):
# test accuracy min 0.9611, 1st percentile 0.9639, median 0.9750, max 0.9833 (mean 0.9735 +- 0.0045);
# seeds by accuracy 0.9611: 1, 0.9639: 5, 0.9667: 4, 0.9694: 16, 0.9722: 21, 0.9750: 27, 0.9778: 16,
# 0.9806: 9, 0.9833: 1; epochs run 33-50 (median 50); 0.97 s of CPU a run in torch, 0.2 s in NumPy.
# The full-marks line 0.95 is below every one of the 100 seeds (100 % reach it; the best of 3 runs
# misses it only if all three fall more than 5 standard deviations below the mean). Partial credit
# is linear from there down to 0.50 (a loop that learns, badly); below it (chance is 0.10), none.
BANDS = Bands(full=0.95, floor=0.5)
OUTCOME_SEEDS = 3
# The reference's 10th-90th percentile per epoch over the same 100 seeds (the seeds still running).
REFERENCE_BAND = {
    'training loss': Band(
        low=[1.9114, 1.162, 0.714, 0.4982, 0.3804, 0.3125, 0.2686, 0.2346, 0.208, 0.1895, 0.1725, 0.1585, 0.1462, 0.135, 0.126, 0.1179, 0.1089, 0.1049, 0.0971, 0.0895, 0.0865, 0.0815, 0.0785, 0.0743, 0.0705, 0.0676, 0.0635, 0.061, 0.0579, 0.0552, 0.0523, 0.0509, 0.0494, 0.0468, 0.0452, 0.0422, 0.0406, 0.0387, 0.0388, 0.0367, 0.0361, 0.0355, 0.0338, 0.032, 0.0307, 0.0309, 0.0296, 0.0264, 0.0264, 0.0272],
        high=[2.1049, 1.3299, 0.8269, 0.5643, 0.4371, 0.355, 0.3037, 0.268, 0.2379, 0.2148, 0.1948, 0.18, 0.1663, 0.1557, 0.144, 0.1372, 0.1283, 0.1222, 0.1139, 0.1088, 0.1022, 0.0985, 0.0931, 0.0893, 0.0849, 0.0804, 0.077, 0.0729, 0.0708, 0.0689, 0.0653, 0.0628, 0.0611, 0.0574, 0.0573, 0.0541, 0.0522, 0.0507, 0.0494, 0.0472, 0.0455, 0.0435, 0.0428, 0.0416, 0.0419, 0.0392, 0.039, 0.038, 0.0358, 0.0343]),
    'validation loss': Band(
        low=[1.4516, 0.8474, 0.5404, 0.3906, 0.3072, 0.258, 0.2239, 0.1983, 0.1802, 0.1653, 0.153, 0.1427, 0.1347, 0.1282, 0.1208, 0.1166, 0.1129, 0.1076, 0.104, 0.1009, 0.0976, 0.0953, 0.0917, 0.0899, 0.0882, 0.0857, 0.0843, 0.0827, 0.0805, 0.0787, 0.0779, 0.0763, 0.0757, 0.0763, 0.075, 0.0736, 0.0718, 0.0714, 0.0711, 0.0709, 0.0691, 0.0686, 0.0686, 0.0684, 0.0673, 0.0659, 0.0656, 0.0661, 0.0647, 0.0648],
        high=[1.6488, 0.9802, 0.6229, 0.448, 0.3549, 0.2938, 0.2536, 0.2258, 0.2042, 0.1867, 0.172, 0.1628, 0.1541, 0.1458, 0.1373, 0.1327, 0.1276, 0.1256, 0.1187, 0.1158, 0.1133, 0.1112, 0.1075, 0.1048, 0.1038, 0.1019, 0.0991, 0.0988, 0.0969, 0.0947, 0.0937, 0.0919, 0.0917, 0.0897, 0.0888, 0.0887, 0.0874, 0.0877, 0.088, 0.0859, 0.0848, 0.0843, 0.0845, 0.0828, 0.0819, 0.0816, 0.0831, 0.0809, 0.0801, 0.0821]),
}


def _digits_shapes(data) -> dict:
    return public.shapes_of(data["X_train"].shape[1], digits.GRADED_RUN["hidden"], int(data["y_train"].max()) + 1)


def _train_on_digits(ns, data, rng):
    """The student's loop on the training and validation parts only (never the test part)."""
    return ns.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"], rng=rng,
                        **digits.GRADED_RUN)


def _test_accuracy(ns, params, data) -> float:
    return ns.accuracy(params, data["X_test"], data["y_test"])


def _diagnose_digits(runs) -> Finding | None:
    """Every run's training loss ending near log(10), the entropy of ten balanced classes: the
    network learned the class shares only, the symptom of labels shuffled apart from their samples."""
    if all(abs(run.curves["train_loss"][-1] - np.log(10)) < 0.15 for run in runs):
        return Finding("the training loss stays at log(10) = 2.30, the loss of guessing the class shares: are the "
                       "labels shuffled together with their samples?", mistake("train_mlp", "labels_shuffled_apart"))
    return None


# ---------------------------------------------------------------- the protocol of train_mlp

def _blobs(trial):
    return public.blobs(trial.rng, 80, 40)


ONE_EPOCH = {"hidden": (8,), "epochs": 1, "batch_size": 16, "lr": 0.01, "dropout": 0.0, "l2": 0.0, "patience": 3}


def _validation_never_trains():
    """One epoch from the same seed, validation labels y and (y + 1) mod K: the same weights."""

    def ask(trial):
        data = _blobs(trial)
        other = {**data, "y_val": (data["y_val"] + 1) % 3}
        seed = int(trial.rng.integers(2**31))
        return [public.call_train(trial.student, d, ONE_EPOCH, seed) for d in (data, other)], data

    def judge(trial, data, answers):
        runs = [public.run_of(answer, data, ONE_EPOCH) for answer in answers]
        problem = next((r for r in runs if isinstance(r, str)), None)
        if problem:
            return problem
        if all(np.array_equal(runs[0].params[k], runs[1].params[k]) for k in runs[0].params):
            return None
        return Finding("two one-epoch runs from the same seed whose validation parts differ only in their labels "
                       "returned different weights: the validation part took part in the training",
                       mistake("train_mlp", "validation_in_training"))

    return OneFetchProbe(ask, judge)


ADVERSARIAL = {"hidden": (16,), "epochs": 30, "batch_size": 16, "lr": 0.01, "dropout": 0.0, "l2": 0.0, "patience": 3}


def _adversarial(trial):
    """Blobs whose validation part is training samples with wrong labels: its loss rises with training."""
    data = public.blobs(trial.rng, 80, 10)
    return {**data, "X_val": data["X_train"][:30], "y_val": (data["y_train"][:30] + 1) % 3}


def _stops_on_validation_loss():
    def ask(trial):
        data = _adversarial(trial)
        return public.call_train(trial.student, data, ADVERSARIAL, int(trial.rng.integers(2**31))), data

    def judge(trial, data, answer):
        run = public.run_of(answer, data, ADVERSARIAL)
        if isinstance(run, str):
            return run
        val, train = run.curves["val_loss"], run.curves["train_loss"]
        patience, epochs = ADVERSARIAL["patience"], ADVERSARIAL["epochs"]
        expected = min(epochs, int(np.argmin(val)) + 1 + patience)
        if len(val) == expected:
            return None
        message = (f"with a validation loss rising from epoch {int(np.argmin(val)) + 1} on (patience {patience}), the run "
                   f"lasted {len(val)} epochs; expected {expected}")
        if len(val) == min(epochs, int(np.argmin(train)) + 1 + patience):
            return Finding(f"{message}: it stopped where the TRAINING loss stopped improving",
                           mistake("train_mlp", "stops_on_training_loss"))
        return message

    return OneFetchProbe(ask, judge)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _returns_best_weights():
    def ask(trial):
        data = _adversarial(trial)
        return public.call_train(trial.student, data, ADVERSARIAL, int(trial.rng.integers(2**31))), data

    def judge(trial, data, answer):
        run = public.run_of(answer, data, ADVERSARIAL)
        if isinstance(run, str):
            return run
        val = run.curves["val_loss"]
        loss = public.trusted_loss(run.params, data["X_val"], data["y_val"])
        best = int(np.argmin(val))
        if _same(loss, val[best]):
            return None
        message = (f"the returned weights have a validation loss of {loss:.6f}; the history's best epoch "
                   f"({best + 1}) has {val[best]:.6f}")
        stopped_right = len(val) == min(ADVERSARIAL["epochs"], best + 1 + ADVERSARIAL["patience"])
        if stopped_right and _same(loss, val[-1]) and not _same(val[-1], val[best]):
            return Finding(f"{message}, the last epoch's: the last weights were returned, not the best",
                           mistake("train_mlp", "last_weights"))
        return message

    return OneFetchProbe(ask, judge)


def _evaluation_mode(setting: dict, what: str, mistaken: str, explain, n_val: int = 40):
    """The returned weights' validation loss (the judge's, evaluation mode) is one of the history's;
    ``explain(run, loss, data)`` recognizes the mistake ``mistaken`` when it is not. ``n_val``:
    the validation samples (many make a loss computed with dropout steadily above the true one)."""

    def ask(trial):
        data = public.blobs(trial.rng, 80, n_val)
        return public.call_train(trial.student, data, setting, int(trial.rng.integers(2**31))), data

    def judge(trial, data, answer):
        run = public.run_of(answer, data, setting)
        if isinstance(run, str):
            return run
        loss = public.trusted_loss(run.params, data["X_val"], data["y_val"])
        val = run.curves["val_loss"]
        if any(_same(loss, v) for v in val):
            return None
        message = (f"with {what}, the returned weights' validation loss in evaluation mode is {loss:.6f}, none of "
                   f"the history's val_loss values (best {min(val):.6f})")
        if explain(run, loss, data):
            return Finding(message, mistake("train_mlp", mistaken))
        return message

    return OneFetchProbe(ask, judge)


WITH_L2 = {"hidden": (8,), "epochs": 8, "batch_size": 16, "lr": 0.01, "dropout": 0.0, "l2": 0.05, "patience": 8}
WITH_DROPOUT = {"hidden": (8,), "epochs": 8, "batch_size": 16, "lr": 0.01, "dropout": 0.5, "l2": 0.0, "patience": 8}


def _l2_added(run, loss, data) -> bool:
    penalty = 0.5 * WITH_L2["l2"] * sum(float((w**2).sum()) for k, w in run.params.items() if k.startswith("W"))
    return any(_same(loss + penalty, v) for v in run.curves["val_loss"])


def _random_evaluation(run, loss, data) -> bool:
    """The history's best validation loss is above the weights' loss in evaluation mode: dropped
    units (at p = 0.5) make the predictions worse, so the loss was computed with dropout on. (With
    400 validation samples, a loop that evaluates with dropout showed this on 300 of 300 draws,
    its best loss 1.08 to several times the true one.)"""
    return min(run.curves["val_loss"]) > loss


# ---------------------------------------------------------------- random inputs of the public probes

def _drawn(draw):
    """A public probe on inputs drawn from the trial's seeded rng: ``draw(trial)`` builds the probe
    (:mod:`public_checks`), which then asks and judges as it does in the public checks."""
    def ask(trial):
        probe = draw(trial)
        fetch, state = probe.ask(trial)
        return fetch, (probe, state)

    def judge(trial, state, answer):
        probe, inner = state
        return probe.judge(trial, inner, answer)

    return OneFetchProbe(ask, judge)


def _split_probe():
    def draw(trial):
        n = int(trial.rng.integers(150, 400))
        seeds = tuple(int(s) for s in trial.rng.integers(2**31, size=2))
        return public.split_probe(n, float(trial.rng.choice([0.1, 0.15, 0.2])), float(trial.rng.choice([0.15, 0.25])),
                                  seeds)

    return _drawn(draw)


def _stratified_probe():
    def draw(trial):
        label_sets = []
        for _ in range(3):
            counts = trial.rng.integers(8, 120, size=int(trial.rng.integers(2, 5)))
            label_sets.append(trial.rng.permutation(np.repeat(np.arange(len(counts)), counts)).astype(np.int64))
        return public.stratified_probe(label_sets, 0.2, 0.2, int(trial.rng.integers(2**31)))

    return _drawn(draw)


def _kfold_probe():
    def draw(trial):
        cases = []
        for _ in range(3):
            k = int(trial.rng.integers(3, 8))
            n = int(trial.rng.integers(4, 30)) * k + int(trial.rng.integers(1, k))  # n % k != 0: the sizes differ
            cases.append((n, k, int(trial.rng.integers(2**31))))
        return public.kfold_probe(cases)

    return _drawn(draw)


def _stopping_probe():
    def draw(trial):
        patience = int(trial.rng.integers(2, 5))
        min_delta = 0.05
        losses = list(2.0 - np.cumsum(trial.rng.uniform(0.1, 0.3, size=int(trial.rng.integers(2, 5)))))
        best = losses[-1]
        losses.append(best - 0.02)  # an improvement smaller than min_delta: no improvement
        losses += list(best + trial.rng.uniform(0.01, 0.5, size=patience - 1))
        return public.stopping_probe([float(v) for v in losses], patience, min_delta)

    return _drawn(draw)


def _learns_probe():
    return _drawn(lambda trial: public.learns_probe(lambda t: public.blobs(t.rng, 90, 45), int(trial.rng.integers(2**31))))


# ---------------------------------------------------------------- the checks

CHECKS = [
    BehaviourCheck(name="train_val_test_split of a random n: every index once, sizes, shuffled",
                   exercise="train_val_test_split", points=6,
                   description="a split of 150-400 samples with two seeds: a partition with round(fraction * n) "
                               "validation and test samples, shuffled, drawn from rng",
                   probe=_split_probe()),
    BehaviourCheck(name="train_val_test_split with stratify on three random label sets",
                   exercise="train_val_test_split", points=5,
                   description="stratified splits of three random label arrays (2-4 classes, 8-120 samples each): "
                               "every part keeps round(fraction * n_c) samples of each class c (within one)",
                   probe=_stratified_probe()),
    BehaviourCheck(name="kfold_indices on three random (n, k)", exercise="kfold_indices", points=7,
                   description="k-fold indices for three random n, k with n % k != 0: disjoint folds covering every "
                               "sample, the sizes of scikit-learn's KFold, shuffled",
                   probe=_kfold_probe()),
    BehaviourCheck(name="EarlyStopping on a random loss sequence", exercise="EarlyStopping", points=8,
                   description="EarlyStopping(patience 2-4, min_delta 0.05) on losses that improve, then improve by "
                               "less than min_delta, then rise: stops after patience steps, keeps the best loss, "
                               "its step and a copy of its params",
                   probe=_stopping_probe()),
    BehaviourCheck(name="train_mlp learns random well-separated classes", exercise="train_mlp", points=5,
                   description="train_mlp on 90 samples of 3 random well-separated classes reaches 90 % training accuracy",
                   probe=_learns_probe()),
    BehaviourCheck(name="train_mlp never trains on the validation part", exercise="train_mlp", points=6,
                   description="two one-epoch runs from one seed whose validation labels differ return the same weights",
                   probe=_validation_never_trains()),
    BehaviourCheck(name="train_mlp stops patience epochs after the best validation loss", exercise="train_mlp",
                   points=6,
                   description="with a validation part whose loss rises as training goes on, the run lasts "
                               "argmin(val_loss) + 1 + patience epochs",
                   probe=_stops_on_validation_loss()),
    BehaviourCheck(name="train_mlp returns the weights of the best epoch", exercise="train_mlp", points=6,
                   description="the returned weights' validation loss (computed by the judge) is the history's lowest",
                   probe=_returns_best_weights()),
    BehaviourCheck(name="train_mlp's validation loss leaves out the L2 penalty", exercise="train_mlp", points=4,
                   description="with l2 = 0.05, the returned weights' validation loss in evaluation mode is one of "
                               "the history's val_loss values",
                   probe=_evaluation_mode(WITH_L2, "l2 = 0.05", "l2_in_validation_loss", _l2_added)),
    BehaviourCheck(name="train_mlp's validation loss is computed without dropout", exercise="train_mlp", points=4,
                   description="with dropout = 0.5, the returned weights' validation loss in evaluation mode is one "
                               "of the history's val_loss values",
                   probe=_evaluation_mode(WITH_DROPOUT, "dropout = 0.5", "dropout_at_evaluation", _random_evaluation,
                                          n_val=400)),
    OutcomeCheck(name="train_mlp on the handwritten digits: test accuracy", exercise="train_mlp", points=20,
                 description=(f"train_mlp on 1,077 training and 360 validation digits (8x8), hidden (64,), "
                              f"{digits.GRADED_RUN['epochs']} epochs at most; the test accuracy of the returned "
                              f"weights on 360 held-out digits, best of up to {OUTCOME_SEEDS} seeds: "
                              f"{BANDS.describe()}"),
                 data=digits.digits_parts, train=_train_on_digits, shapes=_digits_shapes,
                 curves={"train_loss": "training loss", "val_loss": "validation loss"},
                 measure=_test_accuracy, bands=BANDS, band=REFERENCE_BAND, diagnose=_diagnose_digits,
                 seeds=OUTCOME_SEEDS, max_epochs=digits.GRADED_RUN["epochs"]),
]
