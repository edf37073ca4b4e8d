"""Unpack an LMS zip download safely: no zip-slip, no zip bomb, no symlink, nothing executed.

The archive is judged from its central directory before a byte is written: more members or
more bytes than the :class:`Allowance` it unpacks into has left, or a compression ratio no source
file has, and it is refused whole (:class:`UnsafeArchive`). Every member's name is then checked
before anything is created (:func:`plan`), and members that cannot be unpacked as plain files
inside the destination are skipped, each with a note:

- names that leave the destination (``../x``, ``/etc/x``, ``C:\\x``) or hold control characters;
- a component longer than NAME_MAX (255 bytes), a path longer than PATH_MAX (4096 bytes) once
  under the destination, or more than :data:`MAX_PARTS` folders deep;
- symbolic links, device files, FIFOs and sockets (only regular files are unpacked);
- a file whose name is also a folder of another member (``a`` and ``a/b``), and duplicates
  (the first one stays);
- encrypted members, and macOS resource forks (silently).

Members are streamed into files this process creates itself (``O_EXCL | O_NOFOLLOW``), counting
the bytes really produced against the member's announced size and the allowance, so a header
that lies stops the extraction too. An allowance is shared by everything unpacked for one
student (or one bulk download), however deeply archives are nested inside each other.
Whatever goes wrong while reading or writing (a malformed archive, a full disk) is an
:class:`UnsafeArchive`, never another exception.
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder import untrusted

MAX_MEMBERS = 5000
MAX_TOTAL_BYTES = 256 << 20   # unpacked, for one bulk download (all its nested archives included)
MAX_STUDENT_BYTES = 64 << 20  # unpacked, for one student's own archives, all nesting included
MAX_STUDENT_MEMBERS = 2000
MAX_RATIO = 200               # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20         # small files may compress well (a notebook full of zeros)
NAME_MAX = 255                # bytes in one path component (Linux, most file systems)
PATH_MAX = 4096               # bytes in a whole path (Linux)
MAX_PARTS = 32                # folders a member may be nested in
MAX_NOTES = 10                # notes on skipped members, then one that counts the rest
CHUNK = 1 << 16
_FILE_TYPES = (0, stat.S_IFREG)  # 0: made on a system that records no mode (Windows)


class UnsafeArchive(Exception):
    """The archive was refused, or could not be read; the message says why."""


@dataclass
class Allowance:
    """What may still be unpacked: bytes and members, spent by every archive that shares it."""

    bytes_left: int
    members_left: int

    @classmethod
    def for_student(cls) -> "Allowance":
        return cls(MAX_STUDENT_BYTES, MAX_STUDENT_MEMBERS)

    @classmethod
    def for_download(cls) -> "Allowance":
        return cls(MAX_TOTAL_BYTES, MAX_MEMBERS)


@dataclass(frozen=True)
class Member:
    """A member to unpack: its entry in the archive and its checked relative path."""

    info: zipfile.ZipInfo
    path: PurePosixPath


def _shown(name: str) -> str:
    """A member name as notes show it: bounded, without control characters."""
    return repr(untrusted.inert(untrusted.cap(name, untrusted.LINE)))


def name_problem(name: str, destination: Path) -> str | None:
    """Why the member ``name`` cannot be unpacked under ``destination`` as it is, or None."""
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "its name holds control characters"
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if not name or not path.parts or path.is_absolute() or ":" in path.parts[0] or ".." in path.parts:
        return "its path leaves the archive's folder"
    if len(path.parts) > MAX_PARTS:
        return f"it is more than {MAX_PARTS} folders deep"
    if any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in path.parts):
        return f"a part of its name is longer than {NAME_MAX} bytes"
    if len(os.fsencode(destination)) + 1 + len(name.encode("utf-8", "surrogatepass")) >= PATH_MAX:
        return f"its path is longer than {PATH_MAX} bytes"
    return None


def _kind_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "it is a symbolic link"
    if stat.S_IFMT(mode) not in _FILE_TYPES:
        return "it is not a regular file (a device, FIFO or socket)"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    return None


def check_archive(archive: zipfile.ZipFile, label: str, allowance: Allowance) -> list[zipfile.ZipInfo]:
    """The archive's file members; refuse it when its central directory announces a bomb."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > allowance.members_left:
        raise UnsafeArchive(f"{label} has {len(members)} files, over the limit: {allowance.members_left} more may be "
                            f"unpacked ({MAX_MEMBERS} per download, {MAX_STUDENT_MEMBERS} per student, all levels)")
    total = sum(info.file_size for info in members)
    if total > allowance.bytes_left:
        raise UnsafeArchive(f"{label} unpacks to {total / 2**20:.0f} MiB, over the limit: "
                            f"{allowance.bytes_left / 2**20:.0f} MiB more may be unpacked (a zip bomb?)")
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeArchive(f"{label}: {_shown(info.filename)} compresses "
                                f"{info.file_size / max(info.compress_size, 1):.0f}:1, "
                                f"over the limit of {MAX_RATIO}:1 (a zip bomb?)")
    return members


def plan(members: list[zipfile.ZipInfo], destination: Path, label: str) -> tuple[list[Member], list[str]]:
    """The members to unpack, in order, and notes on the others; nothing is created."""
    chosen: list[Member] = []
    skipped: list[str] = []
    files: set[tuple[str, ...]] = set()
    folders: set[tuple[str, ...]] = set()
    for info in members:
        relative = PurePosixPath(info.filename.replace("\\", "/"))
        if relative.parts and (relative.parts[0] == "__MACOSX" or relative.name.startswith("._")):
            continue
        problem = name_problem(info.filename, destination) or _kind_problem(info)
        parts = relative.parts
        if problem is None and parts in files:
            problem = "another member has the same name (the first one is kept)"
        elif problem is None and (parts in folders or any(parts[:i] in files for i in range(1, len(parts)))):
            problem = "a file and a folder of the archive have the same name"
        if problem is not None:
            skipped.append(f"{label}: skipped {_shown(info.filename)}: {problem}")
            continue
        files.add(parts)
        folders.update(parts[:i] for i in range(1, len(parts)))
        chosen.append(Member(info, relative))
    notes = skipped[:MAX_NOTES]
    if len(skipped) > MAX_NOTES:
        notes.append(f"{label}: {len(skipped) - MAX_NOTES} more members skipped")
    return chosen, notes


def extract(zip_path: Path, destination: Path, allowance: Allowance | None = None) -> list[str]:
    """Unpack ``zip_path`` into the new folder ``destination``; return notes on what was skipped.

    Spends ``allowance`` (a fresh :meth:`Allowance.for_download` by default). Raises
    :class:`UnsafeArchive` when the archive is refused or cannot be read or written.
    """
    allowance = allowance or Allowance.for_download()
    label = untrusted.inert(untrusted.cap(zip_path.name, untrusted.LINE))
    try:
        archive = zipfile.ZipFile(zip_path)
    except Exception as error:  # noqa: BLE001 - a malformed archive raises from anywhere in zipfile
        raise UnsafeArchive(f"{label} is not a readable zip file ({type(error).__name__})") from None
    with archive:
        try:
            members = check_archive(archive, label, allowance)
        except UnsafeArchive:
            raise
        except Exception as error:  # noqa: BLE001 - sizes or names zipfile cannot parse
            raise UnsafeArchive(f"{label} is not a readable zip file ({type(error).__name__})") from None
        chosen, notes = plan(members, destination, label)
        allowance.members_left -= len(chosen)
        try:
            destination.mkdir(parents=True, exist_ok=False)
            for member in chosen:
                _write_member(archive, member, destination, allowance, label)
        except UnsafeArchive:
            raise
        except Exception as error:  # noqa: BLE001 - corrupt data, a full disk: this archive's problem
            raise UnsafeArchive(f"{label} cannot be unpacked ({type(error).__name__}: "
                                f"{untrusted.inert(untrusted.cap(str(error), untrusted.LINE))})") from None
    return notes


def _write_member(archive: zipfile.ZipFile, member: Member, destination: Path, allowance: Allowance,
                  label: str) -> None:
    info = member.info
    folder = destination
    for part in member.path.parts[:-1]:  # create each level ourselves: a planted link is never followed
        folder = folder / part
        if folder.is_symlink():
            raise UnsafeArchive(f"{label}: {_shown(str(folder))} is a symbolic link")
        folder.mkdir(exist_ok=True)
    target = folder / member.path.name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    count = 0
    with os.fdopen(fd, "wb") as out, archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            count += len(chunk)
            if count > info.file_size or len(chunk) > allowance.bytes_left:
                raise UnsafeArchive(f"{label}: {_shown(info.filename)} unpacks to more than it announced "
                                    "(a zip bomb?)")
            allowance.bytes_left -= len(chunk)
            out.write(chunk)
    try:
        stamp = time.mktime(info.date_time + (0, 0, -1))
        os.utime(target, (stamp, stamp))
    except (OverflowError, ValueError, OSError):  # an impossible date in the header: keep the time of unpacking
        pass
