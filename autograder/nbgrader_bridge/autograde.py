"""``DlgradeAutograde``: nbgrader's autograde with dlgrade's judge in place of in-kernel execution.

nbgrader's ``Execute`` runs the student's notebook, test cells included, in one kernel, and
scores each test cell by its outputs, so code in the notebook can change its own verdicts
(grading-facts, section 4). This preprocessor takes ``Execute``'s place in
``Autograde.autograde_preprocessors`` (snippet: :data:`autograder.nbgrader_bridge.NBGRADER_CONFIG`):

1. the test cells are taken from the *instructor's* source notebook in the gradebook (names,
   points, code), never from the student's copy: a test cell that was edited, deleted, re-tagged
   (``skip-execution``), or faked is rebuilt from the source;
2. the student's notebook is graded by :func:`autograder.judge.grader.grade` in dlgrade's
   sandbox (``open_sandbox``), with the full rubric; no cell runs in nbgrader's process or in a
   kernel, so input transformers and a patched ``showtraceback`` have nothing to act on;
3. each test cell ``test_<f>`` gets one outcome, in the form nbgrader's ``SaveAutoGrades`` reads
   (``nbgrader.utils.determine_grade``): full points -> a stdout report only; partial credit ->
   the report and an ``execute_result`` holding the points as a float; no points -> an ``error``
   output carrying dlgrade's messages. Warnings never become stderr output;
4. the hidden-test regions are removed from the autograded notebook, so formgrader and
   ``generate_feedback`` show no hidden test code (dlgrade's messages describe what failed);
5. an SQLite gradebook is snapshotted before student code runs and restored if it changed (the
   sandbox should make that impossible; this is the backstop).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from autograder.course import Course
from autograder.nbgrader_bridge.source import BEGIN_HIDDEN, END_HIDDEN, TEST_PREFIX
from autograder.submission import is_autograder_test
from autograder.errors import DlgradeError

_RUBRICS: dict[tuple, tuple] = {}  # (solutions, assignment, device) -> (rubric, oracle): load torch once


class DlgradeAutogradeError(DlgradeError, RuntimeError):
    """This notebook cannot be graded by dlgrade (the message says why); nbgrader reports it."""


class DlgradeAutograde(NbGraderPreprocessor):
    """Grade a submitted dlgrade notebook in the sandbox and write each test cell's outcome."""

    seed = Integer(None, allow_none=True,
                   help="Seed of the hidden inputs (default: $DLGRADE_SEED, then `seed` in ./dlgrade.toml, "
                        "else a fresh one per notebook)").tag(config=True)
    solutions = Unicode("", help="The course's hidden solutions/ folder (default: $DLGRADE_SOLUTIONS, "
                                 "./dlgrade.toml, dlgrade's own)").tag(config=True)
    device = Unicode("cpu", help="Where the torch references run: cpu or cuda").tag(config=True)
    insecure = Bool(False, help="Run student code without OS isolation (development only)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment = info["notebook"]
        course = self._course()
        if assignment not in course.specs:
            raise DlgradeAutogradeError(f"notebook {assignment!r} is not an assignment of the course at "
                                        f"{course.solutions} ({', '.join(course.assignments)}); "
                                        "dlgrade grades only its own notebooks")
        functions = course.spec(assignment).functions
        tests = self._source_tests(info["db_url"], assignment, info["assignment"], functions)
        # The hidden inputs are seeded per student (judge.grader.submission_seed): by nbgrader's
        # student id, never by the temporary folder the notebook is graded from, so that a regrade
        # gives the same inputs and the same verdicts.
        result = self._grade(nb, assignment, info["db_url"], str(info.get("student") or ""))
        self._write_outcomes(nb, assignment, tests, result)
        return nb, resources

    # ------------------------------------------------------------ the instructor's test cells
    def _source_tests(self, db_url: str, notebook_id: str, assignment_id: str, functions) -> dict[str, dict]:
        """``{grade_id: {points, source, after}}`` of the source notebook's test cells, in order."""
        with Gradebook(db_url) as gradebook:
            notebook = gradebook.find_notebook(notebook_id, assignment_id)
            answers = {cell.name for cell in notebook.solution_cells}
            sources = {cell.name: cell for cell in notebook.source_cells}
            tests = {}
            for cell in sorted(notebook.grade_cells, key=lambda c: c.id):
                if cell.name in answers or cell.cell_type != "code":
                    continue  # a manually graded answer: not dlgrade's
                function = cell.name[len(TEST_PREFIX):] if cell.name.startswith(TEST_PREFIX) else None
                if function not in functions:
                    raise DlgradeAutogradeError(f"test cell {cell.name!r} of {notebook_id} names no exercise "
                                                f"of the assignment (expected test_<function>)")
                tests[cell.name] = {"points": float(cell.max_score), "exercise": f"{notebook_id}.{function}",
                                    "source": strip_hidden_tests(sources[cell.name].source), "after": function}
        return tests

    # ------------------------------------------------------------ grading in the sandbox
    def _grade(self, nb, assignment: str, db_url: str, student: str):
        from autograder.judge.grader import Plan, grade
        from autograder.sandbox import open_sandbox

        rubric, oracle = self._rubric(assignment)
        with tempfile.TemporaryDirectory(prefix="dlgrade-nbgrader-") as folder:
            path = Path(folder) / f"{assignment}.ipynb"
            nbformat.write(nb, path)  # the test cells are skipped by the reader: only the student's code runs
            with GradebookGuard(db_url, self.log), \
                    open_sandbox(insecure=self.insecure, hidden=self._course().hidden_paths()) as sandbox:
                return grade(path, Plan({assignment: (rubric, oracle)}, self._seed(), self.device),
                             start_child=sandbox.start_child, student=student or None)

    def _course(self) -> Course:
        return Course.locate(self.solutions or None)

    def _rubric(self, assignment: str):
        from autograder.judge.rubric import live_oracle, load_rubric

        course = self._course()
        key = (str(course.solutions), assignment, self.device)
        if key not in _RUBRICS:
            rubric = load_rubric(course, assignment)
            _RUBRICS[key] = (rubric, live_oracle(course, rubric, self.device))
        return _RUBRICS[key]

    def _seed(self) -> int:
        from autograder.course import configured_seed
        from autograder.judge.grader import new_seed

        if self.seed is not None:
            return self.seed
        configured = configured_seed()
        return configured if configured is not None else new_seed()

    # ------------------------------------------------------------ outcomes
    def _write_outcomes(self, nb, assignment: str, tests: dict[str, dict], result) -> None:
        from autograder.judge.results import NOT_GRADABLE

        status = {a.assignment: a for a in result.assignments}[assignment]
        placed = self._place_test_cells(nb, tests)
        for grade_id, spec in tests.items():
            cell = placed[grade_id]
            if status.status == NOT_GRADABLE:
                cell.outputs = [_error("NotGradable", f"{status.file}: {status.reason}",
                                       [f"dlgrade could not load the notebook: {status.reason}"])]
                continue
            checks = [t for t in result.tests if t.exercise == spec["exercise"]]
            cell.outputs = outcome_outputs(checks, spec["points"])

    def _place_test_cells(self, nb, tests: dict[str, dict]) -> dict:
        """Make the notebook hold each source test cell exactly once, as the instructor wrote it."""
        placed = {}
        kept = []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id in tests and grade_id not in placed:
                placed[grade_id] = cell
            elif cell.cell_type == "code" and isinstance(meta, dict) and is_autograder_test(cell):
                cell.metadata.pop("nbgrader")  # a test cell the source does not have, or a copy: no score
            kept.append(cell)
        nb.cells = kept
        for grade_id, spec in tests.items():
            cell = placed.get(grade_id)
            if cell is None:  # deleted by the student: put it back after its answer cell
                cell = nbformat.v4.new_code_cell()
                nb.cells.insert(_position_after(nb.cells, spec["after"]), cell)
                self.log.warning("test cell %s was missing from the submission; restored from the source", grade_id)
                placed[grade_id] = cell
            cell.cell_type, cell.source, cell.execution_count = "code", spec["source"], None
            cell.metadata = nbformat.from_dict({"deletable": False, "editable": False, "nbgrader": {
                "grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                "points": spec["points"], "schema_version": 3}})
        return placed


def _position_after(cells, answer_id: str) -> int:
    for index, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") == answer_id:
            return index + 1
    return len(cells)


def strip_hidden_tests(source: str) -> str:
    """The test cell's code without its hidden-tests region (a comment marks where it was)."""
    out, hidden = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            hidden = True
            out.append("# (hidden tests: run by dlgrade's judge when graded)")
        elif line.strip() == END_HIDDEN:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def outcome_outputs(checks, points: float) -> list:
    """The outputs of one test cell worth ``points`` from dlgrade's check results.

    Scaled to ``points`` (the gradebook's max score of the cell), so the cell scores exactly the
    sum of its checks when the rubric and the gradebook agree.
    """
    from autograder.judge.results import PASSED, test_feedback

    total = sum(t.max_score for t in checks)
    earned = sum(t.score for t in checks)
    lines = []
    for test in checks:
        mark = "✔" if test.outcome == PASSED else "✘"
        lines.append(f"{mark} {test.name} ({test.score:g}/{test.max_score:g})")
        if test.outcome != PASSED:
            lines.append("    " + test_feedback(test).replace("\n", "\n    "))
    report = nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")
    if not checks:
        return [_error("NoChecks", "dlgrade has no checks for this cell", [])]
    if earned >= total:
        return [report]
    score = round(points * earned / total, 6) if total else 0.0
    if score <= 0:
        return [_error("ChecksFailed", f"0 of {points:g} points", lines)]
    return [report, nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(score))},
                                           execution_count=None)]


def _error(name: str, message: str, lines: list[str]):
    return nbformat.v4.new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}", *lines])


class GradebookGuard:
    """Snapshot an SQLite gradebook (and its journal files) and put it back if student code changed it."""

    def __init__(self, db_url: str, log):
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        self.path = Path(url.database) if url.drivername.startswith("sqlite") and url.database else None
        self.log = log
        self.saved: dict[Path, bytes] = {}

    def _files(self) -> list[Path]:
        return sorted(self.path.parent.glob(self.path.name + "*")) if self.path else []

    def __enter__(self):
        self.saved = {path: path.read_bytes() for path in self._files() if path.is_file()}
        return self

    def __exit__(self, *exc):
        changed = False
        for path in self._files():
            if path not in self.saved:
                path.unlink(missing_ok=True)
                changed = True
        for path, data in self.saved.items():
            if path.is_symlink() or not path.is_file() or hashlib.sha256(path.read_bytes()).digest() \
                    != hashlib.sha256(data).digest():
                path.unlink(missing_ok=True)  # never write through a link planted in its place
                path.write_bytes(data)
                changed = True
        if changed:
            self.log.error("the gradebook %s changed while student code ran: restored", self.path)
        self.tampered = changed
