"""An assignment's rubric: its checks (public and hidden), their points, and its known mistakes.

Where the pieces live (the folder layout is the security boundary):
- ``solutions/<a>/assignment.toml``: what the assignment declares (its functions, its total);
- ``solutions/<a>/public_checks.py``: the public checks (``CHECKS``). Released verbatim to
  ``assignments/<a>/public_checks.py`` with their values frozen in ``public_checks.json``;
- ``solutions/<a>/hidden_checks.py``: the hidden checks (``CHECKS``), never released, and the
  example inputs of the declared contracts (``CONTRACT_INPUTS``): the engine adds one small
  hidden check per contract rule (:mod:`autograder.judge.contract`);
- ``solutions/<a>/mutants.py``: the known mistakes (``MUTANTS``), never released (the frozen
  file carries only their titles and hints, and their outputs on the public inputs).

A check says each thing once: the loader qualifies its exercise with the assignment and gives it
the visibility of its file. The rubric holds the assignment to its declaration: every check
grades a declared function, and the points add up to the declared total.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.course import DECLARATION, AssignmentSpec, Course, load_module
from autograder.errors import DlgradeError
from autograder.judge.checks import HIDDEN, PUBLIC, Check
from autograder.judge.contract import CONTRACT_INPUTS, ContractError, contract_checks
from autograder.judge.mutants import Mutant
from autograder.judge.oracle import FrozenOracle, LiveOracle

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
    spec: AssignmentSpec | None = None  # the declaration the checks are held to

    def __post_init__(self):
        names = [c.name for c in self.checks]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise RubricError(f"{self.assignment}: duplicate check names {sorted(duplicates)}")
        functions = self.spec.functions if self.spec is not None else None
        for check in self.checks:
            if check.assignment != self.assignment or (functions is not None and check.function not in functions):
                raise RubricError(f"{self.assignment}: check {check.name!r} names exercise {check.exercise!r}, "
                                  f"which is not in the assignment's declared functions ({DECLARATION}): "
                                  "add the function there")
            if check.points <= 0:
                raise RubricError(f"{self.assignment}: check {check.name!r} has {check.points} points")
        for mutant in self.mutants:
            assignment, _, function = mutant.exercise.partition(".")
            if assignment != self.assignment or (functions is not None and function not in functions):
                raise RubricError(f"{self.assignment}: known mistake {mutant.id!r} is made in {mutant.exercise!r}, "
                                  "which is not one of the assignment's declared functions")

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    def points_by_function(self) -> dict[str, float]:
        points: dict[str, float] = {}
        for check in self.checks:
            points[check.function] = points.get(check.function, 0.0) + float(check.points)
        return points

    def check_total(self) -> None:
        """Raise :class:`RubricError` when the checks' points differ from the declared total."""
        if self.spec is None or abs(self.max_score - self.spec.total) < 1e-9:
            return
        listing = "; ".join(f"{function}: {points:g} ({', '.join(repr(c.name) for c in self.checks if c.function == function)})"
                            for function, points in self.points_by_function().items())
        raise RubricError(f"{self.assignment}: the checks add up to {self.max_score:g} points, but "
                          f"{DECLARATION} declares total = {self.spec.total:g}. Points per function: {listing}")

    def public(self) -> "Rubric":
        return Rubric(self.assignment, tuple(c for c in self.checks if c.public), self.mutants, self.version)


def bind(checks, assignment: str, visibility: str, source: Path | str) -> tuple[Check, ...]:
    """The checks of one file, each qualified with ``assignment`` and given the file's ``visibility``."""
    bound = []
    for check in checks:
        if not isinstance(check, Check):
            raise RubricError(f"{source}: CHECKS holds {type(check).__name__}, not a check")
        if check.visibility not in (None, visibility):
            raise RubricError(f"{source}: check {check.name!r} says it is {check.visibility}, but the checks in "
                              f"this file are {visibility}: move it to the other file")
        if check.assignment not in ("", assignment):
            raise RubricError(f"{source}: check {check.name!r} grades {check.exercise!r}, outside {assignment}")
        bound.append(dataclasses.replace(check, exercise=f"{assignment}.{check.function}", visibility=visibility))
    return tuple(bound)


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
    Raises :class:`RubricError` when the checks break the assignment's declaration or total.
    """
    spec = course.spec(assignment)
    public = course.load_hidden(assignment, PUBLIC_CHECKS)
    hidden = course.load_hidden(assignment, HIDDEN_CHECKS)
    folder = course.solutions / assignment
    version = _version(*(folder / f"{n}.py" for n in (PUBLIC_CHECKS, HIDDEN_CHECKS, MUTANTS, "reference")))
    try:
        contract = contract_checks(spec, getattr(hidden, CONTRACT_INPUTS, {}))
    except ContractError as error:
        raise RubricError(str(error)) from None
    checks = (bind(public.CHECKS, assignment, PUBLIC, public.__file__)
              + bind(hidden.CHECKS, assignment, HIDDEN, hidden.__file__)
              + bind(contract, assignment, HIDDEN, folder / DECLARATION))
    mutants = tuple(course.load_hidden(assignment, MUTANTS).MUTANTS) if with_mutants else ()
    rubric = Rubric(assignment, checks, mutants, version, spec)
    rubric.check_total()
    return rubric


def live_oracle(course: Course, rubric: Rubric, device: str = "cpu") -> LiveOracle:
    return LiveOracle(course.load_reference(rubric.assignment), rubric.mutants, device)


def load_released(folder: Path, assignment: str) -> tuple[Rubric, FrozenOracle]:
    """The public rubric and its frozen values, from a student release folder ``assignments/<a>/``."""
    checks_file, values_file = folder / f"{PUBLIC_CHECKS}.py", folder / f"{PUBLIC_CHECKS}.json"
    for path in (checks_file, values_file):
        if not path.is_file():
            raise RubricError(f"{path} is missing: the public checks come with the assignment release")
    spec = AssignmentSpec.read(folder / DECLARATION, assignment) if (folder / DECLARATION).is_file() else None
    module = load_module(checks_file, f"dlgrade_public.{assignment}.checks")
    oracle = FrozenOracle(json.loads(values_file.read_text(encoding="utf-8")))
    checks = bind(module.CHECKS, assignment, PUBLIC, checks_file)
    rubric = Rubric(assignment, checks, tuple(oracle.mutants.values()), _version(checks_file, values_file), spec)
    return rubric, oracle
