"""Upgrade a gradebook written when a grading held a whole submission to one grading per
(student, assignment): ``dlgrade upgrade-gradebook --db URL``.

In one transaction (a failure changes nothing):

- ``gradings`` gets its ``assignment`` and ``content_sha256`` columns and the new lookup index;
- each old grading is split into one grading per assignment of its document: the first keeps the
  row, the others are new rows with the same submission, seed, device and time; each test row
  follows its assignment. The content hash of each part is the old submission's (the old layout
  kept no hash per file), so the next batch grades those students again once, per assignment;
- the old layout graded every assignment of the course for every submission. An assignment no
  old grading holds a file of was never collected: its entries and test rows are dropped (it was
  a 0 that an LMS import would have written into another column). An entry without a file, of an
  assignment that was collected, becomes *missing* ("not handed in");
- one audit entry per student says the gradebook was upgraded;
- the other columns a newer dlgrade declares and the gradebook lacks (nullable or with a server
  default: the roster's, the adjustments' modes and submissions, file_kept), which opening a gradebook adds
  in place anyway, are added in the same transaction.
"""

from __future__ import annotations

import copy

from sqlalchemy import delete, event, inspect, select, text, update
from sqlalchemy.orm import Session

from autograder.gradebook.models import AuditEntry, Grading, Submission, TestRow
from autograder.gradebook.store import (
    Gradebook, GradebookError, add_column, assignment_verdict, checks_key, engine_for, missing_columns,
    outdated_schema, split_document,
)
from autograder.states import State

NEW_COLUMNS = {"assignment": "VARCHAR(40)", "content_sha256": "VARCHAR(64)"}
ACTOR = "dlgrade upgrade-gradebook"


def upgrade(url: str) -> int:
    """Upgrade the gradebook at ``url`` in place; return how many (student, assignment) gradings it
    holds after. A gradebook of the current layout is left as it is; another layout is refused."""
    engine, where, _ = engine_for(url)
    if engine.dialect.name == "sqlite":
        _transactional_ddl(engine)
    try:
        columns = _columns(engine, Grading.__tablename__)
        if columns is None:
            raise GradebookError(f"{where} holds no gradebook: nothing to upgrade")
        layout_done = not set(NEW_COLUMNS) - columns
        if layout_done and outdated_schema(engine):
            raise GradebookError(f"{where} lacks columns this upgrade does not add: {outdated_schema(engine)}")
        with engine.begin() as connection:
            for table, column in missing_columns(connection)[0]:  # nullable or defaulted: added as they are
                add_column(connection, table, column)
            if layout_done:  # already upgraded: at most the simple columns were missing
                return _count(connection)
            for name, kind in NEW_COLUMNS.items():
                if name not in columns:
                    connection.execute(text(f"ALTER TABLE {Grading.__tablename__} ADD COLUMN {name} {kind}"))
            connection.execute(text("DROP INDEX IF EXISTS ix_gradings_lookup"))
            with Session(bind=connection) as session:
                _split_gradings(session)
                session.flush()
            present = {index["name"] for index in inspect(connection).get_indexes(Grading.__tablename__)}
            for index in Grading.__table__.indexes:
                if index.name not in present:
                    index.create(connection)
        problem = outdated_schema(engine)
        if problem:
            raise GradebookError(f"{where} was upgraded, but still lacks: {problem}")
    finally:
        engine.dispose()
    with Gradebook.open(url) as gradebook:  # the upgraded gradebook opens as any other
        return len(gradebook.gradings())


def _transactional_ddl(engine) -> None:
    """Make SQLite's ALTER TABLE part of the transaction: Python's sqlite3 module commits before DDL
    on its own, so a failure half-way would leave a half-upgraded file. With the driver's own
    transaction handling off and an explicit BEGIN, the whole upgrade commits or rolls back."""

    def no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    event.listen(engine, "connect", no_driver_transactions)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))


def _columns(engine, table: str) -> set[str] | None:
    inspector = inspect(engine)
    if not inspector.has_table(table):
        return None
    return {column["name"] for column in inspector.get_columns(table)}


def _count(connection) -> int:
    return connection.execute(text(f"SELECT count(*) FROM {Grading.__tablename__}")).scalar_one()


def _split_gradings(session: Session) -> None:
    old = list(session.scalars(select(Grading).order_by(Grading.id)))
    collected = {entry["assignment"] for grading in old for entry in grading.document.get("assignments", [])
                 if entry.get("file") is not None}
    hashes = dict(session.execute(select(Submission.id, Submission.sha256)).all())
    for grading in old:
        document = _collected_only(grading.document, collected)
        parts = split_document(document) if document["assignments"] else {}
        kept = set(parts)
        session.execute(delete(TestRow).where(TestRow.grading_id == grading.id,
                                              TestRow.assignment.not_in(kept) if kept else True))
        if not parts:  # nothing of it was ever collected
            session.delete(grading)
            continue
        for number, (assignment, part) in enumerate(parts.items()):
            target = grading if number == 0 else Grading(
                submission_id=grading.submission_id, student_id=grading.student_id, device=grading.device,
                dlgrade_version=grading.dlgrade_version, insecure=grading.insecure, seed=grading.seed,
                graded_at=grading.graded_at)
            target.assignment, target.content_sha256 = assignment, hashes.get(grading.submission_id, "")
            target.checks_version = part["checks_version"]
            target.checks_key = checks_key(part["checks_version"])
            target.verdict = assignment_verdict(_old_verdict(grading.verdict), part)
            target.score, target.max_score = float(part["score"]), float(part["max_score"])
            target.duration_s, target.document = float(part.get("duration_s", 0.0)), part
            if number:
                session.add(target)
                session.flush()
                session.execute(update(TestRow).where(TestRow.grading_id == grading.id,
                                                      TestRow.assignment == assignment)
                                .values(grading_id=target.id))
    for student in sorted({grading.student_id for grading in old}):
        session.add(AuditEntry(actor=ACTOR, action="upgraded", student_id=student, target="gradebook",
                               new="one grading per assignment",
                               reason="the gradebook's layout changed to (student, assignment)"))


def _collected_only(document: dict, collected: set[str]) -> dict:
    """``document`` without the assignments never collected; a collected one without a file is missing."""
    document = copy.deepcopy(document)
    document["assignments"] = [a for a in document.get("assignments", []) if a["assignment"] in collected]
    document["tests"] = [t for t in document.get("tests", []) if t["assignment"] in collected]
    for entry in document["assignments"]:
        if entry.get("file") is None and entry["status"] == State.GRADED:
            entry["status"], entry["reason"] = State.MISSING, f"not handed in ({entry.get('reason', '')})".replace(
                " ()", "")
    return document


def _old_verdict(verdict: str) -> str:
    """The old layout's verdicts in today's vocabulary ("error" was a failure of the tool)."""
    return State.TOOL_FAILURE if verdict == "error" else verdict
