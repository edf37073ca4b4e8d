"""What ``get_ipython()`` returns inside the sandbox when a graded notebook runs.

The judge turns each notebook cell into Python with IPython's own input transformer
(:func:`autograder.submission.ipython_to_python`), which rewrites IPython syntax into calls such
as ``get_ipython().run_cell_magic('time', '', body)`` or ``get_ipython().system('ls')``. In the
child, ``get_ipython`` is this :class:`NotebookShell`: it runs, in the notebook's namespace,
exactly the code IPython itself would run there, and nothing else:

- ``%%time``, ``%%capture``, ``%%prun`` and the line forms ``%time stmt``, ``%prun stmt`` run
  their code in the user namespace (IPython does; ``%%capture out`` also binds ``out``);
- ``%%timeit`` / ``%timeit`` run their code once in a private local namespace (IPython runs it
  inside a function: its assignments do not persist);
- every other magic (``%matplotlib``, ``%%bash``, ``%%writefile``, ``?obj`` help...) and every
  shell command (``!cmd``, ``x = !cmd``) does not run; each leaves a note naming its cell and
  line. ``x = !cmd`` gives ``x`` an empty list.

Standard library only (the child imports numpy and the standard library, nothing else).
"""

from __future__ import annotations

import contextlib
import io
import sys
import types

# Magics whose code IPython runs in the user namespace (assignments persist).
RUN_IN_NAMESPACE = frozenset({"time", "capture", "prun"})
# Magics whose code IPython runs inside a function of its own (assignments do not persist).
RUN_PRIVATELY = frozenset({"timeit"})
MAX_NOTES = 20


class CapturedOutput:
    """What ``%%capture name`` binds to ``name``: the text the cell printed."""

    def __init__(self, stdout: str, stderr: str):
        self.stdout, self.stderr, self.outputs = stdout, stderr, []

    def show(self) -> None:
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)

    __call__ = show


class NotebookShell:
    """A stand-in for IPython's shell object, bound to one notebook's namespace.

    ``cell`` is the number of the code cell being run (set by the loader); ``notes`` collects one
    line per magic or shell command that did not run, at most :data:`MAX_NOTES`.
    """

    def __init__(self, namespace: dict, filename: str):
        self.namespace, self.filename = namespace, filename
        self.cell = 0
        self.notes: list[str] = []

    # ------------------------------------------------------------ what the transformer emits
    def run_cell_magic(self, name: str, line: str, body: str):
        if name in RUN_IN_NAMESPACE:
            return self._run(body, line, private=False, offset=1, capture=name == "capture")
        if name in RUN_PRIVATELY:
            return self._run(body, "", private=True, offset=1)
        self._note(f"%%{name} was not run (dlgrade runs only the Python code of a notebook)", line=1)
        return None

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1):
        if name.startswith("%"):  # "%%time" below the first line: IPython fails the cell the same way
            raise NameError(f"UsageError: Line magic function `%{name}` not found "
                            "(a cell magic must be on the first line of its cell)")
        if name in RUN_IN_NAMESPACE - {"capture"}:
            return self._run(line, "", private=False, offset=_caller_line() - 1)
        if name in RUN_PRIVATELY:
            return self._run(line, "", private=True, offset=_caller_line() - 1)
        if name in ("pinfo", "pinfo2"):
            self._note(f"the help request for {line!r} was skipped", line=_caller_line())
        else:
            self._note(f"%{name} was not run (dlgrade runs only the Python code of a notebook)", line=_caller_line())
        return None

    def system(self, command: str):
        self._note(f"the shell command !{command[:60]} was not run", line=_caller_line())

    def getoutput(self, command: str, split: bool = True, depth: int = 0):
        self._note(f"the shell command !{command[:60]} was not run; its output is empty", line=_caller_line())
        return []

    # ------------------------------------------------------------ helpers
    def _run(self, code: str, line: str, private: bool, offset: int, capture: bool = False):
        """Run ``code`` (a magic's body, starting ``offset`` lines below the cell's first line)."""
        compiled = compile("\n" * offset + code, self.filename, "exec", dont_inherit=True)
        local = {} if private else self.namespace
        if not capture:
            exec(compiled, self.namespace, local)
            return None
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compiled, self.namespace, local)
        target = next((word for word in line.split() if not word.startswith("-")), None)
        if target is not None and target.isidentifier():
            self.namespace[target] = CapturedOutput(out.getvalue(), err.getvalue())
        return None

    def _note(self, text: str, line: int) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(f"code cell {self.cell} (line {line}): {text}")


def _caller_line() -> int:
    """The line of the notebook cell that called into the shell (two frames up)."""
    return sys._getframe(2).f_lineno


def install(module: types.ModuleType, filename: str) -> NotebookShell:
    """Give ``module`` a ``get_ipython`` returning a fresh shell bound to its namespace."""
    shell = NotebookShell(module.__dict__, filename)
    module.__dict__["get_ipython"] = lambda: shell
    return shell
