"""What a student wrote for one assignment, cut into its top-level functions and classes.

A ``.py`` file (from a folder, or the bytes the gradebook keeps) is one block of code; a notebook
gives its code cells (nbgrader's test cells left out, IPython syntax made Python by IPython's own
transformer: :func:`autograder.submission.code_of`).
Each block is parsed with :mod:`ast` and each top-level ``def`` or ``class`` (decorators included)
becomes a :class:`Unit`: comparing unit by unit, a copy whose functions were reordered still
matches. Top-level statements outside a definition (imports, examples, prints) are not compared.
A block that does not parse is one unit of its own, so that broken code is compared too.

The stub the students started from is what ``dlgrade release`` writes: the model answer with its
solution regions stripped (:func:`stub_text`); its fingerprints are removed from every unit as
boilerplate (signatures, docstrings, given code).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Course
from autograder.markers import STUB_LINES, strip_solutions
from autograder.submission import SubmissionCode, code_of, read_code
from autograder.untrusted import LINE, cap, inert

MAX_UNITS = 200  # top-level definitions kept from one file: more is no student's answer


@dataclass(frozen=True)
class Unit:
    """One top-level function or class (or a block that does not parse) of a student's code."""

    name: str  # the function's or class's name, or "cell N" / "file" for an unparsable block
    code: str


@dataclass(frozen=True)
class StudentCode:
    """One student's code for one assignment: ``student`` is the intake key, ``label`` the name shown."""

    student: str
    label: str
    assignment: str
    units: tuple[Unit, ...]


def units_of(source: str, where: str = "file") -> list[Unit]:
    """The top-level definitions of ``source``, each with its exact text (decorators included)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte in the source
        return [Unit(where, source)] if source.strip() else []
    lines = source.splitlines(keepends=True)
    units = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        units.append(Unit(cap(inert(node.name), LINE), "".join(lines[first - 1:node.end_lineno])))
    return units


def code_units(code: SubmissionCode) -> tuple[Unit, ...]:
    """The units of every block of ``code`` (a .py file's text, a notebook's code cells), in order."""
    numbers = code.numbers or (0,) * len(code.cells)
    units: list[Unit] = []
    for number, cell in zip(numbers, code.cells):
        units += units_of(cell, f"cell {number}" if code.notebook else "file")
    return tuple(units[:MAX_UNITS])


def read_student(student: str, label: str, assignment: str, path: Path) -> StudentCode:
    """The units of a student's file; a :class:`~autograder.submission.SubmissionError` when it cannot be read."""
    return StudentCode(student, label, assignment, code_units(read_code(assignment, path)))


def stored_student(student: str, label: str, assignment: str, name: str, content: bytes) -> StudentCode:
    """The units of a student's file as the gradebook keeps it (``name``: the staged name, whose
    suffix says .py or notebook; nothing is written or read from disk); a
    :class:`~autograder.submission.SubmissionError` when it cannot be read."""
    return StudentCode(student, label, assignment, code_units(code_of(assignment, Path(Path(name).name), content)))


# nbgrader's ClearSolutions, which writes the released notebook's answer cells, puts its Python code
# stub in place of each solution region: "# YOUR CODE HERE" and "raise NotImplementedError()" (with
# parentheses, where the .py stub has none), indented like the region's BEGIN marker.
NBGRADER_STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")


def stub_text(course: Course, assignment: str) -> str:
    """The code of the release, as ``dlgrade release`` writes it: the ``<a>.py`` stub (the model
    answer with every solution region replaced by ``# YOUR CODE HERE`` / ``raise NotImplementedError``),
    then the same source as the released notebook's code cells have it (nbgrader's code stub instead)."""
    answer = course.answer_source(assignment)
    source = answer.read_text(encoding="utf-8")
    return "\n\n".join(strip_solutions(source, filename=str(answer), stub_lines=lines)
                       for lines in (STUB_LINES, NBGRADER_STUB_LINES))
