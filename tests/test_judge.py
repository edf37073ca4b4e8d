"""The judge end to end on real submissions: broken, hostile and correct ones, .py and .ipynb.

Student code runs in a child process; these tests check that whatever it does costs only its
own points, and that every verdict is decided from plain data in the judge.
"""

import json
import time

import jsonschema
import nbformat
import pytest

from autograder.judge.grader import Plan
from autograder.judge.schemas import GRADESCOPE, NATIVE
from autograder.notebook import build_notebook
from grading import failures, grade, plan_for, write_submission

ASSIGNMENT = "losses"


@pytest.fixture(scope="module")
def plan(course):
    return plan_for(course, ASSIGNMENT)


@pytest.fixture(scope="module")
def answer_source(course):
    return course.answer_source(ASSIGNMENT).read_text()


def grade_source(tmp_path, plan, source, student=None, **plan_changes):
    if plan_changes:
        plan = Plan(**{**plan.__dict__, **plan_changes})
    return grade(write_submission(tmp_path, ASSIGNMENT, source), plan, student=student)


def by_exercise(result, function):
    return [t for t in result.tests if t.exercise == f"{ASSIGNMENT}.{function}"]


CONTRACT_CHECKS = ("leaves its inputs unchanged", "returns the declared dtype and shape")


def judging_the_value(result, function):
    """The tests of ``function`` that judge the values it returns (not its contract checks: a lying
    value may leave its inputs alone and have the right dtype and shape)."""
    return [t for t in by_exercise(result, function) if not t.name.endswith(CONTRACT_CHECKS)]


# ---------------------------------------------------------------- files that cannot be loaded

@pytest.mark.parametrize("source, fragment", [
    ("def softmax(z:\n    return z\n", "SyntaxError"),
    ("import os\nos._exit(0)\n", "stopped the process while loading"),
    ("import sys\nsys.exit(0)\n", "SystemExit"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("import no_such_module_anywhere\n", "ModuleNotFoundError"),
])
def test_a_file_that_cannot_load_is_not_gradable_with_the_reason(tmp_path, plan, source, fragment):
    result = grade_source(tmp_path, plan, source)
    assert result.status == "not_gradable"
    assert fragment in result.reason
    assert result.tests == []
    assert result.to_json()["status"] == "not_gradable"


def test_a_top_level_infinite_loop_is_not_gradable_after_the_load_limit(tmp_path, plan):
    started = time.monotonic()
    result = grade_source(tmp_path, plan, "while True:\n    pass\n", load_seconds=1.0)
    assert result.status == "not_gradable" and "did not finish" in result.reason
    assert time.monotonic() - started < 15


def test_non_utf8_and_unreadable_notebooks_are_not_gradable(tmp_path, plan):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "losses.py").write_bytes(b"x = '\xff\xfe'\n")
    assert "not UTF-8" in grade(tmp_path / "a", plan).reason
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "losses.ipynb").write_text("{not json", encoding="utf-8")
    assert "not a readable Jupyter notebook" in grade(tmp_path / "b", plan).reason


def test_a_missing_file_means_the_assignment_is_missing_and_its_tests_not_attempted(tmp_path, plan):
    (tmp_path / "empty").mkdir()
    result = grade(tmp_path / "empty", plan)
    assert result.status == "missing" and result.score == 0
    assert {a.status for a in result.assignments} == {"missing"}
    assert all(a.reason.startswith("not handed in") for a in result.assignments)
    assert {t.outcome for t in result.tests} == {"not_attempted"}


# ---------------------------------------------------------------- what functions do

def test_one_infinite_loop_costs_only_that_functions_points(tmp_path, plan, answer_source):
    source = answer_source + "\ndef mse_loss(y_hat, y):\n    while True:\n        pass\n"
    started = time.monotonic()
    result = grade_source(tmp_path, plan, source)
    elapsed = time.monotonic() - started
    assert {t.outcome for t in by_exercise(result, "mse_loss")} == {"timeout"}
    assert all(t.outcome == "passed" for t in result.tests if t.exercise != "losses.mse_loss")
    # The second mse_loss test is not run again after the first timed out.
    assert elapsed < 5.0 + 8.0
    assert "earlier test" in by_exercise(result, "mse_loss")[1].message


def test_exiting_inside_a_function_is_an_error_for_that_test_only(tmp_path, plan, answer_source):
    source = answer_source + "\nimport os\ndef mse_loss(y_hat, y):\n    os._exit(0)\n"
    result = grade_source(tmp_path, plan, source)
    crashed = by_exercise(result, "mse_loss")
    assert {t.outcome for t in crashed} == {"error"}
    assert "exited with status 0" in crashed[0].message
    assert sum(t.outcome == "passed" for t in result.tests) == len(result.tests) - len(crashed)


def test_exceptions_show_type_message_and_line_but_no_grader_traceback(tmp_path, plan, answer_source):
    source = answer_source + "\ndef softmax(z, axis=-1):\n    raise ValueError('my own message')\n"
    result = grade_source(tmp_path, plan, source)
    test = by_exercise(result, "softmax")[0]
    assert test.outcome == "error"
    assert "ValueError: my own message" in test.message and "line" in test.message
    assert "Traceback" not in test.message and "autograder" not in test.message


def test_a_missing_function_is_not_attempted(tmp_path, plan, answer_source):
    source = answer_source + "\ndel mse_loss\n"
    tests = by_exercise(grade_source(tmp_path, plan, source), "mse_loss")
    assert {t.outcome for t in tests} == {"not_attempted"}
    assert "not defined" in tests[0].message


@pytest.mark.parametrize("body, fragment", [
    ("class Liar:\n        def __eq__(self, other): return True\n    return Liar()", "Liar"),
    ("return np.array([object()] * 1)", "object"),
    ("return np.zeros(0)", "shape (0,)"),
    ("return float('nan')", "NaN"),
    ("return np.float16(1.0)", "float16"),
    ("return True", "boolean"),
    ("return 1 + 0j", "complex"),
    ("return None", "None"),
])
def test_values_that_lie_never_pass(tmp_path, plan, answer_source, body, fragment):
    source = answer_source + f"\ndef mse_loss(y_hat, y):\n    {body}\n"
    tests = judging_the_value(grade_source(tmp_path, plan, source), "mse_loss")
    assert {t.outcome for t in tests} == {"failed"}
    assert fragment in tests[0].message


def test_an_ndarray_subclass_is_judged_by_its_data_alone(tmp_path, plan, answer_source):
    lying = """
class Always(np.ndarray):
    def __eq__(self, other): return True
    def __array_function__(self, *a, **k): return True
_true_softmax = softmax
def softmax(z, axis=-1):
    return (_true_softmax(z, axis) + 1.0).view(Always)
"""
    tests = judging_the_value(grade_source(tmp_path, plan, answer_source + lying), "softmax")
    assert {t.outcome for t in tests} == {"failed"}


def test_patching_numpy_in_the_submission_changes_no_verdict(tmp_path, plan, answer_source):
    patch = ("\nnp.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
             "import builtins\nbuiltins.abs = lambda x: 0\n"
             "def mse_loss(y_hat, y):\n    return 123.0\n")
    result = grade_source(tmp_path, plan, answer_source + patch)
    assert {t.outcome for t in judging_the_value(result, "mse_loss")} == {"failed"}
    assert all(t.outcome == "passed" for t in result.tests if t.exercise != "losses.mse_loss")


def test_printing_floods_and_fake_answers_on_stdout_change_nothing(tmp_path, plan, answer_source):
    noise = ("\nimport sys\n_sm = softmax\ndef softmax(z, axis=-1):\n"
             "    print('x' * 100000)\n    sys.stdout.write('\\x00' * 64)\n    return _sm(z, axis)\n")
    result = grade_source(tmp_path, plan, answer_source + noise)
    assert failures(result) == []


def test_the_child_inherits_no_secret_from_the_judge(tmp_path, plan, answer_source, monkeypatch):
    monkeypatch.setenv("DLGRADE_DB_PASSWORD", "hunter2")
    spy = ("\nimport os\n_mse = mse_loss\ndef mse_loss(y_hat, y):\n"
           "    return _mse(y_hat, y) + len(os.environ.get('DLGRADE_DB_PASSWORD', ''))\n")
    result = grade_source(tmp_path, plan, answer_source + spy)
    assert failures(result) == []


def test_warnings_are_advice_and_never_cost_points(tmp_path, plan, answer_source):
    noisy = ("\nimport warnings\n_sm = softmax\ndef softmax(z, axis=-1):\n"
             "    warnings.warn('careful', RuntimeWarning)\n    return _sm(z, axis)\n")
    result = grade_source(tmp_path, plan, answer_source + noisy)
    assert failures(result) == []
    assert any("careful" in advice for t in by_exercise(result, "softmax") for advice in t.advice)


# ---------------------------------------------------------------- feedback

def test_public_feedback_shows_inputs_values_and_the_named_mistake(tmp_path, plan, answer_source, course):
    from autograder.judge.rubric import load_rubric

    (mutant,) = [m for m in load_rubric(course, ASSIGNMENT).mutants if m.id == "losses.cross_entropy.summed"]
    result = grade_source(tmp_path, plan, answer_source + "\n" + mutant.submission_source)
    public = [t for t in by_exercise(result, "cross_entropy") if t.visibility == "public"][0]
    assert public.mistake == mutant.id and public.mistake_title == mutant.title and public.hint
    assert "inputs:" in public.details and "logits" in public.details and "expected:" in public.details
    assert "expected 0.28" in public.message and "got 0.57" in public.message


def test_hidden_feedback_says_what_was_checked_and_reveals_no_value(tmp_path, plan, answer_source):
    source = answer_source + "\ndef mse_loss(y_hat, y):\n    return 0.5\n"
    hidden = [t for t in by_exercise(grade_source(tmp_path, plan, source), "mse_loss") if t.visibility == "hidden"]
    assert hidden and all(t.details == "" for t in hidden)
    assert "MSE of seeded random" in hidden[0].message
    assert "expected 0" not in hidden[0].message and "got" not in hidden[0].message


# ---------------------------------------------------------------- formats and determinism

def test_notebook_and_py_submissions_of_the_same_code_score_the_same(tmp_path, plan, answer_source):
    notebook = build_notebook(answer_source, name=ASSIGNMENT)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("%matplotlib inline\n!pip install numpy\nnp?"))
    notebook.cells.insert(2, nbformat.v4.new_code_cell("%%time\nsoftmax = None"))
    (tmp_path / "nb").mkdir()
    nbformat.write(notebook, tmp_path / "nb" / "losses.ipynb")
    from_notebook = grade(tmp_path / "nb", plan)
    from_py = grade(write_submission(tmp_path / "py", ASSIGNMENT, answer_source), plan)
    assert from_notebook.score == from_py.score == 100
    assert [t.outcome for t in from_notebook.tests] == [t.outcome for t in from_py.tests]


def test_a_failing_notebook_cell_is_reported_and_the_rest_still_runs(tmp_path, plan, answer_source):
    notebook = build_notebook(answer_source, name=ASSIGNMENT)
    notebook.cells.append(nbformat.v4.new_code_cell("undefined_name + 1"))
    (tmp_path / "nb").mkdir()
    nbformat.write(notebook, tmp_path / "nb" / "losses.ipynb")
    result = grade(tmp_path / "nb", plan)
    assert result.score == 100
    assert any("NameError" in note for note in result.assignments[0].notes)


def _notebook_with(answer_source, folder, edit):
    notebook = build_notebook(answer_source, name=ASSIGNMENT)
    edit(notebook)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "losses.ipynb")
    return folder


def test_a_function_defined_under_a_time_cell_magic_is_graded(tmp_path, plan, answer_source):
    """IPython runs a %%time cell's body in the user namespace: its functions count."""
    def edit(notebook):
        for cell in notebook.cells:
            if cell.cell_type == "code" and "def softmax(" in cell.source:
                cell.source = "%%time\n" + cell.source.replace("):", "):  # stable?", 1)
    result = grade(_notebook_with(answer_source, tmp_path / "nb", edit), plan)
    assert result.score == 100, failures(result)


def test_a_missing_function_points_to_the_cell_that_did_not_run(tmp_path, plan, answer_source):
    def edit(notebook):
        for cell in notebook.cells:
            if cell.cell_type == "code" and "def softmax(" in cell.source:
                cell.source = "%%time\n" + cell.source + "\nundefined_name + 1"
                cell.source = cell.source.replace("def softmax(", "undefined_name\ndef softmax(", 1)
    result = grade(_notebook_with(answer_source, tmp_path / "nb", edit), plan)
    missing = [t for t in by_exercise(result, "softmax") if t.outcome == "not_attempted"]
    assert missing and all("code cell" in t.message and "NameError" in t.message for t in missing)
    assert any(note.startswith("code cell") and "NameError" in note for note in result.assignments[0].notes)


def test_every_message_names_the_graded_file_when_both_exist(tmp_path, plan, answer_source):
    import os

    folder = write_submission(tmp_path, ASSIGNMENT, answer_source + "\ndef mse_loss(y_hat, y):\n    return 0.5\n")
    _notebook_with(answer_source, folder, lambda notebook: None)
    os.utime(folder / "losses.py", (1, 1))  # the notebook is newer: it is graded
    result = grade(folder, plan)
    assert result.assignments[0].file == "losses.ipynb" and result.score == 100
    assert all("graded losses.ipynb, not losses.py" in t.message for t in result.tests)
    os.utime(folder / "losses.ipynb", (0, 0))
    result = grade(folder, plan)
    assert result.score < 100 and all("graded losses.py, not losses.ipynb" in t.message for t in result.tests)
    alone = grade(write_submission(tmp_path / "alone", ASSIGNMENT, answer_source), plan)
    assert not any("graded" in t.message for t in alone.tests)


def test_same_seed_same_scores_and_messages(tmp_path, plan, answer_source):
    source = answer_source + "\ndef cross_entropy_grad(logits, y):\n    return np.zeros(np.shape(logits))\n"
    first = grade_source(tmp_path / "1", plan, source, student="ada").to_json()
    second = grade_source(tmp_path / "2", plan, source, student="ada").to_json()
    strip = lambda doc: [(t["name"], t["score"], t["outcome"], t["message"]) for t in doc["tests"]]  # noqa: E731
    assert strip(first) == strip(second)


def test_hidden_inputs_differ_between_students_and_public_ones_do_not(tmp_path, plan, answer_source):
    """Hidden inputs come from the course seed, the student and the assignment: what one student's
    submission leaks of them says nothing of another's. Public checks keep their fixed inputs."""
    source = answer_source + "\ndef cross_entropy_grad(logits, y):\n    return np.zeros(np.shape(logits))\n"
    ada = grade_source(tmp_path / "1", plan, source, student="ada").tests
    bob = grade_source(tmp_path / "2", plan, source, student="bob").tests
    failed = [(a.visibility, a.message, b.message) for a, b in zip(ada, bob) if a.outcome == "failed"]
    hidden = [(m, n) for visibility, m, n in failed if visibility == "hidden"]
    public = [(m, n) for visibility, m, n in failed if visibility == "public"]
    assert hidden and any(m != n for m, n in hidden), "two students got the same hidden inputs"
    assert public and all(m == n for m, n in public)


def test_results_validate_against_the_native_and_gradescope_schemas(tmp_path, plan, answer_source):
    source = answer_source + "\ndef mse_loss(y_hat, y):\n    return 0.5\n"
    result = grade_source(tmp_path, plan, source)
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    jsonschema.validate(document, NATIVE)
    gradescope = json.loads(json.dumps(result.to_gradescope(), allow_nan=False))
    jsonschema.validate(gradescope, GRADESCOPE)
    assert gradescope["score"] == result.score
    assert {t["status"] for t in gradescope["tests"]} == {"passed", "failed"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**gradescope, "tests": [{"name": "x", "max_score": 1, "status": "error"}]}, GRADESCOPE)


@pytest.mark.cuda
def test_cpu_and_cuda_references_give_identical_verdicts(course, tmp_path, answer_source):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU; torch sees none on this machine")
    source = answer_source + "\ndef mse_loss(y_hat, y):\n    return 0.5\n"
    folder = write_submission(tmp_path, ASSIGNMENT, source)
    on_cpu = grade(folder, plan_for(course, ASSIGNMENT, device="cpu")).to_json()
    on_gpu = grade(folder, plan_for(course, ASSIGNMENT, device="cuda")).to_json()
    assert [(t["name"], t["score"], t["outcome"]) for t in on_cpu["tests"]] == \
        [(t["name"], t["score"], t["outcome"]) for t in on_gpu["tests"]]
