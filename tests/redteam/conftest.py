"""Fixtures of the red-team suite: a dedicated sandbox, the grading plan, and the checks every
attack must pass (no score, a clear verdict, no secret in any output, nothing left behind)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from rich.console import Console

from autograder.console import print_self_check, print_summary
from autograder.judge.grader import Plan
from autograder.sandbox import open_sandbox
from tests.grading import plan_for

ASSIGNMENT = "perceptron"
SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
# Set before the sandbox starts: a secret in the judge's environment must never reach a child.
JUDGE_SECRET = "dlgrade-judge-secret-" + secrets.token_hex(8)
ORIGINAL_RESULTS = '{"score": 0, "written_by": "the judge"}'


@pytest.fixture(scope="session")
def redteam_sandbox():
    os.environ["DLGRADE_DB_PASSWORD"] = JUDGE_SECRET
    try:
        sandbox = open_sandbox()
    finally:
        del os.environ["DLGRADE_DB_PASSWORD"]
    yield sandbox
    sandbox.close()


@pytest.fixture
def judge_files():
    """A world-writable folder of the judge's on the host: only the sandbox can keep a child out."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-judge-files-", dir="/tmp"))
    os.chmod(folder, 0o777)
    (folder / "results.json").write_text(ORIGINAL_RESULTS)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def attack_plan(course) -> Plan:
    plan = plan_for(course, ASSIGNMENT)
    return Plan(plan.rubrics, plan.seed, plan.device, load_seconds=10.0)


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
