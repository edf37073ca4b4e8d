"""Unpack an LMS zip download safely: no zip-slip, no zip bomb, no symlink, nothing executed.

The archive is judged from its central directory before a byte is written: too many members,
too many bytes once unpacked, or a compression ratio no source file has, and it is refused
whole (:class:`UnsafeArchive`). Members are then streamed into files this process creates
itself (``O_EXCL | O_NOFOLLOW``) under the destination, counting the bytes really produced, so
a header that lies about sizes stops the extraction too. Members whose names leave the
destination (``../x``, ``/etc/x``, ``C:\\x``), symlinks, encrypted members, and macOS
resource forks are skipped, each with a note.
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 5000
MAX_TOTAL_BYTES = 256 << 20   # unpacked, for one archive
MAX_RATIO = 200               # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20         # small files may compress well (a notebook full of zeros)
CHUNK = 1 << 16


class UnsafeArchive(Exception):
    """The archive was refused before extraction; the message says why."""


def _member_path(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it would leave the destination."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ":" in path.parts[0] or any(part == ".." for part in path.parts):
        return None
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_archive(archive: zipfile.ZipFile, label: str) -> None:
    """Refuse an archive whose central directory announces a bomb."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > MAX_MEMBERS:
        raise UnsafeArchive(f"{label} has {len(members)} files, over the limit of {MAX_MEMBERS}")
    total = sum(info.file_size for info in members)
    if total > MAX_TOTAL_BYTES:
        raise UnsafeArchive(f"{label} unpacks to {total / 2**20:.0f} MiB, over the limit of "
                            f"{MAX_TOTAL_BYTES >> 20} MiB (a zip bomb?)")
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeArchive(f"{label}: {info.filename} compresses {info.file_size / max(info.compress_size, 1):.0f}:1, "
                                f"over the limit of {MAX_RATIO}:1 (a zip bomb?)")


def extract(zip_path: Path, destination: Path) -> list[str]:
    """Unpack ``zip_path`` into the new folder ``destination``; return notes on what was skipped.

    Raises :class:`UnsafeArchive` when the archive is refused or cannot be read.
    """
    label = zip_path.name
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnsafeArchive(f"{label} is not a readable zip file: {error}") from None
    notes: list[str] = []
    with archive:
        check_archive(archive, label)
        destination.mkdir(parents=True, exist_ok=False)
        written = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            relative = _member_path(info.filename)
            if relative is None:
                notes.append(f"{label}: skipped {info.filename!r}: its path leaves the archive's folder")
                continue
            if _is_symlink(info):
                notes.append(f"{label}: skipped the symbolic link {info.filename!r}")
                continue
            if info.flag_bits & 0x1:
                notes.append(f"{label}: skipped {info.filename!r}: it is encrypted")
                continue
            if relative.parts[0] == "__MACOSX" or relative.name.startswith("._"):
                continue
            written += _write_member(archive, info, destination, relative, MAX_TOTAL_BYTES - written, label)
    return notes


def _write_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path,
                  relative: PurePosixPath, budget: int, label: str) -> int:
    target = destination.joinpath(*relative.parts)
    folder = destination
    for part in relative.parts[:-1]:  # create each level ourselves: a planted link is never followed
        folder = folder / part
        if folder.is_symlink():
            raise UnsafeArchive(f"{label}: {folder} is a symbolic link")
        folder.mkdir(exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return 0  # a duplicate member name: the first one stays
    count = 0
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                count += len(chunk)
                if count > info.file_size or count > budget:
                    raise UnsafeArchive(f"{label}: {info.filename} unpacks to more than it announced (a zip bomb?)")
                out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise UnsafeArchive(f"{label}: {info.filename} cannot be unpacked: {error}") from None
    stamp = time.mktime(info.date_time + (0, 0, -1))
    os.utime(target, (stamp, stamp))
    return count
