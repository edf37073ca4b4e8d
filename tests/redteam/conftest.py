"""Fixtures of the red-team suite: a dedicated sandbox started with a secret in the grader's
environment, the grading plan, and a world-writable folder of the grader's on the host."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from grading import plan_for
from redteam.harness import ASSIGNMENT, JUDGE_SECRET, ORIGINAL_RESULTS

from autograder.sandbox import open_sandbox


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
def attack_plan(course):
    plan = plan_for(course, ASSIGNMENT)
    return dataclasses.replace(plan, load_seconds=10.0)


