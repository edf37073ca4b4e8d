"""One batch run: intake -> the assignments to grade -> skip what the gradebook has -> grade on a
pool -> record each answer.

The assignments graded are those named (``-a``), else those collected: a file of that assignment
in at least one submission (:func:`graded_assignments`). Only those are graded and recorded; a
student without one of them gets it *missing*. Every answer is recorded as it arrives (one
transaction per submission, in this process), and with ``out`` also written as
``OUT/<student>/result.json``, ``feedback.md`` and ``feedback.html`` (this run's assignments). A
run that is killed loses at most the submissions in flight; the next run skips every (student,
assignment) recorded with the same file, checks and seed (``regrade`` forces them).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from autograder.batch.intake import IntakeError, Submission, discover
from autograder.console import count_states, make_console, shown
from autograder.batch.worker import TIMEOUT_VERDICT, GradingSettings, failure_result, outline_plan
from autograder.gradebook.export import safe_name, write_new_file, write_student_files
from autograder.gradebook.store import Gradebook, StudentInfo, checks_key
from autograder.judge.results import ERROR, TIMEOUT
from autograder.states import State


@dataclass
class BatchSummary:
    rows: list[dict] = field(default_factory=list)  # per graded submission: student, verdict, score, ...
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    assignments: tuple[str, ...] = ()  # the assignments this run graded, in the course's order

    @property
    def counts(self) -> Counter:
        return Counter(State(row["verdict"]) for row in self.rows)


def graded_assignments(requested: tuple[str, ...], course_order: tuple[str, ...],
                       submissions: list[Submission]) -> tuple[str, ...]:
    """What a batch grades: the ``requested`` ones (``-a``), else every assignment that at least one
    submission has a file for, in the course's order. An assignment nobody handed in is left
    blank everywhere: it was not collected."""
    if requested:
        return tuple(requested)
    present = set().union(*(s.assignments for s in submissions)) if submissions else set()
    return tuple(a for a in course_order if a in present)


def content_hash(submission: Submission, assignment: str) -> str:
    """What the gradebook's skip compares for (student, assignment): the hash of that file, or of
    why there is none (no file: "missing"; nothing usable in the submission: its error)."""
    if submission.error:
        return hashlib.sha256(f"error\0{submission.error}".encode()).hexdigest()
    return submission.hashes.get(assignment) or hashlib.sha256(f"missing\0{assignment}".encode()).hexdigest()


def pending_assignments(gradebook: Gradebook, submission: Submission, graded: tuple[str, ...],
                        hashes: dict[str, str], keys: dict[str, str], seed: int, regrade: bool) -> tuple[str, ...]:
    """The assignments of ``graded`` to grade for this submission now. Not those graded already
    from the same file, checks and seed (unless ``regrade``); and never one the submission has no
    file for when the gradebook holds a grading of it: a download without that file (a later week's,
    or the late submissions only) says nothing about it, so it may not zero the earlier grade."""
    earlier = gradebook.recorded_assignments(submission.student)
    return tuple(a for a in graded
                 if (a in submission.hashes or a not in earlier)
                 and (regrade or not gradebook.is_graded(submission.student, a, hashes[a], keys[a], seed)))


def job_for(submission: Submission, assignments: tuple[str, ...] | None = None) -> dict:
    """The plain-data job of a staged submission: the files of ``assignments`` (None: all) travel
    with it, for remote workers."""
    files = {}
    if submission.path is not None:
        files = {p.name: p.read_bytes() for p in sorted(submission.path.iterdir())
                 if p.is_file() and (assignments is None or p.stem in assignments)}
    problems = {a: why for a, why in submission.problems.items() if assignments is None or a in assignments}
    job = {"student": submission.student, "sha256": submission.sha256, "files": files,
           "problems": problems, "error": submission.error}
    if assignments is not None:
        job["assignments"] = list(assignments)
    return job


def run_batch(root: Path, settings: GradingSettings, gradebook: Gradebook, *, out: Path | None = None,
              workers: int | None = None, scheduler: str | None = None, regrade: bool = False,
              console: Console | None = None) -> BatchSummary:
    """Grade the submissions under ``root`` for ``settings.assignments`` (empty: those collected,
    :func:`graded_assignments`), recording each (student, assignment) not already graded."""
    console = console or make_console(stderr=True)
    started = time.perf_counter()
    summary = BatchSummary()
    staging = Path(tempfile.mkdtemp(prefix="dlgrade-batch-"))
    pool = None
    if not scheduler:
        from autograder.batch.pool import LocalPool

        pool = LocalPool(settings, workers).start()  # the workers warm up while intake runs here
    try:
        course = outline_plan(replace(settings, assignments=()))  # no torch here: the workers import it
        intake = discover(root, staging, tuple(course.rubrics))  # every file of the course is recognised
        summary.notes += intake.notes
        graded = graded_assignments(settings.assignments, tuple(course.rubrics), intake.submissions)
        if not graded and intake.submissions:
            raise IntakeError(f"no assignment file in {root} (expected files such as "
                              f"{', '.join(f'{a}.py' for a in tuple(course.rubrics)[:3])}): nothing to grade; "
                              "name the assignments with -a to record them as missing")
        summary.assignments = graded
        plan = replace(course, rubrics={a: course.rubrics[a] for a in graded})
        keys = {a: checks_key({a: plan.rubrics[a][0].version}) for a in graded}
        by_student, todo = {}, {}
        for submission in intake.submissions:
            hashes = {a: content_hash(submission, a) for a in graded}
            if submission.error:  # nothing to grade: its hash is the error's, so an unchanged one is skipped
                submission.sha256 = hashlib.sha256(f"error\0{submission.error}".encode()).hexdigest()
            pending = pending_assignments(gradebook, submission, graded, hashes, keys, settings.seed, regrade)
            if not pending:
                summary.skipped.append(submission.student)
                continue
            by_student[submission.student], todo[submission.student] = submission, (pending, hashes)
        jobs = [job_for(s, todo[s.student][0]) for s in by_student.values()]

        with _progress(console) as progress:
            task = progress.add_task("grading", total=len(jobs), counts=count_states(()))

            def on_result(job: dict, answer: dict) -> None:
                submission = by_student[job["student"]]
                pending, hashes = todo[submission.student]
                document = answer.get("document")
                if document is None:  # the worker itself was lost: a verdict built here
                    outcome = TIMEOUT if answer["verdict"] == TIMEOUT_VERDICT else ERROR
                    document = failure_result(replace(plan, rubrics={a: plan.rubrics[a] for a in pending}),
                                              submission.student, answer.get("reason", ""), outcome).to_json()
                verdict = answer["verdict"]
                gradebook.record(StudentInfo(submission.student, submission.name, submission.lms_id),
                                 submission.sha256, submission.origin, submission.notes, verdict, document,
                                 reason="--regrade" if regrade else "", hashes=hashes)
                if out is not None:
                    _write_outputs(out, submission.student, document)
                summary.rows.append({"student": submission.student, "verdict": verdict, "score": document["score"],
                                     "max_score": document["max_score"], "reason": document.get("reason", ""),
                                     "notes": submission.notes, "worker": answer.get("worker", ""),
                                     "assignments": [a["assignment"] for a in document["assignments"]]})
                progress.update(task, advance=1, counts=count_states(r["verdict"] for r in summary.rows))

            if scheduler:
                from autograder.batch.dask_backend import DaskPool

                DaskPool(settings, scheduler).run(jobs, on_result)
            else:
                pool.run(jobs, on_result)
    finally:
        if pool is not None:
            pool.close()
        shutil.rmtree(staging, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _write_outputs(out: Path, student: str, document: dict) -> None:
    write_new_file(out / safe_name(student) / "result.json", json.dumps(document, indent=2, allow_nan=False) + "\n")
    write_student_files(out, student, document)


def _progress(console: Console) -> Progress:
    """A bar with the counts so far and an ETA: the total (the submissions to grade) is known before
    the first one starts, so rich's TimeRemainingColumn estimates from the rate of those done."""
    return Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


STYLES = {State.GRADED: "green", State.NOT_GRADABLE: "red", State.MISSING: "yellow", State.TIMEOUT: "yellow",
          State.TOOL_FAILURE: "magenta"}


def summary_line(summary: BatchSummary) -> str:
    """"8 submissions: 4 graded, 4 not gradable" (each state once), then what was skipped."""
    count = len(summary.rows)
    line = (f"{count} submission{'s' if count != 1 else ''}: {count_states(r['verdict'] for r in summary.rows)}"
            if count else "0 submissions graded")
    if summary.skipped:
        line += f"; {len(summary.skipped)} already graded (skipped)"
    return line


def print_summary(summary: BatchSummary, console: Console | None = None) -> None:
    """The final table: one row per submission graded in this run, then the counts."""
    console = console or make_console()
    for note in summary.notes:
        console.print(shown(f"note: {note}", "yellow"))
    table = Table(title="grade-batch", title_justify="left")
    table.add_column("student")
    table.add_column("score", justify="right")
    table.add_column("state")
    table.add_column("reason / notes", overflow="fold")
    for row in sorted(summary.rows, key=lambda r: r["student"]):
        detail = "; ".join(filter(None, [row["reason"]] + list(row["notes"])))
        state = State(row["verdict"])
        table.add_row(shown(row["student"]), f"{row['score']:g}/{row['max_score']:g}",
                      Text(state.label, style=STYLES.get(state, "")), shown(detail[:300]))
    if summary.rows:
        console.print(table)
    if summary.assignments:
        console.print(shown(f"graded: {', '.join(summary.assignments)}"))
    console.print(Text(f"{summary_line(summary)} in {summary.seconds:.1f} s", style="bold"))
