"""``dlgrade new NAME``: a new assignment in a course, complete enough to pass ``dlgrade validate``.

It writes one folder, ``<solutions>/<name>/``, holding everything an assignment is made of:

- ``assignment.toml``: the declaration (title, order, total, allowed imports, functions);
- ``<name>.py``: the model answer in percent format (markdown cells, one answer cell per function
  with ``### BEGIN SOLUTION`` / ``### END SOLUTION``), from which the release makes the student's
  ``.py`` stub and notebook;
- ``reference.py``: the hidden torch reference (the grading oracle);
- ``public_checks.py`` (released, values frozen) and ``hidden_checks.py`` (never released);
- ``mutants.py``: one known mistake per function, in torch and as real NumPy code.

Each function starts as a worked example (it doubles its input, elementwise), so the instructor
sees every piece in place and replaces the mathematics, the checks and the mistakes with their own.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.course import DECLARATION, Course, CourseError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FUNCTION = re.compile(r"^[a-z_][a-z0-9_]{0,79}$")
PUBLIC_POINTS, HIDDEN_POINTS, UNCHANGED_POINTS = 4, 4, 2  # per function: 10 points


def scaffold(course: Course, name: str, *, title: str | None = None, functions=()) -> list[Path]:
    """Write the new assignment ``name`` into ``course``; return the files written.

    Raises :class:`CourseError` for an invalid or taken name, or an invalid function name.
    """
    if not _NAME.match(name):
        raise CourseError(f"{name!r} is not a valid assignment name: lower-case letters, digits and _, "
                          "starting with a letter (it becomes <name>.py and <name>.ipynb)")
    folder = course.solutions / name
    if folder.exists():
        raise CourseError(f"{folder} already exists: choose another name, or edit that assignment")
    functions = tuple(functions) or ("double",)
    bad = [f for f in functions if not _FUNCTION.match(f)]
    if bad or len(set(functions)) != len(functions):
        raise CourseError(f"function names must be distinct lower-case Python names: {', '.join(functions)}")
    order = max((spec.order for spec in course.specs.values()), default=0) + 1
    files = {
        DECLARATION: _declaration(name, title or name.replace("_", " ").capitalize(), order, functions),
        f"{name}.py": _answer(name, title or name, functions),
        "reference.py": _reference(name, functions),
        "public_checks.py": _public_checks(name, functions),
        "hidden_checks.py": _hidden_checks(name, functions),
        "mutants.py": _mutants(name, functions),
    }
    folder.mkdir(parents=True)
    written = []
    for filename, text in files.items():
        path = folder / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _declaration(name: str, title: str, order: int, functions) -> str:
    total = len(functions) * (PUBLIC_POINTS + HIDDEN_POINTS + UNCHANGED_POINTS)
    lines = [
        f"# The {name} assignment: what students write, and what the rubric is worth.",
        f"title = {title!r}".replace("'", '"'),
        f"order = {order}",
        f"total = {total}  # the checks' points must add up to this (dlgrade validate says which differ)",
        "# Besides the standard library: torch, tensorflow, jax or scikit-learn may not do the work.",
        'allowed_imports = ["numpy", "scipy", "math"]',
        "",
        "[functions]  # in the order the handout presents them",
    ]
    lines += [f'{function} = "twice its input, elementwise (replace with your exercise)"' for function in functions]
    return "\n".join(lines) + "\n"


def _answer(name: str, title: str, functions) -> str:
    parts = [
        f'"""{title}\n\nImplement, in NumPy, the functions below. Check your work with `dlgrade check {name}`.\n"""\n',
        f"# %% [markdown]\n# # {title}\n#\n# Explain the topic here: the notebook is generated from this file.\n"
        "# Every function accepts float32 and float64 input and leaves its inputs unchanged.\n",
        "# %%\nimport numpy as np\n",
    ]
    for function in functions:
        parts.append(
            f"# %%\ndef {function}(x):\n"
            f'    """Twice ``x``, elementwise.\n\n'
            "    Args:\n        x: ndarray of any shape (float32 or float64).\n\n"
            "    Returns:\n        ndarray of the same shape and floating dtype as ``x``.\n"
            '    """\n'
            "    ### BEGIN SOLUTION\n"
            "    x = np.asarray(x)\n"
            "    return x * x.dtype.type(2) if np.issubdtype(x.dtype, np.floating) else 2.0 * x\n"
            "    ### END SOLUTION\n"
        )
    return "\n\n".join(parts)


def _reference(name: str, functions) -> str:
    body = [
        f'"""Hidden torch reference of the {name} assignment: the grading oracle.\n\n'
        "Same contract as the student's functions, in torch, on any device (``device=``), float64 unless\n"
        'told otherwise. Outputs are tensors on that device."""\n',
        "from autograder.tensors import DEFAULT_DTYPE, as_tensor\n",
    ]
    for function in functions:
        body.append(f"def {function}(x, device=None, dtype=DEFAULT_DTYPE):\n"
                    f'    """(any shape) -> same shape: 2 x."""\n'
                    "    return 2 * as_tensor(x, device, dtype)\n")
    return "\n\n".join(body)


def _public_checks(name: str, functions) -> str:
    checks = "".join(
        f'    ValueCheck(name="{function} of a (2, 3) array", exercise="{function}", points={PUBLIC_POINTS},\n'
        f"               inputs=fixed_inputs(x=np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -0.25]]))),\n"
        for function in functions)
    return (f'"""Public checks of the {name} assignment: released to students with their values frozen."""\n\n'
            "import numpy as np\n\nfrom autograder.judge.checks import ValueCheck, fixed_inputs\n\n"
            f"CHECKS = [\n{checks}]\n")


def _hidden_checks(name: str, functions) -> str:
    checks = "".join(
        f'    ValueCheck(name="{function} of a random (5, 3) array", exercise="{function}", points={HIDDEN_POINTS},\n'
        f'               description="{function} of seeded random (N, K) input, N != K",\n'
        f'               inputs=lambda rng: {{"x": rng.standard_normal((5, 3))}}),\n'
        f'    BehaviourCheck(name="{function} leaves its input unchanged", exercise="{function}",\n'
        f'                   points={UNCHANGED_POINTS}, description="the caller\'s array is not modified",\n'
        f'                   probe=leaves_inputs_unchanged(lambda rng: {{"x": rng.standard_normal((4, 2))}},\n'
        f'                                                 lambda ns, x: ns.{function}(x), ("x",))),\n'
        for function in functions)
    return (f'"""Hidden checks of the {name} assignment: seeded random inputs (never released)."""\n\n'
            "from autograder.judge.checks import BehaviourCheck, ValueCheck\n"
            "from autograder.judge.families import leaves_inputs_unchanged\n\n"
            f"CHECKS = [\n{checks}]\n")


def _mutants(name: str, functions) -> str:
    torch_versions = "".join(
        f"def _{function}_not_doubled(x, device=None, dtype=DEFAULT_DTYPE):\n"
        "    return as_tensor(x, device, dtype)\n\n\n" for function in functions)
    numpy_versions = "".join(
        f"def {function}__not_doubled(x):\n"
        "    return np.asarray(x, dtype=float)\n\n\n" for function in functions)
    mutants = "".join(
        f"    Mutant(\n"
        f'        id="{name}.{function}.not_doubled", exercise="{name}.{function}",\n'
        f'        title="{function} returns its input unchanged (the factor 2 is missing)",\n'
        f'        hint="Multiply by 2: {function}(x) = 2 x.",\n'
        f'        overrides={{"{function}": _{function}_not_doubled}},\n'
        f"        submission={function}__not_doubled,\n"
        f"    ),\n" for function in functions)
    return (f'"""Known mistakes of the {name} assignment (hidden): torch variants of the reference that\n'
            'name what went wrong, and the same mistake in NumPy (``submission``), real code."""\n\n'
            "import numpy as np\n\nfrom autograder.judge.mutants import Mutant\n"
            "from autograder.tensors import DEFAULT_DTYPE, as_tensor\n\n\n"
            f"{torch_versions}# The same mistakes in NumPy: what a student who makes each one writes.\n\n"
            f"{numpy_versions}MUTANTS = [\n{mutants}]\n")
