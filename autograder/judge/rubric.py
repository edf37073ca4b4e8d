"""An assignment's rubric: its checks (public and hidden), their points, and its known mistakes.

Where the pieces live (the folder layout is the security boundary):
- ``solutions/<a>/public_checks.py``: the public checks (``CHECKS``). Released verbatim to
  ``assignments/<a>/public_checks.py`` with their values frozen in ``public_checks.json``;
- ``solutions/<a>/hidden_checks.py``: the hidden checks (``CHECKS``), never released;
- ``solutions/<a>/mutants.py``: the known mistakes (``MUTANTS``), never released (the frozen
  file carries only their titles and hints, and their outputs on the public inputs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Course, load_module
from autograder.curriculum import CONTRACT
from autograder.judge.checks import Check
from autograder.judge.mutants import Mutant
from autograder.judge.oracle import FrozenOracle, LiveOracle
from autograder.errors import DlgradeError

PUBLIC_CHECKS = "public_checks"
HIDDEN_CHECKS = "hidden_checks"
MUTANTS = "mutants"
PUBLIC_SEED = 20_261_122  # public checks use fixed inputs: their values are frozen into the release


class RubricError(DlgradeError, ValueError):
    """The course's checks are inconsistent (a bug in the course material)."""


@dataclass(frozen=True)
class Rubric:
    assignment: str
    checks: tuple[Check, ...]
    mutants: tuple[Mutant, ...] = ()
    version: str = ""  # a hash of the check files: which checks graded a submission

    def __post_init__(self):
        names = [c.name for c in self.checks]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise RubricError(f"{self.assignment}: duplicate check names {sorted(duplicates)}")
        for check in self.checks:
            if check.assignment != self.assignment or check.function not in CONTRACT[self.assignment]:
                raise RubricError(f"{self.assignment}: check {check.name!r} names exercise {check.exercise!r}, "
                                  "which is not in the assignment's contract")
            if check.points <= 0:
                raise RubricError(f"{self.assignment}: check {check.name!r} has {check.points} points")

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    def public(self) -> "Rubric":
        return Rubric(self.assignment, tuple(c for c in self.checks if c.visibility == "public"), self.mutants,
                      self.version)


def _version(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def load_rubric(course: Course, assignment: str, with_mutants: bool = True) -> Rubric:
    """The full rubric (public and hidden checks, mutants) from the course's solutions.

    ``with_mutants=False`` leaves the mutants out (their module imports torch): enough for a
    process that records and reports results but never grades. The version is the same.
    """
    public = course.load_hidden(assignment, PUBLIC_CHECKS)
    hidden = course.load_hidden(assignment, HIDDEN_CHECKS)
    folder = course.solutions / assignment
    version = _version(*(folder / f"{n}.py" for n in (PUBLIC_CHECKS, HIDDEN_CHECKS, MUTANTS, "reference")))
    for module, visibility in ((public, "public"), (hidden, "hidden")):
        wrong = [c.name for c in module.CHECKS if c.visibility != visibility]
        if wrong:
            raise RubricError(f"{module.__file__}: checks {wrong} are not {visibility}")
    mutants = tuple(course.load_hidden(assignment, MUTANTS).MUTANTS) if with_mutants else ()
    return Rubric(assignment, tuple(public.CHECKS) + tuple(hidden.CHECKS), mutants, version)


def live_oracle(course: Course, rubric: Rubric, device: str = "cpu") -> LiveOracle:
    return LiveOracle(course.load_reference(rubric.assignment), rubric.mutants, device)


def load_released(folder: Path, assignment: str) -> tuple[Rubric, FrozenOracle]:
    """The public rubric and its frozen values, from a student release folder ``assignments/<a>/``."""
    checks_file, values_file = folder / f"{PUBLIC_CHECKS}.py", folder / f"{PUBLIC_CHECKS}.json"
    for path in (checks_file, values_file):
        if not path.is_file():
            raise RubricError(f"{path} is missing: the public checks come with the assignment release")
    module = load_module(checks_file, f"dlgrade_public.{assignment}.checks")
    oracle = FrozenOracle(json.loads(values_file.read_text(encoding="utf-8")))
    rubric = Rubric(assignment, tuple(module.CHECKS), tuple(oracle.mutants.values()), _version(checks_file, values_file))
    return rubric, oracle
