"""Confine one forked child: its own namespaces, private tmpfs, limits, no capabilities, seccomp.

Runs inside the fork server's sandbox, in the child that was just forked for one submission
(a forked child is single-threaded, which ``unshare(CLONE_NEWUSER)`` requires). The steps, in
order, each one small:

1. :func:`enter_namespaces`: new user, mount, pid, network, IPC and UTS namespaces. The pid
   namespace applies to the *next* child, so the caller forks once more; that grandchild is pid 1
   of its namespace and, when it exits or is killed, the kernel kills every process it started.
2. :func:`private_mounts`: a fresh size-limited tmpfs on /tmp and /dev/shm (nothing crosses
   between submissions) and a /proc that shows only this namespace.
3. :func:`apply_limits`: rlimits for CPU, processes, file size, open files, core dumps, memory.
4. :func:`drop_privileges`: every capability gone, including the bounding set; no new privileges.
5. :func:`install_seccomp`: sockets of the AF_UNIX family only (inside the child's own network
   namespace, so they reach nothing outside it); no ptrace, process_vm_*, io_uring, bpf, perf,
   keyring, mount or namespace calls; no CPU placement or priority changes and no new session
   (a child cannot widen the CPU it was pinned to, nor leave its scheduling group); no file
   locks or file watches (a lock or a watch on a shared read-only runtime file would be a
   channel between two children running at the same time).
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import socket
from dataclasses import asdict, dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_RDONLY, MS_REMOUNT, MS_BIND = 0x1, 0x20, 0x1000
MS_REC, MS_PRIVATE = 0x4000, 0x40000

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
LAST_CAPABILITY = 63  # dropping an unknown capability number fails with EINVAL: harmless

_libc = ctypes.CDLL(None, use_errno=True)


class ConfinementError(OSError):
    """One confinement step failed: the child must not run student code."""


@dataclass(frozen=True)
class Limits:
    """Per-submission bounds (grading-facts section 5). Sizes in bytes, times in seconds."""

    cpu_seconds: int = 60          # a backstop: each test also has a wall-clock deadline
    processes: int = 64            # RLIMIT_NPROC counts every process of the sandbox user
    file_bytes: int = 16 << 20
    open_files: int = 256
    address_space: int = 2 << 30   # RLIMIT_AS: a backstop where no memory cgroup can be made
    tmpfs_bytes: int = 64 << 20

    def to_json(self) -> dict:
        return asdict(self)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise ConfinementError(code, f"{what}: {os.strerror(code)}")


def prctl(option: int, value: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def enter_namespaces(inside_uid: int = 65534, inside_gid: int = 65534) -> None:
    """Unshare every namespace and map the current (unprivileged) user to ``inside_uid``."""
    outer_uid, outer_gid = os.getuid(), os.getgid()
    _check(_libc.unshare(NAMESPACES), "unshare")
    with open("/proc/self/setgroups", "w") as file:
        file.write("deny")
    with open("/proc/self/uid_map", "w") as file:
        file.write(f"{inside_uid} {outer_uid} 1")
    with open("/proc/self/gid_map", "w") as file:
        file.write(f"{inside_gid} {outer_gid} 1")


def _mount(source: str, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    result = _libc.mount(source.encode() if source else None, target.encode(),
                         kind.encode() if kind else None, ctypes.c_ulong(flags),
                         data.encode() if data else None)
    _check(result, f"mount {target}")


def private_mounts(limits: Limits, keep_under_tmp: list[str] = ()) -> None:
    """Fresh /tmp, /dev/shm and /proc for this submission alone.

    ``keep_under_tmp``: runtime folders that live under /tmp (a virtual environment there); they
    are bound again, read-only as before, on top of the fresh tmpfs."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in keep_under_tmp]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.tmpfs_bytes},mode=1777")
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
        _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=8m,mode=1777")
    try:
        mount_proc()
    except ConfinementError:
        # A /proc that bubblewrap partly covered cannot be remounted in a user namespace:
        # hide it instead, so no other process is even listed.
        _mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555")
    try:
        socket.sethostname("sandbox")
    except OSError:
        pass  # cosmetic only


def mount_proc() -> None:
    """A /proc for the current pid namespace: it lists only the processes of this namespace."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def apply_limits(limits: Limits) -> None:
    for name, value in (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_AS, limits.address_space),
    ):
        resource.setrlimit(name, (value, value))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """No capability in any set, none can come back (bounding set empty, no_new_privs)."""
    for capability in range(LAST_CAPABILITY + 1):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            _check(-1, f"drop capability {capability} from the bounding set")
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)


# System calls a numeric submission never needs and an attack does.
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
    "request_key", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "kexec_load",
    "init_module", "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at",
)
# CPU placement and priority. The judge pins a child to its own CPU; a child that widened its
# affinity, or left its session (with autogroup scheduling, a new session is a new scheduling
# group with the weight of a whole session, so `nice` no longer holds it back), would slow the
# other students' tests. Reading (sched_getaffinity, getpriority) stays allowed.
PLACEMENT_SYSCALLS = (
    "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr", "setpriority",
    "setsid", "ioprio_set",
)
# File watches: an inotify watch on a shared read-only file sees every other child open it.
WATCH_SYSCALLS = ("inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init", "fanotify_mark")
# The one socket family a child may create (an allow-list: inet, inet6, netlink, packet, vsock,
# alg, bluetooth... are all refused); its own network namespace leaves AF_UNIX nothing to reach
# but its own sockets.
ALLOWED_SOCKET_FAMILY = socket.AF_UNIX
# fcntl commands that take, test or watch locks, leases or directory changes (values from
# <fcntl.h>: F_GETLK 5, F_SETLK 6, F_SETLKW 7, F_OFD_GETLK 36, F_OFD_SETLK 37, F_OFD_SETLKW 38,
# F_SETLEASE 1024, F_NOTIFY 1026). Two children locking one shared runtime file could signal
# each other; flock is denied for the same reason. Locking fails with ENOLCK ("no locks
# available"), the error a program already expects from a lock that cannot be had.
LOCK_FCNTL_COMMANDS = (5, 6, 7, 36, 37, 38, 1024, 1026)


def seccomp_filter():
    """The filter, built once (the fork server builds it before forking; each child loads it)."""
    import pyseccomp as seccomp  # libseccomp via ctypes

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED_SYSCALLS + PLACEMENT_SYSCALLS + WATCH_SYSCALLS:
        _deny(rules, deny, name)
    for name in ("socket", "socketpair"):  # the whole 64-bit argument is compared: no high-bit tricks
        rules.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, ALLOWED_SOCKET_FAMILY))
    no_locks = seccomp.ERRNO(errno.ENOLCK)
    _deny(rules, no_locks, "flock")
    for name in ("fcntl", "fcntl64"):
        for command in LOCK_FCNTL_COMMANDS:
            _deny(rules, no_locks, name, seccomp.Arg(1, seccomp.EQ, command))
    # clone3 passes its flags in memory, where seccomp cannot look: make libc fall back to clone.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in (CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID):  # no nested namespaces
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    return rules


def _deny(rules, action, name: str, *arguments) -> None:
    try:
        rules.add_rule(action, name, *arguments)
    except (RuntimeError, ValueError, OSError):
        pass  # a system call this architecture does not have (fcntl64, inotify_init on arm64)


def install_seccomp(rules=None) -> None:
    """Load the filter (``rules`` from :func:`seccomp_filter`, or a fresh one) into this process."""
    (rules or seccomp_filter()).load()
