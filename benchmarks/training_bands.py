"""Calibrate the training assignment's bands: the reference loop over many seeds on the digits.

Trains the torch reference (``solutions/training/reference.py``, the outcome check's run
``GRADED_RUN``) once per seed, measures the held-out test accuracy, and prints the accuracy
distribution, the share of seeds at or above the full-marks line of the hidden checks, and the
per-epoch band (10th-90th percentile over the seeds still running at that epoch) of the training
and validation losses, as the Python literal the hidden checks hold.

    python benchmarks/training_bands.py            # 100 seeds (about a minute and a half of CPU)
    python benchmarks/training_bands.py --seeds 20
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import Course  # noqa: E402

PERCENTILES = (10, 90)
CURVES = {"train_loss": "training loss", "val_loss": "validation loss"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    course = Course.locate(ROOT / "solutions")
    reference = course.load_reference("training")
    checks = course.load_hidden("training", "hidden_checks")
    data = reference.digits_parts()
    accuracies, histories, started = [], [], time.process_time()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        params, history = reference.train_mlp(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                                              rng=np.random.default_rng(seed), **reference.GRADED_RUN)
        accuracies.append(reference.accuracy(params, data["X_test"], data["y_test"]))
        histories.append(history)
    cpu = time.process_time() - started
    accuracies = np.array(accuracies)
    print(f"reference runs: {args.seeds} seeds ({args.first_seed}..{args.first_seed + args.seeds - 1}), "
          f"{cpu:.1f} s CPU ({cpu / args.seeds:.2f} s a run), run {reference.GRADED_RUN}")
    print(f"test accuracy: min {accuracies.min():.4f}  p1 {np.percentile(accuracies, 1):.4f}  "
          f"p5 {np.percentile(accuracies, 5):.4f}  median {np.median(accuracies):.4f}  max {accuracies.max():.4f}  "
          f"mean {accuracies.mean():.4f} +- {accuracies.std():.4f}")
    values, counts = np.unique(np.round(accuracies, 4), return_counts=True)
    print("distribution (accuracy: seeds): " + ", ".join(f"{v:.4f}: {c}" for v, c in zip(values, counts)))
    bands = checks.BANDS
    share = float((accuracies >= bands.full).mean())
    print(f"full-marks line {bands.full:.4f} (floor {bands.floor:.4f}): reached by {share:.1%} of single seeds; "
          f"best of {checks.OUTCOME_SEEDS} fails with odds about {(1 - share) ** checks.OUTCOME_SEEDS:.1e}")
    lengths = [len(h["val_loss"]) for h in histories]
    print(f"epochs run: min {min(lengths)}, median {int(np.median(lengths))}, max {max(lengths)}")
    band = {}
    for key, name in CURVES.items():
        epochs = max(len(h[key]) for h in histories)
        low, high = [], []
        for epoch in range(epochs):
            at = [h[key][epoch] for h in histories if len(h[key]) > epoch]
            if len(at) < max(5, args.seeds // 10):  # too few runs still going to say where the band is
                break
            low.append(round(float(np.percentile(at, PERCENTILES[0])), 4))
            high.append(round(float(np.percentile(at, PERCENTILES[1])), 4))
        band[name] = (low, high)
    print("REFERENCE_BAND = {")
    for name, (low, high) in band.items():
        print(f"    {name!r}: Band(\n        low={low},\n        high={high}),")
    print("}")


if __name__ == "__main__":
    main()
