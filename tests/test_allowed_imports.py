"""An assignment's allowed imports: torch (or any package it does not allow) may not do the work."""

import shutil
import types

import pytest

from autograder.course import Course
from autograder.judge.grader import Plan
from autograder.sandbox import imports

from conftest import REPOSITORY
from grading import grade, write_submission

LOG_SOFTMAX = '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)  # float32 stays float32 (the contract)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
'''


def grade_source(folder, plan, source, assignment):
    return grade(write_submission(folder, assignment, source), plan)


def _tests(result, function):
    return [t for t in result.tests if t.exercise == f"losses.{function}"]


@pytest.fixture(scope="module")
def plan(course):
    return Plan.for_course(course, ["losses"], seed=3)


def test_a_function_that_uses_torch_loses_its_points_and_says_why(tmp_path, plan):
    source = ("import numpy as np\nimport torch\nfrom torch import nn\n\n"
              "def softmax(z, axis=-1):\n    return torch.softmax(torch.tensor(z), axis).numpy()\n" + LOG_SOFTMAX)
    result = grade_source(tmp_path, plan, source, "losses")
    softmax = _tests(result, "softmax")
    assert softmax and all(t.score == 0 for t in softmax)
    assert all(t.message.startswith("uses torch, which this assignment does not allow") for t in softmax)
    assert all(t.score == t.max_score for t in _tests(result, "log_softmax"))  # no torch: full marks
    (assignment,) = result.assignments
    assert any("imports torch, which this assignment does not allow" in note for note in assignment.notes)


def test_other_routes_to_a_refused_package_are_refused_too(tmp_path, plan):
    source = ("import numpy as np\nimport importlib\n\n"
              "def softmax(z, axis=-1):\n    sk = importlib.import_module('sklearn.utils')\n    return sk.softmax(z)\n"
              "def log_softmax(z, axis=-1):\n    torch = __import__('torch')\n    return torch.log_softmax(z, axis)\n")
    result = grade_source(tmp_path, plan, source, "losses")
    for function, package in (("softmax", "sklearn"), ("log_softmax", "torch")):
        tests = _tests(result, function)
        assert all(t.score == 0 and f"uses {package}, which this assignment" in t.message for t in tests), \
            [t.message for t in tests]


def test_the_standard_library_numpy_and_scipy_stay_allowed(tmp_path, plan):
    source = ("import math, functools, collections\nimport numpy as np\nfrom scipy.special import softmax as _sm\n\n"
              "def softmax(z, axis=-1):\n    return _sm(np.asarray(z), axis=axis)\n" + LOG_SOFTMAX)
    result = grade_source(tmp_path, plan, source, "losses")
    assert all(t.score == t.max_score for t in _tests(result, "softmax") + _tests(result, "log_softmax"))


def test_a_course_can_allow_another_package(tmp_path):
    shutil.copytree(REPOSITORY / "solutions" / "losses", tmp_path / "solutions" / "losses",
                    ignore=shutil.ignore_patterns("__pycache__"))
    declaration = tmp_path / "solutions" / "losses" / "assignment.toml"
    declaration.write_text(declaration.read_text().replace('allowed_imports = ["numpy", "scipy", "math"]',
                                                           'allowed_imports = ["numpy"]'))
    course = Course.locate(tmp_path / "solutions")
    plan = Plan.for_course(course, ["losses"], seed=3)
    source = ("import numpy as np\nfrom scipy.special import softmax as _sm\n\n"
              "def softmax(z, axis=-1):\n    return _sm(np.asarray(z, dtype=float), axis=axis)\n" + LOG_SOFTMAX)
    result = grade_source(tmp_path / "work", plan, source, "losses")
    assert all("uses scipy" in t.message for t in _tests(result, "softmax"))


def test_the_stand_in_refuses_every_use():
    stand_in = imports.Forbidden("torch", "torch")
    assert isinstance(stand_in.nn.functional, imports.Forbidden)  # `from torch.nn import functional` loads
    for use in (lambda: stand_in.tensor([1.0]), lambda: stand_in + 1, lambda: float(stand_in),
                lambda: list(stand_in), lambda: types.new_class("Liar", (stand_in.Tensor,))):
        with pytest.raises(imports.ForbiddenImport, match="uses torch, which this assignment does not allow"):
            use()
    assert imports.allows(frozenset({"numpy"}), "numpy.linalg") and imports.allows(frozenset(), "json")
    assert not imports.allows(frozenset({"numpy"}), "torch.nn")
