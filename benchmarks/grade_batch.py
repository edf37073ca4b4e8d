"""Batch grading at course scale: dlgrade grade-batch against nbgrader and the in-process lower bound.

Generates N synthetic submissions (default 200; see ``synthetic.py`` for the mix of correct,
buggy, slow, crashing and hostile ones) and grades them with:

(a) ``dlgrade grade-batch`` with local workers (a subprocess, as a TA runs it: start-up, intake,
    gradebook writes and ``--out`` files included);
(b) nbgrader autograde of the same code as nbgrader notebooks, whose test cells run dlgrade's
    checks in the kernel (``nbgrader_course.py``). nbgrader grades one notebook at a time and is
    slow, so it runs on a sample of students (``--nbgrader-sample``, stratified by kind) and its
    time for all N is extrapolated from the per-kind means: the output says so;
(c) the in-process lower bound: the same checks in worker processes with no isolation
    (``inprocess.py``), on the submissions that are safe in-process (all but the hostile ones),
    with the same number of workers. (a) is run on that same subset for the ratio: (a) and (c)
    take turns ``--rounds`` times and the median of the per-round ratios is the figure, because
    a shared machine's speed drifts by more than the target's margin from one minute to the next.

Prints throughput (submissions per minute), p50/p95 latency per submission, the grader's peak
memory (resident set of the grader's processes, student children excluded), the ratios (a)/(b)
and (a)/(c), whether (a) and (b) agree on the benign submissions, and whether each target is
met (20x nbgrader, within 1.3x of in-process, memory flat in N). Targets are printed, never asserted.

    python benchmarks/grade_batch.py [--n 200] [--workers 2] [-a perceptron -a losses] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

from synthetic import BENIGN, KINDS, REPOSITORY, make_submissions  # noqa: E402

from autograder.course import Course  # noqa: E402
ASSIGNMENTS = Course.locate().assignments

CHILD_MARK = "autograder.sandbox"  # student code runs in processes started from this package


class PeakMemory:
    """Samples the resident memory of a process tree every 50 ms; keeps the peak of the sum.

    ``grader`` counts the tree minus student children (processes whose command line names the
    sandbox); ``total`` counts everything.
    """

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.grader = self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            grader = total = 0
            try:
                processes = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    total += rss
                    if not any(CHILD_MARK in part for part in process.cmdline()):
                        grader += rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.grader, self.total = max(self.grader, grader), max(self.total, total)
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    """One grader over one set of submissions."""

    name: str
    count: int
    wall_s: float
    latencies: list[float]
    peak_grader_mb: float
    scores: dict[str, float | None]
    note: str = ""

    @property
    def per_minute(self) -> float:
        return 60.0 * self.count / self.wall_s if self.wall_s else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")


def copy_subset(source: Path, students: list[str], target: Path) -> Path:
    for student in students:
        shutil.copytree(source / student, target / student)
    return target


# ---------------------------------------------------------------- (a) dlgrade grade-batch
def run_grade_batch(name: str, submissions: Path, work: Path, assignments, workers: int, seed: int) -> Run:
    out, log = work / f"{name}-out", work / f"{name}.log"
    command = [sys.executable, str(REPOSITORY / "cli.py"), "grade-batch", str(submissions), "--workers", str(workers),
               "--db", f"sqlite:///{work / f'{name}.db'}", "--out", str(out), "--seed", str(seed)]
    for assignment in assignments:
        command += ["-a", assignment]
    started = time.perf_counter()
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=work)
        with PeakMemory(process.pid) as memory:
            code = process.wait()
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"grade-batch failed (exit {code}); see {log}:\n{log.read_text()[-3000:]}")
    scores, latencies = {}, []
    for result in sorted(out.glob("*/result.json")):
        document = json.loads(result.read_text())
        scores[result.parent.name] = document["score"]
        latencies.append(document["duration_s"])
    return Run(name, len(scores), wall, latencies, memory.grader / 2**20, scores)


# ---------------------------------------------------------------- (c) in-process lower bound
def run_in_process(submissions: Path, students: list[str], assignments, workers: int, seed: int) -> Run:
    import inprocess

    context = multiprocessing.get_context("spawn")  # fresh interpreters, like grade-batch's workers
    started = time.perf_counter()
    with PeakMemory(os.getpid()) as memory:
        with context.Pool(workers, initializer=inprocess.init_worker, initargs=(tuple(assignments), seed)) as pool:
            answers = pool.map(inprocess.grade_in_process, [str(submissions / s) for s in students], chunksize=1)
    wall = time.perf_counter() - started
    return Run("(c) in-process", len(answers), wall, [a[2] for a in answers], memory.grader / 2**20,
               {Path(a[0]).name: a[1] for a in answers})


def alternate_rounds(submissions: Path, students: list[str], work: Path, assignments, workers: int, seed: int,
                     rounds: int) -> list[tuple[Run, Run]]:
    """(a) and (c) on the same submissions, taking turns ``rounds`` times (this machine's speed
    drifts by more than the target's margin between minutes); sorted by the ratio (a)/(c)."""
    pairs = []
    for index in range(rounds):
        a_run = run_grade_batch(f"a-safe-{index}", submissions, work, assignments, workers, seed)
        pairs.append((a_run, run_in_process(submissions, students, assignments, workers, seed)))
    return sorted(pairs, key=lambda pair: pair[0].wall_s / pair[1].wall_s)


# ---------------------------------------------------------------- (b) nbgrader
def stratified_sample(made, size: int) -> list:
    """``size`` students, taking kinds in turn (benign first), so that every kind is timed."""
    by_kind = defaultdict(list)
    for synthetic in made:
        by_kind[synthetic.kind].append(synthetic)
    order = [k for k in ("correct", "buggy", "slow", "crashing", "hostile") if by_kind[k]]
    sample = []
    while len(sample) < size and any(by_kind[k] for k in order):
        for kind in order:
            if by_kind[kind] and len(sample) < size:
                sample.append(by_kind[kind].pop(0))
    return sample


def run_nbgrader(submissions: Path, work: Path, made, assignments, size: int, seed: int) -> Run:
    from nbgrader_course import NbgraderCourse

    course = NbgraderCourse(work / "nbgrader-course", Course.locate(REPOSITORY / "solutions"), tuple(assignments), seed)
    sample = stratified_sample(made, size)
    seconds, per_kind = {}, defaultdict(list)
    with PeakMemory(os.getpid()) as memory:
        for synthetic in sample:
            course.submit(synthetic.student, submissions / synthetic.student)
            seconds[synthetic.student] = course.autograde(synthetic.student)
            per_kind[synthetic.kind].append(seconds[synthetic.student])
    overall = float(np.mean(list(seconds.values())))
    counts = defaultdict(int)
    for synthetic in made:
        counts[synthetic.kind] += 1
    # nbgrader is sequential: its time for all N is the sum of the per-kind means times the counts.
    estimate = sum(n * (float(np.mean(per_kind[k])) if per_kind[k] else overall) for k, n in counts.items())
    note = (f"measured on {len(sample)} students ({', '.join(f'{k} {len(v)}' for k, v in per_kind.items() if v)}); "
            f"wall time for all {len(made)} extrapolated from the per-kind means: {estimate:.0f} s")
    return Run("(b) nbgrader", len(made), estimate, list(seconds.values()), memory.grader / 2**20,
               course.scores(), note)


# ---------------------------------------------------------------- report
def print_run(run: Run) -> None:
    print(f"{run.name:<26} {run.count:>5} {run.wall_s:>9.1f} {run.per_minute:>10.1f} {run.percentile(50):>8.2f} "
          f"{run.percentile(95):>8.2f} {run.peak_grader_mb:>9.0f}")
    if run.note:
        print(f"{'':<26} {run.note}")


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None, help="synthetic submissions (default 200; 20 with --quick)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local workers for (a) and (c)")
    parser.add_argument("-a", "--assignment", dest="assignments", action="append", choices=ASSIGNMENTS,
                        help="assignments each student submits (repeatable; default: every assignment of the course)")
    parser.add_argument("--nbgrader-sample", type=int, default=8, help="students nbgrader grades (default 8)")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip (b)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="turns of (a) and (c) on the non-hostile submissions; the median ratio counts (default 3; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: N=20, perceptron and losses, nbgrader on 2 students")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.nbgrader_sample = args.n or 20, min(args.nbgrader_sample, 2)
        args.assignments = args.assignments or ["perceptron", "losses"]
    args.n = args.n or 200
    args.rounds = max(1, args.rounds or (1 if args.quick else 3))
    assignments = tuple(args.assignments or ASSIGNMENTS)
    with_nbgrader = not args.no_nbgrader
    if with_nbgrader:
        if importlib.util.find_spec("nbgrader") is None:
            print("(b) skipped: nbgrader is not installed (pip install -e '.[bench]')")
            with_nbgrader = False

    work = args.keep or Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        submissions = work / "submissions"
        shutil.rmtree(submissions, ignore_errors=True)
        made = make_submissions(Course.locate(REPOSITORY / "solutions"), submissions, args.n, assignments, args.seed)
        kinds = {k: sum(m.kind == k for m in made) for k in KINDS}
        print(f"{args.n} synthetic submissions of {', '.join(assignments)}: "
              + ", ".join(f"{n} {k}" for k, n in kinds.items()) + f"; {args.workers} workers; "
              f"{os.cpu_count()} CPUs on this machine\n")
        safe = [m.student for m in made if m.kind != "hostile"]
        small = [m.student for m in made][: max(5, args.n // 4)]

        runs = {}
        runs["small"] = run_grade_batch("a-small", copy_subset(submissions, small, work / "small"), work,
                                        assignments, args.workers, args.seed)
        runs["a"] = run_grade_batch("a-all", submissions, work, assignments, args.workers, args.seed)
        rounds = alternate_rounds(copy_subset(submissions, safe, work / "safe"), safe, work, assignments,
                                  args.workers, args.seed, args.rounds)
        runs["a_safe"], runs["c"] = rounds[len(rounds) // 2]  # the round of the median ratio
        if with_nbgrader:
            runs["b"] = run_nbgrader(submissions, work, made, assignments, args.nbgrader_sample, args.seed)
        runs["small"].name = f"(a) grade-batch, N={len(small)}"
        runs["a"].name = "(a) grade-batch, all"
        runs["a_safe"].name = "(a) grade-batch, no hostile"

        print(f"{'grader':<26} {'subs':>5} {'wall s':>9} {'subs/min':>10} {'p50 s':>8} {'p95 s':>8} {'peak MB':>9}")
        for key in ("a", "small", "a_safe", "c", "b"):
            if key in runs:
                print_run(runs[key])
        print("(latency: per submission, as each grader measures it; peak MB: resident memory of the grader's "
              "processes, student children excluded)\n")

        a, small_run = runs["a"], runs["small"]
        mismatched = sorted({s for a_run, c_run in rounds for s in safe if a_run.scores.get(s) != c_run.scores.get(s)})
        print(f"(a) and (c) agree on {len(safe) - len(mismatched)} of {len(safe)} non-hostile submissions in every round"
              + (f"; differ: {mismatched[:5]}" if mismatched else ""))
        if "b" in runs:
            b = runs["b"]
            benign = {m.student for m in made if m.kind in BENIGN}
            compared = [s for s in b.scores if s in benign]
            differing = [(s, a.scores.get(s), b.scores[s]) for s in compared if a.scores.get(s) != b.scores[s]]
            print(f"(a) and (b) agree on {len(compared) - len(differing)} of {len(compared)} benign sampled submissions"
                  + (f"; differ (student, dlgrade, nbgrader): {differing}" if differing else ""))
            ratio_b = a.per_minute / b.per_minute
            print(f"(a)/(b) throughput: {ratio_b:.1f}x nbgrader   (target >= 20x: {verdict(ratio_b >= 20)})")
        ratios = [c_run.per_minute / a_run.per_minute for a_run, c_run in rounds]
        print("(a)/(c) per round, (a) and (c) taking turns: "
              + ", ".join(f"{a_run.wall_s:.1f} s / {c_run.wall_s:.1f} s = {r:.2f}x"
                          for (a_run, c_run), r in zip(rounds, ratios)))
        ratio_c = ratios[len(ratios) // 2]
        print(f"(a)/(c): in-process is {ratio_c:.2f}x as fast as grade-batch on the same {len(safe)} submissions, "
              f"median of {len(ratios)} rounds (target <= 1.3x: {verdict(ratio_c <= 1.3)})")
        growth = a.peak_grader_mb / small_run.peak_grader_mb if small_run.peak_grader_mb else float("nan")
        print(f"grader memory: {small_run.peak_grader_mb:.0f} MB at N={small_run.count}, {a.peak_grader_mb:.0f} MB at "
              f"N={a.count} ({growth:.2f}x; target flat, within 1.2x: {verdict(growth <= 1.2)})")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
