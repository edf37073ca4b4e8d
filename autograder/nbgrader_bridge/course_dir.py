"""An nbgrader course directory filled from dlgrade's solutions, and nbgrader's generate_assignment on it.

Layout written under the course root (nbgrader's own)::

    source/<a>/<a>.ipynb           the instructor's notebook (:mod:`.source`): answers, hidden tests
    source/<a>/<a>.py              the student's .py stub (solution regions already stripped)
    source/<a>/assignment.toml     what the assignment declares (functions, total, allowed imports)
    source/<a>/public_checks.py    the public checks and their frozen values, shipped to students
    source/<a>/public_checks.json
    release/<a>/...                written by ``nbgrader generate_assignment`` (NbGraderAPI)

Nothing hidden is put under ``source/`` except inside the notebook, whose solution regions and
hidden tests nbgrader removes (ClearSolutions, ClearHiddenTests) when it writes ``release/``.
"""

from __future__ import annotations

import logging
import os
import sysconfig
from pathlib import Path

from autograder.course import DECLARATION, Course
from autograder.files import write_release
from autograder.markers import strip_solutions
from autograder.notebook import notebook_text
from autograder.errors import DlgradeError


class NbgraderError(DlgradeError, RuntimeError):
    """nbgrader failed; the message carries its log."""


def source_files(course: Course, assignment: str) -> dict[str, str]:
    """``{file name: text}`` of ``source/<assignment>/``."""
    from autograder.judge.rubric import load_rubric
    from autograder.nbgrader_bridge.source import build_source_notebook
    from autograder.judge.frozen import freeze_public_checks

    answer = course.answer_source(assignment)
    text = answer.read_text(encoding="utf-8")
    stub = strip_solutions(text, filename=str(answer))  # first: a marker error names the line to fix
    notebook = build_source_notebook(text, assignment=assignment, rubric=load_rubric(course, assignment),
                                     filename=str(answer))
    return {
        f"{assignment}.ipynb": notebook_text(notebook),
        f"{assignment}.py": stub,
        DECLARATION: course.declaration(assignment).read_text(encoding="utf-8"),
        "public_checks.py": course.solutions.joinpath(assignment, "public_checks.py").read_text(encoding="utf-8"),
        "public_checks.json": freeze_public_checks(course, assignment),
    }


def write_sources(course: Course, root: Path, assignments) -> None:
    """Write ``source/<a>/`` under the nbgrader course ``root`` for each assignment."""
    for assignment in assignments:
        write_release({f"source/{assignment}/{name}": text
                       for name, text in source_files(course, assignment).items()}, root)


def tools_on_path() -> None:
    """Put this interpreter's scripts folder on $PATH: nbgrader runs ``alembic`` as a command, which a
    venv's ``dlgrade`` started by its full path (pipx-style, no activation) would not find."""
    scripts = sysconfig.get_path("scripts")
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if scripts and scripts not in entries:
        os.environ["PATH"] = os.pathsep.join([scripts, *[e for e in entries if e]])


def nbgrader_api(root: Path, config=None):
    """An NbGraderAPI on the course at ``root``; its nbgrader_config.py, if any, is read first."""
    tools_on_path()
    try:
        from nbgrader.apps import NbGraderAPI
    except ImportError as error:
        raise NbgraderError(f"nbgrader cannot be imported ({error}): reinstall dlgrade (pip install -e .), "
                            "which installs it") from error
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    merged = Config()
    if (root / "nbgrader_config.py").is_file():
        merged.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    merged.merge(config or Config())
    merged.CourseDirectory.root = str(root)
    api = NbGraderAPI(config=merged)
    api.log.setLevel(logging.WARNING)
    return api


def generate_assignment(root: Path, assignment: str, config=None) -> Path:
    """Run nbgrader's generate_assignment for ``assignment``; return ``release/<assignment>``."""
    result = nbgrader_api(root, config).generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise NbgraderError(f"nbgrader generate_assignment {assignment} failed:\n"
                            f"{result.get('error') or ''}{result.get('log') or ''}")
    return root / "release" / assignment


def release_through_nbgrader(course: Course, root: Path, assignments) -> dict[str, str]:
    """Fill ``root`` with the sources, generate each assignment; the release as ``{"<a>/<file>": text}``."""
    write_sources(course, root, assignments)
    files = {}
    for assignment in assignments:
        released = generate_assignment(root, assignment)
        for path in sorted(released.rglob("*")):
            if path.is_file():
                files[f"{assignment}/{path.relative_to(released).as_posix()}"] = path.read_text(encoding="utf-8")
    return files
