"""The percent-format source -> notebook conversion."""

import nbformat
import pytest

from autograder.notebook import NotebookSourceError, build_notebook, code_cells_source, notebook_text, split_cells

SOURCE = '''\
"""Title

Intro paragraph."""

# %% [markdown]
# # Heading
#
# Some *prose*.

# %%
import math


# %%
def half(x):
    return x / 2


# %% [example]
if __name__ == "__main__":
    print(half(3))
    if True:
        print("nested")
'''


def test_cells_keep_their_kinds_and_order():
    kinds = [kind for kind, _ in split_cells(SOURCE)]
    assert kinds == ["preamble", "markdown", "code", "code", "example"]


def test_notebook_cells():
    notebook = build_notebook(SOURCE, name="demo")
    nbformat.validate(notebook)
    types = [cell.cell_type for cell in notebook.cells]
    assert types == ["markdown", "markdown", "code", "code", "code"]
    assert notebook.cells[0].source == "Title\n\nIntro paragraph."
    assert notebook.cells[1].source == "# Heading\n\nSome *prose*."
    assert notebook.cells[4].source == 'print(half(3))\nif True:\n    print("nested")'
    assert [cell.id for cell in notebook.cells] == [f"demo-{i:02d}" for i in range(5)]


def test_rebuild_is_byte_identical():
    assert notebook_text(build_notebook(SOURCE, name="demo")) == notebook_text(build_notebook(SOURCE, name="demo"))


def test_code_cells_form_a_runnable_module():
    namespace = {}
    exec(code_cells_source(build_notebook(SOURCE, name="demo")), namespace)
    assert namespace["half"](3) == 1.5


@pytest.mark.parametrize("bad, message", [
    ("# %% [exmaple]\nx = 1\n", "unknown cell kind"),
    ("# %%[markdown]\n# x\n", "unknown cell marker"),
    ("# %% [example]\nprint(1)\n", "must be one"),
])
def test_bad_sources_are_explained(bad, message):
    with pytest.raises(NotebookSourceError, match=message):
        build_notebook(bad, name="demo")
