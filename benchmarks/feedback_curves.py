"""What training curves add to writing one student's feedback (``grade-batch --out``, ``export --format feedback``).

Writes ``feedback.md`` and ``feedback.html`` for a result document without curves and for the same
document with one training check (30 epochs, and 1,000 epochs: the most a series keeps), alternating
the modes ``--rounds`` times, and prints the median wall and CPU time per student of each, plus the one-off
cost of the first figure in a process (the matplotlib import) and the sizes of the files.

    python benchmarks/feedback_curves.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds

    from report_documents import loss_curves, reference_band, training_document

    from autograder.gradebook.export import write_student_files

    long_series = {name: values * 34 for name, values in loss_curves("early").items()}  # 17 * 34 >= 1000 epochs
    long_band = {name: {"low": edge["low"] * 34, "high": edge["high"] * 34} for name, edge in reference_band().items()}
    modes = {
        "no curves": training_document("ada", None),
        "curves, 30 epochs": training_document("ada", loss_curves("overfit")),
        "curves, 1000 epochs": training_document("ada", long_series, band=long_band),
    }
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        write_student_files(out / "first", "ada", modes["curves, 30 epochs"])
        first = time.perf_counter() - started
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        cpu: dict[str, list[float]] = {mode: [] for mode in modes}
        sizes: dict[str, dict[str, int]] = {}
        for _ in range(rounds):
            for mode, document in modes.items():  # the modes take turns: a loaded machine slows all alike
                started, started_cpu = time.perf_counter(), time.process_time()
                paths = write_student_files(out / mode.replace(" ", "_").replace(",", ""), "ada", document)
                times[mode].append(time.perf_counter() - started)
                cpu[mode].append(time.process_time() - started_cpu)
                sizes[mode] = {p.name: p.stat().st_size for p in paths}
    print(f"first figure in a process (matplotlib import included): {first * 1000:.0f} ms")
    print(f"{'mode':22s} {'wall ms':>8s} {'CPU ms':>7s}  (medians of {rounds})  files (KiB)")
    for mode, values in times.items():
        files = ", ".join(f"{name} {size / 1024:.0f}" for name, size in sizes[mode].items())
        print(f"{mode:22s} {statistics.median(values) * 1000:8.1f} {statistics.median(cpu[mode]) * 1000:7.1f}  {files}")


if __name__ == "__main__":
    main()
