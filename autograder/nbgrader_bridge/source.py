"""The nbgrader source notebook of an assignment, generated from its one source ``solutions/<a>/<a>.py``.

Cells, in the order of the percent-format source (see :mod:`autograder.notebook`):

- every code cell holding a ``### BEGIN SOLUTION`` region that defines function ``f`` is an
  *autograded answer* cell: ``nbgrader = {solution: true, grade: false, locked: false, grade_id: "f"}``;
- right after it, when the rubric has checks of ``<a>.f``, a *test* cell
  ``{grade: true, solution: false, locked: true, grade_id: "test_f", points: P}`` where P is the sum of
  the points of the public and hidden checks of that exercise (so the notebook's total is the
  rubric's 100). Its code runs the public checks, and, between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``, the hidden ones (see :mod:`.kernel`);
- every other cell is left without nbgrader metadata (students may edit it freely).
"""

from __future__ import annotations

import ast

import nbformat

from autograder.markers import BEGIN_SOLUTION
from autograder.notebook import build_notebook
from autograder.submission import is_autograder_test

SCHEMA_VERSION = 3
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
TEST_PREFIX = "test_"


def test_cell_source(exercise: str, public_points: float, hidden_points: float) -> str:
    """The code of the test cell of ``exercise`` ("<assignment>.<function>")."""
    function = exercise.split(".")[1]
    return "\n".join([
        f"# Checks of {function}: {public_points:g} points of public checks (run here), "
        f"{hidden_points:g} of hidden ones (run when graded).",
        "from autograder.nbgrader_bridge.kernel import exercise_checks",
        f"_dlgrade = exercise_checks({exercise!r}, globals())",
        "_dlgrade.public()",
        BEGIN_HIDDEN,
        "_dlgrade.hidden()",
        END_HIDDEN,
        "_dlgrade.score()",
    ])


def defined_function(code: str) -> str | None:
    """The one top-level function or class an answer cell defines (None when not exactly one)."""
    names = [node.name for node in ast.parse(code).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    return names[0] if len(names) == 1 else None


def exercise_points(rubric) -> dict[str, tuple[float, float]]:
    """``{function: (public points, hidden points)}`` of a rubric."""
    points: dict[str, list[float]] = {}
    for check in rubric.checks:
        pair = points.setdefault(check.function, [0.0, 0.0])
        pair[check.visibility != "public"] += float(check.points)
    return {function: (public, hidden) for function, (public, hidden) in points.items()}


def _metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution}
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else float(points)
    return {"nbgrader": meta}


def build_source_notebook(source: str, *, assignment: str, rubric, filename: str = "<source>") -> nbformat.NotebookNode:
    """The instructor's nbgrader notebook of ``assignment`` from its answer ``source`` and ``rubric``.

    Raises ValueError when an exercise of the rubric has no answer cell (its points would be lost).
    """
    base = build_notebook(source, name=assignment, filename=filename)
    points = exercise_points(rubric)
    cells, tested = [], set()
    for cell in base.cells:
        cells.append(cell)
        if cell.cell_type != "code" or BEGIN_SOLUTION not in cell.source:
            continue
        function = defined_function(cell.source)
        if function is None:
            raise ValueError(f"{filename}: an answer cell must define exactly one function or class")
        cell.metadata.update(_metadata(function, grade=False, solution=True, locked=False))
        if function in points:
            public, hidden = points[function]
            test = nbformat.v4.new_code_cell(test_cell_source(f"{assignment}.{function}", public, hidden))
            test.metadata.update(_metadata(TEST_PREFIX + function, grade=True, solution=False, locked=True,
                                           points=public + hidden))
            cells.append(test)
            tested.add(function)
    missing = sorted(set(points) - tested)
    if missing:
        raise ValueError(f"{filename}: the rubric checks {missing}, which no answer cell defines")
    for number, cell in enumerate(cells):
        cell.id = f"{assignment}-{number:02d}"  # stable ids: the release is committed and compared
    base.cells = cells
    nbformat.validate(base)
    return base


def test_cells(notebook) -> list:
    """The autograder test cells of a notebook (nbgrader grade cells that are not answers)."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and is_autograder_test(cell)]
