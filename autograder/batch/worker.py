"""What one grading worker does, in a local pool process or on a Dask worker: the same code.

A worker builds its :class:`Plan` once (rubrics, torch references), opens ONE sandbox and
grades submission after submission with it. A job is plain data (a dict)::

    {"student": str, "sha256": str, "files": {"<assignment>.py": bytes, ...},
     "problems": {assignment: reason}, "error": str, "assignments": [assignment, ...]}

``assignments`` are the ones to grade (and the only ones the answer holds); a worker's plan may
cover more. A job without it is graded for every assignment of the plan.

and so is the answer (:func:`GradingWorker.grade`)::

    {"student", "sha256", "verdict": a states.State value, "document": <the native result JSON>,
     "reason": str, "worker": "<host>:<pid>"}

``verdict`` is ``tool_failure`` when dlgrade itself failed on the submission (its files could not
be staged, the sandbox could not start a child, the judge raised): that is no grade, and the
coordinator records nothing for it. A worker that cannot grade at all (its sandbox does not
start, the device it was asked for is missing) fails to start instead.

Nothing built from student data crosses back as an object. The submission's files are written
into a fresh private folder for its grading and removed after it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from autograder import untrusted
from autograder.sandbox.forkserver import SandboxError
from autograder.states import State
from autograder.judge.grader import Plan, grade
from autograder.judge.results import (
    NOT_ATTEMPTED, NOT_GRADABLE, TIMEOUT, AssignmentResult, SubmissionResult, TestResult,
)


@dataclass(frozen=True)
class GradingSettings:
    """Everything a worker needs to build the same plan as the coordinator (picklable)."""

    solutions: str
    assignments: tuple[str, ...] = ()  # empty: a worker plans every assignment; a batch grades those collected
    seed: int = 0
    device: str = "cpu"
    insecure: bool = False
    time_limit: float = 600.0  # seconds for a whole submission


def build_plan(settings: GradingSettings) -> Plan:
    """The rubrics and live torch oracles of ``settings.assignments``: what a worker grades with."""
    course = _course(settings)
    return Plan.for_course(course, course.select(settings.assignments), settings.seed, settings.device)


def outline_plan(settings: GradingSettings) -> Plan:
    """The same rubrics without torch: what the coordinator records results against."""
    course = _course(settings)
    return Plan.outline(course, course.select(settings.assignments), settings.seed, settings.device)


def _course(settings: GradingSettings):
    from autograder.course import Course

    # A Dask worker on another machine may keep the course elsewhere: $DLGRADE_SOLUTIONS there wins.
    return Course.locate(os.environ.get("DLGRADE_SOLUTIONS") or settings.solutions)


class SubmissionTimedOut(Exception):
    """The whole submission ran past its time limit."""


class _Deadline:
    """Kills the running child when the submission's time is up, and refuses to start new ones."""

    def __init__(self, start_child, seconds: float):
        self._start_child, self.expired = start_child, False
        self._children: list = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def start_child(self):
        if self.expired:
            raise SubmissionTimedOut()
        child = self._start_child()
        self._children.append(child)
        return child

    def _expire(self) -> None:
        self.expired = True
        for child in self._children:
            try:  # processes only: the grading thread owns the child's pipes and closes them itself
                child.terminate()
            except OSError:
                pass


class GradingWorker:
    """One plan, one sandbox, many submissions (one at a time)."""

    def __init__(self, settings: GradingSettings, cpu: int | None = None):
        """``cpu``: pin the worker, its sandbox server and every child to this CPU (a local pool
        gives each worker a core of its own; with every core grading, a server that prepared the
        next child on another core would only take time from that core's worker)."""
        from autograder.sandbox import heap, placement

        heap.retain_freed_memory()  # this process grades submission after submission
        self.settings = settings
        if settings.device != "cpu":  # before any grading: a missing GPU fails every submission alike
            from autograder.tensors import resolve_device

            resolve_device(settings.device)
        self.plan = build_plan(settings)
        if cpu is not None:
            placement.pin(cpu)  # before the sandbox starts: its server inherits the CPU
        self.sandbox = self._open_sandbox()
        self._sandbox_failed = False  # set when the sandbox failed a submission: reopened before the next
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = threading.Lock()  # one submission at a time per sandbox, whatever the thread

    def _open_sandbox(self):
        from autograder.sandbox import open_sandbox

        return open_sandbox(insecure=self.settings.insecure, hidden=_course(self.settings).hidden_paths())

    def close(self) -> None:
        self.sandbox.close()

    def _fresh_sandbox(self) -> None:
        """After the sandbox failed a submission (its server died), a new one for the next: one
        failure costs that submission alone. A sandbox that cannot be reopened fails the next too."""
        if self._sandbox_failed:
            self.sandbox.close()
            self.sandbox = self._open_sandbox()
            self._sandbox_failed = False

    def grade(self, job: dict) -> dict:
        with self._lock:
            return self._grade(job)

    def _grade(self, job: dict) -> dict:
        started = time.perf_counter()
        try:
            self._fresh_sandbox()
        except SandboxError as error:
            return self._tool_failure(job, f"the sandbox could not be restarted: {error}", started)
        plan = plan_of(self.plan, job.get("assignments"))
        if job.get("error"):
            result = failure_result(plan, job["student"], job["error"], NOT_ATTEMPTED)
            return self._answer(job, NOT_GRADABLE, result, started)
        try:
            folder = Path(tempfile.mkdtemp(prefix="dlgrade-submission-"))
        except OSError as error:  # a full or unwritable /tmp: the tool's failure, not the student's
            return self._tool_failure(job, f"its files could not be staged ({error.strerror or error})", started)
        try:
            try:
                for name, data in job["files"].items():
                    (folder / Path(name).name).write_bytes(data)
            except OSError as error:
                return self._tool_failure(job, f"its files could not be staged ({error.strerror or error})", started)
            with _Deadline(self.sandbox.start_child, self.settings.time_limit) as deadline:
                try:
                    result = grade(folder, plan, start_child=deadline.start_child, student=job["student"])
                except Exception as error:  # noqa: BLE001 - one submission's failure stays its own
                    if not deadline.expired:
                        self._sandbox_failed = isinstance(error, SandboxError)
                        return self._tool_failure(job, f"{type(error).__name__}: "
                                                  f"{untrusted.Budget().take(str(error), untrusted.MESSAGE)}", started)
            if deadline.expired:
                reason = f"grading took longer than the limit of {self.settings.time_limit:g} s for one submission"
                return self._answer(job, State.TIMEOUT, failure_result(plan, job["student"], reason, TIMEOUT),
                                    started)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        apply_problems(result, job.get("problems", {}))
        result.submission = job["student"]
        result.insecure = bool(self.settings.insecure or getattr(self.sandbox, "insecure", False))
        return self._answer(job, result.status, result, started)

    def _answer(self, job: dict, verdict: State, result: SubmissionResult, started: float) -> dict:
        result.duration_s = time.perf_counter() - started
        return {"student": job["student"], "sha256": job["sha256"], "verdict": State(verdict).value,
                "document": result.to_json(), "reason": result.reason, "worker": self.where}

    def _tool_failure(self, job: dict, what: str, started: float) -> dict:
        """dlgrade failed on this submission: no grade, no document; the reason says what failed."""
        return {"student": job["student"], "sha256": job["sha256"], "verdict": State.TOOL_FAILURE.value,
                "document": None, "reason": f"dlgrade could not grade this submission: {what}",
                "worker": self.where, "seconds": round(time.perf_counter() - started, 3)}


def plan_of(plan: Plan, assignments) -> Plan:
    """``plan`` restricted to ``assignments`` (None: all of it), in the plan's order."""
    if assignments is None:
        return plan
    unknown = set(assignments) - set(plan.rubrics)
    if unknown:
        raise ValueError(f"this worker cannot grade {', '.join(sorted(unknown))}: its plan has "
                         f"{', '.join(plan.rubrics)}")
    return replace(plan, rubrics={a: r for a, r in plan.rubrics.items() if a in assignments})


def apply_problems(result: SubmissionResult, problems: dict[str, str]) -> None:
    """Intake problems (a 2 GB file, an unreadable one) make that assignment not gradable, with the reason."""
    for entry in result.assignments:
        reason = problems.get(entry.assignment)
        if reason and entry.file is None:
            entry.status, entry.file, entry.reason, entry.score = NOT_GRADABLE, entry.assignment, reason, 0.0
            for test in result.tests:
                if test.assignment == entry.assignment:
                    test.message = reason


def failure_result(plan: Plan, student: str, reason: str, outcome: str) -> SubmissionResult:
    """A result for a submission that could not be graded at all: every assignment not gradable."""
    assignments, tests = [], []
    for assignment, (rubric, _) in plan.rubrics.items():
        assignments.append(AssignmentResult(assignment, NOT_GRADABLE, 0.0, rubric.max_score, "submission", reason))
        tests += [TestResult(c.name, c.assignment, c.exercise, 0.0, float(c.points), outcome, reason,
                             visibility=c.visibility) for c in rubric.checks]
    return SubmissionResult(student, assignments, tests, plan.seed, plan.device,
                            {a: r.version for a, (r, _) in plan.rubrics.items()})
