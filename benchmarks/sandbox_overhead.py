"""What the sandbox costs per submission: the warm fork server against running the same checks
in-process (no isolation at all, the lower bound) and against a fresh sandboxed interpreter per
submission (bubblewrap + a new Python that imports numpy each time).

Each mode grades the full model-answer submission (7 assignments, every check) ``--repeat``
times after one warm-up, in the same judge process with the same plan. Printed: median wall time
per submission, the overhead over in-process, and the time to hand out one child. Target
(issue 4): the fork server adds no more than 10% to the in-process time.

    python benchmarks/sandbox_overhead.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import InProcessChild  # noqa: E402  (benchmarks/inprocess.py: no isolation, measuring only)


def measure(name, start_child, folder, plan, repeat, grade):
    times = []
    for run in range(repeat + 1):
        started = time.perf_counter()
        result = grade(folder, plan, start_child=start_child)
        elapsed = time.perf_counter() - started
        assert result.score == result.max_score, f"{name}: the model answers must score full marks"
        if run:
            times.append(elapsed)
    return statistics.median(times)


def child_start_cost(start_child, count=20) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        child = start_child()
        child.request({"op": "forget"}, 30)
        times.append(time.perf_counter() - started)
        child.kill()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from autograder.course import Course
    from autograder.curriculum import ASSIGNMENTS
    from autograder.judge.grader import Plan, grade
    from autograder.sandbox import open_sandbox
    from autograder.sandbox.forkserver import ForkServer
    from autograder.sandbox.launcher import ChildProcess

    course = Course.locate(REPOSITORY / "solutions")
    plan = Plan.for_course(course, ASSIGNMENTS, seed=1)
    with tempfile.TemporaryDirectory() as folder, open_sandbox() as sandbox, ForkServer(recycle_after=1) as fresh:
        folder = Path(folder)
        for assignment in ASSIGNMENTS:
            (folder / f"{assignment}.py").write_text(course.answer_source(assignment).read_text())
        rows = {
            "in-process, no isolation (lower bound)": measure("in-process", InProcessChild, folder, plan, args.repeat, grade),
            "sandboxed fork server (dlgrade)": measure("fork server", sandbox.start_child, folder, plan, args.repeat, grade),
            "fresh sandboxed interpreter per submission": measure("fresh", fresh.start_child, folder, plan, args.repeat, grade),
            "fresh unsandboxed interpreter (--insecure)": measure("insecure", ChildProcess, folder, plan, args.repeat, grade),
        }
        starts = {
            "sandboxed fork server (dlgrade)": child_start_cost(sandbox.start_child),
            "fresh sandboxed interpreter per submission": child_start_cost(fresh.start_child, 5),
            "fresh unsandboxed interpreter (--insecure)": child_start_cost(ChildProcess, 5),
        }

    base = rows["in-process, no isolation (lower bound)"]
    print(f"one full submission (7 assignments), median of {args.repeat} runs:\n")
    print(f"  {'mode':<46} {'wall':>8} {'vs in-process':>14} {'one child':>10}")
    for name, seconds in rows.items():
        start = f"{starts[name] * 1000:7.1f} ms" if name in starts else ""
        print(f"  {name:<46} {seconds:7.3f}s {seconds / base:13.2f}x {start:>10}")
    overhead = rows["sandboxed fork server (dlgrade)"] / base - 1
    print(f"\nfork server overhead over in-process: {overhead * 100:+.1f}% "
          f"(target <= +10%: {'met' if overhead <= 0.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
