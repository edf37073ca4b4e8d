"""Strip the instructor's solution regions (nbgrader's markers) to make the student's stub."""

from __future__ import annotations

import ast
import re
from autograder.errors import DlgradeError

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")

_MARKER = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>### (?:BEGIN|END) SOLUTION)[ \t]*$")


class MarkerError(DlgradeError, ValueError):
    """The solution markers of a source file are unbalanced or misplaced."""


def solution_regions(source: str, *, filename: str = "<source>") -> list[tuple[int, int, str]]:
    """Find the solution regions of ``source``.

    Returns a list of ``(begin, end, indent)``: 0-based line numbers of the BEGIN and END markers
    and the BEGIN marker's indentation. Raises MarkerError, naming the file and line, when a
    region is nested, unclosed or closed twice, or when its two markers are indented differently.
    """
    regions, open_at, open_indent = [], None, ""
    for number, line in enumerate(source.splitlines()):
        match = _MARKER.match(line)
        if not match:
            if BEGIN_SOLUTION in line or END_SOLUTION in line:
                raise MarkerError(f"{filename}:{number + 1}: a solution marker must stand alone on its line")
            continue
        if match["marker"] == BEGIN_SOLUTION:
            if open_at is not None:
                raise MarkerError(f"{filename}:{number + 1}: BEGIN SOLUTION inside the region opened at line {open_at + 1}")
            open_at, open_indent = number, match["indent"]
        else:
            if open_at is None:
                raise MarkerError(f"{filename}:{number + 1}: END SOLUTION without a BEGIN SOLUTION")
            if match["indent"] != open_indent:
                raise MarkerError(f"{filename}:{number + 1}: END SOLUTION is not indented like its BEGIN (line {open_at + 1})")
            regions.append((open_at, number, open_indent))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at + 1}: BEGIN SOLUTION is never closed")
    return regions


def strip_solutions(source: str, *, filename: str = "<source>", stub_lines: tuple[str, ...] = STUB_LINES) -> str:
    """Replace every solution region of ``source`` by ``stub_lines`` (``# YOUR CODE HERE`` /
    ``raise NotImplementedError``).

    The replacement takes the BEGIN marker's indentation, as nbgrader does. The result must still
    parse as Python; a MarkerError says where it does not.
    """
    lines = source.splitlines(keepends=True)
    out, cursor = [], 0
    for begin, end, indent in solution_regions(source, filename=filename):
        out.extend(lines[cursor:begin])
        out.extend(f"{indent}{stub}\n" for stub in stub_lines)
        cursor = end + 1
    out.extend(lines[cursor:])
    stub = "".join(out)
    try:
        ast.parse(stub, filename=filename)
    except SyntaxError as error:
        raise MarkerError(f"{filename}: the stripped stub is not valid Python ({error.msg}, line {error.lineno})") from error
    return stub
