"""The gradebook: record gradings (one transaction each), skip what is already graded, adjust by hand.

``Gradebook.open(url)`` takes a SQLAlchemy URL (``sqlite:///grades.db``,
``postgresql+psycopg://user@host/db``) or a plain file path (a SQLite file). The unit is
(student, assignment): a submission's result is stored as one grading per assignment it was
graded for, each with its per-test rows and audit entry, all in ONE transaction, so a run killed
at any instant leaves each submission either fully recorded or absent; the next run grades
exactly the absent ones (:meth:`Gradebook.is_graded`, per student and assignment). A batch of
one assignment never touches the gradings of another.

Scores people see come from :meth:`result_documents`: per student, the latest grading of each
assignment ever graded for them (an assignment never collected has none, so it appears nowhere),
with overrides and late penalties applied and listed under ``"adjustments"``.

The gradebook keeps the files it graded (:class:`~autograder.gradebook.models.SubmittedFile`, once
per content hash: a regrade of the same file keeps nothing new), written in the grading's own
transaction; :meth:`Gradebook.graded_files` gives each (student, assignment)'s latest graded file
back, for ``dlgrade similarity --db``. Gradings recorded before it kept files have none.

Opening a gradebook an older dlgrade wrote adds, in place, the columns a newer one declares
nullable or with a server default (the roster's, the adjustments' modes and submissions, a grading's
file_kept) and the tables it lacks (the kept files); a
gradebook of the older layout (one grading per whole submission), which needs its data
converted, is refused with a one-line error naming ``dlgrade upgrade-gradebook``
(:mod:`autograder.gradebook.upgrade`).

The roster (:meth:`Gradebook.import_roster`, from :mod:`autograder.roster`) fills in students'
names, logins, emails and sections; :meth:`Gradebook.find_student` resolves what a TA types to
one student; :meth:`Gradebook.missing_students` lists the roster's students without a submission.
A failure of dlgrade itself (``State.TOOL_FAILURE``: a sandbox that does not start, a missing
device, a lost worker, a full disk) is never a grade: :meth:`Gradebook.record` refuses it, and
:meth:`Gradebook.is_graded` and the documents ignore the rows older versions wrote for one
(verdict ``"error"``), so the next run grades those submissions again.

Hand adjustments say how they combine (:class:`Mode`): an override replaces the earlier ones of
its target (or adds points to them, or drops them) and applies to the submission it was made on
only: a newer submission is graded without it, and its documents list it under
``"stale_overrides"`` until a person makes a new one or drops it. A late penalty replaces the
earlier ones of its assignment or stacks on them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, func, inspect, insert, select, text
from sqlalchemy.schema import CreateColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from autograder.gradebook.models import (
    AuditEntry, Base, Grading, LatePenalty, Mode, Override, Setting, Student, Submission, SubmittedFile, TestRow,
)
from autograder.errors import DlgradeError
from autograder.roster import Roster, RosterIndex, find_student
from autograder.states import State
from autograder.submission import MAX_SOURCE_BYTES, content_sha256


class GradebookError(DlgradeError):
    """A request the gradebook cannot carry out; the message says why."""


class GradebookWriteError(GradebookError):
    """A grading could not be written (a full disk, a lost connection): nothing of it was recorded."""


# Verdicts older versions recorded for a failure of dlgrade itself (a crashed worker, an exception
# in the judge), before the states had one vocabulary: tool failures, never grades.
_LEGACY_TOOL_FAILURES = ("error",)
_NOT_GRADES = tuple(s.value for s in State if not s.records_score) + _LEGACY_TOOL_FAILURES


def verdict_state(verdict: str) -> State:
    """The :class:`State` of a stored verdict (an older ``"error"`` is a tool failure)."""
    return State.TOOL_FAILURE if verdict in _LEGACY_TOOL_FAILURES else State(verdict)


def checks_key(checks_version: dict) -> str:
    """One string for {assignment: checks version}: equal keys mean the same checks graded."""
    return hashlib.sha256(json.dumps(checks_version, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class GradedIndex:
    """The gradings a gradebook holds (tool failures excluded), as (student, assignment, content
    sha256, checks key, seed): :meth:`Gradebook.graded_index`."""
    keys: frozenset[tuple[str, str, str, str, int]]
    recorded: dict[str, frozenset[str]]

    def is_graded(self, student: str, assignment: str, content_sha256: str, key: str, seed: int) -> bool:
        """Whether this student's ``assignment`` was graded already from this content, with these
        checks (``key``: :func:`checks_key` of ``{assignment: version}``) and this seed (a row an
        older version wrote for a failure of the tool is no grading: that content is graded again)."""
        return (student, assignment, content_sha256, key, seed) in self.keys

    def recorded_assignments(self, student: str) -> frozenset[str]:
        """The assignments the gradebook holds a grading of for ``student``."""
        return self.recorded.get(student, frozenset())


@dataclass(frozen=True)
class StagedFile:
    """An assignment's file as grade-batch staged and graded it: its staged name and bytes."""

    name: str  # <assignment>.py or <assignment>.ipynb
    content: bytes

    @property
    def sha256(self) -> str:
        """Its content hash, the grading's ``content_sha256``."""
        return content_sha256(self.name, self.content)


@dataclass(frozen=True)
class GradedFile:
    """The latest grading of one (student, assignment) and the file it graded (``name`` and
    ``content`` None when the gradebook has none: ``kept`` False, it had none to keep; None, it
    was recorded before the gradebook kept files)."""

    student: str
    assignment: str
    verdict: State
    kept: bool | None
    name: str | None = None
    content: bytes | None = None


@dataclass
class StudentInfo:
    id: str
    name: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    section: str = ""
    login: str = ""
    email: str = ""
    on_roster: bool = False

    @property
    def label(self) -> str:
        """``Name (id)``, or the id alone when the name is unknown: how people are shown."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class RosterImport:
    """What a roster import changed: ids added, ids whose name/login/email/section changed, ids unchanged."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]


def _info(row: Student) -> StudentInfo:
    return StudentInfo(row.id, row.name, row.lms_id, row.sis_user_id, row.section, row.login, row.email,
                       bool(row.on_roster))


@dataclass
class AssignmentGrade:
    assignment: str
    score: float  # after overrides and penalties
    max_score: float
    status: str  # a State
    exercises: dict[str, float] = field(default_factory=dict)  # "<assignment>.<function>" -> points
    reason: str = ""  # why it is not graded (not gradable, missing), else ""


@dataclass
class StudentGrades:
    student: StudentInfo
    assignments: dict[str, AssignmentGrade]
    adjustments: list[dict]
    stale_overrides: list[dict] = field(default_factory=list)  # made on another submission: not applied

    @property
    def total(self) -> float:
        return round(sum(a.score for a in self.assignments.values()), 6)


class Gradebook:
    def __init__(self, engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> "Gradebook":
        """Open the gradebook at ``url`` or at a SQLite file path.

        ``create``: make it (file and tables) when it does not exist, as a grading run does.
        Without it (every command that only reads or adjusts grades), a gradebook that does not
        exist is a :class:`GradebookError` rather than a new empty one.
        """
        engine, shown, database = engine_for(url)
        if not create and database is not None and not Path(database).is_file():
            engine.dispose()
            raise GradebookError(f"no gradebook at {database}: check --db (a grading run with "
                                 "`dlgrade grade-batch` makes one)")
        try:
            if not create and not inspect(engine).has_table(Grading.__tablename__):
                raise GradebookError(f"{shown} holds no dlgrade gradebook: check --db (a grading run with "
                                     "`dlgrade grade-batch` makes one)")
            outdated = outdated_schema(engine)
            if outdated:
                raise GradebookError(
                    f"the gradebook {shown} was written by an older dlgrade ({outdated}): this one records grades "
                    f"per student and assignment; run `dlgrade upgrade-gradebook --db {url}` to convert it (or "
                    "grade into a new gradebook with --db)")
            _create_tables(engine)  # and the columns a newer dlgrade added that need no conversion
        except GradebookError:
            engine.dispose()
            raise
        except Exception as error:
            engine.dispose()
            raise GradebookError(f"cannot open the gradebook {shown}: {str(error).splitlines()[0]}") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ grading runs
    def course_seed(self) -> int:
        """The seed this gradebook grades with unless told otherwise (made once, then kept)."""
        with self._session.begin() as session:
            row = session.get(Setting, "seed")
            if row is None:
                row = Setting(key="seed", value=str(random.SystemRandom().randrange(2**31)))
                session.add(row)
            return int(row.value)

    def is_graded(self, student: str, assignment: str, content_sha256: str, key: str, seed: int) -> bool:
        """:meth:`GradedIndex.is_graded` (a batch asks :meth:`graded_index` once instead)."""
        return self.graded_index().is_graded(student, assignment, content_sha256, key, seed)

    def graded_index(self) -> GradedIndex:
        """Every grading's skip key, for every student at once: one query for a whole batch
        instead of one per (student, assignment)."""
        with self._session() as session:
            rows = session.execute(select(Grading.student_id, Grading.assignment, Grading.content_sha256,
                                          Grading.checks_key, Grading.seed)
                                   .where(Grading.verdict.not_in(_NOT_GRADES))).all()
        recorded: dict[str, set[str]] = {}
        for row in rows:
            recorded.setdefault(row[0], set()).add(row[1])
        return GradedIndex(frozenset(tuple(row) for row in rows),
                           {student: frozenset(names) for student, names in recorded.items()})

    def recorded_assignments(self, student: str) -> frozenset[str]:
        """:meth:`GradedIndex.recorded_assignments`."""
        return self.graded_index().recorded_assignments(student)

    def record(self, student: StudentInfo, sha256: str, path: str, notes: list[str], verdict: str,
               document: dict, actor: str = "dlgrade grade-batch", reason: str = "",
               hashes: dict[str, str] | None = None, files: Mapping[str, StagedFile] | None = None) -> list[int]:
        """Store one submission's result in one transaction: its student and submission, and per
        assignment of ``document`` a grading with its tests and an audit entry. ``hashes``: the
        content hash of each assignment's file (default: ``sha256``, the whole submission's), what
        :meth:`is_graded` compares. ``files``: the file graded, per assignment, to keep (one
        whose content the gradebook holds already is not written again; one over the intake's
        limit is not kept); an assignment without one has none to keep (too large, unreadable,
        not handed in). Without ``files`` (None) the gradings say nothing about their files.
        Returns the new gradings' ids, in the document's order.

        ``verdict`` must be a :class:`State` that records a score: a failure of the tool is never
        recorded (:class:`GradebookError`). A write that fails (a full disk, a lost connection)
        records nothing and is a :class:`GradebookWriteError`.
        """
        state = verdict_state(verdict)
        if not state.records_score:
            raise GradebookError(f"{student.id}: a {state.label} is not a grade, so it is never recorded")
        hashes = hashes or {}
        for assignment, file in (files or {}).items():
            if file.sha256 != hashes.get(assignment, sha256):
                raise GradebookError(f"{student.id}: {assignment}: the file given to keep is not the content graded")
        try:
            return self._record(student, sha256, path, notes, state, document, actor, reason, hashes, files)
        except (DBAPIError, OSError) as error:
            first = (str(getattr(error, "orig", None) or error).splitlines() or [type(error).__name__])[0]
            raise GradebookWriteError(f"the gradebook could not record the grading of {student.id} ({first}): "
                                      "nothing was recorded for it") from None

    def _record(self, student: StudentInfo, sha256: str, path: str, notes: list[str], verdict: State,
                document: dict, actor: str, reason: str, hashes: dict[str, str],
                files: Mapping[str, StagedFile] | None) -> list[int]:
        with self._session.begin() as session:
            row = session.get(Student, student.id)
            if row is None:
                row = Student(id=student.id, name=student.name, lms_id=student.lms_id,
                              sis_user_id=student.sis_user_id, section=student.section)
                session.add(row)
            else:
                row.name, row.lms_id = row.name or student.name, row.lms_id or student.lms_id
            submission = session.execute(select(Submission).where(
                Submission.student_id == student.id, Submission.sha256 == sha256)).scalar_one_or_none()
            if submission is None:
                submission = Submission(student_id=student.id, sha256=sha256, path=path, notes=list(notes))
                session.add(submission)
                session.flush()
            overrides = list(session.scalars(select(Override).where(Override.student_id == student.id)
                                             .order_by(Override.id)))
            shown_before = self._current_submissions(session, student.id) if overrides else {}
            parts = split_document(document)
            kept = None if files is None else {a: files[a] for a in parts
                                               if a in files and len(files[a].content) <= MAX_SOURCE_BYTES}
            ids = self._record_parts(session, student.id, submission.id, parts, verdict, sha256, hashes, actor,
                                     reason, kept)
            if kept:  # each file's hash is its grading's (checked in record)
                self._keep_files(session, {hashes.get(a, sha256): file for a, file in kept.items()})
            if overrides:
                self._audit_overrides_left_behind(session, student.id, overrides, shown_before, sha256,
                                                  [a["assignment"] for a in document.get("assignments", [])])
            session.flush()
            return ids

    @staticmethod
    def _record_parts(session, student: str, submission_id: int, parts: dict[str, dict], verdict: State,
                      sha256: str, hashes: dict[str, str], actor: str, reason: str,
                      kept: dict[str, StagedFile] | None) -> list[int]:
        """One grading per (student, assignment) of ``parts``, with its test rows and audit entry
        (``kept``: the assignments whose file is kept; None: unknown, recorded without files).
        A constant number of statements whatever the number of assignments: the latest earlier
        grading of each in one query, the gradings in one flush, all test rows in one multi-row
        INSERT (the ORM would add them one by one), the audit entries in the commit's flush."""
        latest = select(Grading.assignment, func.max(Grading.id).label("id")).where(
            Grading.student_id == student, Grading.assignment.in_(list(parts)),
            Grading.verdict.not_in(_NOT_GRADES)).group_by(Grading.assignment).subquery()
        previous = {g.assignment: g for g in session.scalars(select(Grading).join(latest, Grading.id == latest.c.id))}
        gradings = []
        for assignment, part in parts.items():
            content = hashes.get(assignment, sha256)
            gradings.append(Grading(
                submission_id=submission_id, student_id=student, assignment=assignment, content_sha256=content,
                checks_key=checks_key(part.get("checks_version", {})),
                checks_version=part.get("checks_version", {}), seed=int(part["seed"]),
                device=part.get("device", "cpu"), dlgrade_version=part.get("dlgrade_version", ""),
                insecure=bool(part.get("insecure", False)), verdict=assignment_verdict(verdict, part).value,
                score=float(part["score"]), max_score=float(part["max_score"]),
                duration_s=float(part.get("duration_s", 0.0)), document=part,
                file_kept=None if kept is None else assignment in kept,
            ))
        session.add_all(gradings)
        session.flush()
        rows = [{"grading_id": grading.id, "name": t["name"], "assignment": t["assignment"],
                 "exercise": t["exercise"], "outcome": t["outcome"], "score": float(t["score"]),
                 "max_score": float(t["max_score"]), "mistake": t.get("mistake"), "message": t.get("message", "")}
                for grading, part in zip(gradings, parts.values()) for t in part["tests"]]
        if rows:
            session.execute(insert(TestRow), rows)
        for grading in gradings:
            before = previous.get(grading.assignment)
            regrade = before is not None and before.content_sha256 == grading.content_sha256
            session.add(AuditEntry(
                actor=actor, action="regraded" if regrade else "graded", student_id=student, target=grading.assignment,
                old="" if before is None else f"{before.score:g}/{before.max_score:g}",
                new=f"{grading.score:g}/{grading.max_score:g} ({verdict_state(grading.verdict).label})",
                reason=reason or ("the same content graded again" if regrade else
                                  "new submission" if before is None else "new content or new checks"),
            ))
        return [grading.id for grading in gradings]

    @staticmethod
    def _keep_files(session, files: dict[str, StagedFile]) -> None:
        """Keep ``files`` ({content hash: file}) that the gradebook does not hold yet: one query for
        those it holds, one multi-row INSERT of the others. A file another run kept in the meantime
        is no conflict (the INSERT skips it)."""
        present = Gradebook._kept_already(session, list(files))
        rows = [{"content_sha256": sha, "name": file.name, "content": file.content, "size": len(file.content)}
                for sha, file in files.items() if sha not in present]
        if rows:
            session.execute(_insert_skipping_present(session.get_bind().dialect.name), rows)

    @staticmethod
    def _kept_already(session, hashes: list[str]) -> set[str]:
        return set(session.scalars(select(SubmittedFile.content_sha256).where(SubmittedFile.content_sha256.in_(hashes))))

    # ------------------------------------------------------------ the roster
    def import_roster(self, roster: Roster, actor: str = "dlgrade roster import") -> RosterImport:
        """Upsert the roster's students (one transaction): new ids are added, known ones get the
        roster's name, login, email, section and ids (an empty cell keeps what was known); nothing
        is ever duplicated. Each added or changed student gets an audit entry."""
        added, updated, unchanged = [], [], []
        fields = ("name", "login", "email", "lms_id", "sis_user_id", "section")
        with self._session.begin() as session:
            for entry in roster.entries:
                row = session.get(Student, entry.id)
                if row is None:
                    session.add(Student(id=entry.id, on_roster=True, **{f: getattr(entry, f) for f in fields}))
                    added.append(entry.id)
                    session.add(AuditEntry(actor=actor, action="roster", student_id=entry.id, target="roster",
                                           new=entry.name, reason=f"added from {roster.format.label}"))
                    continue
                changes = {f: getattr(entry, f) for f in fields if getattr(entry, f) and getattr(entry, f) != getattr(row, f)}
                if not changes and row.on_roster:
                    unchanged.append(entry.id)
                    continue
                old = "; ".join(f"{f}={getattr(row, f)}" for f in changes)
                for name, value in changes.items():
                    setattr(row, name, value)
                row.on_roster = True
                updated.append(entry.id)
                session.add(AuditEntry(actor=actor, action="roster", student_id=entry.id, target="roster", old=old,
                                       new="; ".join(f"{f}={v}" for f, v in changes.items()) or "on the roster",
                                       reason=f"updated from {roster.format.label}"))
        return RosterImport(added, updated, unchanged)

    def roster_students(self) -> list[StudentInfo]:
        """The students a roster import brought in, by id."""
        return [s for s in self.students().values() if s.on_roster]

    def missing_students(self, assignment: str | None = None) -> list[StudentInfo]:
        """The roster's students with no recorded submission (of ``assignment``, when given), by id.

        For the batch summary and, per assignment, the "missing" state: a student on the roster
        who handed nothing in is listed here rather than being absent from every table.
        """
        query = (select(Grading.student_id, Grading.assignment, Grading.verdict)
                 .where(Grading.verdict.not_in(_NOT_GRADES)).order_by(Grading.id))
        if assignment is not None:
            query = query.where(Grading.assignment == assignment)
        with self._session() as session:  # three columns: no grading's document is loaded
            # in id order: a later grading replaces an earlier one
            latest = {(student, graded): verdict for student, graded, verdict in session.execute(query)}
        # a MISSING grading (recorded for a roster student without a file) is no submission
        handed_in = {student for (student, _), verdict in latest.items() if verdict != State.MISSING}
        return [s for s in self.roster_students() if s.id not in handed_in]

    def roster_index(self) -> RosterIndex:
        """Who each submission of a batch belongs to, by the roster (:class:`RosterIndex`)."""
        return RosterIndex(self.roster_students())

    def find_student(self, query: str) -> StudentInfo:
        """The one student ``query`` names (id, login, email, LMS id or name; see
        :func:`autograder.roster.find_student`); a :class:`~autograder.roster.StudentNotFound`
        with the closest matches otherwise."""
        return find_student(query, list(self.students().values()))
    @staticmethod
    def _current_submissions(session, student: str) -> dict[str, str]:
        """{assignment: sha256 of the submission its latest grading graded} for ``student`` (a
        grading is one assignment's: its column says which, no document is loaded)."""
        return dict(session.execute(
            select(Grading.assignment, Submission.sha256).join(Submission, Grading.submission_id == Submission.id)
            .where(Grading.student_id == student, Grading.verdict.not_in(_NOT_GRADES)).order_by(Grading.id)).all())

    @staticmethod
    def _audit_overrides_left_behind(session, student: str, rows: list[Override], before: dict[str, str],
                                     sha256: str, assignments: list[str]) -> None:
        """An audit entry for each of the student's overrides (``rows``) that applied to the
        submission shown before and does not apply to the one just graded (made on another one)."""
        for (assignment, test), target_rows in _by_target(rows).items():
            if assignment not in assignments or before.get(assignment) in (None, sha256):
                continue
            _, was_stale = resolve_overrides(target_rows, before[assignment])
            _, stale = resolve_overrides(target_rows, sha256)
            for row in stale:
                if row in was_stale:
                    continue
                session.add(AuditEntry(
                    actor="dlgrade", action="override_not_applied", student_id=student,
                    target=_target_label(assignment, test), old=describe_override(row),
                    new=f"not applied to submission {sha256[:12]}",
                    reason=f"made on submission {(row.sha256 or '')[:12]}: make a new override or drop it "
                           f"(dlgrade override --drop)"))

    # ------------------------------------------------------------ reading
    def students(self) -> dict[str, StudentInfo]:
        with self._session() as session:
            return {s.id: _info(s) for s in session.scalars(select(Student).order_by(Student.id))}

    def gradings(self, student: str | None = None) -> list[Grading]:
        with self._session() as session:
            query = select(Grading).order_by(Grading.id)
            if student is not None:
                query = query.where(Grading.student_id == student)
            return list(session.scalars(query))

    def graded_contents(self) -> dict[tuple[str, str], str]:
        """{(student, assignment): content hash of the file its latest grading graded} (three
        columns; no document is loaded)."""
        with self._session() as session:
            return {(student, assignment): content for student, assignment, content in session.execute(
                select(Grading.student_id, Grading.assignment, Grading.content_sha256)
                .where(Grading.verdict.not_in(_NOT_GRADES)).order_by(Grading.id))}

    def graded_files(self, assignments: Iterable[str]) -> list[GradedFile]:
        """For each (student, assignment) of ``assignments``: its latest grading (tool failures
        excluded) and the file it graded, when the gradebook keeps it; by student, then assignment.
        One query (no grading's document is loaded)."""
        latest = (select(func.max(Grading.id).label("id"))
                  .where(Grading.assignment.in_(list(assignments)), Grading.verdict.not_in(_NOT_GRADES))
                  .group_by(Grading.student_id, Grading.assignment).subquery())
        query = (select(Grading.student_id, Grading.assignment, Grading.verdict, Grading.file_kept,
                        SubmittedFile.name, SubmittedFile.content)
                 .join(latest, Grading.id == latest.c.id)
                 .outerjoin(SubmittedFile, SubmittedFile.content_sha256 == Grading.content_sha256)
                 .order_by(Grading.student_id, Grading.assignment))
        with self._session() as session:
            return [GradedFile(student, assignment, verdict_state(verdict), kept, name, content)
                    for student, assignment, verdict, kept, name, content in session.execute(query)]

    def test_rows(self, grading_id: int) -> list[TestRow]:
        with self._session() as session:
            return list(session.scalars(select(TestRow).where(TestRow.grading_id == grading_id).order_by(TestRow.id)))

    def audit_trail(self, student: str | None = None) -> list[AuditEntry]:
        with self._session() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if student is not None:
                query = query.where(AuditEntry.student_id == student)
            return list(session.scalars(query))

    def result_documents(self, assignment: str | None = None, student: str | None = None, *,
                         adjusted: bool = True) -> list[dict]:
        """Per student, the native result JSON of the latest grading of each assignment.

        Overrides and late penalties are applied (listed under ``"adjustments"``; overrides made
        on another submission under ``"stale_overrides"``); each document gets a ``"student"``
        key, ``"verdict"`` (a :class:`State` that records a score), ``"submissions"``
        ({assignment: sha256 of the submission graded}) and the ``"gradings"`` it comes from.
        With ``assignment`` or ``student``, only theirs; ``adjusted=False``: as graded.
        """
        latest: dict[str, dict[str, Grading]] = {}
        shas: dict[str, dict[str, str]] = {}
        with self._session() as session:
            query = (select(Grading, Submission.sha256).join(Submission, Grading.submission_id == Submission.id)
                     .where(Grading.verdict.not_in(_NOT_GRADES)).order_by(Grading.id))
            if student is not None:
                query = query.where(Grading.student_id == student)
            for grading, sha in session.execute(query):  # in id order: later gradings replace earlier ones
                for entry in grading.document.get("assignments", []):
                    latest.setdefault(grading.student_id, {})[entry["assignment"]] = grading
                    shas.setdefault(grading.student_id, {})[entry["assignment"]] = sha
            overrides = list(session.scalars(select(Override).order_by(Override.id)))
            penalties = list(session.scalars(select(LatePenalty).order_by(LatePenalty.id)))
        documents = []
        for who, per_assignment in sorted(latest.items()):
            wanted = {a: g for a, g in per_assignment.items() if assignment in (None, a)}
            if not wanted:
                continue
            document = _merge(wanted)
            document["student"] = who
            document["submissions"] = {a: shas[who][a] for a in wanted}
            if adjusted:
                _adjust(document, [o for o in overrides if o.student_id == who],
                        [p for p in penalties if p.student_id == who])
            documents.append(document)
        return documents

    def stale_overrides(self, student: str, submissions: dict[str, str]) -> list[dict]:
        """The overrides of ``student`` that would not apply to a grading of ``submissions``
        ({assignment: sha256}) because they were made on another submission (see
        :func:`stale_note`); empty when there are none."""
        with self._session() as session:
            rows = list(session.scalars(select(Override).where(Override.student_id == student)
                                        .order_by(Override.id)))
        found = []
        for (assignment, test), target_rows in _by_target(rows).items():
            if assignment in submissions:
                found += [_stale_entry(assignment, test, row) for row in
                          resolve_overrides(target_rows, submissions[assignment])[1]]
        return found

    def grades(self, assignment: str | None = None) -> list[StudentGrades]:
        """Final scores per student, assignment and exercise (what the exports write)."""
        students = self.students()
        table = []
        for document in self.result_documents(assignment):
            per_assignment = {}
            for entry in document["assignments"]:
                exercises: dict[str, float] = {}
                for test in document["tests"]:
                    if test["assignment"] == entry["assignment"]:
                        exercises[test["exercise"]] = round(exercises.get(test["exercise"], 0.0) + test["score"], 6)
                per_assignment[entry["assignment"]] = AssignmentGrade(
                    entry["assignment"], entry["score"], entry["max_score"], entry["status"], exercises,
                    entry.get("reason", "") if entry["status"] != State.GRADED else "")
            table.append(StudentGrades(students[document["student"]], per_assignment, document["adjustments"],
                                       document["stale_overrides"]))
        return table

    # ------------------------------------------------------------ adjustments by hand
    def _graded_document(self, student: str) -> dict:
        found = self.result_documents(student=student, adjusted=False)
        if not found:
            raise GradebookError(f"no graded submission for student {student!r}")
        return found[0]

    def _rows(self, table, student: str) -> list:
        with self._session() as session:
            return list(session.scalars(select(table).where(table.student_id == student).order_by(table.id)))

    def override(self, student: str, target: str, score: float | None, reason: str, actor: str,
                 assignment: str | None = None, mode: Mode | str = Mode.REPLACE) -> str:
        """Change the score of a test (by name) or of a whole assignment; return what was changed.

        ``mode``: ``replace`` sets it to ``score`` in place of earlier overrides, ``add`` adds
        ``score`` points (negative: deducts) to it as it stands, ``drop`` ends every override of
        the target. The override is tied to the submission graded now for that assignment.
        """
        _require(reason, actor)
        mode = Mode(mode)
        document = self._graded_document(student)
        entries = {a["assignment"]: a for a in document["assignments"]}
        if target in entries:
            assignment, test, base, maximum = target, None, entries[target]["score"], entries[target]["max_score"]
        else:
            matches = [t for t in document["tests"] if t["name"] == target and assignment in (None, t["assignment"])]
            if not matches:
                raise GradebookError(f"{student} has no assignment or test named {target!r}")
            if len(matches) > 1:
                raise GradebookError(f"several tests are named {target!r}: name the assignment too")
            assignment, test, base, maximum = matches[0]["assignment"], target, matches[0]["score"], matches[0]["max_score"]
        label = _target_label(assignment, test)
        sha = document["submissions"][assignment]
        rows = self._rows(Override, student)
        if test is None:  # an assignment's overrides come on top of its tests' overrides
            base = _score_of(document, assignment, [r for r in rows if r.test is not None], [])
        earlier = _by_target(rows).get((assignment, test), [])
        applied, stale = resolve_overrides(earlier, sha)
        old = overridden(base, applied)
        shaping = effective(applied)
        row = Override(student_id=student, assignment=assignment, test=test, mode=mode.value, sha256=sha,
                       score=0.0 if mode is Mode.DROP else float(score), reason=reason, actor=actor)
        if mode is Mode.DROP:
            if not applied and not stale:
                raise GradebookError(f"{student} has no override of {label} to drop")
            new = f"dropped ({'; '.join(describe_override(r) for r in shaping + stale)}); back to {base:g}"
        else:
            if score is None:
                raise GradebookError("give the score (or the points to add, with --add)")
            value = overridden(base, applied + [row], clamp=None)
            if not 0 <= value <= maximum:
                raise GradebookError(f"the score must be between 0 and {maximum:g}"
                                     + (f" (it would be {value:g})" if mode is Mode.ADD else ""))
            new = f"{value:g} ({describe_override(row)}" + (
                f"; replaces {', '.join(describe_override(r) for r in shaping + stale)})" if mode is Mode.REPLACE
                and (shaping or stale) else f"; on top of {', '.join(describe_override(r) for r in shaping)})"
                if shaping else ")")
        with self._session.begin() as session:
            session.add(row)
            session.add(AuditEntry(actor=actor, action="override_dropped" if mode is Mode.DROP else "override",
                                   student_id=student, target=label, old=f"{old:g}", new=new, reason=reason))
        return label

    def late_penalty(self, student: str, assignment: str, penalty: str, reason: str, actor: str,
                     mode: Mode | str = Mode.REPLACE) -> str:
        """Deduct ``penalty`` ("10%" of the score, or "5" points) from an assignment.

        ``mode``: ``replace`` ends the assignment's earlier penalties, ``add`` stacks on them (the
        percentage is taken from the score the earlier ones left). Returns what the audit says.
        """
        _require(reason, actor)
        mode = Mode(mode)
        if mode is Mode.DROP:
            raise GradebookError("a late penalty is replaced (a penalty of 0 waives it) or added, not dropped")
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", str(penalty))
        if not match:
            raise GradebookError(f"a penalty is a percentage (10%) or points (5), not {penalty!r}")
        value, percent = float(match[1]), bool(match[2])
        if percent and value > 100:
            raise GradebookError("a percentage penalty is at most 100%")
        document = self._graded_document(student)
        if assignment not in {a["assignment"] for a in document["assignments"]}:
            raise GradebookError(f"no graded {assignment} for student {student!r}")
        overrides, penalties = self._rows(Override, student), self._rows(LatePenalty, student)
        row = LatePenalty(student_id=student, assignment=assignment, percent=value if percent else None,
                          points=None if percent else value, mode=mode.value, reason=reason, actor=actor)
        before = _score_of(document, assignment, overrides, penalties)
        after = _score_of(document, assignment, overrides, penalties + [row])
        earlier = active_penalties([p for p in penalties if p.assignment == assignment])
        relation = (f"; replaces {', '.join(map(describe_penalty, earlier))}" if mode is Mode.REPLACE and earlier
                    else f"; stacks on {', '.join(map(describe_penalty, earlier))}" if earlier else "")
        new = f"{after:g} ({describe_penalty(row)}{relation})"
        with self._session.begin() as session:
            session.add(row)
            session.add(AuditEntry(actor=actor, action="late_penalty", student_id=student, target=assignment,
                                   old=f"{before:g}", new=new, reason=reason))
        return new


def engine_for(url: str):
    """The SQLAlchemy engine of ``url`` (a URL, or a SQLite file path), how to name it to people, and
    the SQLite file it names (None for another database, or SQLite in memory)."""
    address = str(url)
    if "://" not in address:
        address = f"sqlite:///{address}"
    try:
        parsed = make_url(address)
    except Exception as error:
        raise GradebookError(f"not a database URL: {url} ({error})") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the declared driver
    engine = create_engine(parsed)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    database = parsed.database if sqlite and parsed.database not in (None, "", ":memory:") else None
    return engine, parsed.render_as_string(hide_password=True), database


def _insert_skipping_present(dialect: str):
    """An INSERT of kept files that skips a content hash already present (SQLite's and
    PostgreSQL's ON CONFLICT DO NOTHING; another database gets a plain INSERT)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        return insert(SubmittedFile)
    return dialect_insert(SubmittedFile).on_conflict_do_nothing(index_elements=[SubmittedFile.content_sha256])


def _require(reason: str, actor: str) -> None:
    if not (reason or "").strip() or not (actor or "").strip():
        raise GradebookError("say why (--reason) and who (--by): both go into the audit trail")


def _create_tables(engine) -> None:
    """Create missing tables; a second process creating them at the same instant wins the race once."""
    try:
        Base.metadata.create_all(engine)
    except Exception:  # noqa: BLE001 - "already exists" from a concurrent creator: the retry sees the tables
        time.sleep(0.5)
        Base.metadata.create_all(engine)
    _add_missing_columns(engine)


def _addable(column) -> bool:
    """Whether ``column`` can be added to an existing table in place: rows already there get NULL
    or its server default, no data needs converting."""
    return column.server_default is not None or column.nullable


def missing_columns(bind) -> tuple[list, list[str]]:
    """The columns this dlgrade's tables declare and the database's tables (those that exist) lack:
    (those :func:`_addable` in place, as ``(table, column)``; the others, as ``"table.column"``)."""
    inspector = inspect(bind)
    addable, other = [], []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                if _addable(column):
                    addable.append((table, column))
                else:
                    other.append(f"{table.name}.{column.name}")
    return addable, other


def outdated_schema(bind) -> str:
    """Why the database holds gradebook tables of a layout that needs converting (``dlgrade
    upgrade-gradebook``), or "": the columns it lacks that cannot be added in place."""
    _, other = missing_columns(bind)
    if not other:
        return ""
    layout = "one grading per whole submission; " if f"{Grading.__tablename__}.assignment" in other else ""
    return f"{layout}no column {', '.join(other)}"


def add_column(connection, table, column) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for one :func:`_addable` column, with its server default."""
    spec = CreateColumn(column).compile(dialect=connection.dialect)
    connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))


def _add_missing_columns(engine) -> None:
    """Add the columns a newer dlgrade declares nullable or with a server default to an older
    gradebook's tables: create_all makes missing tables only."""
    for table, column in missing_columns(engine)[0]:
        try:
            with engine.begin() as connection:
                add_column(connection, table, column)
        except Exception:  # a second process added it at the same instant: fine if it is there now
            if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                raise


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def split_document(document: dict) -> dict[str, dict]:
    """A submission's native result as one document per assignment: that entry, its tests and
    checks version; the rest (seed, device, versions) shared. The submission's grading time is
    shared evenly among its assignments (one child graded them in one go), so the parts add up.

    The parts are new containers that share their leaves (each test's dict, each entry) with
    ``document``: a part is stored as JSON when it is recorded, and nothing changes a leaf."""
    entries = document["assignments"]
    tests: dict[str, list] = {}
    for test in document["tests"]:
        tests.setdefault(test["assignment"], []).append(test)
    parts = {}
    for entry in entries:
        name = entry["assignment"]
        part = {k: v for k, v in document.items() if k not in ("assignments", "tests", "checks_version")}
        part.update(
            assignments=[entry],
            tests=tests.get(name, []),
            checks_version={name: document["checks_version"][name]} if name in document.get("checks_version", {})
            else {},
            score=entry["score"], max_score=entry["max_score"],
            status=entry["status"] if entry["status"] in (State.NOT_GRADABLE, State.MISSING) else State.GRADED,
            reason=entry.get("reason", "") if entry["status"] == State.NOT_GRADABLE else "",
            duration_s=round(float(document.get("duration_s", 0.0)) / len(entries), 3),
        )
        parts[name] = part
    return parts


def assignment_verdict(verdict: str, part: dict) -> State:
    """The state of one assignment of a submission whose run ended in ``verdict``: a timeout or a
    tool failure is the whole submission's; otherwise the assignment's own status."""
    if verdict in (State.GRADED, State.NOT_GRADABLE):
        return State(part["assignments"][0]["status"])
    return State(verdict) if verdict in State.__members__.values() else State.TOOL_FAILURE


def _merge(latest: dict[str, Grading]) -> dict:
    """One document from the latest grading of each assignment (each grading holds one assignment),
    the assignments in the order ``latest`` lists them (the order they were first graded in)."""
    gradings = list(dict.fromkeys(latest.values()))
    document = copy.deepcopy(max(gradings, key=lambda g: g.id).document)
    document["assignments"], document["tests"], document["checks_version"] = [], [], {}
    for assignment, grading in latest.items():
        source = grading.document
        document["assignments"] += [copy.deepcopy(a) for a in source["assignments"] if a["assignment"] == assignment]
        document["tests"] += [copy.deepcopy(t) for t in source["tests"] if t["assignment"] == assignment]
        if assignment in source.get("checks_version", {}):
            document["checks_version"][assignment] = source["checks_version"][assignment]
    entries = document["assignments"]
    document["score"] = round(sum(a["score"] for a in entries), 6)
    document["max_score"] = round(sum(a["max_score"] for a in entries), 6)
    document["duration_s"] = round(sum(float(g.document.get("duration_s", 0.0)) for g in gradings), 3)
    present = [a for a in entries if a.get("file") is not None]
    if present and all(a["status"] == State.NOT_GRADABLE for a in present):
        document["status"] = State.NOT_GRADABLE
    elif all(a["status"] == State.MISSING for a in entries):
        document["status"] = State.MISSING
    else:
        document["status"] = State.GRADED
    document["reason"] = "; ".join(f"{a['assignment']}: {a['reason']}" for a in entries
                                   if a["status"] == State.NOT_GRADABLE)
    document["gradings"] = sorted(g.id for g in gradings)
    # a timeout's document says not_gradable with timeout tests; the verdict says timeout
    verdicts = {verdict_state(g.verdict) for g in gradings}
    document["verdict"] = State.TIMEOUT if State.TIMEOUT in verdicts else document["status"]
    document["adjustments"] = []
    document["stale_overrides"] = []
    return document


# ------------------------------------------------------------ how adjustments combine (pure functions)
def _mode(row) -> Mode:
    return Mode(row.mode) if row.mode else Mode.REPLACE  # rows made before modes existed replaced


def _by_target(overrides: list[Override]) -> dict[tuple[str, str | None], list[Override]]:
    """Overrides grouped by (assignment, test), each group in the order they were made."""
    groups: dict[tuple[str, str | None], list[Override]] = {}
    for row in overrides:
        groups.setdefault((row.assignment, row.test), []).append(row)
    return groups


def resolve_overrides(rows: list[Override], sha256: str) -> tuple[list[Override], list[Override]]:
    """(applied, stale) for the overrides of one target, in the order made, when the submission
    ``sha256`` is the one graded.

    A drop ends every override before it. Of the rest, those made on ``sha256`` (or before
    overrides were tied to a submission) apply, in order; those made on another submission after
    the last one that applies are stale: shown, never applied, until a new override or a drop.
    """
    drops = [i for i, row in enumerate(rows) if _mode(row) is Mode.DROP]
    live = rows[drops[-1] + 1:] if drops else list(rows)
    applied = [row for row in live if row.sha256 in (None, sha256)]
    after = live.index(applied[-1]) + 1 if applied else 0
    stale = [row for row in live[after:] if row.sha256 not in (None, sha256)]
    return applied, stale


def effective(applied: list[Override]) -> list[Override]:
    """The overrides that still shape the score: the last replace and the adds after it."""
    replaces = [i for i, row in enumerate(applied) if _mode(row) is Mode.REPLACE]
    return applied[replaces[-1]:] if replaces else list(applied)


def overridden(score: float, applied: list[Override], clamp: float | None = None) -> float:
    """``score`` after the overrides that apply (a replace sets it, an add adds to it); with
    ``clamp``, kept within [0, clamp]."""
    for row in applied:
        score = row.score if _mode(row) is Mode.REPLACE else score + row.score
    score = round(score, 6)
    return score if clamp is None else min(max(score, 0.0), clamp)


def active_penalties(rows: list[LatePenalty]) -> list[LatePenalty]:
    """The late penalties of one assignment that count: the last replace and the adds after it."""
    replaces = [i for i, row in enumerate(rows) if _mode(row) is not Mode.ADD]
    return rows[replaces[-1]:] if replaces else list(rows)


def describe_override(row: Override) -> str:
    mode = _mode(row)
    if mode is Mode.ADD:
        return f"{row.score:+g} points added by {row.actor}"
    return f"set to {row.score:g} by {row.actor}" if mode is Mode.REPLACE else f"dropped by {row.actor}"


def describe_penalty(row: LatePenalty) -> str:
    return f"-{row.percent:g}%" if row.percent is not None else f"-{row.points:g} points"


def _target_label(assignment: str, test: str | None) -> str:
    return f"{assignment}: {test}" if test else assignment


def _stale_entry(assignment: str, test: str | None, row: Override) -> dict:
    return {"target": _target_label(assignment, test), "mode": _mode(row).value, "score": row.score,
            "by": row.actor, "reason": row.reason, "submission": (row.sha256 or "")[:12]}


def describe_adjustment(adjustment: dict, arrow: str = "→") -> str:
    """One line on an adjustment applied (an entry of a document's ``"adjustments"``)."""
    what = "late penalty" if adjustment["kind"] == "late_penalty" else "score set by hand"
    if adjustment.get("mode") == Mode.ADD:
        what = "late penalty (stacked)" if adjustment["kind"] == "late_penalty" else "points added by hand"
    return f"{what} on {adjustment['target']}: {adjustment['old']:g} {arrow} {adjustment['new']:g} ({adjustment['reason']})"


def stale_note(entry: dict) -> str:
    """One line on an override that a newer submission is graded without."""
    what = (f"{entry['score']:+g} points" if entry["mode"] == Mode.ADD else f"a score of {entry['score']:g}")
    return (f"an override of {entry['target']} ({what}, by {entry['by']}: {entry['reason']}) was made on an earlier "
            f"submission ({entry['submission']}) and is not applied to this one until it is made again or dropped")


def _score_of(document: dict, assignment: str, overrides: list[Override], penalties: list[LatePenalty]) -> float:
    """The score of ``assignment`` in an unadjusted ``document`` once these adjustments apply."""
    adjusted = copy.deepcopy(document)
    adjusted["adjustments"], adjusted["stale_overrides"] = [], []
    _adjust(adjusted, overrides, penalties)
    return next(a["score"] for a in adjusted["assignments"] if a["assignment"] == assignment)


def _adjust(document: dict, overrides: list[Override], penalties: list[LatePenalty]) -> None:
    """Apply the overrides that apply to the submissions graded (tests first, then whole
    assignments), then the late penalties that count, in the order made; list overrides made on
    another submission under ``"stale_overrides"``."""
    entries = {a["assignment"]: a for a in document["assignments"]}
    shas = document.get("submissions", {})
    groups = {key: rows for key, rows in _by_target(overrides).items() if key[0] in entries}
    for (assignment, test), rows in sorted(groups.items(), key=lambda kv: kv[0][1] is None):
        applied, stale = resolve_overrides(rows, shas.get(assignment, ""))
        document["stale_overrides"] += [_stale_entry(assignment, test, row) for row in stale]
        if not applied:
            continue
        entry = entries[assignment]
        if test is None:
            old = entry["score"]
            entry["score"] = overridden(old, applied, clamp=entry["max_score"])
            new = entry["score"]
        else:
            found = [t for t in document["tests"] if t["assignment"] == assignment and t["name"] == test]
            if not found:
                continue
            old = found[0]["score"]
            found[0]["score"] = new = overridden(old, applied, clamp=found[0]["max_score"])
            entry["score"] = round(sum(t["score"] for t in document["tests"] if t["assignment"] == assignment), 6)
        shaping = effective(applied)
        document["adjustments"].append({"kind": "override", "target": _target_label(assignment, test),
                                        "mode": _mode(shaping[-1]).value, "old": old, "new": new,
                                        "reason": "; ".join(r.reason for r in shaping),
                                        "by": ", ".join(dict.fromkeys(r.actor for r in shaping))})
    by_assignment: dict[str, list[LatePenalty]] = {}
    for row in penalties:
        if row.assignment in entries:
            by_assignment.setdefault(row.assignment, []).append(row)
    for assignment, rows in by_assignment.items():
        entry = entries[assignment]
        for penalty in active_penalties(rows):
            old = entry["score"]
            deduction = old * penalty.percent / 100 if penalty.percent is not None else penalty.points
            entry["score"] = round(max(0.0, old - deduction), 6)
            document["adjustments"].append({"kind": "late_penalty", "target": assignment, "mode": _mode(penalty).value,
                                            "old": old, "new": entry["score"], "reason": penalty.reason,
                                            "by": penalty.actor})
    document["score"] = round(sum(a["score"] for a in document["assignments"]), 6)
