"""The course is data: assignments declare themselves, the engine discovers them and holds each
rubric to its declaration."""

import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from autograder.course import AssignmentSpec, Course, CourseError
from autograder.judge.checks import HIDDEN, PUBLIC, ValueCheck, fixed_inputs
from autograder.judge.mutants import Mutant
from autograder.judge.rubric import RubricError, bind, load_rubric
from autograder.scaffold import scaffold
from cli import main

from conftest import REPOSITORY


def copy_course(tmp_path, *assignments) -> Course:
    for name in assignments:
        shutil.copytree(REPOSITORY / "solutions" / name, tmp_path / "solutions" / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return Course.locate(tmp_path / "solutions")


# ---------------------------------------------------------------- the declaration

def test_the_bundled_course_is_discovered_in_teaching_order(course):
    # The bundled assignments in teaching order (any added later come after them), orders distinct.
    assert course.assignments[:9] == ("perceptron", "mlp", "initializers", "optimizers", "dropout", "losses",
                                      "activations", "normalization", "training")
    orders = [course.spec(a).order for a in course.assignments]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert course.spec("optimizers").exercise("SGD").kind == "class"
    assert all(course.spec(a).total == 100 for a in course.assignments)
    assert course.spec("losses").allowed_imports == ("numpy", "scipy", "math")


@pytest.mark.parametrize("text, problem", [
    ("total = 10\n", "[functions]"),
    ("[functions]\nf = 'x'\n", "total points"),
    ("total = 0\n[functions]\nf = 'x'\n", "total points"),
    ("total = 10\nsecret = 1\n[functions]\nf = 'x'\n", "unknown keys"),
    ("total = 10\n[functions]\n'not a name' = 'x'\n", "not a Python name"),
    ("total = 10\n[functions]\nf = { kind = 'module' }\n", "kind must be"),
    ("total = 10\nallowed_imports = 'numpy'\n[functions]\nf = 'x'\n", "allowed_imports"),
    ("total = [\n", "cannot read"),
])
def test_a_broken_declaration_is_refused_with_what_to_fix(tmp_path, text, problem):
    path = tmp_path / "demo" / "assignment.toml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(CourseError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        AssignmentSpec.read(path)


def test_names_are_chosen_case_insensitively_and_typos_get_a_suggestion(course):
    assert course.select(["LOSSES", "perceptron"]) == ("perceptron", "losses")  # teaching order
    assert course.select([]) == course.assignments
    with pytest.raises(CourseError, match=r"unknown assignment 'lossses' \(did you mean 'losses'\?\)"):
        course.select(["lossses"])


def test_a_folder_without_a_declaration_is_no_assignment(tmp_path):
    course = copy_course(tmp_path, "losses")
    (tmp_path / "solutions" / "notes").mkdir()
    assert course.assignments == ("losses",)
    with pytest.raises(CourseError, match="declares no assignment"):
        Course.locate(tmp_path / "solutions" / "notes").select([])


# ---------------------------------------------------------------- the rubric holds to it

def test_points_that_do_not_add_up_to_the_total_fail_validate_naming_the_checks(tmp_path):
    course = copy_course(tmp_path, "losses")
    public = tmp_path / "solutions" / "losses" / "public_checks.py"
    public.write_text(public.read_text().replace('exercise="mse_loss", points=4', 'exercise="mse_loss", points=6'))
    with pytest.raises(RubricError, match=r"add up to 102 points.*total = 100.*mse_loss: 11 \('mse_loss of a \(2, 2\)"):
        load_rubric(course, "losses")
    result = CliRunner().invoke(main, ["validate", "losses", "--no-run", "--solutions", str(course.solutions)])
    assert result.exit_code == 1
    assert "add up to 102 points" in result.output and "'mse_loss of a random non-square batch'" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_check_of_an_undeclared_function_names_the_declaration(tmp_path):
    course = copy_course(tmp_path, "losses")
    hidden = tmp_path / "solutions" / "losses" / "hidden_checks.py"
    hidden.write_text(hidden.read_text() + '\nCHECKS[0].exercise = "mae_loss"\n')
    with pytest.raises(RubricError, match="not in the assignment's declared functions .assignment.toml."):
        load_rubric(course, "losses")


def test_visibility_comes_from_the_file_and_a_contradiction_is_refused():
    check = ValueCheck(name="c", exercise="softmax", points=1, inputs=fixed_inputs(z=np.zeros(2)))
    (public,) = bind([check], "losses", PUBLIC, "public_checks.py")
    assert (public.exercise, public.visibility, public.assignment) == ("losses.softmax", PUBLIC, "losses")
    hidden_one = ValueCheck(name="c", exercise="softmax", points=1, visibility=HIDDEN, inputs=fixed_inputs())
    with pytest.raises(RubricError, match="says it is hidden, but the checks in this file are public"):
        bind([hidden_one], "losses", PUBLIC, "public_checks.py")
    elsewhere = ValueCheck(name="c", exercise="mlp.sigmoid", points=1, inputs=fixed_inputs())
    with pytest.raises(RubricError, match="outside losses"):
        bind([elsewhere], "losses", HIDDEN, "hidden_checks.py")


def test_a_check_calls_its_exercise_by_default_with_the_inputs_in_order():
    class Namespace:
        def softmax(self, z, axis=-1):
            return ("softmax", z, axis)

    check = ValueCheck(name="c", exercise="losses.softmax", points=1, inputs=fixed_inputs(z=1, axis=0))
    assert check.call(Namespace(), z=1, axis=0) == ("softmax", 1, 0)


def test_a_known_mistake_in_numpy_is_real_code_renamed_for_the_student():
    def softmax__no_shift(z, axis=-1):
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)

    mutant = Mutant("losses.softmax.no_shift", "losses.softmax", "t", "h", submission=softmax__no_shift)
    source = mutant.submission_source
    assert source.startswith("def softmax(z, axis=-1):") and "no_shift" not in source
    namespace = {"np": np}
    exec(source, namespace)
    assert np.allclose(namespace["softmax"](np.zeros(2)), [0.5, 0.5])


def test_every_bundled_mistake_has_real_numpy_code(course):
    for assignment in course.assignments:
        for mutant in load_rubric(course, assignment).mutants:
            function = mutant.exercise.split(".")[1]
            assert f"def {function}(" in mutant.submission_source or f"class {function}" in mutant.submission_source


# ---------------------------------------------------------------- dlgrade new

def test_new_refuses_bad_and_taken_names(tmp_path):
    course = copy_course(tmp_path, "losses")
    for name, problem in (("Bad-Name", "not a valid assignment name"), ("losses", "already exists")):
        with pytest.raises(CourseError, match=problem):
            scaffold(course, name)
    with pytest.raises(CourseError, match="function names"):
        scaffold(course, "metrics", functions=["ok", "Not OK"])


def test_new_writes_an_assignment_the_engine_loads(tmp_path):
    course = copy_course(tmp_path, "losses")
    result = CliRunner().invoke(main, ["new", "metrics", "--function", "mae", "--function", "rmse",
                                       "--solutions", str(course.solutions)])
    assert result.exit_code == 0, result.output
    course = Course.locate(course.solutions)
    assert course.assignments == ("losses", "metrics")  # after the existing ones
    rubric = load_rubric(course, "metrics")
    assert rubric.max_score == course.spec("metrics").total == 20
    assert {c.function for c in rubric.checks} == {"mae", "rmse"}
    assert {c.visibility for c in rubric.checks} == {PUBLIC, HIDDEN}
    assert len(rubric.mutants) == 2


def test_an_expected_failure_is_one_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--solutions", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no solutions directory at") and len(result.output.splitlines()) == 1
