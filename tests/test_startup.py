"""Start-up: the sandbox proves itself while the command loads its course, a submission loads only
the references it needs, and a student's self-check imports neither torch nor scipy.stats."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograder.course import Course

from autograder.judge.grader import Plan, grade
from autograder.sandbox import SandboxStarting, SandboxUnavailable, open_sandbox_in_background
from autograder.submission import find_files

from support import ASSIGNMENTS

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "tests" / "fixtures" / "submissions" / "vectorized"


class _Gate:
    """A stand-in sandbox whose proof waits for the test to open a gate."""

    def __init__(self, failure: Exception | None = None):
        self.gate, self.failure, self.closed = threading.Event(), failure, False
        self.proved_in = None

    def prove(self):
        self.proved_in = threading.get_ident()
        assert self.gate.wait(30), "the test never opened the gate"
        if self.failure is not None:
            raise self.failure
        return self

    def close(self):
        self.closed = True


def test_the_proof_runs_while_the_caller_goes_on():
    sandbox = _Gate()
    with SandboxStarting(sandbox) as starting:  # returns with the proof still waiting on the gate
        sandbox.gate.set()
        assert starting.wait() is sandbox
        assert sandbox.proved_in not in (None, threading.get_ident())
    assert sandbox.closed


def test_a_failed_proof_is_raised_to_the_waiter_and_the_sandbox_closed():
    sandbox = _Gate(SandboxUnavailable("the self-test failed"))
    starting = SandboxStarting(sandbox)
    sandbox.gate.set()
    with pytest.raises(SandboxUnavailable, match="self-test failed"):
        with starting:
            starting.wait()
    assert sandbox.closed


def test_a_sandbox_proved_in_the_background_outlives_the_proving_thread():
    """bubblewrap runs with --die-with-parent: the kernel signals it when the THREAD that started
    it exits. The server must be launched from the caller's thread, not the proving one."""
    with open_sandbox_in_background() as starting:
        sandbox = starting.wait()
        starting._thread.join()
        server_pid = sandbox.server.process.pid
        child = sandbox.start_child()
        try:
            assert sandbox.server.running and sandbox.server.process.pid == server_pid  # not restarted
            answer = child.request({"op": "load", "module": "m", "cells": ["x = 41 + 1"], "filename": "m.py"}, 10.0)
            assert answer.get("ok"), answer
        finally:
            child.kill()


def test_a_one_file_submission_loads_one_reference(course):
    found = find_files(FULL / "losses.py", ASSIGNMENTS)
    plan = Plan.for_submission(course, ASSIGNMENTS, found, 1, "cpu")
    assert list(plan.rubrics) == list(ASSIGNMENTS)
    for assignment, (rubric, oracle) in plan.rubrics.items():
        if assignment == "losses":
            assert oracle is not None and rubric.mutants
        else:
            assert oracle is None and rubric.mutants == ()


def test_a_one_file_submission_gets_the_verdicts_of_the_full_plan(course):
    found = find_files(FULL / "losses.py", ASSIGNMENTS)
    lean = grade(FULL / "losses.py", Plan.for_submission(course, ASSIGNMENTS, found, 7, "cpu"))
    full = grade(FULL / "losses.py", Plan.for_course(course, ASSIGNMENTS, 7, "cpu"))

    def verdicts(result):
        document = result.to_json()
        return ([{k: v for k, v in t.items() if k != "duration_s"} for t in document["tests"]],
                document["assignments"], document["checks_version"], document["score"])

    assert verdicts(lean) == verdicts(full)
    assert lean.to_json()["score"] == 100


@pytest.fixture
def course():
    return Course.locate(ROOT / "solutions")


def test_a_students_check_imports_neither_torch_nor_scipy_stats(tmp_path):
    """`dlgrade check` runs frozen public values: torch and scipy.stats would be seconds for nothing."""
    folder = ROOT / "assignments" / "initializers"  # statistical checks: the KS test runs
    code = ("import sys, runpy\n"
            f"sys.argv = ['dlgrade', 'check', 'initializers', {str(folder / 'initializers.py')!r}]\n"
            "try:\n"
            f"    runpy.run_path({str(ROOT / 'cli.py')!r}, run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = sorted(m for m in sys.modules if m in ('torch', 'scipy.stats', 'matplotlib', 'sqlalchemy'))\n"
            "print('HEAVY', json.dumps(heavy))\n").replace("import sys, runpy", "import json, sys, runpy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    line = [text for text in done.stdout.splitlines() if text.startswith("HEAVY ")]
    assert line, done.stdout + done.stderr
    assert "public checks pass" in done.stdout, done.stdout + done.stderr
    assert json.loads(line[0][len("HEAVY "):]) == []
