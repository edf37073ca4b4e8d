"""The gradebook: record gradings (one transaction each), skip what is already graded, adjust by hand.

``Gradebook.open(url)`` takes a SQLAlchemy URL (``sqlite:///grades.db``,
``postgresql+psycopg://user@host/db``) or a plain file path (a SQLite file). Every grading is
written with its student, submission and per-test rows and an audit entry in ONE transaction,
so a run killed at any instant leaves each submission either fully recorded or absent; the
next run grades exactly the absent ones (:meth:`Gradebook.is_graded`).

Scores people see come from :meth:`result_documents`: per student, the latest grading of each
assignment, with overrides and late penalties applied and listed under ``"adjustments"``.

The roster (:meth:`Gradebook.import_roster`, from :mod:`autograder.roster`) fills in students'
names, logins, emails and sections; :meth:`Gradebook.find_student` resolves what a TA types to
one student; :meth:`Gradebook.missing_students` lists the roster's students without a submission.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, event, inspect, insert, select, text
from sqlalchemy.schema import CreateColumn
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from autograder.gradebook.models import (
    AuditEntry, Base, Grading, LatePenalty, Override, Setting, Student, Submission, TestRow,
)
from autograder.errors import DlgradeError
from autograder.roster import Roster, RosterIndex, find_student


class GradebookError(DlgradeError):
    """A request the gradebook cannot carry out; the message says why."""


def checks_key(checks_version: dict) -> str:
    """One string for {assignment: checks version}: equal keys mean the same checks graded."""
    return hashlib.sha256(json.dumps(checks_version, sort_keys=True).encode()).hexdigest()[:32]


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
    status: str
    exercises: dict[str, float] = field(default_factory=dict)  # "<assignment>.<function>" -> points


@dataclass
class StudentGrades:
    student: StudentInfo
    assignments: dict[str, AssignmentGrade]
    adjustments: list[dict]

    @property
    def total(self) -> float:
        return round(sum(a.score for a in self.assignments.values()), 6)


class Gradebook:
    def __init__(self, engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> "Gradebook":
        """Open (and create the tables of) the gradebook at ``url`` or at a SQLite file path."""
        text = str(url)
        if "://" not in text:
            text = f"sqlite:///{text}"
        try:
            parsed = make_url(text)
        except Exception as error:
            raise GradebookError(f"not a database URL: {url} ({error})") from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the declared driver
        engine = create_engine(parsed)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            _create_tables(engine)
        except Exception as error:
            raise GradebookError(f"cannot open the gradebook {parsed.render_as_string(hide_password=True)}: "
                                 f"{str(error).splitlines()[0]}") from None
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

    def is_graded(self, student: str, sha256: str, key: str, seed: int) -> bool:
        """Whether this content was graded with these checks and this seed already."""
        with self._session() as session:
            found = session.execute(
                select(Grading.id).join(Submission, Grading.submission_id == Submission.id)
                .where(Submission.student_id == student, Submission.sha256 == sha256,
                       Grading.checks_key == key, Grading.seed == seed).limit(1)).first()
            return found is not None

    def record(self, student: StudentInfo, sha256: str, path: str, notes: list[str], verdict: str,
               document: dict, actor: str = "dlgrade grade-batch", reason: str = "") -> int:
        """Store one grading (student, submission, grading, tests, audit) in one transaction."""
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
            previous = session.execute(select(Grading).where(Grading.student_id == student.id)
                                       .order_by(Grading.id.desc()).limit(1)).scalar_one_or_none()
            regrade = previous is not None and previous.submission_id == submission.id
            grading = Grading(
                submission_id=submission.id, student_id=student.id,
                checks_key=checks_key(document.get("checks_version", {})),
                checks_version=document.get("checks_version", {}), seed=int(document["seed"]),
                device=document.get("device", "cpu"), dlgrade_version=document.get("dlgrade_version", ""),
                insecure=bool(document.get("insecure", False)), verdict=verdict,
                score=float(document["score"]), max_score=float(document["max_score"]),
                duration_s=float(document.get("duration_s", 0.0)), document=document,
            )
            session.add(grading)
            session.flush()
            # One multi-row INSERT for the ~160 test rows (the ORM would add them one by one).
            if document["tests"]:
                session.execute(insert(TestRow), [
                    {"grading_id": grading.id, "name": t["name"], "assignment": t["assignment"],
                     "exercise": t["exercise"], "outcome": t["outcome"], "score": float(t["score"]),
                     "max_score": float(t["max_score"]), "mistake": t.get("mistake"), "message": t.get("message", "")}
                    for t in document["tests"]])
            session.add(AuditEntry(
                actor=actor, action="regraded" if regrade else "graded", student_id=student.id,
                target=",".join(sorted(document.get("checks_version", {}))),
                old="" if previous is None else f"{previous.score:g}/{previous.max_score:g}",
                new=f"{grading.score:g}/{grading.max_score:g} ({verdict})",
                reason=reason or ("the same content graded again" if regrade else
                                  "new submission" if previous is None else "new content or new checks"),
            ))
            session.flush()
            return grading.id

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
        handed_in = set()
        for grading in self.gradings():
            if assignment is None or any(a["assignment"] == assignment for a in grading.document.get("assignments", [])):
                handed_in.add(grading.student_id)
        return [s for s in self.roster_students() if s.id not in handed_in]

    def roster_index(self) -> RosterIndex:
        """Who each submission of a batch belongs to, by the roster (:class:`RosterIndex`)."""
        return RosterIndex(self.roster_students())

    def find_student(self, query: str) -> StudentInfo:
        """The one student ``query`` names (id, login, email, LMS id or name; see
        :func:`autograder.roster.find_student`); a :class:`~autograder.roster.StudentNotFound`
        with the closest matches otherwise."""
        return find_student(query, list(self.students().values()))

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

    def test_rows(self, grading_id: int) -> list[TestRow]:
        with self._session() as session:
            return list(session.scalars(select(TestRow).where(TestRow.grading_id == grading_id).order_by(TestRow.id)))

    def audit_trail(self, student: str | None = None) -> list[AuditEntry]:
        with self._session() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if student is not None:
                query = query.where(AuditEntry.student_id == student)
            return list(session.scalars(query))

    def result_documents(self, assignment: str | None = None) -> list[dict]:
        """Per student, the native result JSON of the latest grading of each assignment.

        Overrides and late penalties are applied (listed under ``"adjustments"``); each document
        gets a ``"student"`` key, ``"verdict"`` (graded, not_gradable, timeout or error) and the
        ``"gradings"`` it comes from. With ``assignment``, only that assignment's entries and tests.
        """
        latest: dict[str, dict[str, Grading]] = {}
        for grading in self.gradings():  # in id order: later gradings replace earlier ones
            for entry in grading.document.get("assignments", []):
                latest.setdefault(grading.student_id, {})[entry["assignment"]] = grading
        with self._session() as session:
            overrides = list(session.scalars(select(Override).order_by(Override.id)))
            penalties = list(session.scalars(select(LatePenalty).order_by(LatePenalty.id)))
        documents = []
        for student, per_assignment in sorted(latest.items()):
            wanted = {a: g for a, g in per_assignment.items() if assignment in (None, a)}
            if not wanted:
                continue
            document = _merge(wanted)
            document["student"] = student
            _adjust(document, [o for o in overrides if o.student_id == student],
                    [p for p in penalties if p.student_id == student])
            documents.append(document)
        return documents

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
                    entry["assignment"], entry["score"], entry["max_score"], entry["status"], exercises)
            table.append(StudentGrades(students[document["student"]], per_assignment, document["adjustments"]))
        return table

    # ------------------------------------------------------------ adjustments by hand
    def override(self, student: str, target: str, score: float, reason: str, actor: str,
                 assignment: str | None = None) -> str:
        """Set the score of a test (by name) or of a whole assignment; return what was changed."""
        _require(reason, actor)
        documents = {d["student"]: d for d in self.result_documents()}
        document = documents.get(student)
        if document is None:
            raise GradebookError(f"no graded submission for student {student!r}")
        entries = {a["assignment"]: a for a in document["assignments"]}
        if target in entries:
            assignment, test, old, maximum = target, None, entries[target]["score"], entries[target]["max_score"]
        else:
            matches = [t for t in document["tests"] if t["name"] == target and assignment in (None, t["assignment"])]
            if not matches:
                raise GradebookError(f"{student} has no assignment or test named {target!r}")
            if len(matches) > 1:
                raise GradebookError(f"several tests are named {target!r}: name the assignment too")
            assignment, test, old, maximum = matches[0]["assignment"], target, matches[0]["score"], matches[0]["max_score"]
        if not 0 <= score <= maximum:
            raise GradebookError(f"the score must be between 0 and {maximum:g}")
        label = f"{assignment}: {test}" if test else assignment
        with self._session.begin() as session:
            session.add(Override(student_id=student, assignment=assignment, test=test, score=score,
                                 reason=reason, actor=actor))
            session.add(AuditEntry(actor=actor, action="override", student_id=student, target=label,
                                   old=f"{old:g}", new=f"{score:g}", reason=reason))
        return label

    def late_penalty(self, student: str, assignment: str, penalty: str, reason: str, actor: str) -> None:
        """Deduct ``penalty`` ("10%" of the score, or "5" points) from an assignment."""
        _require(reason, actor)
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", str(penalty))
        if not match:
            raise GradebookError(f"a penalty is a percentage (10%) or points (5), not {penalty!r}")
        value, percent = float(match[1]), bool(match[2])
        if percent and value > 100:
            raise GradebookError("a percentage penalty is at most 100%")
        documents = {d["student"]: d for d in self.result_documents()}
        entries = {a["assignment"]: a for a in documents.get(student, {}).get("assignments", [])}
        if assignment not in entries:
            raise GradebookError(f"no graded {assignment} for student {student!r}")
        before = entries[assignment]["score"]
        with self._session.begin() as session:
            session.add(LatePenalty(student_id=student, assignment=assignment, percent=value if percent else None,
                                    points=None if percent else value, reason=reason, actor=actor))
            session.add(AuditEntry(actor=actor, action="late_penalty", student_id=student, target=assignment,
                                   old=f"{before:g}", new=f"-{value:g}{'%' if percent else ' points'}", reason=reason))


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


def _add_missing_columns(engine) -> None:
    """Add the columns a newer dlgrade declares to an older gradebook's tables (``ALTER TABLE ...
    ADD COLUMN`` with the column's server default): create_all makes missing tables only."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present and (c.server_default is not None or c.nullable)]
        if not missing:
            continue
        for column in missing:
            spec = CreateColumn(column).compile(dialect=engine.dialect)
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))
            except Exception:  # a second process added it at the same instant: fine if it is there now
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _merge(latest: dict[str, Grading]) -> dict:
    """One document from the latest grading of each assignment (usually all the same grading)."""
    gradings = {g.id: g for g in latest.values()}
    newest = gradings[max(gradings)]
    document = copy.deepcopy(newest.document)
    if len(gradings) > 1 or set(latest) != {a["assignment"] for a in newest.document["assignments"]}:
        document["assignments"], document["tests"], document["checks_version"] = [], [], {}
        for assignment, grading in latest.items():
            source = grading.document
            document["assignments"] += [copy.deepcopy(a) for a in source["assignments"] if a["assignment"] == assignment]
            document["tests"] += [copy.deepcopy(t) for t in source["tests"] if t["assignment"] == assignment]
            if assignment in source.get("checks_version", {}):
                document["checks_version"][assignment] = source["checks_version"][assignment]
        document["score"] = round(sum(a["score"] for a in document["assignments"]), 6)
        document["max_score"] = round(sum(a["max_score"] for a in document["assignments"]), 6)
    document["gradings"] = sorted(gradings)
    # graded | not_gradable | timeout | error: a timeout's document says not_gradable with timeout tests
    document["verdict"] = newest.verdict if len(gradings) == 1 else _worst({g.verdict for g in gradings.values()})
    document["adjustments"] = []
    return document


def _worst(verdicts: set[str]) -> str:
    return next(v for v in ("error", "timeout", "not_gradable", "graded") if v in verdicts or v == "graded")


def _adjust(document: dict, overrides: list[Override], penalties: list[LatePenalty]) -> None:
    """Apply the latest override per target, then the latest late penalty per assignment."""
    entries = {a["assignment"]: a for a in document["assignments"]}
    latest_override = {(o.assignment, o.test): o for o in overrides if o.assignment in entries}
    for (assignment, test), override in sorted(latest_override.items(), key=lambda kv: kv[1].test is None):
        entry = entries[assignment]
        if test is None:
            old, entry["score"] = entry["score"], override.score
        else:
            rows = [t for t in document["tests"] if t["assignment"] == assignment and t["name"] == test]
            if not rows:
                continue
            old, rows[0]["score"] = rows[0]["score"], override.score
            entry["score"] = round(sum(t["score"] for t in document["tests"] if t["assignment"] == assignment), 6)
        document["adjustments"].append({"kind": "override", "target": f"{assignment}: {test}" if test else assignment,
                                        "old": old, "new": override.score, "reason": override.reason,
                                        "by": override.actor})
    latest_penalty = {p.assignment: p for p in penalties if p.assignment in entries}
    for assignment, penalty in latest_penalty.items():
        entry = entries[assignment]
        old = entry["score"]
        deduction = old * penalty.percent / 100 if penalty.percent is not None else penalty.points
        entry["score"] = round(max(0.0, old - deduction), 6)
        document["adjustments"].append({"kind": "late_penalty", "target": assignment, "old": old,
                                        "new": entry["score"], "reason": penalty.reason, "by": penalty.actor})
    document["score"] = round(sum(a["score"] for a in document["assignments"]), 6)
