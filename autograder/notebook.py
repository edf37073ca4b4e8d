"""Turn an assignment source in percent format into a Jupyter notebook.

The source is a plain Python module split into cells by comment lines (jupytext's percent
format, with one cell kind of our own):

- ``# %%``            a code cell, kept as it is;
- ``# %% [markdown]`` a markdown cell, written as ``#`` comment lines;
- ``# %% [example]``  a visible example, written as an ``if __name__ == "__main__":`` block so
  that importing the module runs nothing; in the notebook the block is unwrapped.

A module docstring before the first cell becomes the notebook's opening markdown cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ast
import re
import textwrap
from autograder.errors import DlgradeError


if TYPE_CHECKING:  # imported where used: with jsonschema it takes over a second
    import nbformat

_CELL = re.compile(r"^# %%(?:[ \t]+\[(?P<kind>[a-z]+)\])?[ \t]*$")
_MAIN_GUARD = re.compile(r"""^if __name__ == (["'])__main__\1:[ \t]*$""")
KINDS = ("code", "markdown", "example")

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class NotebookSourceError(DlgradeError, ValueError):
    """The percent-format source cannot be turned into a notebook."""


def split_cells(source: str, *, filename: str = "<source>") -> list[tuple[str, str]]:
    """Split a percent-format source into ``(kind, text)`` cells, in order.

    ``kind`` is "preamble" (the text before the first marker), "code", "markdown" or "example".
    Leading and trailing blank lines of each cell are dropped; empty cells are skipped.
    """
    cells, kind, body = [], "preamble", []

    def flush():
        text = "\n".join(body).strip("\n")
        if text.strip():
            cells.append((kind, text))

    for number, line in enumerate(source.splitlines(), start=1):
        match = _CELL.match(line)
        if match is None:
            if line.startswith("# %%"):
                raise NotebookSourceError(f"{filename}:{number}: unknown cell marker {line!r}; use one of {KINDS}")
            body.append(line)
            continue
        flush()
        kind, body = match["kind"] or "code", []
        if kind not in KINDS:
            raise NotebookSourceError(f"{filename}:{number}: unknown cell kind [{kind}]; use one of {KINDS}")
    flush()
    return cells


def markdown_text(comment_block: str) -> str:
    """``# text`` comment lines -> markdown text."""
    return "\n".join(re.sub(r"^#(?: |$)", "", line) for line in comment_block.splitlines())


def example_code(block: str, *, filename: str = "<source>") -> str:
    """Unwrap an ``if __name__ == "__main__":`` example block into top-level notebook code."""
    first, _, rest = block.partition("\n")
    if not _MAIN_GUARD.match(first) or not rest.strip():
        raise NotebookSourceError(
            f"{filename}: an [example] cell must be one `if __name__ == \"__main__\":` block, found {first!r}"
        )
    return textwrap.dedent(rest).strip("\n")


def preamble_cell(text: str):
    """A module docstring becomes markdown; any other preamble stays code."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        body = []
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return _v4().new_markdown_cell(textwrap.dedent(body[0].value.value).strip())
    return _v4().new_code_cell(text)


def _v4():
    """nbformat's v4 module, imported on first use (with jsonschema it takes over a second)."""
    import nbformat.v4

    return nbformat.v4


def build_notebook(source: str, *, name: str, filename: str = "<source>") -> nbformat.NotebookNode:
    """Build the notebook of one assignment from its percent-format source.

    Cell ids are derived from ``name`` and the cell's position so that a rebuild is
    byte-for-byte identical (the release is committed and checked for drift).
    """
    cells = []
    for kind, text in split_cells(source, filename=filename):
        if kind == "preamble":
            cell = preamble_cell(text)
        elif kind == "markdown":
            cell = _v4().new_markdown_cell(markdown_text(text))
        elif kind == "example":
            cell = _v4().new_code_cell(example_code(text, filename=filename))
        else:
            cell = _v4().new_code_cell(text)
        cell.id = f"{name}-{len(cells):02d}"
        cells.append(cell)
    notebook = _v4().new_notebook(
        cells=cells,
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    import nbformat

    nbformat.validate(notebook)
    return notebook


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the exact text written to disk."""
    import nbformat

    return nbformat.writes(notebook) + "\n"


def code_cells_source(notebook: nbformat.NotebookNode) -> str:
    """The code cells of a notebook joined into one Python source (outputs are ignored)."""
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
