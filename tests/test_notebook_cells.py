"""Notebook cells run as IPython runs them: a corpus of tricky lines against IPython itself.

Each case runs twice: in a real IPython shell (``InteractiveShell.run_cell``) and through
dlgrade (``ipython_to_python`` in the judge, then the child's loader with its safe
``get_ipython()``). The names each case defines must agree, value for value. Magics and shell
commands that IPython would run outside Python must not run under dlgrade, and leave a note.
"""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from autograder.sandbox.child import Child
from autograder.submission import ipython_to_python, notebook_cells, read_code

# (cells, names to compare); a name absent on both sides agrees too.
CORPUS = {
    "cell magic %%time keeps its body": (["%%time\ndef train():\n    return 41 + 1\nresult = train()"],
                                         ["result"]),
    "%%time with options and a blank line": (["%%time  \n\ntotal = sum(range(10))"], ["total"]),
    "a comment ending in ?": (["x = 1  # is this right?\ny = 2 # ok??"], ["x", "y"]),
    "continuation line starting with !=": (["flag = (1\n!= 2)"], ["flag"]),
    "continuation line starting with %": (["rem = (17\n% 5)"], ["rem"]),
    "line magic %time assigns": (["def f():\n    return 3\n%time got = f()"], ["got"]),
    "line magic inside a block": (["if True:\n    %time inside = 5\nafter = inside + 1"], ["inside", "after"]),
    "strings holding % and !": (["s = '%d!' % 3\nt = \"!not a shell\"\nu = '%%time'"], ["s", "t", "u"]),
    "decorators": (["import functools\n@functools.lru_cache\ndef g(n):\n    return n * 2\nval = g(4)"], ["val"]),
    "backslash continuation": (["total = 1 + \\\n    2\ncheck = total \\\n  % 2"], ["total", "check"]),
    "multi-line string with magics inside": (['doc = """\n%magic\n!shell\nobj?\n"""'], ["doc"]),
    "help requests": (["value = 7\nvalue?\nlen??\n?value\nafter_help = value + 1"], ["value", "after_help"]),
    "%%capture keeps its body and binds the output": (
        ["%%capture cap\nprint('hidden')\ncaptured_var = 5\nprinted = cap_check = 1"], ["captured_var", "printed"]),
    "%%timeit runs privately": (["%%timeit -n1 -r1\nprivate = 1"], ["private"]),
    "%timeit runs privately": (["%timeit -n1 -r1 private_line = 1"], ["private_line"]),
    "%%time below the first line fails the cell after its first lines": (
        ["before = 1\n%%time\nafter_magic = 2"], ["before", "after_magic"]),
    "a later cell redefines": (["%%time\ndef h():\n    return 1", "def h():\n    return 2\nresult = h()"],
                               ["result"]),
    "multi-line call ending in ?-comment": (["a = [1,\n     2]  # why?\nb = (a\n     != [1])"], ["a", "b"]),
    "modulo at the start of a bracketed line": (["values = [10,\n% 3 if False else 4]"], ["values"]),
    "escaped magic in a string, line magic after code": (["m = '%matplotlib inline'\n%precision 3\nn = 1"],
                                                         ["m", "n"]),
}


@pytest.fixture(scope="module")
def ipython():
    from IPython.core.interactiveshell import InteractiveShell

    main = sys.modules["__main__"]
    shell = InteractiveShell.instance()  # it makes its user namespace the process's __main__ (run_in_ipython)
    sys.modules["__main__"] = main
    return shell


def run_in_ipython(shell, cells: list[str]) -> dict:
    """The namespace IPython itself leaves after ``cells``. IPython makes its user namespace the
    process's ``__main__`` while a cell runs (and leaves it there): it is put back, or later tests
    that start processes (multiprocessing's spawn reads ``__main__.__spec__``) fail."""
    main = sys.modules["__main__"]
    shell.reset(new_session=False)
    try:
        for cell in cells:
            shell.run_cell(cell, store_history=False, silent=True)
    finally:
        sys.modules["__main__"] = main
    return shell.user_ns


def run_in_dlgrade(cells: list[str]) -> tuple[dict, list[str]]:
    child = Child()
    answer = child.load("nb", [ipython_to_python(c) for c in cells], "nb.ipynb", True, list(range(1, len(cells) + 1)))
    assert answer["ok"]
    return vars(child.modules["nb"]), answer["warnings"]


def _seen(namespace: dict, name: str):
    return repr(namespace[name]) if name in namespace else "<absent>"


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_cells_define_what_ipython_defines(ipython, case, capsys):
    cells, names = CORPUS[case]
    expected = {name: _seen(run_in_ipython(ipython, cells), name) for name in names}
    ours, _ = run_in_dlgrade(cells)
    assert {name: _seen(ours, name) for name in names} == expected


def test_the_corpus_tells_the_old_neutralizer_apart(ipython):
    """The corpus matters: at least the cases of the issue define something (a guard against a
    corpus where every name is absent on both sides)."""
    for case in ("cell magic %%time keeps its body", "a comment ending in ?", "continuation line starting with !=",
                 "continuation line starting with %"):
        cells, names = CORPUS[case]
        namespace = run_in_ipython(ipython, cells)
        assert all(name in namespace for name in names), case


def test_captured_output_is_bound_as_in_ipython(ipython, capsys):
    cells = ["%%capture cap\nprint('hidden')"]
    theirs = run_in_ipython(ipython, cells)["cap"].stdout
    ours, _ = run_in_dlgrade(cells)
    assert ours["cap"].stdout == theirs == "hidden\n"
    assert "hidden" not in capsys.readouterr().out


@pytest.mark.parametrize("cell", [
    "!touch {marker}",
    "out = !touch {marker}",
    "%system touch {marker}",
    "%sx touch {marker}",
    "%%bash\ntouch {marker}",
    "%%sh\ntouch {marker}",
    "%%script bash\ntouch {marker}",
    "%%writefile {marker}\nprint('written')",
    "%%python3\nopen('{marker}', 'w').close()",
    "get_ipython().system('touch {marker}')",
])
def test_shell_commands_and_foreign_magics_do_not_run_and_are_noted(tmp_path, cell):
    marker = tmp_path / "ran"
    namespace, notes = run_in_dlgrade(["x = 1", cell.format(marker=marker), "y = 2"])
    assert not marker.exists()
    assert namespace["x"] == 1 and namespace["y"] == 2
    assert any(note.startswith("code cell 2 (line 1): ") and "not run" in note for note in notes), notes


def test_a_failing_cell_is_named_with_its_line():
    _, notes = run_in_dlgrade(["a = 1", "b = 2\nc = undefined_name", "def broken(:\n    pass"])
    assert "code cell 2 (line 2) raised NameError: name 'undefined_name' is not defined; " \
           "the rest of that cell was not run" in notes
    assert any(note.startswith("code cell 3 (line 1) was not run: SyntaxError") for note in notes)


def test_cells_are_numbered_as_in_the_notebook_even_when_test_cells_are_left_out(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("check()"),
        nbformat.v4.new_code_cell("%%time\ny = 2"),
    ])
    notebook.cells[2].metadata["nbgrader"] = {"grade": True, "solution": False}
    cells = notebook_cells(nbformat.writes(notebook))
    assert [c.number for c in cells] == [1, 3]
    path = tmp_path / "losses.ipynb"
    path.write_text(json.dumps(nbformat.writes(notebook) and json.loads(nbformat.writes(notebook))))
    code = read_code("losses", path)
    assert code.numbers == (1, 3) and "run_cell_magic('time'" in code.cells[1]


def test_a_cell_the_transformer_cannot_read_fails_as_python_does():
    source = 'x = """never closed\n%time y = 1'
    assert ipython_to_python(source).startswith('x = """never closed')
    _, notes = run_in_dlgrade([source])
    assert any("SyntaxError" in note for note in notes)
