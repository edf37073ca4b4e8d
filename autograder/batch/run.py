"""One batch run: intake -> the assignments to grade -> skip what the gradebook has -> grade on a
pool -> record each answer.

The assignments graded are those named (``-a``), else those collected: a file of that assignment
in at least one submission (:func:`graded_assignments`). Only those are graded and recorded; a
student without one of them gets it *missing*. Every answer is recorded as it arrives (one
transaction per submission, in this process), and with ``out`` also written as
``OUT/<folder>/result.json``, ``feedback.md`` and ``feedback.html`` (this run's assignments; first:
a grading whose files cannot be written is not recorded). A run that is killed loses at most the
submissions in flight; the next run skips every (student, assignment) recorded with the same
file, checks and seed (``regrade`` forces them). The gradebook keeps each graded file with its
grading (once per content: :meth:`Gradebook.record`'s ``files``).

A failure of dlgrade itself (``State.TOOL_FAILURE``: workers or their sandbox that cannot start,
a missing device, a worker that dies, an exception in the judge, a full disk while writing the
outputs or the gradebook) is no grade: nothing is recorded or written for the submissions it
touched, the summary lists each with the reason, and the next plain run grades them.

With a roster in the gradebook (``dlgrade roster import``), each submission is filed under the
roster student it names (:meth:`Gradebook.roster_index`: a Canvas user id, a login, a Moodle
folder's full name), shown and written with the student's name; a roster student who handed in
nothing is recorded *missing* for each assignment this run grades (:func:`record_roster_missing`,
never over a grade the gradebook holds) and listed under :attr:`BatchSummary.missing`.
"""

from __future__ import annotations

import hashlib
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
from sqlalchemy.exc import DBAPIError

from autograder.batch.intake import IntakeError, Submission, discover
from autograder.batch.pool import PoolError
from autograder.console import count_states, make_console, shown
from autograder.batch.worker import GradingSettings, failure_result, outline_plan
from autograder.gradebook.export import result_json, safe_name, write_new_file, write_student_files
from autograder.gradebook.store import (
    Gradebook, GradebookWriteError, GradedIndex, StagedFile, StudentInfo, checks_key, stale_note,
)
from autograder.judge.results import NOT_ATTEMPTED, TIMEOUT
from autograder.states import State

STYLES = {State.GRADED: "green", State.NOT_GRADABLE: "red", State.TIMEOUT: "yellow", State.MISSING: "yellow",
          State.TOOL_FAILURE: "bold magenta"}


@dataclass
class BatchSummary:
    # Per submission answered in this run: student, verdict (a State), score (None: a tool failure), ...
    rows: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    missing: list[StudentInfo] = field(default_factory=list)  # on the roster, no submission of this run's assignments
    assignments: tuple[str, ...] = ()  # the assignments this run graded, in the course's order

    @property
    def counts(self) -> Counter:
        return Counter(State(row["verdict"]) for row in self.rows)

    @property
    def tool_failures(self) -> list[dict]:
        """The rows of submissions dlgrade failed on: nothing recorded, graded again next run."""
        return [row for row in self.rows if not row["verdict"].records_score]


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


def pending_assignments(index: GradedIndex, submission: Submission, graded: tuple[str, ...],
                        hashes: dict[str, str], keys: dict[str, str], seed: int, regrade: bool) -> tuple[str, ...]:
    """The assignments of ``graded`` to grade for this submission now. Not those graded already
    from the same file, checks and seed (unless ``regrade``); and never one the submission has no
    file for when the gradebook holds a grading of it: a download without that file (a later week's,
    or the late submissions only) says nothing about it, so it may not zero the earlier grade."""
    earlier = index.recorded_assignments(submission.student)
    return tuple(a for a in graded
                 if (a in submission.hashes or a not in earlier)
                 and (regrade or not index.is_graded(submission.student, a, hashes[a], keys[a], seed)))


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


def staged_files(job: dict) -> dict[str, StagedFile]:
    """The files a job carried, per assignment (each staged as ``<assignment>.py|.ipynb``): what
    the gradebook keeps with its gradings. A file the intake refused (too large, unreadable) was
    not staged: it has none."""
    return {Path(name).stem: StagedFile(name, data) for name, data in job["files"].items()}


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
        file_under_roster(intake.submissions, gradebook)
        by_student, todo = {}, {}
        index = gradebook.graded_index()
        for submission in intake.submissions:
            hashes = {a: content_hash(submission, a) for a in graded}
            if submission.error:  # nothing to grade: its hash is the error's, so an unchanged one is skipped
                submission.sha256 = hashlib.sha256(f"error\0{submission.error}".encode()).hexdigest()
            pending = pending_assignments(index, submission, graded, hashes, keys, settings.seed, regrade)
            if not pending:
                summary.skipped.append(submission.student)
                continue
            by_student[submission.student], todo[submission.student] = submission, (pending, hashes)
        jobs = [job_for(s, todo[s.student][0]) for s in by_student.values()]

        with _progress(console) as progress:
            task = progress.add_task("grading", total=len(jobs), counts=count_states(()))
            answered: set[str] = set()

            def tool_failure(submission: Submission, reason: str) -> None:
                summary.rows.append({"student": submission.student, "name": submission.name,
                                     "verdict": State.TOOL_FAILURE, "score": None,
                                     "max_score": None, "reason": reason, "notes": submission.notes, "worker": ""})

            def on_result(job: dict, answer: dict) -> None:
                submission = by_student[job["student"]]
                answered.add(submission.student)
                verdict = State(answer["verdict"])
                if verdict.records_score:
                    _record(submission, verdict, answer, staged_files(job))
                else:
                    tool_failure(submission, answer.get("reason") or "dlgrade could not grade this submission")
                progress.update(task, advance=1, counts=count_states(r["verdict"] for r in summary.rows))

            def _record(submission: Submission, verdict: State, answer: dict, files: dict[str, StagedFile]) -> None:
                document = answer.get("document")
                pending, hashes = todo[submission.student]
                if document is None:  # the worker was stuck past the time limit: a verdict built here
                    document = failure_result(replace(plan, rubrics={a: plan.rubrics[a] for a in pending}),
                                              submission.student, answer.get("reason", ""), TIMEOUT).to_json()
                try:  # the files first: a grading is recorded only once its outputs are written
                    stale = gradebook.stale_overrides(submission.student, {a["assignment"]: submission.sha256
                                                                           for a in document["assignments"]})
                    document["stale_overrides"] = stale
                    if out is not None:
                        _write_outputs(out, submission.student, document, submission.name)
                    gradebook.record(StudentInfo(submission.student, submission.name, submission.lms_id),
                                     submission.sha256, submission.origin, submission.notes, verdict, document,
                                     reason="--regrade" if regrade else "", hashes=hashes, files=files)
                except (OSError, GradebookWriteError, DBAPIError) as error:  # a full disk, a lost database
                    what = (f"{error.strerror} ({error.filename})" if isinstance(error, OSError)
                            else str(error).splitlines()[0])
                    tool_failure(submission, f"dlgrade could not save this grading: {what}")
                    return
                summary.rows.append({"student": submission.student, "name": submission.name, "verdict": verdict,
                                     "score": document["score"],
                                     "max_score": document["max_score"], "reason": document.get("reason", ""),
                                     "notes": submission.notes + [stale_note(e) for e in stale],
                                     "worker": answer.get("worker", ""),
                                     "assignments": [a["assignment"] for a in document["assignments"]]})

            try:
                if scheduler:
                    from autograder.batch.dask_backend import DaskPool

                    DaskPool(settings, scheduler).run(jobs, on_result)
                else:
                    pool.run(jobs, on_result)
            except PoolError as error:  # no worker can grade: every submission not answered is a tool failure
                for student, submission in by_student.items():
                    if student not in answered:
                        tool_failure(submission, f"dlgrade could not grade this submission: {error}")
    finally:
        if pool is not None:
            pool.close()
        shutil.rmtree(staging, ignore_errors=True)
    record_roster_missing(gradebook, plan, intake.submissions)
    summary.missing = missing_for(gradebook, graded)
    summary.seconds = time.perf_counter() - started
    return summary


def file_under_roster(submissions: list[Submission], gradebook: Gradebook) -> None:
    """File each submission under the roster student it belongs to (its key, LMS id, login or
    exact full name; :class:`~autograder.roster.RosterIndex`), with the roster's name; a note
    says so when the key changes. Without a roster, or for a student not on it, nothing changes."""
    index = gradebook.roster_index()
    if not index.people:
        return
    taken = {s.student for s in submissions}
    for submission in submissions:
        owner = index.owner(submission.student, submission.name, submission.lms_id)
        if owner is None:
            submission.notes.append(f"{submission.student} is not on the roster (`dlgrade roster import`)")
            continue
        if owner.id != submission.student and owner.id in taken:  # two submissions would become one: keep both apart
            submission.notes.append(f"looks like {owner.name} ({owner.id}) of the roster, who has a submission of "
                                    "their own: kept apart")
            continue
        taken.add(owner.id)
        if owner.id != submission.student:
            submission.notes.append(f"filed under {owner.name} ({owner.id}) of the roster, found as {submission.student}")
        submission.student, submission.name = owner.id, owner.name or submission.name


def record_roster_missing(gradebook: Gradebook, plan, submissions: list[Submission]) -> list[str]:
    """Record *missing* (0, "not handed in") for each roster student without a submission in this
    batch, for each assignment of ``plan`` the gradebook holds no grading of for them (a grade,
    or an earlier missing, is never replaced: a download of late work only may lack the student's
    file). Returns the ids recorded. A student in the batch is the grader's to mark missing."""
    present = {s.student for s in submissions}
    recorded = []
    index = gradebook.graded_index()
    for student in gradebook.roster_students():
        if student.id in present:
            continue
        due = tuple(a for a in plan.rubrics if a not in index.recorded_assignments(student.id))
        if not due:
            continue
        result = failure_result(replace(plan, rubrics={a: plan.rubrics[a] for a in due}), student.id,
                                "not handed in", NOT_ATTEMPTED)
        for entry in result.assignments:
            entry.status, entry.file, entry.reason = State.MISSING, None, "not handed in (no submission in the batch)"
        hashes = {a: hashlib.sha256(f"missing\0{a}".encode()).hexdigest() for a in due}
        sha = hashlib.sha256(("missing\0" + "\0".join(due)).encode()).hexdigest()
        gradebook.record(student, sha, "", [], State.GRADED, result.to_json(), reason="on the roster, not handed in",
                         hashes=hashes, files={})
        recorded.append(student.id)
    return recorded


def missing_for(gradebook: Gradebook, assignments: tuple[str, ...]) -> list[StudentInfo]:
    """The roster's students without a submission of any of ``assignments`` (none given: of any)."""
    if not assignments:
        return gradebook.missing_students()
    found = {s.id: s for a in assignments for s in gradebook.missing_students(a)}
    return [found[key] for key in sorted(found)]


def _write_outputs(out: Path, student: str, document: dict, name: str = "") -> None:
    folder = safe_name(student, name)
    write_new_file(out / folder / "result.json", result_json(document))
    write_student_files(out, student, document, name)


def _progress(console: Console) -> Progress:
    """A bar with the counts so far and an ETA: the total (the submissions to grade) is known before
    the first one starts, so rich's TimeRemainingColumn estimates from the rate of those done."""
    return Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


def summary_line(summary: BatchSummary) -> str:
    """"8 submissions: 4 graded, 4 not gradable" (each state once, tool failures included), then
    what was skipped."""
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
    table.add_column("verdict")
    table.add_column("reason / notes", overflow="fold")
    for row in sorted(summary.rows, key=lambda r: r["student"]):
        detail = "; ".join(filter(None, [row["reason"]] + list(row["notes"])))
        who = f"{row['name']} ({row['student']})" if row.get("name") and row["name"] != row["student"] else row["student"]
        score = "—" if row["score"] is None else f"{row['score']:g}/{row['max_score']:g}"
        state = State(row["verdict"])
        table.add_row(shown(who), score, Text(state.label, style=STYLES.get(state, "")), shown(detail[:300]))
    if summary.rows:
        console.print(table)
    for row in summary.tool_failures:
        console.print(shown(f"tool failure: {row['student']}: {row['reason']} (nothing recorded: the next run "
                            "grades it again)", STYLES[State.TOOL_FAILURE]))
    if summary.assignments:
        console.print(shown(f"graded: {', '.join(summary.assignments)}"))
    console.print(Text(f"{summary_line(summary)} in {summary.seconds:.1f} s", style="bold"))
    if summary.missing:
        console.print(shown(f"missing: {len(summary.missing)} on the roster without a submission: "
                            + ", ".join(s.label for s in summary.missing[:50])
                            + (", ..." if len(summary.missing) > 50 else ""), "bold red"), soft_wrap=True)
