"""Finding a submission's files and reading their code, without running any of it.

A submission is a folder holding any subset of the assignment files (``<assignment>.py`` or
``<assignment>.ipynb``), or one such file. Notebooks are parsed with nbformat; only their code
cells are kept, and IPython-only lines (``%magic``, ``!shell``, ``%%cell`` magics, ``x?`` help)
are turned into Python by IPython's own input transformer (:func:`ipython_to_python`).
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
    """The code of one assignment file: its cells (one for a .py file) and where it came from.

    ``numbers``: for a notebook, each cell's position among the notebook's code cells (from 1)."""

    assignment: str
    path: Path
    cells: tuple[str, ...]
    numbers: tuple[int, ...] = ()

    @property
    def notebook(self) -> bool:
        return self.path.suffix.lower() == ".ipynb"


# A copy of a file as browsers and LMSs name it: "losses (1).py" (a browser's second download),
# "losses-1.py" (Canvas's resubmission), "losses_1.py" (Moodle, or a copy made by hand).
_COPY_SUFFIX = re.compile(r"(?: \(\d+\)|[-_]\d+)$")


def assignment_of(filename: str | Path, course) -> str | None:
    """The assignment a file is for, by its name, or None: ``Losses (1).py`` is ``losses``.

    ``course``: a :class:`~autograder.course.Course` or the assignment names themselves. The stem
    is compared case-insensitively, after dropping a copy suffix (`` (1)``, ``-1``, ``_1``) when
    the whole stem is not an assignment already; the suffix must be ``.py`` or ``.ipynb``.
    """
    names = getattr(course, "assignments", course)
    name = Path(filename).name
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        return None
    lower = {a.lower(): a for a in names}
    stem = stem.strip().lower()
    return lower.get(stem) or lower.get(_COPY_SUFFIX.sub("", stem))


def find_files(path: Path, assignments) -> dict[str, Path]:
    """Map each assignment to its file in ``path`` (a folder, or one file named after an assignment,
    as :func:`assignment_of` reads file names).

    When a folder holds both ``<a>.py`` and ``<a>.ipynb``, the notebook wins only if it is newer.
    """
    path = Path(path)
    if path.is_file():
        assignment = assignment_of(path.name, assignments)
        if assignment is not None:
            return {assignment: path}
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
    if path.suffix.lower() == ".ipynb":
        cells = notebook_cells(text, path.name)
        return SubmissionCode(assignment, path, tuple(c.source for c in cells), tuple(c.number for c in cells))
    return SubmissionCode(assignment, path, (text,))


def notebook_code(text: str, name: str = "notebook") -> list[str]:
    """The code cells of a notebook (JSON text) as Python, IPython syntax transformed as IPython does."""
    return [cell.source for cell in notebook_cells(text, name)]


@dataclass(frozen=True)
class NotebookCell:
    """One code cell of a notebook, as Python: ``number`` counts the notebook's code cells from 1."""

    number: int
    source: str


def notebook_cells(text: str, name: str = "notebook") -> list[NotebookCell]:
    """The code cells of a notebook (JSON text), transformed into Python by :func:`ipython_to_python`.

    nbgrader's autograder test cells (``nbgrader.grade`` true, ``solution`` false) are the course's
    checks, not the student's code: they are left out, as the judge runs the checks itself.
    """
    import nbformat  # here, not at the top: with jsonschema it takes over a second to import

    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and version errors
        raise SubmissionError(f"{name} is not a readable Jupyter notebook: {str(error).splitlines()[0][:200]}") from None
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [NotebookCell(number, ipython_to_python(cell.source))
            for number, cell in enumerate(code, start=1) if not is_autograder_test(cell)]


def is_autograder_test(cell) -> bool:
    """An nbgrader test cell: graded, and not an answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


def ipython_to_python(source: str) -> str:
    """One notebook cell as the Python code IPython runs for it, by IPython's own transformer.

    Magics, shell commands and help requests become ``get_ipython()...`` calls; in the sandbox
    ``get_ipython()`` is :class:`autograder.sandbox.notebook_shell.NotebookShell`, which runs the
    Python that IPython would run in the user namespace (``%%time``'s body...) and nothing else.
    Anything that is not IPython syntax (a comment ending in ``?``, a line starting with ``!=``
    inside brackets, ``%`` in a string) is left exactly as it is. A cell the transformer cannot
    read is returned unchanged: running it then fails with Python's own SyntaxError, noted.
    """
    try:
        return _transformer().transform_cell(source)
    except Exception:  # IPython's transformer raises on some malformed input; Python will say why
        return source


_TRANSFORMER = None


def _transformer():
    """IPython's ``TransformerManager``, imported on first use (about 60 ms)."""
    global _TRANSFORMER
    if _TRANSFORMER is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _TRANSFORMER = TransformerManager()
    return _TRANSFORMER
