"""Shared fixtures: the course under test, and the devices the torch references run on."""

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from autograder.course import Course

# No per-example deadline for the property tests: they must hold on a loaded machine, where one
# example can take longer than hypothesis's default 200 ms through no fault of the code.
settings.register_profile("dlgrade", deadline=None)
settings.load_profile("dlgrade")

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:  # the benchmarks' case lists are tested too (benchmarks.mistakes)
    sys.path.append(str(REPOSITORY))

requires_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU; torch sees none on this machine"
)
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda, requires_cuda]),
]


@pytest.fixture(scope="session")
def course() -> Course:
    return Course.locate(REPOSITORY / "solutions")


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """Each reference test runs on CPU and, where a GPU is present, on CUDA."""
    return request.param


@pytest.fixture(scope="module")
def answer(request, course):
    """The NumPy model answer of the test module's ``ASSIGNMENT``."""
    return course.load_answer(request.module.ASSIGNMENT)


@pytest.fixture(scope="module")
def reference(request, course):
    """The hidden torch reference of the test module's ``ASSIGNMENT``."""
    return course.load_reference(request.module.ASSIGNMENT)
