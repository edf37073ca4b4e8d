"""Where a course keeps its material, and loading of the instructor's (trusted) modules.

A course repository has ``solutions/<assignment>/`` (hidden: the model answer source and the
torch reference) and ``assignments/<assignment>/`` (the committed student release). The engine
never holds hidden material itself; it is told where ``solutions/`` is.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from autograder.curriculum import ASSIGNMENTS
from autograder.errors import DlgradeError

SOLUTIONS_ENV = "DLGRADE_SOLUTIONS"
COURSE_CONFIG = "dlgrade.toml"
# The repository this engine was installed from (an editable install), if any.
_REPOSITORY = Path(__file__).resolve().parent.parent


class CourseError(DlgradeError, RuntimeError):
    """The course material cannot be found or read; the message says what to do."""


def default_solutions_dir(cwd: Path | None = None) -> Path:
    """Where ``solutions/`` is when no ``--solutions`` is given.

    In order: ``$DLGRADE_SOLUTIONS``; ``solutions = "..."`` in a ``dlgrade.toml`` course config in
    the current folder (relative to that file); the ``solutions/`` of the repository dlgrade runs from.
    """
    configured = os.environ.get(SOLUTIONS_ENV)
    if configured:
        return Path(configured)
    config = (cwd or Path.cwd()) / COURSE_CONFIG
    settings = course_settings(cwd)
    if "solutions" in settings:
        return config.parent / str(settings["solutions"])
    return _REPOSITORY / "solutions"


def course_settings(cwd: Path | None = None) -> dict:
    """The ``dlgrade.toml`` course config of the current folder (empty when there is none)."""
    config = (cwd or Path.cwd()) / COURSE_CONFIG
    if not config.is_file():
        return {}
    try:
        return tomllib.loads(config.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CourseError(f"{config} is not valid TOML: {error}") from error


def configured_seed(cwd: Path | None = None) -> int | None:
    """The course secret that fixes hidden inputs: ``$DLGRADE_SEED``, else ``seed = N`` in
    ./dlgrade.toml; None when neither is set."""
    if os.environ.get("DLGRADE_SEED"):
        try:
            return int(os.environ["DLGRADE_SEED"])
        except ValueError:
            raise CourseError("$DLGRADE_SEED must be an integer") from None
    value = course_settings(cwd).get("seed")
    if value is not None and not isinstance(value, int):
        raise CourseError("dlgrade.toml: seed must be an integer")
    return value


@dataclass(frozen=True)
class Course:
    """The hidden side of a course: its ``solutions/`` folder."""

    solutions: Path

    @classmethod
    def locate(cls, solutions: str | os.PathLike | None = None) -> "Course":
        path = Path(solutions) if solutions is not None else default_solutions_dir()
        if not path.is_dir():
            raise CourseError(
                f"no solutions directory at {path}. Point dlgrade at the course's hidden solutions/ "
                f"folder with --solutions DIR, ${SOLUTIONS_ENV}, or `solutions = \"DIR\"` in {COURSE_CONFIG}"
            )
        return cls(path.resolve())

    def answer_source(self, assignment: str) -> Path:
        """The instructor's model answer, with solution markers: ``solutions/<a>/<a>.py``."""
        return self._existing(assignment, f"{assignment}.py")

    def reference_source(self, assignment: str) -> Path:
        """The hidden torch reference: ``solutions/<a>/reference.py``."""
        return self._existing(assignment, "reference.py")

    def load_answer(self, assignment: str) -> ModuleType:
        return load_module(self.answer_source(assignment), f"dlgrade_hidden.{assignment}.answer")

    def load_reference(self, assignment: str) -> ModuleType:
        return load_sibling(self.reference_source(assignment), "reference")

    def load_hidden(self, assignment: str, name: str) -> ModuleType:
        """Another hidden module of the assignment: ``public_checks``, ``hidden_checks``, ``mutants``."""
        return load_sibling(self._existing(assignment, f"{name}.py"), name)

    def _existing(self, assignment: str, filename: str) -> Path:
        if assignment not in ASSIGNMENTS:
            raise CourseError(f"unknown assignment {assignment!r}; the course has: {', '.join(ASSIGNMENTS)}")
        path = self.solutions / assignment / filename
        if not path.is_file():
            raise CourseError(f"{path} is missing from the course's solutions")
        return path


def load_module(path: Path, name: str) -> ModuleType:
    """Import the trusted instructor module at ``path`` under ``name``.

    Only for course material (answers, references). Student code is never imported here.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CourseError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling-free introspection need it registered
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_sibling(anchor: str | os.PathLike, name: str) -> ModuleType:
    """Load ``<name>.py`` from the folder of ``anchor`` (a course file's ``__file__``), once.

    How the hidden files of one assignment use each other (checks use the mutants, mutants the
    reference) without making ``solutions/`` an importable package.
    """
    folder = Path(anchor).resolve().parent
    module_name = f"dlgrade_hidden.{folder.name}.{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = folder / f"{name}.py"
    if not path.is_file():
        raise CourseError(f"{path} is missing from the course's solutions")
    return load_module(path, module_name)
