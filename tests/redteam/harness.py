"""What the red-team tests share: the attacked assignment, the grader's planted secrets, and the
probes of what a TA or student could see and of what an attack left behind."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from rich.console import Console

from autograder.console import print_self_check, print_summary

ASSIGNMENT = "perceptron"
REPOSITORY = Path(__file__).resolve().parents[2]
SOLUTIONS = REPOSITORY / "solutions"
HONEST = REPOSITORY / "tests" / "fixtures" / "submissions" / "vectorized" / f"{ASSIGNMENT}.py"
# Set before the sandbox starts: a secret in the judge's environment must never reach a child.
JUDGE_SECRET = "dlgrade-judge-secret-" + secrets.token_hex(8)
ORIGINAL_RESULTS = '{"score": 0, "written_by": "the judge"}'


def hidden_code_lines() -> list[str]:
    """Distinctive code lines of the hidden material: none may appear in any output."""
    lines = []
    for name in ("hidden_checks.py", "reference.py", "mutants.py"):
        for line in (SOLUTIONS / ASSIGNMENT / name).read_text().splitlines():
            text = line.strip()
            if len(text) > 30 and not text.startswith(("#", '"', "'", "description", "title", "hint")):
                lines.append(text)
    return lines


def everything_shown(result) -> str:
    """Every byte a TA or a student could see of this result."""
    console = Console(record=True, width=200, file=open(os.devnull, "w"))
    print_summary(result, console)
    print_self_check(result, console)
    return "\n".join([json.dumps(result.to_json()), json.dumps(result.to_gradescope()), console.export_text()])


def sandbox_processes(sandbox) -> list[int]:
    """The fork server's processes (its spare child included), once it has reaped what it killed."""
    sandbox.server.settle()
    return descendants(sandbox.server.process.pid)


def descendants(root: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found
