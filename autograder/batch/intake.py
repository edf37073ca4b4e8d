"""Find every student's submission in a folder of downloads, and stage it for grading.

Layouts understood (they may be mixed in one folder):

- one folder per student: ``ROOT/<student>/perceptron.py`` (files may sit in sub-folders);
- nbgrader: ``ROOT/submitted/<student>/<assignment>/<assignment>.ipynb``;
- Moodle's "download all submissions": ``ROOT/<Full Name>_<id>_assignsubmission_file_/...``;
- Canvas's submissions zip, unpacked or not: ``<name>_[LATE_]<user id>_<submission id>_<file>``
  (Canvas appends ``-1``, ``-2`` to resubmitted file names);
- zip files anywhere (a bulk download at the top, or a student's own zip): unpacked safely by
  :mod:`autograder.batch.archive`.

Nothing is run or imported: files are only read. Each student's chosen files are copied into a
fresh staging folder ``STAGING/<key>/<assignment>.py|.ipynb`` that the grader reads; the
content hash (SHA-256) covers exactly what is staged. When a student has several files for one
assignment, the newest (modification time; a tie goes to the .py) wins and a note says which.
Problems are kept per student: a student whose folder is empty, holds only unrelated files, or
a 2 GB file, gets a message of their own, and the others are graded as usual.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.batch.archive import UnsafeArchive, extract
from autograder.submission import MAX_SOURCE_BYTES, SUFFIXES
from autograder.errors import DlgradeError

log = logging.getLogger("dlgrade.intake")

MAX_DEPTH = 4
_CANVAS = re.compile(r"^(?P<name>[^_/]+)_(?:late_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$", re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_[a-z]+_?$", re.IGNORECASE)
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)(?:-\d+)?$")  # Canvas: perceptron-1.py is perceptron.py again
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._@-]+")


class IntakeError(DlgradeError):
    """The submissions folder itself cannot be used (missing, not a folder)."""


@dataclass
class Submission:
    """One student's submission, ready to grade.

    ``path`` is the staged folder (None when nothing can be graded, then ``error`` says why);
    ``problems`` maps an assignment to why its file was not staged (it is graded as not
    gradable with that reason); ``notes`` record choices made (duplicates, ignored files).
    """

    student: str
    path: Path | None
    notes: list[str] = field(default_factory=list)
    name: str = ""
    lms_id: str = ""
    sha256: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    error: str = ""
    origin: str = ""  # where it came from, for people

    def __iter__(self):  # (student_id, path, notes), the triple callers unpack
        return iter((self.student, self.path, self.notes))


@dataclass
class Intake:
    submissions: list[Submission]
    notes: list[str]  # about the folder as a whole (an unsafe bulk zip, stray files)


@dataclass
class _Candidate:
    assignment: str
    file: Path
    mtime: float
    size: int


@dataclass
class _Student:
    key: str
    name: str = ""
    lms_id: str = ""
    origins: list[str] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    unrelated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seen_any: bool = False


def discover(root: Path, staging: Path, assignments) -> Intake:
    """Find the submissions under ``root`` and stage them under ``staging`` (created, must be new or empty)."""
    root = Path(root)
    if not root.exists():
        raise IntakeError(f"{root} does not exist: give the folder that holds the submissions")
    if not (root.is_dir() or (root.is_file() and root.suffix.lower() == ".zip")):
        raise IntakeError(f"{root} is neither a folder nor a zip file of submissions")
    staging.mkdir(parents=True, exist_ok=True)
    walker = _Walker(staging / ".unpacked", tuple(assignments))
    if root.is_file():
        walker.bulk_zip(root)
    else:
        walker.walk_root(root)
    submissions = [_stage(student, staging, walker.assignments) for _, student in sorted(walker.students.items())]
    return Intake(submissions, walker.notes)


class _Walker:
    def __init__(self, unpack_root: Path, assignments: tuple[str, ...]):
        self.unpack_root = unpack_root
        self.assignments = assignments
        self.students: dict[str, _Student] = {}
        self.notes: list[str] = []
        self._unpacked = 0

    def student(self, key: str, origin: str, name: str = "", lms_id: str = "") -> _Student:
        key = _SAFE_KEY.sub("_", key).strip("._") or "student"
        record = self.students.setdefault(key, _Student(key))
        record.name = record.name or name
        record.lms_id = record.lms_id or lms_id
        if origin not in record.origins:
            record.origins.append(origin)
        return record

    # ------------------------------------------------------------ layouts
    def walk_root(self, root: Path) -> None:
        entries = _entries(root)
        if not entries:
            self.notes.append(f"{root} is empty: no submissions to grade")
        for entry in entries:
            if entry.is_symlink():
                self.notes.append(f"ignored the symbolic link {entry.name}")
            elif entry.is_dir() and entry.name == "submitted":
                for folder in _entries(entry):
                    if folder.is_dir() and not folder.is_symlink():
                        self.collect(self.student(folder.name, f"nbgrader {folder}"), folder)
            elif entry.is_dir():
                match = _MOODLE.match(entry.name)
                if match:
                    record = self.student(match["id"], f"Moodle {entry}", match["name"], match["id"])
                else:
                    record = self.student(entry.name, str(entry))
                self.collect(record, entry)
            elif entry.suffix.lower() == ".zip" and not _CANVAS.match(entry.name):
                self.bulk_zip(entry)
            elif match := _CANVAS.match(entry.name):
                record = self.student(match["uid"], f"Canvas {entry.name}", match["name"], match["uid"])
                self.add_file(record, entry, match["file"])
            else:
                self.notes.append(f"ignored {entry.name}: a file outside any student folder")

    def bulk_zip(self, path: Path) -> None:
        folder = self._unpack_folder()
        try:
            self.notes += extract(path, folder)
        except UnsafeArchive as error:
            self.notes.append(f"refused {path.name}: {error}")
            log.warning("refused %s: %s", path, error)
            return
        self.walk_root(folder)

    def collect(self, record: _Student, folder: Path, depth: int = 0) -> None:
        """Every file in a student's folder (sub-folders too, not hidden ones) as a candidate."""
        for entry in _entries(folder):
            record.seen_any = True
            if entry.is_symlink():
                record.notes.append(f"ignored the symbolic link {entry.name}")
            elif entry.is_dir():
                if depth < MAX_DEPTH:
                    self.collect(record, entry, depth + 1)
            elif entry.is_file():
                self.add_file(record, entry, entry.name)

    def add_file(self, record: _Student, path: Path, name: str) -> None:
        record.seen_any = True
        if path.suffix.lower() == ".zip":
            self.student_zip(record, path)
            return
        stem, suffix = os.path.splitext(name)
        stem = _RESUBMITTED.match(stem)["stem"]
        if suffix not in SUFFIXES or stem not in self.assignments:
            record.unrelated.append(name)
            return
        info = path.lstat()
        record.candidates.append(_Candidate(stem, path, info.st_mtime, info.st_size))

    def student_zip(self, record: _Student, path: Path) -> None:
        folder = self._unpack_folder()
        try:
            record.notes += extract(path, folder)
        except UnsafeArchive as error:
            record.errors.append(f"refused {path.name}: {error}")
            return
        self.collect(record, folder)

    def _unpack_folder(self) -> Path:
        self._unpacked += 1
        return self.unpack_root / str(self._unpacked)


def _entries(folder: Path) -> list[Path]:
    """A folder's entries in name order, without hidden ones (.ipynb_checkpoints, .DS_Store)."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX")
    except OSError:
        return []


def _stage(record: _Student, staging: Path, assignments: tuple[str, ...]) -> Submission:
    """Choose the newest file per assignment, copy the chosen ones, hash what was staged."""
    submission = Submission(record.key, None, list(record.notes), record.name, record.lms_id,
                            origin="; ".join(record.origins))
    chosen: dict[str, _Candidate] = {}
    for assignment in assignments:
        options = [c for c in record.candidates if c.assignment == assignment]
        if not options:
            continue
        best = max(options, key=lambda c: (c.mtime, c.file.suffix == ".py"))
        chosen[assignment] = best
        if len(options) > 1:
            others = ", ".join(c.file.name for c in options if c is not best)
            note = (f"{assignment}: {len(options)} files; graded the newest, {best.file.name} "
                    f"({_when(best.mtime)}), not {others}")
            submission.notes.append(note)
            log.info("%s: %s", record.key, note)
    if record.unrelated and chosen:
        submission.notes.append("ignored files that are no assignment: " + ", ".join(sorted(set(record.unrelated))[:10]))
    if record.errors and not chosen:
        submission.error = "; ".join(record.errors)
        return submission
    submission.notes += record.errors
    if not chosen:
        expected = ", ".join(f"{a}.py" for a in assignments[:3]) + (", ..." if len(assignments) > 3 else "")
        if not record.seen_any:
            submission.error = "the submission is empty"
        else:
            submission.error = (f"no assignment file found (expected {expected} or .ipynb); found: "
                                + ", ".join(sorted(set(record.unrelated))[:10]))
        return submission
    folder = staging / record.key
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    digest = hashlib.sha256()
    for assignment, candidate in sorted(chosen.items()):
        name = f"{assignment}{candidate.file.suffix}"
        if candidate.size > MAX_SOURCE_BYTES:
            submission.problems[assignment] = (
                f"{candidate.file.name} is {_size(candidate.size)}, over the {MAX_SOURCE_BYTES >> 20} MiB limit for a "
                "source file (are there outputs or data embedded in it?)")
            digest.update(f"{name}\0too large\0{candidate.size}\0".encode())
            continue
        try:
            data = _read_no_follow(candidate.file, MAX_SOURCE_BYTES)
        except OSError as error:
            submission.problems[assignment] = f"{candidate.file.name} cannot be read: {error.strerror or error}"
            continue
        target = folder / name
        target.write_bytes(data)
        os.utime(target, (candidate.mtime, candidate.mtime))
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    submission.path = folder
    submission.sha256 = digest.hexdigest()
    return submission


def _read_no_follow(path: Path, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as stream:
        return stream.read(limit + 1)


def _when(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"
