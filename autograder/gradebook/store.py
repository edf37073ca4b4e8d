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
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, event, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from autograder.gradebook.models import (
    AuditEntry, Base, Grading, LatePenalty, Override, Setting, Student, Submission, TestRow,
)
from autograder.errors import DlgradeError
from autograder.states import State


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
        engine, where = engine_for(url)
        try:
            outdated = outdated_schema(engine)
            if not outdated:
                _create_tables(engine)
        except Exception as error:
            raise GradebookError(f"cannot open the gradebook {where}: {str(error).splitlines()[0]}") from None
        if outdated:
            engine.dispose()
            raise GradebookError(
                f"the gradebook {where} was written by an older dlgrade ({outdated}): this one records grades per "
                f"student and assignment; run `dlgrade upgrade-gradebook --db {url}` to convert it (or grade into "
                "a new gradebook with --db)")
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
        """Whether this student's ``assignment`` was graded already from this content, with these
        checks (``key``: :func:`checks_key` of ``{assignment: version}``) and this seed."""
        with self._session() as session:
            found = session.execute(
                select(Grading.id).where(Grading.student_id == student, Grading.assignment == assignment,
                                         Grading.content_sha256 == content_sha256, Grading.checks_key == key,
                                         Grading.seed == seed).limit(1)).first()
            return found is not None

    def recorded_assignments(self, student: str) -> set[str]:
        """The assignments the gradebook holds a grading of for ``student``."""
        with self._session() as session:
            return set(session.scalars(select(Grading.assignment).where(Grading.student_id == student).distinct()))

    def record(self, student: StudentInfo, sha256: str, path: str, notes: list[str], verdict: str,
               document: dict, actor: str = "dlgrade grade-batch", reason: str = "",
               hashes: dict[str, str] | None = None) -> list[int]:
        """Store one submission's result in one transaction: its student and submission, and per
        assignment of ``document`` a grading with its tests and an audit entry. ``hashes``: the
        content hash of each assignment's file (default: ``sha256``, the whole submission's), what
        :meth:`is_graded` compares. Returns the new gradings' ids, in the document's order."""
        hashes = hashes or {}
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
            return [self._record_one(session, student.id, submission.id, hashes.get(assignment, sha256),
                                     assignment_verdict(verdict, part), part, actor, reason)
                    for assignment, part in split_document(document).items()]

    @staticmethod
    def _record_one(session, student: str, submission_id: int, content: str, verdict: str, document: dict,
                    actor: str, reason: str) -> int:
        """One (student, assignment) grading with its test rows and audit entry."""
        assignment = document["assignments"][0]["assignment"]
        previous = session.execute(select(Grading).where(Grading.student_id == student, Grading.assignment == assignment)
                                   .order_by(Grading.id.desc()).limit(1)).scalar_one_or_none()
        regrade = previous is not None and previous.content_sha256 == content
        grading = Grading(
            submission_id=submission_id, student_id=student, assignment=assignment, content_sha256=content,
            checks_key=checks_key(document.get("checks_version", {})),
            checks_version=document.get("checks_version", {}), seed=int(document["seed"]),
            device=document.get("device", "cpu"), dlgrade_version=document.get("dlgrade_version", ""),
            insecure=bool(document.get("insecure", False)), verdict=verdict,
            score=float(document["score"]), max_score=float(document["max_score"]),
            duration_s=float(document.get("duration_s", 0.0)), document=document,
        )
        session.add(grading)
        session.flush()
        # One multi-row INSERT for the test rows (the ORM would add them one by one).
        if document["tests"]:
            session.execute(insert(TestRow), [
                {"grading_id": grading.id, "name": t["name"], "assignment": t["assignment"],
                 "exercise": t["exercise"], "outcome": t["outcome"], "score": float(t["score"]),
                 "max_score": float(t["max_score"]), "mistake": t.get("mistake"), "message": t.get("message", "")}
                for t in document["tests"]])
        session.add(AuditEntry(
            actor=actor, action="regraded" if regrade else "graded", student_id=student, target=assignment,
            old="" if previous is None else f"{previous.score:g}/{previous.max_score:g}",
            new=f"{grading.score:g}/{grading.max_score:g} ({verdict})",
            reason=reason or ("the same content graded again" if regrade else
                              "new submission" if previous is None else "new content or new checks"),
        ))
        session.flush()
        return grading.id

    # ------------------------------------------------------------ reading
    def students(self) -> dict[str, StudentInfo]:
        with self._session() as session:
            return {s.id: StudentInfo(s.id, s.name, s.lms_id, s.sis_user_id, s.section)
                    for s in session.scalars(select(Student).order_by(Student.id))}

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
        """Per student, one native result JSON of the latest grading of each assignment graded for them.

        An assignment no grading holds (never collected) is in no document. Overrides and late
        penalties are applied (listed under ``"adjustments"``); each document gets a ``"student"``
        key, ``"verdict"`` (a :class:`State`) and the ``"gradings"`` it comes from. With
        ``assignment``, only that assignment's entries and tests.
        """
        latest: dict[str, dict[str, Grading]] = {}
        # In id order: a later grading replaces an earlier one, in the place the first one took.
        for grading in self.gradings():
            if assignment in (None, grading.assignment):
                latest.setdefault(grading.student_id, {})[grading.assignment] = grading
        with self._session() as session:
            overrides = list(session.scalars(select(Override).order_by(Override.id)))
            penalties = list(session.scalars(select(LatePenalty).order_by(LatePenalty.id)))
        documents = []
        for student, per_assignment in sorted(latest.items()):
            document = _merge(per_assignment)
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
                    entry["assignment"], entry["score"], entry["max_score"], entry["status"], exercises,
                    entry.get("reason", "") if entry["status"] != State.GRADED else "")
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


def engine_for(url: str):
    """The SQLAlchemy engine of ``url`` (a URL, or a SQLite file path) and how to name it to people."""
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
    return engine, parsed.render_as_string(hide_password=True)


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


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def split_document(document: dict) -> dict[str, dict]:
    """A submission's native result as one document per assignment: that entry, its tests and
    checks version; the rest (seed, device, versions) shared. The submission's grading time is
    shared evenly among its assignments (one child graded them in one go), so the parts add up."""
    entries = document["assignments"]
    parts = {}
    for entry in entries:
        name = entry["assignment"]
        part = {k: copy.deepcopy(v) for k, v in document.items() if k not in ("assignments", "tests", "checks_version")}
        part.update(
            assignments=[copy.deepcopy(entry)],
            tests=[copy.deepcopy(t) for t in document["tests"] if t["assignment"] == name],
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


# From the most to the least telling: the state of a student's document as a whole.
_SEVERITY = (State.TOOL_FAILURE, State.TIMEOUT)


def _merge(latest: dict[str, Grading]) -> dict:
    """One document from the latest grading of each assignment (each grading holds one assignment),
    the assignments in the order ``latest`` lists them (the order they were first graded in)."""
    gradings = list(latest.values())
    document = copy.deepcopy(max(gradings, key=lambda g: g.id).document)
    document["assignments"], document["tests"], document["checks_version"] = [], [], {}
    for grading in gradings:
        source = grading.document
        document["assignments"] += copy.deepcopy(source["assignments"])
        document["tests"] += copy.deepcopy(source["tests"])
        document["checks_version"].update(source.get("checks_version", {}))
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
    document["gradings"] = [g.id for g in gradings]
    verdicts = {g.verdict for g in gradings}
    document["verdict"] = next((v for v in _SEVERITY if v in verdicts), document["status"])
    document["adjustments"] = []
    return document


def outdated_schema(engine) -> str:
    """Why the database at ``engine`` holds gradebook tables of an older layout ("" when it does not):
    the columns this dlgrade's tables have and the database's lack."""
    inspector = inspect(engine)
    missing = []
    for table in Base.metadata.sorted_tables:
        if inspector.has_table(table.name):
            present = {column["name"] for column in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in present]
    if not missing:
        return ""
    layout = "one grading per whole submission; " if f"{Grading.__tablename__}.assignment" in missing else ""
    return f"{layout}no column {', '.join(missing)}"


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
