"""The whole contract for every function (declared in assignment.toml, checked by generated
checks), each function graded on its own, and the realistic-mistakes figures on a subset."""

import numpy as np
import pytest

from autograder.course import AssignmentSpec, CourseError, Exercise
from autograder.judge.contract import as_float32, contract_checks, result_problem
from autograder.judge.grader import point_to_dependencies
from autograder.judge.results import FAILED, PASSED, TestResult as Result
from autograder.judge.rubric import RubricError, load_rubric
from benchmarks.mistakes.cases import MISTAKES, STYLES
from benchmarks.realistic_mistakes import grade_cases

from test_course import copy_course


# ---------------------------------------------------------------- the declaration

def declare(functions: str, extra: str = "") -> AssignmentSpec:
    return AssignmentSpec.from_data("demo", __import__("tomllib").loads(f"total = 10\n{extra}\n[functions]\n{functions}"))


def test_a_contract_is_parsed_from_the_functions_table():
    spec = declare('f = { summary = "s", unchanged = ["z"], dtype = "input", shape = "like z" }\n'
                   'g = { dtype = "float64", shape = "given by shape", depends_on = ["f"] }\n', "contract_points = 0.5")
    f, g = spec.exercises
    assert (f.unchanged, f.dtype, f.shape, f.has_contract) == (("z",), "input", ("like", "z"), True)
    assert (g.dtype, g.shape, g.depends_on) == ("float64", ("given by", "shape"), ("f",))
    assert spec.contract_points == 0.5


@pytest.mark.parametrize("functions, problem", [
    ('f = { dtype = "float16" }', "dtype must be one of"),
    ('f = { shape = "z" }', "shape must be"),
    ('f = { unchanged = "z" }', "unchanged must be a list"),
    ('f = { depends_on = ["g"] }', "depends_on names"),
    ('f = { depends_on = ["f"] }', "depends_on names"),
    ('C = { kind = "class", unchanged = ["x"] }', "a class declares no"),
    ('f = { secret = 1 }', "must be a summary string or a table"),
])
def test_a_broken_contract_is_refused_with_what_to_fix(functions, problem):
    with pytest.raises(CourseError, match=problem):
        declare(functions)


def test_contract_points_must_be_positive():
    with pytest.raises(CourseError, match="contract_points"):
        declare('f = "s"', "contract_points = 0")


def test_a_declared_contract_without_example_inputs_is_a_course_error(tmp_path):
    course = copy_course(tmp_path, "perceptron")
    hidden = course.solutions / "perceptron" / "hidden_checks.py"
    hidden.write_text(hidden.read_text().replace('"step": lambda rng', '"not_step": lambda rng'))
    with pytest.raises(RubricError, match=r"CONTRACT_INPUTS\['step'\]"):
        load_rubric(course, "perceptron")


def test_every_declared_rule_becomes_a_small_hidden_check(course):
    spec = course.spec("activations")
    checks = contract_checks(spec, {e.name: (lambda rng: {"z": np.ones(2)}) for e in spec.exercises})
    names = {c.name for c in checks}
    assert "relu_backward leaves its inputs unchanged" in names
    assert "relu_backward returns the declared dtype and shape" in names
    assert all(c.points == spec.contract_points and c.visibility == "hidden" for c in checks)


# ---------------------------------------------------------------- the rules

def test_the_input_rule_refuses_widening_float32_and_accepts_working_in_float32():
    relu = Exercise("relu", dtype="input", shape=("like", "z"))
    z = np.ones((2, 3))
    assert result_problem(np.ones((2, 3), np.float32), {"z": z}, relu, "float64") is None
    assert "float64 for float32 input" in result_problem(np.ones((2, 3)), {"z": z}, relu, "float32")
    assert "has shape (3, 2)" in result_problem(np.ones((3, 2), np.float32), {"z": z}, relu, "float32")
    assert "expected a floating array" in result_problem(np.ones((2, 3), np.int64), {"z": z}, relu, "float64")


def test_fixed_dtype_rules_look_into_nested_results():
    step = Exercise("step", dtype="int64")
    assert result_problem(np.zeros(3, np.int64), {}, step, "float64") is None
    assert "float64, but the contract says int64" in result_problem(np.zeros(3), {}, step, "float64")
    init = Exercise("he_normal", dtype="float64", shape=("given by", "shape"))
    assert result_problem(np.zeros((2, 5)), {"shape": (2, 5)}, init, "float64") is None
    problem = result_problem((np.zeros((2, 5)), {"b": np.zeros((2, 5), np.float32)}), {"shape": (2, 5)}, init, "float64")
    assert problem.startswith("the result[1]['b'] is float32")


def test_as_float32_casts_only_float64_arrays():
    cast = as_float32({"X": np.ones(2), "y": np.arange(2), "params": {"W": np.ones(1)}, "cache": (np.ones(1), 3.0)})
    assert cast["X"].dtype == np.float32 and cast["y"].dtype == np.int64
    assert cast["params"]["W"].dtype == np.float32 and cast["cache"][0].dtype == np.float32 and cast["cache"][1] == 3.0


# ---------------------------------------------------------------- dependencies

def test_a_failing_dependent_names_the_piece_that_fails_its_own_checks_first():
    results = [Result("f1", "a", "a.forward", 0.0, 1.0, FAILED, "forward is wrong"),
               Result("t1", "a", "a.train", 0.0, 1.0, FAILED, "train differs"),
               Result("t2", "a", "a.train", 1.0, 1.0, PASSED, ""),
               Result("b1", "a", "a.backward", 1.0, 1.0, PASSED, "")]
    point_to_dependencies(results, {"train": ("forward", "backward")})
    assert results[1].message == "forward fails its own checks; train depends on it: fix forward first. train differs"
    assert results[0].message == "forward is wrong" and results[2].message == ""


# ---------------------------------------------------------------- graded on their own (a subset of the benchmark)

SUBSET = ("relu_backward builds a float64 array for float32 input", "tanh_backward overwrites dout",
          "forward forgets b2", "leaky_relu returns alpha on the negative side", "step returns floats",
          "backward overwrites the cached output", "he_normal draws float32")


@pytest.fixture(scope="module")
def figures():
    cases = [c for c in MISTAKES if c.name in SUBSET]
    styles = [c for c in STYLES if c.name in ("float32 fixture: mlp", "notebook with magics")]
    assert len(cases) == len(SUBSET) and len(styles) == 3
    return grade_cases(cases + styles)


def outcome(figures, name):
    return next(o for o in figures.outcomes if o.case.name == name)


def test_realistic_mistakes_lose_points_only_in_their_function_and_correct_styles_none(figures):
    assert figures.false_fails == [] and figures.false_passes == []
    assert figures.outside_points == 0
    assert figures.informative_share >= 0.9


def test_in_place_changes_and_dtype_slips_cost_the_contract_points_only(figures):
    assert outcome(figures, "relu_backward builds a float64 array for float32 input").lost == {"relu_backward": 1.0}
    assert outcome(figures, "tanh_backward overwrites dout").lost == {"tanh_backward": 1.0}
    assert outcome(figures, "backward overwrites the cached output").lost == {"backward": 1.0}
    assert outcome(figures, "he_normal draws float32").lost == {"he_normal": 1.0}
    assert outcome(figures, "step returns floats").lost.get("step") == 1.0


def test_a_wrong_forward_costs_nothing_in_a_correct_backward_and_train_says_why(figures):
    b2 = outcome(figures, "forward forgets b2")
    assert set(b2.lost) == {"forward", "train"}
    assert any("params['b2'] = 0" in m for m in b2.messages)
    assert any(m.startswith("train") and "forward fails its own checks" in m for m in b2.messages)
    assert set(outcome(figures, "leaky_relu returns alpha on the negative side").lost) == {"leaky_relu"}
