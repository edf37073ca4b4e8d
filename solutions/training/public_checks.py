"""Public checks of the training assignment: released to students as they are.

Nothing here is compared value by value with a reference: splits, folds and training runs are
random. The checks test what the functions DO, on small inputs: the parts of a split hold every
sample once and are shuffled, stratified parts keep the class shares, folds are disjoint, cover
every sample and have scikit-learn's sizes, early stopping stops after ``patience`` epochs without
an improvement of more than ``min_delta`` and keeps the best weights, and the training loop learns
a small problem. When what a submission does is the symptom of a known mistake, the check says
which (a :class:`~autograder.judge.checks.Finding`). The hidden checks run the same probes on other
inputs, and train on the handwritten digits.
"""

import numpy as np

from autograder.judge.checks import BehaviourCheck, Finding, OneFetchProbe

ASSIGNMENT = "training"
MAX_INDICES = 1_000_000  # an index array longer than this is no answer to these inputs


def mistake(function: str, name: str) -> str:
    return f"{ASSIGNMENT}.{function}.{name}"


# ---------------------------------------------------------------- reading answers

def index_array(value, what: str) -> np.ndarray | str:
    """``value`` as a 1-D int64 array, or what is wrong with it (checked before any conversion)."""
    if isinstance(value, list) and len(value) <= MAX_INDICES and all(type(v) is int for v in value):
        value = np.array(value, dtype=np.int64)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iu" or value.ndim != 1:
        kind = f"an array of dtype {value.dtype} and shape {value.shape}" if isinstance(value, np.ndarray) \
            else f"a {type(value).__name__}"
        return f"{what} should be a 1-D integer array of indices, got {kind}"
    return value.astype(np.int64)


def index_arrays(value, count: int | None, what: str) -> list[np.ndarray] | str:
    """A tuple or list of ``count`` (any, if None) index arrays, or what is wrong with it."""
    if not isinstance(value, (tuple, list)) or (count is not None and len(value) != count) or len(value) > 1000:
        size = f" of {len(value)}" if isinstance(value, (tuple, list)) else ""
        return f"{what} should be {count if count else 'a list of'} index arrays, got a {type(value).__name__}{size}"
    arrays = []
    for number, item in enumerate(value):
        array = index_array(item, f"{what}[{number}]")
        if isinstance(array, str):
            return array
        arrays.append(array)
    return arrays


def partition_problem(parts: list[np.ndarray], n: int, noun: str) -> str | None:
    """What keeps ``parts`` (``noun``: what one is called, "part" or "fold") from being a partition
    of 0..n-1 (disjoint, covering every index), or None."""
    joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if joined.size and (joined.min() < 0 or joined.max() >= n):
        return f"an index outside 0..{n - 1}"
    counts = np.bincount(joined, minlength=n)
    if (counts > 1).any():
        return f"{int((counts > 1).sum())} samples are in two {noun}s or twice in one"
    if (counts == 0).any():
        return f"{int((counts == 0).sum())} of the {n} samples are in none of the {len(parts)} {noun}s"
    return None


def contiguous(part: np.ndarray) -> bool:
    """A run of consecutive indices in increasing order (what an unshuffled cut gives)."""
    return part.size < 2 or bool((np.diff(part) == 1).all())


# ---------------------------------------------------------------- the split

SPLIT_NAMES = ["train", "val", "test"]


def split_probe(n: int, val_fraction: float, test_fraction: float, seeds: tuple[int, int]) -> OneFetchProbe:
    """The split of n samples (two seeds): a partition of the declared sizes, shuffled, drawn from rng."""

    def ask(trial):
        return [trial.student.train_val_test_split(n, val_fraction, test_fraction, trial.student.rng(s))
                for s in seeds], None

    def judge(trial, state, answers):
        splits = []
        for answer in answers:
            parts = index_arrays(answer, 3, "train_val_test_split(...)")
            if isinstance(parts, str):
                return parts
            problem = partition_problem(parts, n, "part")
            if problem:
                return f"train / val / test of n = {n} must hold every index once: {problem}"
            splits.append(parts)
        sizes = [len(p) for p in splits[0]]
        wanted = {"val": val_fraction * n, "test": test_fraction * n}
        for name, size in zip(SPLIT_NAMES[1:], sizes[1:]):
            if abs(size - wanted[name]) > 1:
                return (f"n = {n}, val_fraction {val_fraction}, test_fraction {test_fraction}: the {name} part has "
                        f"{size} samples, expected round({wanted[name]:g})")
        if all(contiguous(np.sort(p)) and contiguous(p) for p in splits[0]) and all(
                all(np.array_equal(a, b) for a, b in zip(splits[0], other)) for other in splits[1:]):
            return Finding(f"each part is a block of consecutive indices in order ({[(int(p[0]), int(p[-1])) for p in splits[0] if p.size]}): "
                           "the samples were not shuffled", mistake("train_val_test_split", "no_shuffle"))
        if all(np.array_equal(a, b) for a, b in zip(*splits)):
            return ("two different seeds gave the same split: draw the shuffling from the rng argument "
                    "(rng.permutation), not from np.random or a fixed seed")
        return None

    return OneFetchProbe(ask, judge)


def stratified_probe(label_sets: list[np.ndarray], val_fraction: float, test_fraction: float, seed: int) -> OneFetchProbe:
    """Stratified splits of each label array: a partition where every part holds, of each class c
    with n_c samples, round(fraction * n_c) samples (within one)."""

    def ask(trial):
        return [trial.student.train_val_test_split(len(labels), val_fraction, test_fraction,
                                                    trial.student.rng(seed + number), labels)
                for number, labels in enumerate(label_sets)], None

    def judge(trial, state, answers):
        for labels, answer in zip(label_sets, answers):
            n = len(labels)
            parts = index_arrays(answer, 3, "train_val_test_split(..., stratify=y)")
            if isinstance(parts, str):
                return parts
            problem = partition_problem(parts, n, "part")
            if problem:
                return f"train / val / test of n = {n} must hold every index once: {problem}"
            classes, totals = np.unique(labels, return_counts=True)
            for name, part, fraction in (("val", parts[1], val_fraction), ("test", parts[2], test_fraction)):
                counts = np.array([(labels[part] == c).sum() for c in classes])
                off = np.abs(counts - fraction * totals)
                if (off > 1).any():
                    worst = int(np.argmax(off))
                    return Finding(
                        f"with stratify (classes of {totals.tolist()} samples), the {name} part holds {int(counts[worst])} "
                        f"samples of class {int(classes[worst])}, expected round({fraction} * {int(totals[worst])})",
                        mistake("train_val_test_split", "unstratified"))
        return None

    return OneFetchProbe(ask, judge)


# ---------------------------------------------------------------- k-fold

def kfold_sizes(n: int, k: int) -> list[int]:
    """scikit-learn's KFold sizes: n // k each, the first n % k folds one larger."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def kfold_probe(cases: list[tuple[int, int, int]]) -> OneFetchProbe:
    """kfold_indices(n, k, rng(seed)) for each (n, k, seed): k disjoint folds covering 0..n-1 with
    KFold's sizes, shuffled."""

    def ask(trial):
        return [trial.student.kfold_indices(n, k, trial.student.rng(seed)) for n, k, seed in cases], None

    def judge(trial, state, answers):
        for (n, k, _), answer in zip(cases, answers):
            folds = index_arrays(answer, k, f"kfold_indices({n}, {k}, rng)")
            if isinstance(folds, str):
                return folds
            problem = partition_problem(folds, n, "fold")
            if problem:
                return Finding(f"kfold_indices({n}, {k}, rng): the folds must be disjoint and cover every sample, "
                               f"but {problem}", mistake("kfold_indices", "overlapping"))
            sizes, wanted = [len(f) for f in folds], kfold_sizes(n, k)
            if sizes != wanted:
                message = f"kfold_indices({n}, {k}, rng): fold sizes {sizes}, expected {wanted} (as KFold)"
                if sizes == [n // k] * (k - 1) + [n // k + n % k]:
                    return Finding(message, mistake("kfold_indices", "remainder_last"))
                return message
            if contiguous(np.concatenate(folds)):
                return f"kfold_indices({n}, {k}, rng): the folds are 0..{n - 1} in order: shuffle first (rng.permutation)"
        return None

    return OneFetchProbe(ask, judge)


# ---------------------------------------------------------------- early stopping

def stopping_probe(losses: list[float], patience: int, min_delta: float) -> OneFetchProbe:
    """EarlyStopping(patience, min_delta) fed ``losses``, each with params {"W": full of the step's
    number}, up to the step where it must stop (the last): stop flags, best loss, epoch and params."""
    best, best_epoch = float("inf"), -1
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch = loss, epoch
    stop_at = best_epoch + patience
    if stop_at != len(losses) - 1:
        raise ValueError(f"a stopping probe's losses must end where it stops (step {stop_at}), not at {len(losses) - 1}")

    def params_of(epoch):
        return {"W": np.full((2, 3), float(epoch)), "b": np.full(3, -float(epoch))}

    def ask(trial):
        stopper = trial.student.EarlyStopping(patience, min_delta)
        flags = [stopper.step(loss, params_of(epoch)) for epoch, loss in enumerate(losses)]
        return {"flags": flags, "best_loss": stopper.best_loss, "best_epoch": stopper.best_epoch,
                "best_params": stopper.best_params}, None

    def judge(trial, state, answer):
        flags = answer["flags"]
        setting = f"EarlyStopping({patience}, min_delta={min_delta}) fed the losses {[round(v, 4) for v in losses]}"
        if not all(isinstance(f, (bool, np.bool_)) for f in flags):
            return f"{setting}: step must return True or False"
        stopped = [epoch for epoch, flag in enumerate(flags) if flag]
        kept = answer["best_params"]
        same = isinstance(kept, dict) and set(kept) == {"W", "b"} and all(
            isinstance(kept[k], np.ndarray) and kept[k].shape == params_of(0)[k].shape for k in kept)
        kept_epoch = int(kept["W"].flat[0]) if same and np.all(kept["W"] == kept["W"].flat[0]) else None
        if kept_epoch == len(losses) - 1 and best_epoch != len(losses) - 1:
            return Finding(f"{setting}: best_params are the params of the last step, not of the best step "
                           f"{best_epoch}", mistake("EarlyStopping", "keeps_last"))
        best_loss = answer["best_loss"]
        if isinstance(best_loss, (int, float)) and best_loss < best - 1e-12:
            return Finding(f"{setting}: best_loss {best_loss:g} counts an improvement smaller than min_delta "
                           f"(expected {best:g})", mistake("EarlyStopping", "ignores_min_delta"))
        if stopped[:1] != [stop_at]:
            first = f"first at step {stopped[0]}" if stopped else "never"
            return f"{setting}: step returned True {first}; expected at step {stop_at} ({patience} steps without improvement)"
        if not (isinstance(best_loss, (int, float)) and abs(best_loss - best) <= 1e-12):
            return f"{setting}: best_loss is {best_loss!r}, expected {best:g}"
        if not (type(answer["best_epoch"]) is int and answer["best_epoch"] == best_epoch):
            return f"{setting}: best_epoch is {answer['best_epoch']!r}, expected {best_epoch} (the first step is 0)"
        if kept_epoch != best_epoch:
            return f"{setting}: best_params are not the params passed with the best loss (step {best_epoch})"
        return None

    return OneFetchProbe(ask, judge)


# ---------------------------------------------------------------- the training loop

def blobs(rng: np.random.Generator, n_train: int, n_val: int, shares=(0.6, 0.3, 0.1), d: int = 4) -> dict:
    """Well-separated Gaussian classes with imbalanced shares: X (n, d) float64, y (n,) int64.

    The class centres are orthogonal, 5 from the origin (7.1 apart, in unit-variance noise): the
    best boundary errs on about 2 samples in 10,000, so 90 % training accuracy is far below what
    any working loop reaches."""
    directions, _ = np.linalg.qr(rng.normal(size=(d, d)))
    centers = 5.0 * directions[:, : len(shares)].T
    parts = {}
    for name, n in (("train", n_train), ("val", n_val)):
        y = rng.choice(len(shares), size=n, p=shares).astype(np.int64)
        y[: len(shares)] = np.arange(len(shares))  # every class present
        parts[f"X_{name}"], parts[f"y_{name}"] = centers[y] + rng.normal(size=(n, d)), y
    return parts


def trusted_logits(params: dict, X: np.ndarray) -> np.ndarray:
    """The ReLU MLP in evaluation mode (the handout's mlp_forward), in the judge."""
    layers = sum(1 for name in params if name.startswith("W"))
    A = X
    for layer in range(1, layers):
        A = np.maximum(A @ params[f"W{layer}"] + params[f"b{layer}"], 0.0)
    return A @ params[f"W{layers}"] + params[f"b{layers}"]


def trusted_loss(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of the MLP in evaluation mode (the handout's evaluation_loss)."""
    logits = trusted_logits(params, X)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def shapes_of(d: int, hidden: tuple, k: int) -> dict:
    sizes = (d, *hidden, k)
    shapes = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"W{layer}"], shapes[f"b{layer}"] = (fan_in, fan_out), (fan_out,)
    return shapes


def run_of(answer, data: dict, setting: dict):
    """One train_mlp answer as a validated Run (see OutcomeCheck), or what is wrong with it."""
    from autograder.judge.outcome import Unusable, validated_run

    shapes = shapes_of(data["X_train"].shape[1], setting["hidden"], int(data["y_train"].max()) + 1)
    try:
        return validated_run(0, answer, shapes, ("train_loss", "val_loss"), setting["epochs"])
    except Unusable as unusable:
        return f"train_mlp's result cannot be graded: {unusable}"


def call_train(ns, data: dict, setting: dict, seed: int):
    return ns.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"], rng=ns.rng(seed), **setting)


LEARN = {"hidden": (16,), "epochs": 25, "batch_size": 16, "lr": 0.01, "dropout": 0.0, "l2": 0.0, "patience": 25}


def learns_probe(data_of, seed: int) -> OneFetchProbe:
    """train_mlp on well-separated classes reaches 90 % training accuracy; a final training loss at
    the entropy of the class shares is the symptom of labels shuffled apart from their samples."""

    def ask(trial):
        data = data_of(trial)
        return call_train(trial.student, data, LEARN, seed), data

    def judge(trial, data, answer):
        run = run_of(answer, data, LEARN)
        if isinstance(run, str):
            return run
        predicted = trusted_logits(run.params, data["X_train"]).argmax(axis=1)
        accuracy = float((predicted == data["y_train"]).mean())
        if accuracy >= 0.9:
            return None
        message = (f"after {len(run.curves['train_loss'])} epochs on {len(data['y_train'])} samples of 3 well-separated "
                   f"classes, the training accuracy is {accuracy:.2f} (expected >= 0.9)")
        shares = np.bincount(data["y_train"]) / len(data["y_train"])
        entropy = float(-(shares * np.log(shares)).sum())
        if abs(run.curves["train_loss"][-1] - entropy) < 0.15:
            return Finding(f"{message}; the training loss ends at {run.curves['train_loss'][-1]:.3f}, the entropy of "
                           f"the class shares ({entropy:.3f}): the network learned the shares, not the samples",
                           mistake("train_mlp", "labels_shuffled_apart"))
        return message

    return OneFetchProbe(ask, judge)


CHECKS = [
    BehaviourCheck(name="train_val_test_split of 203 samples: every index once, sizes, shuffled",
                   exercise="train_val_test_split", points=5, probe=split_probe(203, 0.15, 0.25, (1, 2))),
    BehaviourCheck(name="train_val_test_split with stratify keeps the class shares",
                   exercise="train_val_test_split", points=4,
                   probe=stratified_probe([np.repeat([0, 1, 2], [70, 20, 10])], 0.2, 0.2, 3)),
    BehaviourCheck(name="kfold_indices(23, 4): disjoint folds of sizes 6, 6, 6, 5", exercise="kfold_indices",
                   points=4, probe=kfold_probe([(23, 4, 5)])),
    BehaviourCheck(name="EarlyStopping(2, min_delta=0.05) stops and keeps the best weights",
                   exercise="EarlyStopping", points=5,
                   probe=stopping_probe([1.0, 0.8, 0.7, 0.68, 0.9], patience=2, min_delta=0.05)),
    BehaviourCheck(name="train_mlp learns 3 well-separated classes", exercise="train_mlp", points=5,
                   probe=learns_probe(lambda trial: blobs(np.random.default_rng(7), 90, 45), seed=8)),
]
