"""The training assignment's data and the run it grades, without torch (the grade-batch coordinator
loads the hidden checks, which need these, and never imports torch).

- :func:`digits_parts`: scikit-learn's bundled handwritten digits (1,797 8x8 images, pixel values
  0-16 scaled to [0, 1]; no download), split ONCE, stratified, with a fixed seed into training
  (60 %), validation (20 %) and test (20 %) parts. Students' code receives the training and
  validation parts only; the test part never leaves the judge.
- :data:`GRADED_RUN`: the settings the outcome check asks of ``train_mlp`` on the digits, and the
  reference is calibrated on.
"""

from functools import lru_cache

import numpy as np

SPLIT_SEED = 20_261_202  # the one fixed split of the digits (never changes between runs)
VAL_FRACTION, TEST_FRACTION = 0.2, 0.2
# The run the outcome check asks of train_mlp on the digits, and the reference is calibrated on.
GRADED_RUN = {"hidden": (64,), "epochs": 50, "batch_size": 32, "lr": 2e-3, "dropout": 0.1, "l2": 1e-4,
              "patience": 5}


@lru_cache(maxsize=1)
def digits_parts() -> dict:
    """{"X_train" (1077, 64), "y_train" (1077,), "X_val" (360, 64), "y_val", "X_test" (360, 64),
    "y_test"}: float64 pixels in [0, 1], int64 labels 0-9; the same arrays on every call
    (read-only, so that no caller can change them for the next)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, y = (digits.data / 16.0).astype(np.float64), digits.target.astype(np.int64)
    rest, test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION, stratify=y, random_state=SPLIT_SEED)
    train, val = train_test_split(rest, test_size=VAL_FRACTION / (1 - TEST_FRACTION), stratify=y[rest],
                                  random_state=SPLIT_SEED + 1)
    parts = {"X_train": X[train], "y_train": y[train], "X_val": X[val], "y_val": y[val],
             "X_test": X[test], "y_test": y[test]}
    for array in parts.values():
        array.setflags(write=False)
    return parts
