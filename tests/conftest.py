"""Shared fixtures: the course under test, the devices the torch references run on, and the
gradebook's two databases (SQLite, and PostgreSQL where Debian's postgresql is installed)."""

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


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster on 127.0.0.1 for the whole session: call it for a new, empty
    database's URL. Skips, saying why, where PostgreSQL is not installed."""
    from pg_cluster import cluster, postgres_bin

    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql; CI installs it")
    with cluster() as new_database:
        yield new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A new, empty gradebook URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'grades.db'}"
    return request.getfixturevalue("postgres")()
