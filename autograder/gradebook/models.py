"""The gradebook's tables (SQLAlchemy 2 declarative models), for SQLite and PostgreSQL alike.

students 1-n submissions (one row per distinct content) 1-n gradings 1-n test_results (one row
per test). The unit of grading is (student, assignment): a grading is ONE assignment of one
submission, graded once (its file's content hash, checks version, seed, device, and the native
JSON document of that assignment alone). A batch of one assignment adds gradings of that
assignment only, so the others' grades stay as they were. The audit trail, overrides and late penalties hang off students. The audit
table is append-only: an ORM guard and a database trigger both refuse UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    DDL, event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the intake key (folder, LMS id)
    name: Mapped[str] = mapped_column(String(400), default="")
    lms_id: Mapped[str] = mapped_column(String(100), default="")  # Canvas user id / Moodle participant id
    sis_user_id: Mapped[str] = mapped_column(String(100), default="")
    section: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


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
    verdict: Mapped[str] = mapped_column(String(20))  # a State: graded | not_gradable | missing | timeout | ...
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    document: Mapped[dict] = mapped_column(JSON)  # the native result JSON of this assignment alone
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    tests: Mapped[list["TestRow"]] = relationship(back_populates="grading", cascade="all, delete-orphan")


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
    action: Mapped[str] = mapped_column(String(40))  # graded | regraded | override | late_penalty
    student_id: Mapped[str] = mapped_column(String(200), index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    old: Mapped[str] = mapped_column(Text, default="")
    new: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class Override(Base):
    """A TA's score for one test or a whole assignment; the latest per target wins."""

    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(String(40))
    test: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: the assignment's score
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class LatePenalty(Base):
    """A deduction from an assignment's score: ``percent`` of it, or ``points``; the latest wins."""

    __tablename__ = "late_penalties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(String(40))
    percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
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
