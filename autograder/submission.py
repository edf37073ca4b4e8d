"""Finding a submission's files and reading their code, without running any of it.

A submission is a folder holding any subset of the assignment files (``<assignment>.py`` or
``<assignment>.ipynb``), or one such file. Notebooks are parsed with nbformat; only their code
cells are kept, and IPython-only lines (``%magic``, ``!shell``, ``%%cell`` magics, ``x?`` help)
are turned into Python by IPython's own input transformer (:func:`ipython_to_python`).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
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


# ------------------------------------------------------------------ file names as people write them

# A copy marker at the end of a file's stem, as browsers, operating systems and LMSs write them:
# "Losses (1)" (Chrome, Firefox, Windows: a second download of the same name), "losses-1" (Canvas
# renames a resubmitted file <name>-1, <name>-2, ...; people copy files that way too) and
# "losses_1". At most 4 digits: "losses_20240301" is a date, not the 20-millionth copy.
_COPY_MARKER = re.compile(r"^(?P<stem>.*?)(?P<marker>\s*\((?P<paren>\d{1,4})\)|[-_](?P<plain>\d{1,4}))$")


@dataclass(frozen=True)
class FileMatch:
    """What a file name says: the assignment it holds, its kind and which copy it is.

    ``copy``: 0 for the plain name (``losses.py``), N for a copy marked ``(N)``, ``-N`` or ``_N``
    (a larger N is a later copy); ``marker``: the marker as written (``" (1)"``, ``"-1"``), or "".
    """

    assignment: str
    suffix: str  # ".py" or ".ipynb", in lower case
    copy: int = 0
    marker: str = ""


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def assignment_of(filename: str | Path, assignments) -> FileMatch | None:
    """The assignment file ``filename`` (a name; of a path, its last part) is, or None when it is none.

    ``assignments``: the assignment names, or a :class:`~autograder.course.Course` (its names).

    The assignment's name matches case-insensitively (``LOSSES.ipynb``, ``Losses.PY``), in
    Unicode NFC; the stem may carry ONE copy marker (``Losses (1).py``, ``losses-1.py``,
    ``losses_1.py``). An assignment whose own name looks like a copy (``lab_1``) is matched
    whole first, so ``lab_1.py`` is ``lab_1``, never copy 1 of ``lab``.
    """
    stem, suffix = os.path.splitext(os.path.basename(filename))
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        return None
    names = {_folded(a): a for a in getattr(assignments, "assignments", assignments)}
    stem = stem.strip()
    if _folded(stem) in names:
        return FileMatch(names[_folded(stem)], suffix)
    marked = _COPY_MARKER.match(stem)
    if marked is None or _folded(marked["stem"]) not in names:
        return None
    copy = int(marked["paren"] or marked["plain"])
    return FileMatch(names[_folded(marked["stem"])], suffix, copy, marked["marker"])


@dataclass(frozen=True)
class FileCandidate:
    """One file found for an assignment: ``canvas`` when Canvas named it (its ``-N`` is a resubmission)."""

    path: Path
    match: FileMatch
    mtime: float
    canvas: bool = False


def choose_file(candidates: list[FileCandidate]) -> tuple[FileCandidate, str]:
    """The file to grade among one assignment's files (at least one), and why, for the note.

    Canvas's download sets every file's time to the download's, so among files Canvas named, the
    resubmission number decides (``losses-2.py`` after ``losses-1.py`` after ``losses.py``), then
    the time. Elsewhere the newest file (modification time) wins; at equal times a later copy
    (``(1)``, ``-1``, ``_1``) beats the original, then the .py beats the .ipynb.
    """
    if len(candidates) == 1:
        return candidates[0], ""
    by_canvas = all(c.canvas for c in candidates)
    if by_canvas:
        order = sorted(candidates, key=lambda c: (c.match.copy, c.mtime, c.match.suffix == ".py"))
    else:
        order = sorted(candidates, key=lambda c: (c.mtime, c.match.copy, c.match.suffix == ".py"))
    best, runner_up = order[-1], order[-2]
    if by_canvas and best.match.copy > runner_up.match.copy:
        why = f"Canvas resubmission {best.match.copy}, the latest: Canvas numbers a file handed in again -1, -2, ..."
    elif best.mtime > runner_up.mtime:
        why = f"the newest, saved {_when(best.mtime)}"
    elif best.match.copy > runner_up.match.copy:
        why = (f"saved at the same time as {runner_up.path.name} ({_when(best.mtime)}); a later copy "
               f"({best.match.marker.strip()}) wins over {'the original' if runner_up.match.copy == 0 else 'an earlier one'}")
    else:
        why = f"saved at the same time as {runner_up.path.name}; the .py wins over the .ipynb"
    return best, why


def _when(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def find_files(path: Path, assignments) -> dict[str, Path]:
    """Map each assignment to its file in ``path`` (a folder, or one assignment file).

    File names match as :func:`assignment_of` says (any case, browser and LMS copies); among a
    folder's files for one assignment, :func:`choose_file` picks (the newest; at equal times a
    later copy, then the .py).
    """
    path = Path(path)
    if path.is_file():
        match = assignment_of(path.name, assignments)
        if match is not None:
            return {match.assignment: path}
        raise SubmissionError(f"{path.name} is not an assignment file: expected one of "
                              + ", ".join(f"{a}.py/.ipynb" for a in assignments))
    if not path.is_dir():
        raise SubmissionError(f"{path} does not exist")
    options: dict[str, list[FileCandidate]] = {}
    for entry in sorted(path.iterdir()):
        match = assignment_of(entry.name, assignments)
        if match is not None and entry.is_file() and not entry.is_symlink():
            options.setdefault(match.assignment, []).append(FileCandidate(entry, match, entry.stat().st_mtime))
    return {a: choose_file(options[a])[0].path for a in assignments if a in options}


def content_sha256(name: str, data: bytes) -> str:
    """The content hash of one staged assignment file: its name (``<assignment>.py``) and bytes. What
    grade-batch's intake stages under, the gradebook's skip compares and the gradebook keeps a file by."""
    return hashlib.sha256(name.encode() + b"\0" + data).hexdigest()


def _too_large(name: str, size: int) -> SubmissionError:
    return SubmissionError(f"{name} is {size / 2**20:.1f} MiB, over the {MAX_SOURCE_BYTES >> 20} MiB limit "
                           "for a source file (are there outputs or data embedded in it?)")


def read_code(assignment: str, path: Path) -> SubmissionCode:
    """The code cells of ``path``; raise :class:`SubmissionError` when it cannot be read."""
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise _too_large(path.name, size)
    return code_of(assignment, path, path.read_bytes())


def code_of(assignment: str, path: Path, raw: bytes) -> SubmissionCode:
    """The code cells of the file ``raw``, named ``path`` (its suffix says .py or notebook; nothing
    is read from disk); raise :class:`SubmissionError` when it cannot be read."""
    if len(raw) > MAX_SOURCE_BYTES:
        raise _too_large(path.name, len(raw))
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
