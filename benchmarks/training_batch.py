"""The training assignment's figures: the CPU of grading one submission, and a batch against nbgrader.

(1) ``dlgrade grade`` of one correct training submission (the model answer), as a TA runs it: a
    subprocess, its CPU time (user + system) counted with every process it started (the sandbox's
    fork server, the child that trains, the judge's torch). The sandbox's processes are not
    waited for by the grader itself, so ``getrusage(RUSAGE_CHILDREN)`` misses them (measured: a
    4 s busy loop in the submission did not show); instead the process tree is sampled every
    10 ms and each process counts with the last CPU time it was seen with (a process's last
    10 ms at most are missed). Repeated ``--repeats`` times. Target: at most 20 s of CPU.
(2) ``--n`` training submissions (default 50; correct ones and every known mistake in turn)
    through ``dlgrade grade-batch`` (a subprocess, local workers) and through nbgrader's
    autograde of the same code as nbgrader notebooks whose test cells run dlgrade's checks in the
    kernel (``nbgrader_course.py``). nbgrader grades one notebook at a time; with
    ``--nbgrader-sample`` below N it is timed on that many students and its time for all N is
    extrapolated from the mean (printed as such). Target: grade-batch at least 10x nbgrader's
    throughput. Scores of the two are compared student by student.

Figures are printed, never asserted:

    python benchmarks/training_batch.py [--n 50] [--workers 2] [--nbgrader-sample 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

from grade_batch import PeakMemory, Run, print_run, run_grade_batch, verdict  # noqa: E402
from synthetic import REPOSITORY  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.judge.rubric import load_rubric  # noqa: E402

ASSIGNMENT = "training"
CPU_TARGET_S = 20.0
RATIO_TARGET = 10.0


class TreeCPU:
    """The CPU time (user + system) of a process and all its descendants, sampled every 10 ms:
    each process counts with the largest CPU time it was seen with."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.seen: dict[tuple[int, float], float] = {}  # (pid, start time) -> CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        try:
            processes = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return
        for process in processes:
            try:
                times = process.cpu_times()
                key = (process.pid, process.create_time())
            except psutil.Error:
                continue
            self.seen[key] = max(self.seen.get(key, 0.0), times.user + times.system)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.01)

    def __enter__(self) -> "TreeCPU":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def grade_one_cpu(folder: Path, work: Path, seed: int) -> tuple[float, float, str]:
    """(CPU seconds of the process tree, wall seconds, the score line) of one ``dlgrade grade``."""
    command = [sys.executable, str(REPOSITORY / "cli.py"), "grade", str(folder), "-a", ASSIGNMENT, "--seed", str(seed)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeCPU(process.pid) as tree:
        stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"dlgrade grade failed (exit {process.returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    score = next((line for line in stdout.splitlines() if line.startswith("total:")), "?")
    return tree.seconds, wall, score


def make_training_submissions(course: Course, folder: Path, n: int) -> dict[str, str]:
    """``n`` students: every third one a known mistake (in turn), the others the model answer.
    Returns student -> what they handed in ("correct" or the mistake's id)."""
    answer = course.answer_source(ASSIGNMENT).read_text(encoding="utf-8")
    mutants = load_rubric(course, ASSIGNMENT).mutants
    made = {}
    for number in range(n):
        student = f"student{number:04d}"
        mutant = mutants[(number // 3) % len(mutants)] if number % 3 == 2 else None
        source = answer if mutant is None else answer + "\n\n# --- the mistake ---\n" + mutant.submission_source
        (folder / student).mkdir(parents=True)
        (folder / student / f"{ASSIGNMENT}.py").write_text(source, encoding="utf-8")
        made[student] = "correct" if mutant is None else mutant.id
    return made


def run_nbgrader(course: Course, submissions: Path, work: Path, students: list[str], total: int, seed: int) -> Run:
    from nbgrader_course import NbgraderCourse

    nbgrader = NbgraderCourse(work / "nbgrader-course", course, (ASSIGNMENT,), seed)
    seconds = []
    with PeakMemory(os.getpid()) as memory:
        for student in students:
            nbgrader.submit(student, submissions / student)
            seconds.append(nbgrader.autograde(student))
    mean = float(np.mean(seconds))
    estimate = mean * total
    note = (f"measured on all {total} students" if len(students) == total else
            f"measured on {len(students)} of {total} students (mean {mean:.1f} s each); wall time for all {total} "
            f"extrapolated: {estimate:.0f} s")
    return Run("(b) nbgrader autograde", total, estimate, seconds, memory.grader / 2**20, nbgrader.scores(), note)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--nbgrader-sample", type=int, default=None, help="students nbgrader grades (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-batch", action="store_true", help="only (1)")
    args = parser.parse_args(argv)
    course = Course.locate(REPOSITORY / "solutions")
    work = Path(tempfile.mkdtemp(prefix="dlgrade-training-bench-"))
    try:
        one = work / "one"
        one.mkdir()
        (one / f"{ASSIGNMENT}.py").write_text(course.answer_source(ASSIGNMENT).read_text(encoding="utf-8"))
        print(f"(1) dlgrade grade of one correct {ASSIGNMENT} submission, CPU of the whole process tree "
              f"({os.cpu_count()} CPUs on this machine):")
        cpus = []
        for repeat in range(args.repeats):
            cpu, wall, score = grade_one_cpu(one, work, args.seed + repeat)
            cpus.append(cpu)
            print(f"    run {repeat + 1}: {cpu:.1f} s CPU, {wall:.1f} s wall, {score}")
        print(f"    median {np.median(cpus):.1f} s CPU (target <= {CPU_TARGET_S:g} s: "
              f"{verdict(np.median(cpus) <= CPU_TARGET_S)})\n")
        if args.skip_batch:
            return
        submissions = work / "submissions"
        made = make_training_submissions(course, submissions, args.n)
        print(f"(2) {args.n} {ASSIGNMENT} submissions ({sum(v == 'correct' for v in made.values())} correct, "
              f"{sum(v != 'correct' for v in made.values())} with a known mistake); {args.workers} workers")
        a = run_grade_batch("a-training", submissions, work, (ASSIGNMENT,), args.workers, args.seed)
        a.name = "(a) dlgrade grade-batch"
        runs = [a]
        if importlib.util.find_spec("nbgrader") is None:
            print("(b) skipped: nbgrader is not installed")
        else:
            sample = sorted(made)[: args.nbgrader_sample or args.n]
            runs.append(run_nbgrader(course, submissions, work, sample, args.n, args.seed))
        print(f"{'grader':<26} {'subs':>5} {'wall s':>9} {'subs/min':>10} {'p50 s':>8} {'p95 s':>8} {'peak MB':>9}")
        for run in runs:
            print_run(run)
        if len(runs) == 2:
            b = runs[1]
            compared = [s for s in b.scores if s in a.scores]
            differing = [(s, made[s], a.scores[s], b.scores[s]) for s in compared if a.scores[s] != b.scores[s]]
            print(f"(a) and (b) agree on {len(compared) - len(differing)} of {len(compared)} students"
                  + (f"; differ (student, submission, dlgrade, nbgrader): {differing[:5]}" if differing else ""))
            ratio = a.per_minute / b.per_minute
            print(f"(a)/(b) throughput: {ratio:.1f}x nbgrader (target >= {RATIO_TARGET:g}x: {verdict(ratio >= RATIO_TARGET)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
