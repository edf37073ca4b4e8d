"""Find every student's submission in a folder of downloads, and stage it for grading.

Layouts understood (they may be mixed in one folder):

- one folder per student: ``ROOT/<student>/<assignment>.py`` (files may sit in sub-folders);
- nbgrader: ``ROOT/submitted/<student>/<assignment>/<assignment>.ipynb``;
- Moodle's "download all submissions": ``ROOT/<Full Name>_<id>_assignsubmission_file_/...``;
- Canvas's submissions zip, unpacked or not: ``<name>_[LATE_]<user id>_<submission id>_<file>``
  (Canvas appends ``-1``, ``-2`` to resubmitted file names, and its download gives every file the
  same time: the resubmission number decides);
- zip files anywhere (a bulk download at the top, or a student's own zip): unpacked safely by
  :mod:`autograder.batch.archive`, at most one level deep (a zip inside a zip is unpacked, a zip
  inside that is not); everything one student's archives unpack, at every level, shares one
  allowance of bytes and members.

Nothing is run or imported: files are only read. Each student's chosen files are copied into a
fresh staging folder ``STAGING/<key>/<assignment>.py|.ipynb`` that the grader reads; the
content hash (SHA-256) covers exactly what is staged, and each assignment's file has its own
(what the gradebook's skip compares, per student and assignment). File names are matched as people and
LMSs write them (:func:`autograder.submission.assignment_of`: any case, ``Losses (1).py``,
``losses-1.py``, ``losses_1.py``). When a student has several files for one assignment,
:func:`autograder.submission.choose_file` picks one (the latest Canvas resubmission, else the
newest; at equal times a later copy, then the .py) and a note says which and why.
Problems are kept per student: a student whose folder is empty, holds only unrelated files, a
2 GB file or an archive that cannot be unpacked, gets a message of their own, and the others
are graded as usual. Intake never aborts on what a download holds: whatever goes wrong while
reading one entry becomes that student's error (or a note on the folder, for an entry that
belongs to nobody yet).

Student keys are exact (:mod:`autograder.identity`): a key keeps the name's identity. Two
different names that would share a key (the same name in two Unicode forms) are a collision:
neither is graded under it, and each gets an error that says so, since no one can tell whose
work is whose. Every name, note and error is bounded and inert (:mod:`autograder.untrusted`).
"""

from __future__ import annotations

import hashlib
import errno
import logging
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder import untrusted
from autograder.batch.archive import Allowance, UnsafeArchive, extract
from autograder.identity import is_shortened, student_key
from autograder.submission import MAX_SOURCE_BYTES, FileCandidate, assignment_of, choose_file, content_sha256
from autograder.errors import DlgradeError

log = logging.getLogger("dlgrade.intake")

MAX_DEPTH = 4    # folders searched inside a student's folder
MAX_NESTING = 1  # an archive is unpacked when at most this many archives enclose it
_CANVAS = re.compile(r"^(?P<name>[^_/]+)_(?:late_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$", re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_[a-z]+_?$", re.IGNORECASE)


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
    hashes: dict[str, str] = field(default_factory=dict)  # assignment -> SHA-256 of its staged file (or problem)

    @property
    def assignments(self) -> set[str]:
        """The assignments this submission has a file for (staged, or refused with a problem)."""
        return set(self.hashes)

    def __iter__(self):  # (student_id, path, notes), the triple callers unpack
        return iter((self.student, self.path, self.notes))


@dataclass
class Intake:
    submissions: list[Submission]
    notes: list[str]  # about the folder as a whole (an unsafe bulk zip, stray files)


@dataclass
class _Student:
    key: str
    name: str = ""
    lms_id: str = ""
    origins: list[str] = field(default_factory=list)
    candidates: list[tuple[FileCandidate, int]] = field(default_factory=list)  # (file, size)
    unrelated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seen_any: bool = False
    raw_names: set[str] = field(default_factory=set)  # the names that gave this key (one, unless they collide)
    collision: str = ""  # why the key is refused: two different names share it
    allowance: Allowance = field(default_factory=Allowance.for_student)
    budget: untrusted.Budget = field(default_factory=untrusted.Budget)

    def note(self, text: str) -> None:
        self.notes.append(self.budget.take(text, untrusted.NOTE))

    def error(self, text: str) -> None:
        self.errors.append(self.budget.take(text, untrusted.NOTE))


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
        walker.bulk_zip(root, 0, Allowance.for_download())
    else:
        walker.walk_root(root, 0, None)
    submissions = [_stage_guarded(student, staging, walker.assignments)
                   for _, student in sorted(walker.students.items())]
    return Intake(submissions, walker.notes[:MAX_FOLDER_NOTES] + (
        [f"{len(walker.notes) - MAX_FOLDER_NOTES} more notes on the folder left out"]
        if len(walker.notes) > MAX_FOLDER_NOTES else []))


MAX_FOLDER_NOTES = 50


def _stage_guarded(record: _Student, staging: Path, assignments: tuple[str, ...]) -> Submission:
    """:func:`_stage`, where any failure (a file that vanished, a full disk) is this student's error."""
    try:
        return _stage(record, staging, assignments)
    except Exception as error:  # noqa: BLE001 - one student's files never stop the others
        log.exception("staging %s failed", record.key)
        return Submission(record.key, None, list(record.notes), record.name, record.lms_id,
                          error=f"the submission could not be staged ({type(error).__name__})",
                          origin=record.budget.take("; ".join(record.origins), untrusted.MESSAGE))


class _Walker:
    def __init__(self, unpack_root: Path, assignments: tuple[str, ...]):
        self.unpack_root = unpack_root
        self.assignments = assignments
        self.students: dict[str, _Student] = {}
        self.notes: list[str] = []
        self.budget = untrusted.Budget()  # the folder's own notes name entries students chose
        self._unpacked = 0

    def note(self, text: str) -> None:
        self.notes.append(self.budget.take(text, untrusted.NOTE))

    def student(self, raw: str, origin: str, name: str = "", lms_id: str = "") -> _Student:
        """The record of the student named ``raw`` (a folder name, an LMS id): one per key."""
        key = student_key(raw)
        record = self.students.get(key)
        if record is None:
            record = self.students[key] = _Student(key)
            if is_shortened(key):
                record.note(f"the name {raw[:60]!r}... is {len(raw)} characters long: its key is shortened "
                            f"with a hash, {key}")
        if raw not in record.raw_names:
            record.raw_names.add(raw)
            if len(record.raw_names) == 2:  # equal keys, different names: equal only after NFC
                shown = " and ".join(ascii(untrusted.cap(r, 60)) for r in sorted(record.raw_names))
                record.collision = (f"two different names, {shown}, would share the student key {key!r} (one "
                                    "name written in two Unicode forms?): neither is graded; rename one folder "
                                    "and grade again")
        record.name = record.name or record.budget.take(name)
        record.lms_id = record.lms_id or record.budget.take(lms_id, 100)
        if origin not in record.origins and len(record.origins) < untrusted.ITEMS:
            record.origins.append(origin)
        return record

    def guarded(self, entry: Path, action, record: _Student | None = None) -> None:
        """Run ``action()``; whatever it raises becomes ``record``'s error, or a note on the folder."""
        try:
            action()
        except RecursionError:
            self._failed(entry, record, "its folders are nested too deeply")
        except Exception as error:  # noqa: BLE001 - one entry never stops the intake of the others
            log.exception("intake of %s failed", entry)
            self._failed(entry, record, f"it cannot be read ({type(error).__name__})")

    def _failed(self, entry: Path, record: _Student | None, why: str) -> None:
        shown = repr(untrusted.inert(untrusted.cap(entry.name, untrusted.LINE)))
        if record is None:
            self.note(f"ignored {shown}: {why}")
        else:
            record.error(f"{shown} was not used: {why}")

    # ------------------------------------------------------------ layouts
    def walk_root(self, root: Path, nesting: int, allowance: Allowance | None) -> None:
        """The entries of a downloads folder (or of an unpacked bulk zip, enclosed in ``nesting`` archives)."""
        entries = _entries(root)
        if not entries:
            self.note(f"{root} is empty: no submissions to grade")
        for entry in entries:
            self.guarded(entry, lambda entry=entry: self.walk_entry(entry, nesting, allowance))

    def walk_entry(self, entry: Path, nesting: int, allowance: Allowance | None) -> None:
        if entry.is_symlink():
            self.note(f"ignored the symbolic link {entry.name}")
        elif entry.is_dir() and entry.name == "submitted":
            for folder in _entries(entry):
                if folder.is_dir() and not folder.is_symlink():
                    record = self.student(folder.name, f"nbgrader {folder}")
                    self.guarded(folder, lambda f=folder, r=record: self.collect(r, f, nesting), record)
        elif entry.is_dir():
            match = _MOODLE.match(entry.name)
            if match:
                record = self.student(match["id"], f"Moodle {entry}", match["name"], match["id"])
            else:
                record = self.student(entry.name, str(entry))
            self.guarded(entry, lambda: self.collect(record, entry, nesting), record)
        elif entry.suffix.lower() == ".zip" and not _CANVAS.match(entry.name):
            self.bulk_zip(entry, nesting, allowance or Allowance.for_download())
        elif match := _CANVAS.match(entry.name):
            record = self.student(match["uid"], f"Canvas {entry.name}", match["name"], match["uid"])
            self.guarded(entry, lambda: self.add_file(record, entry, match["file"], nesting, canvas=True), record)
        else:
            self.note(f"ignored {entry.name}: a file outside any student folder")

    def bulk_zip(self, path: Path, nesting: int, allowance: Allowance) -> None:
        """A download of several students' work; the zips inside it are one level deeper."""
        if nesting > MAX_NESTING:
            self.note(f"ignored {path.name}: an archive inside an archive inside an archive")
            return
        folder = self._unpack_folder()
        try:
            for note in extract(path, folder, allowance):
                self.note(note)
        except UnsafeArchive as error:
            self.note(f"refused {path.name}: {error}")
            log.warning("refused %s: %s", path, error)
            return
        self.walk_root(folder, nesting + 1, allowance)

    def collect(self, record: _Student, folder: Path, nesting: int, depth: int = 0) -> None:
        """Every file in a student's folder (sub-folders too, not hidden ones) as a candidate."""
        for entry in _entries(folder):
            record.seen_any = True
            if entry.is_symlink():
                record.note(f"ignored the symbolic link {entry.name}")
            elif entry.is_dir():
                if depth < MAX_DEPTH:
                    self.collect(record, entry, nesting, depth + 1)
            elif entry.is_file():
                self.add_file(record, entry, entry.name, nesting)

    def add_file(self, record: _Student, path: Path, name: str, nesting: int, canvas: bool = False) -> None:
        """``path`` (whose own name, without an LMS's prefix, is ``name``) as a candidate of ``record``;
        ``canvas``: Canvas named it, so its ``-N`` is a resubmission number."""
        record.seen_any = True
        if path.suffix.lower() == ".zip":
            self.student_zip(record, path, nesting)
            return
        match = assignment_of(name, self.assignments)
        if match is None:
            if len(record.unrelated) < untrusted.ITEMS:
                record.unrelated.append(record.budget.take(name))
            return
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read, a device never end
            record.note(f"ignored {name}: not a regular file")
            return
        record.candidates.append((FileCandidate(path, match, info.st_mtime, canvas), info.st_size))

    def student_zip(self, record: _Student, path: Path, nesting: int) -> None:
        """A student's own archive, unpacked into the student's allowance (shared by all its levels)."""
        if nesting > MAX_NESTING:
            record.note(f"ignored {path.name}: an archive inside an archive inside an archive "
                        "(archives are unpacked one level deep)")
            return
        folder = self._unpack_folder()
        try:
            for note in extract(path, folder, record.allowance):
                record.note(note)
        except UnsafeArchive as error:
            record.error(f"refused {path.name}: {error}")
            return
        self.collect(record, folder, nesting + 1)

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
                            origin=record.budget.take("; ".join(record.origins), untrusted.MESSAGE))
    if record.collision:
        submission.error = record.collision
        return submission
    chosen: dict[str, tuple[FileCandidate, int]] = {}
    sizes = {id(candidate): size for candidate, size in record.candidates}
    for assignment in assignments:
        options = [c for c, _ in record.candidates if c.match.assignment == assignment]
        if not options:
            continue
        best, why = choose_file(options)
        chosen[assignment] = (best, sizes[id(best)])
        if len(options) > 1:
            others = ", ".join(c.path.name for c in options if c is not best)
            note = f"{assignment}: {len(options)} files; graded {best.path.name} ({why}), not {others}"
            submission.notes.append(record.budget.take(note, untrusted.NOTE))
            log.info("%s: %s", record.key, submission.notes[-1])
    if record.unrelated and chosen:
        submission.notes.append(record.budget.take(
            "ignored files that are no assignment: " + ", ".join(sorted(set(record.unrelated))[:10]), untrusted.NOTE))
    if record.errors and not chosen:
        submission.error = "; ".join(record.errors)
        return submission
    submission.notes += record.errors
    if not chosen:
        expected = ", ".join(f"{a}.py" for a in assignments[:3]) + (", ..." if len(assignments) > 3 else "")
        if not record.seen_any:
            submission.error = "the submission is empty"
        else:
            submission.error = record.budget.take(f"no assignment file found (expected {expected} or .ipynb); found: "
                                                  + ", ".join(sorted(set(record.unrelated))[:10]), untrusted.MESSAGE)
        return submission
    folder = staging / record.key
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    digest = hashlib.sha256()
    for assignment, (candidate, size) in sorted(chosen.items()):
        name = f"{assignment}{candidate.match.suffix}"  # staged under the plain name: LOSSES.IPYNB -> losses.ipynb
        if size > MAX_SOURCE_BYTES:
            submission.problems[assignment] = record.budget.take(
                f"{candidate.path.name} is {_size(size)}, over the {MAX_SOURCE_BYTES >> 20} MiB limit for a "
                "source file (are there outputs or data embedded in it?)", untrusted.NOTE)
            digest.update(f"{name}\0too large\0{size}\0".encode())
            submission.hashes[assignment] = hashlib.sha256(f"{name}\0too large\0{size}".encode()).hexdigest()
            continue
        try:
            data = _read_no_follow(candidate.path, MAX_SOURCE_BYTES)
        except OSError as error:
            submission.problems[assignment] = record.budget.take(
                f"{candidate.path.name} cannot be read: {error.strerror or error}", untrusted.NOTE)
            submission.hashes[assignment] = hashlib.sha256(
                f"{name}\0unreadable\0{submission.problems[assignment]}".encode()).hexdigest()
            continue
        target = folder / name
        target.write_bytes(data)
        os.utime(target, (candidate.mtime, candidate.mtime))
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        submission.hashes[assignment] = content_sha256(name, data)
    submission.path = folder
    submission.sha256 = digest.hexdigest()
    return submission


def _read_no_follow(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the regular file ``path`` (a link, FIFO or device is an OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return stream.read(limit + 1)


def _size(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"
