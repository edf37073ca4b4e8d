"""Helpers for the grading tests: plans over the course's rubrics, and submissions on disk."""

from __future__ import annotations

from pathlib import Path

from autograder.course import Course
from autograder.judge.grader import Plan, grade

SEED = 12345


def plan_for(course: Course, *assignments: str, seed: int = SEED, device: str = "cpu") -> Plan:
    return Plan.for_course(course, assignments, seed, device)


def write_submission(folder: Path, assignment: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.py"
    path.write_text(source, encoding="utf-8")
    return folder


def failures(result):
    return [t for t in result.tests if t.outcome != "passed"]


__all__ = ["SEED", "plan_for", "write_submission", "failures", "grade"]
