"""Peak memory of the grader for a submission that sends the largest answers the wire allows.

Grades, in the sandbox, a perceptron submission whose ``step`` returns (a) an int8 array just
under the message cap (512 MiB), (b) a list of numbers filling the JSON cap (16 MiB of text), and
(c) the honest answer, and prints for each the grader's peak resident memory (the judge process
only; the student's child excluded) and the time it took. Before the judge checked shapes ahead
of conversions, (a) cost 8 bytes of float64 per int8 entry, once per comparison and known mistake.

    python benchmarks/judge_memory.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))

SUBMISSIONS = {
    "honest": (REPOSITORY / "tests" / "fixtures" / "submissions" / "vectorized" / "perceptron.py").read_text(),
    "int8 array of 448 MiB": "import numpy as np\ndef step(z):\n    return np.zeros(448 << 20, np.int8)\n",
    "list of 4 M numbers (8 MiB JSON)": "def step(z):\n    return [0] * (4 << 20)\n",
}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from grading import plan_for

    from autograder.course import Course
    from autograder.judge.grader import grade
    from autograder.sandbox import open_sandbox

    plan = plan_for(Course.locate(REPOSITORY / "solutions"), "perceptron")
    with open_sandbox() as sandbox, tempfile.TemporaryDirectory() as folder:
        print(f"{'submission':36} {'peak RSS after (MiB)':>22} {'score':>8} {'seconds':>8}")
        for name, source in SUBMISSIONS.items():
            target = Path(folder) / name.replace(" ", "_")
            target.mkdir()
            (target / "perceptron.py").write_text(source)
            started = time.perf_counter()
            result = grade(target, plan, start_child=sandbox.start_child)
            print(f"{name:36} {peak_mib():22.0f} {result.score:8g} {time.perf_counter() - started:8.1f}")
    print("(peak RSS is the judge process's high-water mark so far: each line includes the ones above)")


if __name__ == "__main__":
    main()
