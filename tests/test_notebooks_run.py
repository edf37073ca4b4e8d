"""Every assignment notebook runs top to bottom in a real Jupyter kernel.

The instructor's nbgrader source notebook (answers filled in, public and hidden test cells) runs
without error and every test cell passes; the student's release runs too, and its only errors are
the stubs' NotImplementedError (raised by the examples and by every test cell).
"""

import shutil

import nbformat
import pytest

from support import ASSIGNMENTS
from autograder.judge.rubric import load_rubric
from autograder.nbgrader_bridge.source import build_source_notebook
from autograder.nbgrader_bridge.source import test_cells as graded_cells

from conftest import REPOSITORY

nbclient = pytest.importorskip("nbclient", reason="nbclient is a test dependency: pip install -e '.[test]'")
pytestmark = pytest.mark.notebook


def execute(notebook, cwd):
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if output.output_type == "error"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_notebook_runs_without_error(course, assignment, tmp_path):
    shutil.copytree(REPOSITORY / "assignments" / assignment, tmp_path, dirs_exist_ok=True)  # public checks
    notebook = build_source_notebook(course.answer_source(assignment).read_text(), assignment=assignment,
                                     rubric=load_rubric(course, assignment))
    errors = execute(notebook, tmp_path)
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    printed = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert printed, "the example cells should show something"
    for cell in graded_cells(notebook):  # full points: no error, no partial-credit value
        assert not [o for o in cell.outputs if o.output_type in ("error", "execute_result")], cell.source
        assert "✘" not in "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_runs_and_only_stubs_fail(assignment, tmp_path):
    shutil.copytree(REPOSITORY / "assignments" / assignment, tmp_path, dirs_exist_ok=True)
    notebook = nbformat.read(tmp_path / f"{assignment}.ipynb", as_version=4)
    errors = execute(notebook, tmp_path)
    assert errors, "the examples call the stubs, which must raise"
    assert {e.ename for e in errors} == {"NotImplementedError"}
    for cell in graded_cells(notebook):
        assert [o.ename for o in cell.outputs if o.output_type == "error"] == ["NotImplementedError"]
