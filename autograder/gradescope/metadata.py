"""Gradescope's ``/autograder/submission_metadata.json``, read into a typed record.

What Gradescope documents (gradescope-autograders.readthedocs.io, "Submission Metadata")::

    {"id": 123456,                                      # this submission
     "created_at": "2018-07-01T14:22:32.365935-07:00",  # when it was submitted (ISO 8601, with offset)
     "assignment": {"due_date": "2018-07-31T23:00:00.000000-07:00",
                    "late_due_date": null,              # the late due date, if set
                    "release_date": "...", "title": "Programming Assignment 1",
                    "total_points": "20.0", "id": 25828, "course_id": 1234, ...},
     "submission_method": "upload",                     # or "GitHub", "Bitbucket"
     "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}, ...],  # a group: several
     "previous_submissions": [{"submission_time": "...", "score": 0.0, ...}]}

Beyond that page, the metadata Gradescope writes also gives each user their own dates, with any
extension the staff granted: ``users[i].assignment`` = ``{"release_date", "due_date",
"late_due_date"}`` (as the open-source parsers of this file read it). The student's own due dates
are used when present, else the assignment's, so an extension is never penalized as lateness.

The student whose hidden inputs are drawn (the seed is derived from the course secret, this key
and the assignment, as ``dlgrade grade --student KEY`` does) is ``users[0]``: its ``sid`` when
the course's roster gives one, else its ``email``, else its Gradescope ``id``. The file is the
platform's, not the student's, but it is read bounded all the same (1 MiB, strings capped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.errors import DlgradeError
from autograder.untrusted import LINE, cap, inert

MAX_BYTES = 1 << 20


class MetadataError(DlgradeError):
    """submission_metadata.json is missing or unreadable: the grader cannot tell whose work it is."""


@dataclass(frozen=True)
class SubmissionMetadata:
    student: str  # the key the hidden inputs are seeded with (users[0]: sid, email or id)
    name: str = ""
    email: str = ""
    submitted: datetime | None = None  # created_at
    due: datetime | None = None  # assignment.due_date
    late_due: datetime | None = None  # assignment.late_due_date
    title: str = ""


def _text(value) -> str:
    return inert(cap(str(value), LINE)) if value is not None else ""


def _moment(value, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value)[:64])
    except ValueError:
        raise MetadataError(f"submission_metadata.json: {what} is no ISO 8601 time: {_text(value)!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def read_metadata(path: Path) -> SubmissionMetadata:
    """The metadata at ``path``; :class:`MetadataError` when it is missing or malformed."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise MetadataError(f"{path} is {size} bytes, over {MAX_BYTES}: not Gradescope's metadata")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MetadataError(f"cannot read {path}: {error}") from None
    return parse_metadata(data)


def parse_metadata(data) -> SubmissionMetadata:
    if not isinstance(data, dict):
        raise MetadataError("submission_metadata.json is not a JSON object")
    assignment = data.get("assignment") if isinstance(data.get("assignment"), dict) else {}
    users = [u for u in data.get("users") or [] if isinstance(u, dict)]
    user = users[0] if users else {}
    student = next((_text(user[k]) for k in ("sid", "email", "id") if user.get(k) not in (None, "")), "")
    if not student:
        raise MetadataError("submission_metadata.json names no user (users[0] has no sid, email or id)")
    own = user.get("assignment") if isinstance(user.get("assignment"), dict) else {}  # the student's, with extensions
    where, dates = (("users[0].assignment", own) if own.get("due_date") not in (None, "")
                         else ("assignment", assignment))
    return SubmissionMetadata(
        student=student, name=_text(user.get("name")), email=_text(user.get("email")),
        submitted=_moment(data.get("created_at"), "created_at"),
        due=_moment(dates.get("due_date"), f"{where}.due_date"),
        late_due=_moment(dates.get("late_due_date"), f"{where}.late_due_date"),
        title=_text(assignment.get("title")),
    )


def dry_run_metadata(student: str, submitted: datetime, due: datetime | None, title: str) -> dict:
    """A submission_metadata.json in Gradescope's shape, for a local dry run."""
    return {
        "id": 0,
        "created_at": submitted.isoformat(),
        "assignment": {"due_date": due.isoformat() if due else None, "late_due_date": None, "title": title,
                       "id": 0, "course_id": 0, "group_submission": False, "group_size": None},
        "submission_method": "upload",
        "users": [{"email": "", "id": 0, "name": student, "sid": student}],
        "previous_submissions": [],
    }
