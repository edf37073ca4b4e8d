"""The nbgrader bridge's pieces, without running nbgrader: source notebooks, outcomes as nbgrader reads them."""

import json
from pathlib import Path

import nbformat
import pytest

from support import ASSIGNMENTS, CONTRACT
from autograder.judge import results
from autograder.judge.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from autograder.judge.rubric import load_rubric
from autograder.nbgrader_bridge.source import BEGIN_HIDDEN, build_source_notebook
from autograder.nbgrader_bridge.source import test_cells as graded_cells

from conftest import REPOSITORY

nbgrader_utils = pytest.importorskip("nbgrader.utils", reason="nbgrader is a test dependency: pip install -e '.[test]'")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_points_are_the_rubric(course, assignment):
    rubric = load_rubric(course, assignment)
    notebook = build_source_notebook(course.answer_source(assignment).read_text(), assignment=assignment,
                                     rubric=rubric)
    tests = graded_cells(notebook)
    points = {cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.points for cell in tests}
    expected = {f"test_{f}": sum(c.points for c in rubric.checks if c.function == f) for f in CONTRACT[assignment]}
    assert points == expected and sum(points.values()) == rubric.max_score == 100
    for cell in tests:
        meta = cell.metadata.nbgrader
        assert (meta.grade, meta.solution, meta.locked, meta.schema_version) == (True, False, True, 3)
        assert BEGIN_HIDDEN in cell.source and "_dlgrade.hidden()" in cell.source
    answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert {c.metadata.nbgrader.grade_id for c in answers} >= set(CONTRACT[assignment])
    for cell in answers:
        assert "### BEGIN SOLUTION" in cell.source and not cell.metadata.nbgrader.grade


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_keeps_the_cells_and_drops_hidden_tests(assignment):
    released = nbformat.read(REPOSITORY / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)
    text = json.dumps(released)
    assert "HIDDEN TESTS" not in text and ".hidden()" not in text and "BEGIN SOLUTION" not in text
    tests = graded_cells(released)
    assert sum(cell.metadata.nbgrader.points for cell in tests) == 100
    assert all(cell.metadata.nbgrader.checksum for cell in tests)  # nbgrader's generate_assignment wrote them


def _test(score, max_score, outcome, exercise="perceptron.step"):
    return results.TestResult("a check", "perceptron", exercise, score, max_score, outcome, "what went wrong")


def _grade(outputs, points):
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": points, "grade_id": "test_step"}
    cell.outputs = outputs
    return nbgrader_utils.determine_grade(cell)[0]


def test_outcomes_read_by_nbgrader_as_dlgrade_scored_them():
    from autograder.nbgrader_bridge.autograde import outcome_outputs

    full = [_test(8, 8, PASSED), _test(16, 16, PASSED)]
    partial = [_test(8, 8, PASSED), _test(4, 16, FAILED)]
    none = [_test(0, 8, NOT_ATTEMPTED), _test(0, 16, ERROR)]
    assert _grade(outcome_outputs(full, 24), 24) == 24
    assert _grade(outcome_outputs(partial, 24), 24) == 12
    outputs = outcome_outputs(none, 24)
    assert _grade(outputs, 24) == 0 and outputs[0].output_type == "error"
    assert "what went wrong" in "\n".join(outputs[0].traceback)
    assert not [o for o in outcome_outputs(full, 24) if o.get("name") == "stderr"]


def test_hidden_tests_are_stripped_from_a_test_cell():
    from autograder.nbgrader_bridge.autograde import strip_hidden_tests

    source = "a()\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb()"
    stripped = strip_hidden_tests(source)
    assert "secret" not in stripped and stripped.startswith("a()") and stripped.endswith("b()")


def test_a_notebook_dlgrade_does_not_know_is_refused():
    from autograder.nbgrader_bridge.autograde import DlgradeAutograde, DlgradeAutogradeError

    resources = {"nbgrader": {"notebook": "essay", "assignment": "ps1", "student": "x", "db_url": "sqlite://"}}
    with pytest.raises(DlgradeAutogradeError, match="is not an assignment of the course"):
        DlgradeAutograde().preprocess(nbformat.v4.new_notebook(), resources)


def test_test_cells_are_not_student_code():
    from autograder.submission import notebook_code

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                               nbformat.v4.new_code_cell("check()")])
    notebook.cells[1].metadata["nbgrader"] = {"grade": True, "solution": False}
    assert notebook_code(nbformat.writes(notebook)) == ["x = 1\n"]


def test_validate_passes_the_committed_release_and_catches_a_broken_one(course, tmp_path):
    import shutil

    from autograder.nbgrader_bridge.validate import validate

    def findings(folder):
        files = {f"perceptron/{p.name}": p.read_text() for p in folder.iterdir() if p.is_file()}
        return {f.what: f.problems for f in validate(course, "perceptron", folder, files, execute=False)}

    good = findings(REPOSITORY / "assignments" / "perceptron")
    assert all(not problems for problems in good.values()), good

    broken = tmp_path / "perceptron"
    shutil.copytree(REPOSITORY / "assignments" / "perceptron", broken)
    shutil.copy(course.answer_source("perceptron"), broken / "perceptron.py")  # the answer shipped as the stub
    bad = findings(broken)
    assert bad["the released stubs score 0"] and "perceptron.py scores 100" in bad["the released stubs score 0"][0]
    assert any("BEGIN SOLUTION" in p for p in bad["no hidden content in the release"])
    assert any("hidden code" in p for p in bad["no hidden content in the release"])
    assert not bad["the model answer scores full marks"]


def test_hidden_inputs_are_seeded_by_the_nbgrader_student_not_the_temporary_folder(monkeypatch, course):
    """Autograde grades each notebook from a fresh temporary folder; the hidden inputs (seeded per
    student) must follow nbgrader's student id, or a regrade draws other inputs and other verdicts."""
    import autograder.judge.grader as grader
    from autograder.nbgrader_bridge.autograde import DlgradeAutograde

    seen = []
    monkeypatch.setattr(grader, "grade", lambda path, plan, start_child=None, student=None: seen.append(
        (Path(path).parent.name, student if student is not None else grader._student_of(path, plan.rubrics))))
    monkeypatch.setattr(DlgradeAutograde, "_source_tests", lambda *args: {})
    monkeypatch.setattr(DlgradeAutograde, "_write_outcomes", lambda *args: None)
    bridge = DlgradeAutograde(solutions=str(course.solutions), insecure=True)
    resources = {"nbgrader": {"notebook": "perceptron", "assignment": "ps1", "student": "ada", "db_url": "sqlite://"}}
    for _ in range(2):
        bridge.preprocess(nbformat.v4.new_notebook(), resources)
    (first_folder, first), (second_folder, second) = seen
    assert first_folder != second_folder  # two temporary folders...
    assert first == second == "ada"  # ...one student


def test_the_student_of_a_path_in_nbgraders_layout_is_the_folder_above_the_assignment(tmp_path):
    from autograder.judge.grader import _student_of

    notebook = tmp_path / "submitted" / "ada" / "perceptron" / "perceptron.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    assert _student_of(notebook, ["perceptron", "mlp"]) == "ada"  # submitted/<student>/<assignment>/
    assert _student_of(notebook.parent, ["Perceptron"]) == "ada"
    plain = tmp_path / "bob" / "mlp.py"
    plain.parent.mkdir()
    plain.write_text("")
    assert _student_of(plain, ["perceptron", "mlp"]) == "bob"  # a folder per student
    assert _student_of(notebook, []) == "perceptron"  # without the assignments, the folder's name
