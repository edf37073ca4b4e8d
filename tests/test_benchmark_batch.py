"""Smoke test of benchmarks/grade_batch.py in --quick mode on a handful of submissions.

It checks that every grader ran and that the graders agree, not how fast they are (speed
targets are printed by the benchmark, never asserted).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

from conftest import REPOSITORY

HAS_NBGRADER = importlib.util.find_spec("nbgrader") is not None


def test_the_batch_benchmark_grades_with_every_grader_and_they_agree(tmp_path):
    command = [sys.executable, str(REPOSITORY / "benchmarks" / "grade_batch.py"), "--quick", "--n", "6",
               "--workers", "2", "-a", "perceptron", "--nbgrader-sample", "1", "--keep", str(tmp_path)]
    if not HAS_NBGRADER:
        command.append("--no-nbgrader")  # the bench extra is not installed: (b) is left out, (a) and (c) still run
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = completed.stdout
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "6 synthetic submissions of perceptron" in output
    for grader in ("(a) grade-batch, all", "(a) grade-batch, N=5", "(a) grade-batch, no hostile", "(c) in-process"):
        row = re.search(re.escape(grader) + r"\s+(\d+)\s+([\d.]+)\s+([\d.]+)", output)
        assert row, f"no row for {grader}:\n{output}"
        assert int(row.group(1)) > 0 and float(row.group(3)) > 0
    agree = re.search(r"\(a\) and \(c\) agree on (\d+) of (\d+) non-hostile", output)
    assert agree and agree.group(1) == agree.group(2) and int(agree.group(2)) > 0, output
    assert re.search(r"target <= 1\.3x: (met|NOT met)", output)
    assert re.search(r"grader memory: \d+ MB at N=5, \d+ MB at N=6", output)
    assert len(list((tmp_path / "a-all-out").glob("*/result.json"))) == 6
    if HAS_NBGRADER:
        assert "(b) nbgrader" in output and "extrapolated" in output
        assert re.search(r"\(a\) and \(b\) agree on 1 of 1 benign", output), output
        assert re.search(r"\(a\)/\(b\) throughput: [\d.]+x nbgrader", output)
