"""Where a course keeps its material, what each assignment declares, and loading of the
instructor's (trusted) modules.

A course is data. Its hidden folder (``solutions/``) holds one folder per assignment, and each
assignment folder declares itself in ``assignment.toml``::

    title = "Loss functions"           # shown to students and TAs
    order = 6                          # teaching order (assignments sort by it, then by name)
    total = 100                        # the rubric's declared total: the checks' points must add up to it
    allowed_imports = ["numpy", "scipy", "math"]   # plus the standard library (this is the default)

    contract_points = 1                # points of each generated contract check (default 1)

    [functions]                        # what students write, in the order the handout presents it
    softmax = "numerically stable softmax along an axis"
    SGD = { kind = "class", summary = "torch.optim.SGD: momentum, Nesterov, weight decay" }
    relu_backward = { summary = "dL/dz", unchanged = ["dout", "z"], dtype = "input", shape = "like z" }
    he_normal = { summary = "He normal", dtype = "float64", shape = "given by shape" }
    train = { summary = "gradient descent", unchanged = ["X", "T", "params"], depends_on = ["forward", "backward"] }

The contract keys of a function (all optional; the engine turns them into small hidden checks,
``contract_points`` each, on the inputs ``CONTRACT_INPUTS[<function>](rng)`` of the assignment's
``hidden_checks.py``, a dict of the arguments in call order):

- ``unchanged``: the arguments the function must leave as they were (arrays, lists of arrays,
  dicts of parameters, caches: compared exactly, element by element, after the call);
- ``dtype``: the dtype of every array the function returns. ``"input"``: the floating dtype of its
  floating inputs: float32 in gives float32 (float64 in may give float32: working in float32 is
  allowed and graded at float32 tolerances, but float32 must never come back widened);
  ``"int64"`` or ``"float64"``: that dtype whatever the input (a Python float counts as float64);
- ``shape``: ``"like <argument>"`` (every returned array has that argument's shape) or
  ``"given by <argument>"`` (the argument is the shape tuple itself);
- ``depends_on``: the other functions of the assignment this one calls in the students' code
  (``train`` runs their ``forward`` and ``backward``): when its checks fail after one of those
  failed its own, the message says so.

Next to it: the model answer ``<name>.py`` (with solution markers), the torch ``reference.py``,
``public_checks.py``, ``hidden_checks.py`` and the known mistakes ``mutants.py``. The engine
discovers assignments from these folders and names none of them; adding an exercise is a change
in one folder. The student release (``assignments/<name>/``) carries the same ``assignment.toml``:
nothing in it is hidden.

What holds for the whole course is declared once in ``solutions/course.toml`` (optional; never
released). Its ``[late]`` table is the course's late policy, which the Gradescope autograder
(``dlgrade gradescope build``) applies from the submission time and due date Gradescope passes::

    [late]
    penalty_per_day = 10       # percent of the score taken per day late, each started day counted
    grace_minutes = 15         # a submission this long after the due date is on time (default 0)
    max_days = 5               # later than this many days: a score of 0 (default: no limit)
    zero_after_late_due_date = false   # true: after Gradescope's late due date the score is 0

With no ``course.toml``, or no ``[late]`` table in it, late work is not penalized. The penalty is
a percentage of the whole score, at most 100 %.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from types import ModuleType

from autograder.errors import DlgradeError

SOLUTIONS_ENV = "DLGRADE_SOLUTIONS"
COURSE_CONFIG = "dlgrade.toml"
DECLARATION = "assignment.toml"
COURSE_DECLARATION = "course.toml"  # what holds for the whole course, in its solutions folder
# The imports a NumPy assignment allows when its declaration names none (the standard library
# is always allowed): torch, tensorflow, jax or scikit-learn must not do the students' work.
DEFAULT_ALLOWED_IMPORTS = ("numpy", "scipy", "math")
# The files of a hidden assignment folder besides the model answer <name>.py.
HIDDEN_FILES = ("reference.py", "public_checks.py", "hidden_checks.py", "mutants.py")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # an assignment: a lower-case Python module name
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
# The repository this engine was installed from (an editable install), if any.
_REPOSITORY = Path(__file__).resolve().parent.parent


class CourseError(DlgradeError, RuntimeError):
    """The course material cannot be found or read; the message says what to do."""


DTYPE_RULES = ("input", "int64", "float64")
SHAPE_RULES = ("like", "given by")
_FUNCTION_KEYS = ("kind", "summary", "unchanged", "dtype", "shape", "depends_on")


@dataclass(frozen=True)
class Exercise:
    """One function or class that students write, and its declared contract (module docstring)."""

    name: str
    kind: str = "function"  # or "class"
    summary: str = ""
    unchanged: tuple[str, ...] = ()  # arguments left as they were
    dtype: str | None = None  # one of DTYPE_RULES
    shape: tuple[str, str] | None = None  # (rule, argument): ("like", "z") or ("given by", "shape")
    depends_on: tuple[str, ...] = ()  # other exercises its students' code runs

    @property
    def has_contract(self) -> bool:
        return bool(self.unchanged or self.dtype or self.shape)

    @classmethod
    def from_data(cls, name: str, value, fail) -> "Exercise":
        """Parse one ``[functions]`` entry (a summary string or a table); ``fail(problem)`` raises."""
        if isinstance(value, str):
            value = {"summary": value}
        if not isinstance(value, dict) or set(value) - set(_FUNCTION_KEYS):
            fail(f"functions.{name} must be a summary string or a table with {', '.join(_FUNCTION_KEYS)}")
        kind = value.get("kind", "function")
        if kind not in ("function", "class"):
            fail(f"functions.{name}: kind must be 'function' or 'class'")
        names = {}
        for key in ("unchanged", "depends_on"):
            listed = value.get(key, [])
            if not isinstance(listed, list) or not all(isinstance(n, str) and _IDENTIFIER.match(n) for n in listed):
                fail(f"functions.{name}.{key} must be a list of Python names")
            names[key] = tuple(listed)
        dtype = value.get("dtype")
        if dtype is not None and dtype not in DTYPE_RULES:
            fail(f"functions.{name}.dtype must be one of {', '.join(map(repr, DTYPE_RULES))}")
        shape = value.get("shape")
        if shape is not None:
            rule, _, argument = str(shape).rpartition(" ")
            if rule not in SHAPE_RULES or not _IDENTIFIER.match(argument):
                fail(f"functions.{name}.shape must be 'like <argument>' or 'given by <argument>'")
            shape = (rule, argument)
        if kind == "class" and (names["unchanged"] or dtype or shape):
            fail(f"functions.{name}: a class declares no unchanged/dtype/shape contract (its methods have their checks)")
        return cls(name, kind, str(value.get("summary", "")), names["unchanged"], dtype, shape, names["depends_on"])


@dataclass(frozen=True)
class AssignmentSpec:
    """What one assignment declares in its ``assignment.toml``."""

    name: str
    title: str
    order: int
    total: float
    exercises: tuple[Exercise, ...]
    allowed_imports: tuple[str, ...] = DEFAULT_ALLOWED_IMPORTS
    folder: Path | None = field(default=None, compare=False)
    contract_points: float = 1.0  # points of each generated contract check

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.exercises)

    def exercise(self, name: str) -> Exercise | None:
        return next((e for e in self.exercises if e.name == name), None)

    @classmethod
    def read(cls, path: Path, name: str | None = None) -> "AssignmentSpec":
        """Parse and validate ``path`` (an ``assignment.toml``); the assignment is ``name``, by
        default its folder's name."""
        name = name or path.parent.name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CourseError(f"{path}: cannot read the assignment's declaration: {error}") from None
        return cls.from_data(name, data, path)

    @classmethod
    def from_data(cls, name: str, data: dict, path: Path | str = DECLARATION) -> "AssignmentSpec":
        def fail(problem: str):
            raise CourseError(f"{path}: {problem}")

        if not _NAME.match(name):
            fail(f"the folder name {name!r} is not a valid assignment name (lower-case letters, digits, _)")
        known = ("title", "order", "total", "allowed_imports", "contract_points", "functions")
        unknown = set(data) - set(known)
        if unknown:
            fail(f"unknown keys {sorted(unknown)} (known: {', '.join(known)})")
        functions = data.get("functions")
        if not isinstance(functions, dict) or not functions:
            fail("declare the functions students write in a [functions] table")
        exercises = []
        for function, value in functions.items():
            if not _IDENTIFIER.match(function):
                fail(f"{function!r} is not a Python name")
            exercises.append(Exercise.from_data(function, value, fail))
        declared = {e.name for e in exercises}
        for exercise in exercises:
            outside = set(exercise.depends_on) - declared or ({exercise.name} & set(exercise.depends_on))
            if outside:
                fail(f"functions.{exercise.name}.depends_on names {sorted(outside)}: list other functions of "
                     "this assignment")
        total = data.get("total")
        if not isinstance(total, (int, float)) or isinstance(total, bool) or total <= 0:
            fail("declare the rubric's total points: total = 100")
        order = data.get("order", 1000)
        if not isinstance(order, int) or isinstance(order, bool):
            fail("order must be an integer")
        allowed = data.get("allowed_imports", list(DEFAULT_ALLOWED_IMPORTS))
        if not isinstance(allowed, list) or not all(isinstance(m, str) and _IDENTIFIER.match(m) for m in allowed):
            fail("allowed_imports must be a list of top-level module names, e.g. [\"numpy\", \"scipy\"]")
        points = data.get("contract_points", 1)
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
            fail("contract_points must be a positive number")
        folder = Path(path).parent if isinstance(path, Path) else None
        return cls(name, str(data.get("title", name)), order, float(total), tuple(exercises), tuple(allowed), folder,
                   float(points))


@dataclass(frozen=True)
class LatePenalty:
    """What the late policy does to one submission: ``percent`` of its score taken (0 to 100) and
    ``note``, the sentence that says why (empty when it was on time)."""

    percent: float
    days_late: int = 0
    note: str = ""

    def applied(self, score: float) -> float:
        return round(score * (1 - self.percent / 100), 6)


ON_TIME = LatePenalty(0.0)
_LATE_KEYS = ("penalty_per_day", "grace_minutes", "max_days", "zero_after_late_due_date")


@dataclass(frozen=True)
class LatePolicy:
    """The course's late policy (``[late]`` of ``course.toml``, module docstring). The default,
    ``LatePolicy()``, penalizes nothing."""

    penalty_per_day: float = 0.0
    grace_minutes: float = 0.0
    max_days: int | None = None
    zero_after_late_due_date: bool = False

    @property
    def penalizes(self) -> bool:
        return self.penalty_per_day > 0 or self.max_days is not None or self.zero_after_late_due_date

    @classmethod
    def from_data(cls, data, path: Path | str = COURSE_DECLARATION) -> "LatePolicy":
        def fail(problem: str):
            raise CourseError(f"{path}: [late] {problem}")

        if not isinstance(data, dict):
            fail("must be a table")
        unknown = set(data) - set(_LATE_KEYS)
        if unknown:
            fail(f"unknown keys {sorted(unknown)} (known: {', '.join(_LATE_KEYS)})")

        def number(key, default, low, high=None):
            value = data.get(key, default)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < low or (
                    high is not None and value > high):
                fail(f"{key} must be a number from {low}" + (f" to {high}" if high is not None else ""))
            return float(value)

        max_days = data.get("max_days")
        if max_days is not None and (not isinstance(max_days, int) or isinstance(max_days, bool) or max_days < 0):
            fail("max_days must be a whole number of days, 0 or more")
        zero = data.get("zero_after_late_due_date", False)
        if not isinstance(zero, bool):
            fail("zero_after_late_due_date must be true or false")
        return cls(number("penalty_per_day", 0, 0, 100), number("grace_minutes", 0, 0), max_days, zero)

    def penalty(self, submitted: datetime | None, due: datetime | None,
                late_due: datetime | None = None) -> LatePenalty:
        """The penalty of a submission made at ``submitted`` for the due date ``due`` (and the late
        due date ``late_due``, after which ``zero_after_late_due_date`` gives 0). Each started day
        after the due date and the grace period counts: 1 minute late past the grace is 1 day."""
        if submitted is None or due is None or not self.penalizes:
            return ON_TIME
        late = submitted - due
        if late <= timedelta(minutes=self.grace_minutes):
            return ON_TIME
        days = -(-late // timedelta(days=1))  # each started day counts
        when = f"submitted {_duration(late)} after the due date"
        if self.zero_after_late_due_date and late_due is not None and submitted > late_due:
            return LatePenalty(100.0, days, f"Late: {when}, after the late due date: the course's late policy gives 0.")
        if self.max_days is not None and days > self.max_days:
            return LatePenalty(100.0, days, f"Late: {when}, more than {self.max_days} day(s): the course's late "
                                            "policy gives 0.")
        percent = min(100.0, days * self.penalty_per_day)
        if percent == 0:
            return ON_TIME
        return LatePenalty(percent, days, f"Late: {when} ({days} day{'s' if days != 1 else ''} at "
                                          f"{self.penalty_per_day:g}% each): -{percent:g}% of the score.")


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts)


def declared_assignments(root: Path) -> dict[str, AssignmentSpec]:
    """The assignments under ``root`` (folders holding an ``assignment.toml``), in teaching order."""
    specs = [AssignmentSpec.read(path) for path in sorted(Path(root).glob(f"*/{DECLARATION}"))]
    return {spec.name: spec for spec in sorted(specs, key=lambda s: (s.order, s.name))}


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


def unknown_name_message(kind: str, name: str, known) -> str:
    """``unknown assignment 'metrcs' (did you mean 'metrics'?); the course has: ...``."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {name!r}{suggestion}; the course has: {', '.join(known) or 'none'}"


@dataclass(frozen=True)
class Course:
    """A course: its hidden ``solutions/`` folder and the assignments declared there."""

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

    # ------------------------------------------------------------ what the course declares
    @cached_property
    def specs(self) -> dict[str, AssignmentSpec]:
        return declared_assignments(self.solutions)

    @property
    def assignments(self) -> tuple[str, ...]:
        """The assignments, in teaching order."""
        return tuple(self.specs)

    def spec(self, assignment: str) -> AssignmentSpec:
        if assignment not in self.specs:
            raise CourseError(unknown_name_message("assignment", assignment, self.specs))
        return self.specs[assignment]

    def select(self, names=()) -> tuple[str, ...]:
        """``names`` checked against the course (all assignments when empty), in teaching order.

        Names are matched case-insensitively; an unknown one raises :class:`CourseError` with the
        closest match."""
        if not self.specs:
            raise CourseError(f"{self.solutions} declares no assignment (no */{DECLARATION}): "
                              "create one with `dlgrade new NAME`")
        chosen = set()
        lower = {name.lower(): name for name in self.specs}
        for name in names:
            if name.lower() not in lower:
                raise CourseError(unknown_name_message("assignment", name, self.specs))
            chosen.add(lower[name.lower()])
        return tuple(a for a in self.specs if a in chosen) if chosen else self.assignments

    @cached_property
    def settings(self) -> dict:
        """``solutions/course.toml`` (module docstring), empty when the course has none."""
        path = self.solutions / COURSE_DECLARATION
        if not path.is_file():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CourseError(f"{path}: cannot read the course's declaration: {error}") from None

    @cached_property
    def late_policy(self) -> LatePolicy:
        """The course's late policy: ``[late]`` of ``course.toml``; none declared, no penalty."""
        if "late" not in self.settings:
            return LatePolicy()
        return LatePolicy.from_data(self.settings["late"], self.solutions / COURSE_DECLARATION)

    def hidden_paths(self) -> list[str]:
        """What a sandbox must never show: this course's solutions folder, wherever it is."""
        return [str(self.solutions)]

    # ------------------------------------------------------------ its files
    def answer_source(self, assignment: str) -> Path:
        """The instructor's model answer, with solution markers: ``solutions/<a>/<a>.py``."""
        return self._existing(assignment, f"{assignment}.py")

    def reference_source(self, assignment: str) -> Path:
        """The hidden torch reference: ``solutions/<a>/reference.py``."""
        return self._existing(assignment, "reference.py")

    def declaration(self, assignment: str) -> Path:
        return self._existing(assignment, DECLARATION)

    def load_answer(self, assignment: str) -> ModuleType:
        return load_module(self.answer_source(assignment), f"dlgrade_hidden.{assignment}.answer")

    def load_reference(self, assignment: str) -> ModuleType:
        return load_sibling(self.reference_source(assignment), "reference")

    def load_hidden(self, assignment: str, name: str) -> ModuleType:
        """Another hidden module of the assignment: ``public_checks``, ``hidden_checks``, ``mutants``."""
        return load_sibling(self._existing(assignment, f"{name}.py"), name)

    def _existing(self, assignment: str, filename: str) -> Path:
        self.spec(assignment)
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
    reference) without making ``solutions/`` an importable package. Two courses with an
    assignment of the same name in one process (tests do this) are told apart by the folder.
    """
    folder = Path(anchor).resolve().parent
    module_name = f"dlgrade_hidden.{folder.name}_{_folder_tag(folder)}.{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = folder / f"{name}.py"
    if not path.is_file():
        raise CourseError(f"{path} is missing from the course's solutions")
    return load_module(path, module_name)


def _folder_tag(folder: Path) -> str:
    return hashlib.sha256(str(folder).encode()).hexdigest()[:8]
