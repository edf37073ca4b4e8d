"""Finding a submission's files and reading their code, without running any of it.

A submission is a folder holding any subset of the assignment files (``<assignment>.py`` or
``<assignment>.ipynb``), or one such file. Notebooks are parsed with nbformat; only their code
cells are kept, and IPython-only lines (``%magic``, ``!shell``, ``%%cell`` magics, ``x?`` help)
are neutralized so that the code is plain Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


from autograder.errors import DlgradeError

MAX_SOURCE_BYTES = 5 << 20
SUFFIXES = (".py", ".ipynb")


class SubmissionError(DlgradeError):
    """A file that cannot be read as code; the message says why and what to do."""


@dataclass(frozen=True)
class SubmissionCode:
    """The code of one assignment file: its cells (one for a .py file) and where it came from."""

    assignment: str
    path: Path
    cells: tuple[str, ...]

    @property
    def notebook(self) -> bool:
        return self.path.suffix == ".ipynb"


def find_files(path: Path, assignments) -> dict[str, Path]:
    """Map each assignment to its file in ``path`` (a folder, or one file named after an assignment).

    When a folder holds both ``mlp.py`` and ``mlp.ipynb``, the notebook wins only if it is newer.
    """
    path = Path(path)
    if path.is_file():
        if path.stem in assignments and path.suffix in SUFFIXES:
            return {path.stem: path}
        raise SubmissionError(f"{path.name} is not an assignment file: expected one of "
                              + ", ".join(f"{a}.py/.ipynb" for a in assignments))
    if not path.is_dir():
        raise SubmissionError(f"{path} does not exist")
    found = {}
    for assignment in assignments:
        candidates = [path / f"{assignment}{suffix}" for suffix in SUFFIXES]
        candidates = [c for c in candidates if c.is_file() and not c.is_symlink()]
        if candidates:
            found[assignment] = max(candidates, key=lambda c: (c.stat().st_mtime, c.suffix == ".py"))
    return found


def read_code(assignment: str, path: Path) -> SubmissionCode:
    """The code cells of ``path``; raise :class:`SubmissionError` when it cannot be read."""
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{path.name} is {size / 2**20:.1f} MiB, over the {MAX_SOURCE_BYTES >> 20} MiB limit "
                              "for a source file (are there outputs or data embedded in it?)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{path.name} is not UTF-8 text (byte {error.start}): save it as UTF-8") from None
    if path.suffix == ".ipynb":
        return SubmissionCode(assignment, path, tuple(notebook_code(text, path.name)))
    return SubmissionCode(assignment, path, (text,))


def notebook_code(text: str, name: str = "notebook") -> list[str]:
    """The code cells of a notebook (JSON text), with IPython-only syntax neutralized.

    nbgrader's autograder test cells (``nbgrader.grade`` true, ``solution`` false) are the course's
    checks, not the student's code: they are left out, as the judge runs the checks itself.
    """
    import nbformat  # here, not at the top: with jsonschema it takes over a second to import

    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and version errors
        raise SubmissionError(f"{name} is not a readable Jupyter notebook: {str(error).splitlines()[0][:200]}") from None
    return [neutralize_ipython(cell.source) for cell in notebook.cells
            if cell.cell_type == "code" and not is_autograder_test(cell)]


def is_autograder_test(cell) -> bool:
    """An nbgrader test cell: graded, and not an answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


_LINE_MAGIC = re.compile(r"^(\s*)([%!].*|\S.*\?\??)$")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w, ]*)=\s*[%!].*$")


def neutralize_ipython(source: str) -> str:
    """Replace IPython-only lines with ``pass`` (same indentation, so blocks stay valid).

    A cell magic (``%%time``, ``%%bash``...) on the first line turns the whole cell off.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n".join(f"# {line}" for line in lines)
    result = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")
                                                and _LINE_MAGIC.match(line)):
            indent = line[: len(line) - len(line.lstrip())]
            result.append(f"{indent}pass  # IPython-only line removed by dlgrade: {stripped[:60]}")
        elif _ASSIGNED_MAGIC.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            name = line.split("=")[0].strip()
            result.append(f"{indent}{name} = None  # IPython-only line removed by dlgrade")
        else:
            result.append(line)
    return "\n".join(result)
