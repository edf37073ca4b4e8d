"""An nbgrader course for the benchmark: source notebooks, release, students' notebooks, autograde.

The source notebook of an assignment has, in order:

1. a locked setup cell that builds the in-kernel checker (:mod:`nbgrader_kernel_checks`);
2. the answer cell (``nbgrader.solution``): the model answer, whose solution regions already
   sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
3. one locked test cell per check of dlgrade's rubric, worth the check's points.

``nbgrader generate_assignment`` (through ``NbGraderAPI``) makes the release; each student's
notebook is the release with the answer cell holding that student's ``.py`` file. Autograding
runs nbgrader's own pipeline (student code executed in a Jupyter kernel, scores from the test
cells' outputs) one student and assignment at a time, through the same Python API.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import nbformat

from autograder.judge.rubric import load_rubric
from synthetic import REPOSITORY

BENCHMARKS = Path(__file__).resolve().parent
# nbgrader's own gradebook code trips SQLAlchemy 2's autoflush warnings; they say nothing about the run.
warnings.filterwarnings("ignore", module="nbgrader")


def _cell(source: str, grade_id: str, *, grade=False, solution=False, locked=False, points=None):
    cell = nbformat.v4.new_code_cell(source)
    metadata = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        metadata["points"] = points
    cell.metadata["nbgrader"] = metadata
    return cell


def source_notebook(course, assignment: str, seed: int):
    rubric = load_rubric(course, assignment)
    answer = course.answer_source(assignment).read_text(encoding="utf-8")
    cells = [
        _cell("from nbgrader_kernel_checks import checker\n"
              f"_dlgrade_check = checker({assignment!r}, {seed}, globals())", "setup", locked=True),
        _cell(answer, "answer", solution=True),  # the model answer carries its own solution markers
    ]
    for index, check in enumerate(rubric.checks):
        cells.append(_cell(f"# {check.name}\n_dlgrade_check({index})", f"test_{index}",
                           grade=True, locked=True, points=float(check.points)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


class NbgraderCourse:
    """A course directory under ``root`` for ``assignments``, released and ready for submissions."""

    def __init__(self, root: Path, course, assignments: tuple[str, ...], seed: int, cell_timeout: int = 30):
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config

        self.root, self.assignments = Path(root), assignments
        self.root.mkdir(parents=True, exist_ok=True)
        # Kernels inherit this: they import the in-kernel checker and dlgrade.
        os.environ["PYTHONPATH"] = os.pathsep.join([str(BENCHMARKS), str(REPOSITORY)] +
                                                   ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
        config = Config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        config.ExecutePreprocessor.timeout = cell_timeout
        config.Execute.timeout = cell_timeout
        self.db_url = config.CourseDirectory.db_url
        self.api = NbGraderAPI(config=config)
        for assignment in assignments:
            folder = self.root / "source" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(source_notebook(course, assignment, seed), folder / f"{assignment}.ipynb")
            outcome = self.api.generate_assignment(assignment, force=True, create=True)
            if not outcome["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{outcome['log']}")

    def submit(self, student: str, folder: Path) -> None:
        """Turn ``folder/<a>.py`` into ``submitted/<student>/<a>/<a>.ipynb`` (the release, answered)."""
        for assignment in self.assignments:
            notebook = nbformat.read(self.root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
            (answer,) = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer"]
            answer.source = (folder / f"{assignment}.py").read_text(encoding="utf-8")
            target = self.root / "submitted" / student / assignment
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target / f"{assignment}.ipynb")

    def autograde(self, student: str) -> float:
        """Autograde every assignment of ``student``; return the wall time in seconds."""
        started = time.perf_counter()
        for assignment in self.assignments:
            self.api.autograde(assignment, student, force=True, create=True)
        return time.perf_counter() - started

    def scores(self) -> dict[str, float | None]:
        """Per student, the total nbgrader's gradebook holds (None when nbgrader recorded nothing)."""
        from nbgrader.api import Gradebook, MissingEntry

        totals: dict[str, float | None] = {}
        with Gradebook(self.db_url) as gradebook:
            for student in gradebook.students:
                total = 0.0
                for assignment in self.assignments:
                    try:
                        total += gradebook.find_submission(assignment, student.id).score
                    except MissingEntry:
                        total = None
                        break
                totals[student.id] = total
        return totals
