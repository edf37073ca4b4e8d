"""How long dlgrade takes to grade one full submission (every assignment of the course).

Prints the one-time start-up of the grader (importing torch, loading the rubrics), then, for
each of several gradings of the model answers: wall time, CPU time of the judge and of the child
that runs the student code, and the split into process start, loading and checks. The target is
under 1 s of CPU per full submission; the anchor is nbgrader's ~1 s per trivial notebook plus
2-5 s of torch import per kernel (grading-facts, section 6).

    python benchmarks/grade_one_submission.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
NBGRADER_SECONDS_PER_NOTEBOOK = 1.0  # measured anchor, before torch's 2-5 s import per kernel


def cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    started, (cpu0, _) = time.perf_counter(), cpu_seconds()
    from autograder.course import Course
    ASSIGNMENTS = Course.locate().assignments
    from autograder.judge.grader import Plan, grade

    course = Course.locate(REPOSITORY / "solutions")
    plan = Plan.for_course(course, ASSIGNMENTS, seed=1)
    setup_wall, setup_cpu = time.perf_counter() - started, cpu_seconds()[0] - cpu0
    checks = sum(len(r.checks) for r, _ in plan.rubrics.values())
    print(f"grader start-up (import torch, load {len(plan.rubrics)} rubrics, {checks} checks): "
          f"{setup_wall:.2f} s wall, {setup_cpu:.2f} s CPU (once per run, not per submission)")

    with tempfile.TemporaryDirectory() as folder:
        for assignment in ASSIGNMENTS:
            (Path(folder) / f"{assignment}.py").write_text(course.answer_source(assignment).read_text())
        rows = []
        for run in range(args.repeat + 1):
            judge0, child0 = cpu_seconds()
            result = grade(Path(folder), plan)
            judge1, child1 = cpu_seconds()
            assert result.score == result.max_score, "the model answers must score full marks"
            if run == 0:
                continue  # warm-up: first use of every reference and mutant module
            rows.append({"wall": result.duration_s, "judge_cpu": judge1 - judge0, "child_cpu": child1 - child0,
                         **result.timing})

    def median(key):
        return statistics.median(row[key] for row in rows)

    print(f"\none full submission ({len(ASSIGNMENTS)} assignments, {checks} checks), median of {len(rows)} runs:")
    print(f"  wall time            {median('wall'):6.3f} s")
    print(f"  CPU, judge           {median('judge_cpu'):6.3f} s")
    print(f"  CPU, student child   {median('child_cpu'):6.3f} s")
    total_cpu = median("judge_cpu") + median("child_cpu")
    print(f"  CPU, total           {total_cpu:6.3f} s   (target < 1 s: {'met' if total_cpu < 1 else 'NOT met'})")
    print("  split of the wall time:")
    print(f"    process start      {median('process_start_s'):6.3f} s")
    print(f"    loading the code   {median('loading_s'):6.3f} s")
    print(f"    running checks     {median('checks_s'):6.3f} s")
    nbgrader = len(ASSIGNMENTS) * NBGRADER_SECONDS_PER_NOTEBOOK
    print(f"\nnbgrader anchor: ~{nbgrader:.0f} s for {len(ASSIGNMENTS)} notebooks before torch imports "
          f"(ratio {nbgrader / median('wall'):.1f}x dlgrade's wall time)")


if __name__ == "__main__":
    main()
