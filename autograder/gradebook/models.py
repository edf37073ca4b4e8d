"""The gradebook's tables (SQLAlchemy 2 declarative models), for SQLite and PostgreSQL alike.

students 1-n submissions (one row per distinct content) 1-n gradings 1-n test_results (one row
per test); submitted_files keeps each graded file once, by its content hash (a grading's
``content_sha256``), for ``dlgrade similarity --db``. The unit of grading is (student,
assignment): a grading is ONE assignment of one submission, graded once (its file's content hash, checks version, seed, device, and the native
JSON document of that assignment alone). A batch of one assignment adds gradings of that
assignment only, so the others' grades stay as they were. The audit trail, overrides and late penalties hang off students. The audit
table is append-only: an ORM guard and a database trigger both refuse UPDATE and DELETE.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
    UniqueConstraint,
    DDL, event, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Mode(enum.StrEnum):
    """How a hand adjustment combines with the earlier ones on the same target."""

    REPLACE = "replace"  # it takes the place of every earlier one (the default)
    ADD = "add"  # it comes on top of the earlier ones (an override adds points; a penalty stacks)
    DROP = "drop"  # it ends every earlier one (an override only)


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the intake key (folder, LMS id)
    name: Mapped[str] = mapped_column(String(400), default="")
    lms_id: Mapped[str] = mapped_column(String(100), default="")  # Canvas user id / Moodle participant id
    sis_user_id: Mapped[str] = mapped_column(String(100), default="")
    section: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # From a roster import (`dlgrade roster import`); a server default, so that an older gradebook
    # gets the columns added in place (store._add_missing_columns).
    login: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    on_roster: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    sha256: Mapped[str] = mapped_column(String(64))  # of the staged files (names and bytes)
    path: Mapped[str] = mapped_column(Text, default="")  # where it was found
    received: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    notes: Mapped[list] = mapped_column(JSON, default=list)


class Grading(Base):
    """One assignment of one submission, graded once; the latest per (student, assignment) counts."""

    __tablename__ = "gradings"
    __table_args__ = (Index("ix_gradings_lookup", "student_id", "assignment", "content_sha256", "checks_key", "seed"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(String(64))  # of this assignment's file (or why there is none)
    checks_key: Mapped[str] = mapped_column(String(64))  # hash of checks_version: what the skip compares
    checks_version: Mapped[dict] = mapped_column(JSON)  # {assignment: version}, this assignment only
    seed: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[str] = mapped_column(String(20))
    dlgrade_version: Mapped[str] = mapped_column(String(40))
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(String(20))  # a State that records a score: graded | not_gradable | missing | timeout (never tool_failure)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    document: Mapped[dict] = mapped_column(JSON)  # the native result JSON of this assignment alone
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # Whether the gradebook keeps the file graded (a SubmittedFile of content_sha256): False when it
    # had none to keep (not handed in, too large, unreadable); None on gradings recorded before the
    # gradebook kept files (nullable, so an older gradebook gets the column in place).
    file_kept: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    tests: Mapped[list["TestRow"]] = relationship(back_populates="grading", cascade="all, delete-orphan")


class SubmittedFile(Base):
    """A graded file, kept once whatever the number of gradings of it: by its content hash
    (:func:`autograder.submission.content_sha256` of ``name`` and ``content``, a grading's
    ``content_sha256``). ``name`` is the staged name (``<assignment>.py`` or ``.ipynb``);
    ``content`` is at most the intake's limit for a source file."""

    __tablename__ = "submitted_files"
    content_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)


class TestRow(Base):
    __tablename__ = "test_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grading_id: Mapped[int] = mapped_column(ForeignKey("gradings.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    assignment: Mapped[str] = mapped_column(String(40))
    exercise: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    mistake: Mapped[str | None] = mapped_column(String(100), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    grading: Mapped[Grading] = relationship(back_populates="tests")


class AuditEntry(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    actor: Mapped[str] = mapped_column(String(200))  # a person, or "dlgrade grade-batch"
    # graded | regraded | override | override_dropped | override_not_applied | late_penalty
    action: Mapped[str] = mapped_column(String(40))
    student_id: Mapped[str] = mapped_column(String(200), index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    old: Mapped[str] = mapped_column(Text, default="")
    new: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class Override(Base):
    """A TA's score for one test or a whole assignment, made on one submission (``sha256``).

    It applies to that submission only: when a newer one is graded it is shown as not applied
    until a person makes a new override (or drops it). ``mode``: a :class:`Mode`; ``score`` is the
    score (replace), the points added (add, negative to deduct) or unused (drop). ``sha256`` is
    None on rows made before overrides were tied to a submission: those apply to any.
    """

    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(String(40))
    test: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: the assignment's score
    score: Mapped[float] = mapped_column(Float)
    mode: Mapped[str | None] = mapped_column(String(10), nullable=True)  # a Mode; None (older rows): replace
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the submission it was made on
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class LatePenalty(Base):
    """A deduction from an assignment's score: ``percent`` of it, or ``points``.

    ``mode`` (a :class:`Mode`, None on older rows: replace): a replace ends the earlier penalties of
    the assignment, an add stacks on them (each taken from the score left by the ones before it).
    """

    __tablename__ = "late_penalties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(String(40))
    percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    mode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Setting(Base):
    """Course-wide values the gradebook remembers (the batch seed)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# The audit trail refuses edits in the database itself, whatever client writes to it.
_MESSAGE = "the audit trail is append-only"
for _op in ("UPDATE", "DELETE"):
    event.listen(AuditEntry.__table__, "after_create", DDL(
        f"CREATE TRIGGER audit_no_{_op.lower()} BEFORE {_op} ON audit "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END").execute_if(dialect="sqlite"))
event.listen(AuditEntry.__table__, "after_create", DDL(
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$").execute_if(dialect="postgresql"))
event.listen(AuditEntry.__table__, "after_create", DDL(
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()").execute_if(dialect="postgresql"))
