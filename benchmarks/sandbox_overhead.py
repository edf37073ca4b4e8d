"""What the sandbox costs per submission: the warm fork server against running the same checks
in-process (no isolation at all, the lower bound) and against a fresh sandboxed interpreter per
submission (bubblewrap + a new Python that imports numpy each time).

Each mode grades the full model-answer submission (every assignment, every check) in the same judge
process with the same plan, pinned to one CPU as ``dlgrade`` pins a grading thread
(:mod:`autograder.sandbox.placement`), keeping freed memory as its workers do
(:mod:`autograder.sandbox.heap`). The modes take turns, round after round (``--repeat``
rounds after one warm-up), so that a slow spell of a shared machine hits every mode alike.
Printed: median wall time per submission, the median over rounds of each mode's ratio to
in-process in the same round, and the time to hand out one child and make a first round trip.
Target (issue 4): the fork server adds no more than 10% to the in-process time.

    python benchmarks/sandbox_overhead.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import InProcessChild  # noqa: E402  (benchmarks/inprocess.py: no isolation, measuring only)


def measure_rounds(modes: dict, folder, plan, repeat, grade) -> dict[str, list[float]]:
    """Wall times per mode, the modes taking turns each round (a warm-up round first)."""
    times = {name: [] for name in modes}
    for run in range(repeat + 1):
        for name, start_child in modes.items():
            started = time.perf_counter()
            result = grade(folder, plan, start_child=start_child)
            elapsed = time.perf_counter() - started
            assert result.score == result.max_score, f"{name}: the model answers must score full marks"
            if run:
                times[name].append(elapsed)
    return times


def child_start_cost(start_child, count=20, settle=None) -> float:
    """Median time to get a child and make one round trip with it. ``settle()``, when given, runs
    untimed between two starts, as grading does: the fork server confines its spare then."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        child = start_child()
        child.request({"op": "forget"}, 30)
        times.append(time.perf_counter() - started)
        child.kill()
        if settle is not None:
            settle()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("-a", "--assignment", action="append", default=[],
                        help="Grade only these assignments (repeatable; default: the whole course). The course's "
                             "training assignment spends seconds training a network, which hides the sandbox's "
                             "fixed costs: leave it out to see them.")
    args = parser.parse_args()

    from autograder.course import Course
    ASSIGNMENTS = Course.locate().select(args.assignment) if args.assignment else Course.locate().assignments
    from autograder.judge.grader import Plan, grade
    from autograder.sandbox import heap, open_sandbox, placement
    from autograder.sandbox.forkserver import ForkServer
    from autograder.sandbox.launcher import ChildProcess

    heap.retain_freed_memory()  # as in grade-batch's workers; every mode runs in this judge process
    course = Course.locate(REPOSITORY / "solutions")
    plan = Plan.for_course(course, ASSIGNMENTS, seed=1)
    with (tempfile.TemporaryDirectory() as folder, open_sandbox() as sandbox, ForkServer(recycle_after=1) as fresh,
          placement.pinned()):
        folder = Path(folder)
        for assignment in ASSIGNMENTS:
            (folder / f"{assignment}.py").write_text(course.answer_source(assignment).read_text())
        modes = {
            "in-process, no isolation (lower bound)": InProcessChild,
            "sandboxed fork server (dlgrade)": sandbox.start_child,
            "fresh sandboxed interpreter per submission": fresh.start_child,
            "fresh unsandboxed interpreter (--insecure)": ChildProcess,
        }
        times = measure_rounds(modes, folder, plan, args.repeat, grade)
        starts = {
            "sandboxed fork server (dlgrade)": child_start_cost(sandbox.start_child, settle=sandbox.server.settle),
            "fresh sandboxed interpreter per submission": child_start_cost(fresh.start_child, 5),
            "fresh unsandboxed interpreter (--insecure)": child_start_cost(ChildProcess, 5),
        }
        cpus = sorted(os.sched_getaffinity(0))

    base_name = "in-process, no isolation (lower bound)"
    print(f"one full submission ({len(plan.rubrics)} assignments, {sum(len(r.checks) for r, _ in plan.rubrics.values())} checks), "
          f"{args.repeat} rounds, judge pinned to CPU {cpus}:\n")
    print(f"  {'mode':<46} {'median wall':>12} {'vs in-process':>14} {'one child':>10}")
    ratios = {}
    for name, walls in times.items():
        ratios[name] = statistics.median(w / b for w, b in zip(walls, times[base_name]))
        start = f"{starts[name] * 1000:7.1f} ms" if name in starts else ""
        print(f"  {name:<46} {statistics.median(walls):11.3f}s {ratios[name]:13.2f}x {start:>10}")
    overhead = ratios["sandboxed fork server (dlgrade)"] - 1
    print(f"\nfork server overhead over in-process (median of the per-round ratios): {overhead * 100:+.1f}% "
          f"(target <= +10%: {'met' if overhead <= 0.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
