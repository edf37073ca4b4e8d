"""One batch run: intake -> skip what the gradebook has -> grade on a pool -> record each answer.

Every answer is recorded as it arrives (one transaction per submission, in this process), and
with ``out`` also written as ``OUT/<student>/result.json``, ``feedback.md`` and
``feedback.html`` (first: a grading whose files cannot be written is not recorded). A run that is
killed loses at most the submissions in flight; the next run skips everything recorded with the
same content, checks and seed (``regrade`` forces them).

A failure of dlgrade itself (``State.TOOL_FAILURE``: workers or their sandbox that cannot start,
a missing device, a worker that dies, an exception in the judge, a full disk while writing the
outputs or the gradebook) is no grade: nothing is recorded or written for the submissions it
touched, the summary lists each with the reason, and the next plain run grades them.

With a roster in the gradebook (``dlgrade roster import``), each submission is filed under the
roster student it names (:meth:`Gradebook.roster_index`: a Canvas user id, a login, a Moodle
folder's full name), shown and written with the student's name, and the roster's students who
handed nothing in are listed as missing (:attr:`BatchSummary.missing`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DBAPIError

from autograder.batch.intake import Submission, discover
from autograder.batch.pool import PoolError
from autograder.console import shown
from autograder.batch.worker import GradingSettings, failure_result, outline_plan
from autograder.gradebook.export import safe_name, write_new_file, write_student_files
from autograder.gradebook.store import Gradebook, GradebookWriteError, StudentInfo, checks_key, stale_note
from autograder.judge.results import TIMEOUT
from autograder.states import State

STYLES = {State.GRADED: "green", State.NOT_GRADABLE: "red", State.TIMEOUT: "yellow", State.MISSING: "dim",
          State.TOOL_FAILURE: "bold magenta"}


@dataclass
class BatchSummary:
    # Per submission answered in this run: student, verdict (a State), score (None: a tool failure), ...
    rows: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    missing: list[StudentInfo] = field(default_factory=list)  # on the roster, nothing recorded

    @property
    def counts(self) -> Counter:
        return Counter(row["verdict"] for row in self.rows)

    @property
    def tool_failures(self) -> list[dict]:
        """The rows of submissions dlgrade failed on: nothing recorded, graded again next run."""
        return [row for row in self.rows if not row["verdict"].records_score]


def job_for(submission: Submission) -> dict:
    """The plain-data job of a staged submission (its files travel with it, for remote workers)."""
    files = {}
    if submission.path is not None:
        files = {p.name: p.read_bytes() for p in sorted(submission.path.iterdir()) if p.is_file()}
    return {"student": submission.student, "sha256": submission.sha256, "files": files,
            "problems": dict(submission.problems), "error": submission.error}


def run_batch(root: Path, settings: GradingSettings, gradebook: Gradebook, *, out: Path | None = None,
              workers: int | None = None, scheduler: str | None = None, regrade: bool = False,
              console: Console | None = None) -> BatchSummary:
    console = console or Console(stderr=True)
    started = time.perf_counter()
    summary = BatchSummary()
    staging = Path(tempfile.mkdtemp(prefix="dlgrade-batch-"))
    pool = None
    if not scheduler:
        from autograder.batch.pool import LocalPool

        pool = LocalPool(settings, workers).start()  # the workers warm up while intake runs here
    try:
        plan = outline_plan(settings)  # no torch here: the workers import it, side by side
        intake = discover(root, staging, tuple(plan.rubrics))
        summary.notes += intake.notes
        key = checks_key({a: r.version for a, (r, _) in plan.rubrics.items()})
        file_under_roster(intake.submissions, gradebook)
        by_student = {}
        for submission in intake.submissions:
            if submission.error:  # nothing to grade: its hash is the error's, so an unchanged one is skipped
                submission.sha256 = hashlib.sha256(f"error\0{submission.error}".encode()).hexdigest()
            if not regrade and gradebook.is_graded(submission.student, submission.sha256, key, settings.seed):
                summary.skipped.append(submission.student)
                continue
            by_student[submission.student] = submission
        jobs = [job_for(s) for s in by_student.values()]

        with _progress(console) as progress:
            task = progress.add_task("grading", total=len(jobs), counts=_counts_text(Counter()))
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
                    _record(submission, verdict, answer)
                else:
                    tool_failure(submission, answer.get("reason") or "dlgrade could not grade this submission")
                progress.update(task, advance=1, counts=_counts_text(summary.counts))

            def _record(submission: Submission, verdict: State, answer: dict) -> None:
                document = answer.get("document")
                if document is None:  # the worker was stuck past the time limit: a verdict built here
                    document = failure_result(plan, submission.student, answer.get("reason", ""), TIMEOUT).to_json()
                try:  # the files first: a grading is recorded only once its outputs are written
                    stale = gradebook.stale_overrides(submission.student, {a["assignment"]: submission.sha256
                                                                           for a in document["assignments"]})
                    document["stale_overrides"] = stale
                    if out is not None:
                        _write_outputs(out, submission.student, document, submission.name)
                    gradebook.record(StudentInfo(submission.student, submission.name, submission.lms_id),
                                     submission.sha256, submission.origin, submission.notes, verdict, document,
                                     reason="--regrade" if regrade else "")
                except (OSError, GradebookWriteError, DBAPIError) as error:  # a full disk, a lost database
                    what = (f"{error.strerror} ({error.filename})" if isinstance(error, OSError)
                            else str(error).splitlines()[0])
                    tool_failure(submission, f"dlgrade could not save this grading: {what}")
                    return
                summary.rows.append({"student": submission.student, "name": submission.name, "verdict": verdict,
                                     "score": document["score"],
                                     "max_score": document["max_score"], "reason": document.get("reason", ""),
                                     "notes": submission.notes + [stale_note(e) for e in stale],
                                     "worker": answer.get("worker", "")})

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
    summary.missing = gradebook.missing_students()
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


def _write_outputs(out: Path, student: str, document: dict, name: str = "") -> None:
    folder = safe_name(student, name)
    write_new_file(out / folder / "result.json", json.dumps(document, indent=2, allow_nan=False) + "\n")
    write_student_files(out, student, document, name)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


COUNTED = (State.GRADED, State.NOT_GRADABLE, State.TIMEOUT, State.TOOL_FAILURE)


def _counts_text(counts: Counter) -> str:
    return " · ".join(f"{state.label} {counts.get(state, 0)}" for state in COUNTED)


def print_summary(summary: BatchSummary, console: Console | None = None) -> None:
    """The final table: one row per submission graded in this run, then the counts."""
    console = console or Console()
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
        table.add_row(shown(who), score, Text(row["verdict"].label, style=STYLES[row["verdict"]]),
                      shown(detail[:300]))
    if summary.rows:
        console.print(table)
    for row in summary.tool_failures:
        console.print(shown(f"tool failure: {row['student']}: {row['reason']} (nothing recorded: the next run "
                            "grades it again)", STYLES[State.TOOL_FAILURE]))
    counts = summary.counts
    console.print(Text(
        f"{len(summary.rows)} answered in {summary.seconds:.1f} s: "
        + ", ".join(f"{counts.get(state, 0)} {state.label}" for state in COUNTED)
        + f"; {len(summary.skipped)} already graded (skipped)", style="bold"))
    if summary.missing:
        console.print(shown(f"missing: {len(summary.missing)} on the roster without a submission: "
                            + ", ".join(s.label for s in summary.missing[:50])
                            + (", ..." if len(summary.missing) > 50 else ""), "bold red"), soft_wrap=True)
