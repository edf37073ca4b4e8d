"""Every assignment notebook runs top to bottom in a real Jupyter kernel.

The instructor's version (answers filled in) runs without error; the student's release runs too,
and its only errors are the stubs' NotImplementedError.
"""

import nbformat
import pytest

from autograder.curriculum import ASSIGNMENTS
from autograder.notebook import build_notebook

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
    notebook = build_notebook(course.answer_source(assignment).read_text(), name=assignment)
    errors = execute(notebook, tmp_path)
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    printed = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert printed, "the example cells should show something"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_runs_and_only_stubs_fail(assignment, tmp_path):
    notebook = nbformat.read(REPOSITORY / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)
    errors = execute(notebook, tmp_path)
    assert errors, "the examples call the stubs, which must raise"
    assert {e.ename for e in errors} == {"NotImplementedError"}
