"""A memory and process cgroup for one fork server (one grading slot), where one can be made.

Works with cgroup v2 (``memory.max``, ``pids.max``) and with the v1 ``memory`` and ``pids``
hierarchies. Making a cgroup needs write access to the current one (root, or a delegated
subtree); where that is missing, :func:`make_slot_cgroup` returns None and the per-process
RLIMIT_AS of :mod:`.confine` is the memory bound.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

_names = itertools.count()


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fstype, super options) of every cgroup mount, from mountinfo."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and tail and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[3], fields[4], tail[0], set(tail[-1].split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller (or '' for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    own = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in (controllers.split(",") if controllers else [""]):
                own[controller] = path
    except (OSError, ValueError):
        pass
    return own


def _own_directory(root: str, mount_point: str, path: str) -> Path:
    relative = os.path.relpath(path, root) if path.startswith(root) else path.lstrip("/")
    return Path(mount_point) / ("" if relative == "." else relative)


@dataclass
class SlotCgroup:
    """The directories of one slot's cgroup (one for v2, one per controller for v1)."""

    directories: list[Path]
    memory_events: Path | None

    def procs_files(self) -> list[str]:
        return [str(directory / "cgroup.procs") for directory in self.directories]

    def oom_kills(self) -> int:
        """How many processes the kernel killed for exceeding the memory limit so far."""
        if self.memory_events is None:
            return 0
        try:
            for line in self.memory_events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        for directory in self.directories:
            try:
                directory.rmdir()
            except OSError:
                pass  # still busy for a moment, or already gone


def join(procs_files: list[str]) -> None:
    """Move the calling process into the cgroup (used between fork and exec)."""
    for procs in procs_files:
        with open(procs, "w") as file:
            file.write("0")


def make_slot_cgroup(memory_bytes: int, max_processes: int) -> SlotCgroup | None:
    """A fresh cgroup with these limits, or None where none can be made."""
    name = f"dlgrade-{os.getpid()}-{next(_names)}"
    own = _own_cgroups()
    mounts = _mounts()
    for root, point, kind, _options in mounts:
        if kind == "cgroup2" and "" in own:
            made = _make_v2(_own_directory(root, point, own[""]) / name, memory_bytes, max_processes)
            if made:
                return made
    directories, events = [], None
    for controller, limits in (("memory", {"memory.limit_in_bytes": memory_bytes}), ("pids", {"pids.max": max_processes})):
        for root, point, kind, options in mounts:
            if kind == "cgroup" and controller in options and controller in own:
                directory = _own_directory(root, point, own[controller]) / name
                if _make(directory, limits):
                    directories.append(directory)
                    if controller == "memory":
                        events = directory / "memory.oom_control"
                break
    if not directories:
        return None
    return SlotCgroup(directories, events)


def _make_v2(directory: Path, memory_bytes: int, max_processes: int) -> SlotCgroup | None:
    controllers = (directory.parent / "cgroup.subtree_control")
    try:
        enabled = controllers.read_text().split()
    except OSError:
        return None
    if "memory" not in enabled:
        return None
    limits = {"memory.max": memory_bytes, "memory.swap.max": 0}
    if "pids" in enabled:
        limits["pids.max"] = max_processes
    if not _make(directory, limits):
        return None
    return SlotCgroup([directory], directory / "memory.events")


def _make(directory: Path, limits: dict[str, int]) -> bool:
    try:
        directory.mkdir()
    except OSError:
        return False
    try:
        for key, value in limits.items():
            target = directory / key
            if target.exists():
                target.write_text(str(value))
        return True
    except OSError:
        directory.rmdir()
        return False
