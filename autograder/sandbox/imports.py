"""The imports an assignment allows, enforced in the child for the submission's own code.

An assignment declares which packages may do the work (``allowed_imports`` in its
``assignment.toml``; the standard library is always allowed). A NumPy assignment says that torch,
tensorflow, jax or scikit-learn may not: a submission that imports one must not get full marks
for work those libraries did.

How it holds, with nothing installed in the interpreter at large (numpy and the judge's own
imports are untouched):

- the submission's module gets its own ``__builtins__`` whose ``__import__`` hands back, for a
  package the assignment does not allow, a :class:`Forbidden` stand-in instead of the package.
  Loading still succeeds (``import torch`` at the top of a notebook is no crash), but every use of
  the stand-in (a call, an operator, an attribute of an attribute called) raises
  :class:`ForbiddenImport`: exactly the functions that do their work with it lose their points,
  each with the message "uses torch, which this assignment does not allow";
- a meta path finder refuses the same packages when the import comes from the submission's own
  code by another route (``importlib.import_module``, ``__import__`` from a helper module), by
  looking at who asked: the first frame outside the import machinery.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.util
import sys
import types

_IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


class ForbiddenImport(ImportError):
    """The submission used a package its assignment does not allow."""


def message(package: str) -> str:
    return f"uses {package}, which this assignment does not allow"


def allows(allowed: frozenset[str] | None, name: str) -> bool:
    """Whether module ``name`` (dotted) may be imported under the allow-list ``allowed`` (None: all)."""
    top = name.partition(".")[0]
    return allowed is None or top in allowed or top in sys.stdlib_module_names or top == "__future__"


def installed(package: str) -> bool:
    """Whether the top-level ``package`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


class Forbidden:
    """What a forbidden package (or anything reached through it) is to the submission: unusable."""

    __slots__ = ("_package", "_path")

    def __init__(self, package: str, path: str):
        object.__setattr__(self, "_package", package)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> "Forbidden":
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Forbidden(self._package, f"{self._path}.{name}")

    def _refuse(self, *args, **kwargs):
        raise ForbiddenImport(message(self._package))

    def __mro_entries__(self, bases):  # `class Liar(torch.Tensor)`: no class can be built on it
        raise ForbiddenImport(message(self._package))

    def __repr__(self) -> str:
        return f"<{self._path}: {message(self._package)}>"

    __call__ = __setattr__ = __getitem__ = __iter__ = __len__ = __bool__ = __array__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __float__ = __int__ = __index__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse


def guarded_builtins(allowed: frozenset[str]) -> dict:
    """A copy of the builtins whose ``__import__`` gives :class:`Forbidden` for what ``allowed`` refuses."""
    real_import = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001 (the builtin's own name)
        if level == 0 and not allows(allowed, name) and installed(name.partition(".")[0]):
            return Forbidden(name.partition(".")[0], name.partition(".")[0])
        return real_import(name, globals, locals, fromlist, level)  # a package that is not there: ModuleNotFoundError

    guarded = dict(builtins.__dict__)
    guarded["__import__"] = __import__
    return guarded


class StudentImportFinder(importlib.abc.MetaPathFinder):
    """Refuses, for imports that the submission's own code asks for, the packages its assignment
    does not allow (``policies``: module name -> allow-list)."""

    def __init__(self):
        self.policies: dict[str, frozenset[str]] = {}

    def find_spec(self, name, path=None, target=None):
        if not self.policies or name.partition(".")[0] in sys.stdlib_module_names:
            return None
        frame = sys._getframe(1)
        while frame is not None and (frame.f_code.co_filename in _IMPORT_MACHINERY
                                     or frame.f_globals.get("__name__", "").startswith("importlib")):
            frame = frame.f_back
        module = frame.f_globals.get("__name__") if frame is not None else None
        allowed = self.policies.get(module)
        if allowed is not None and not allows(allowed, name):
            raise ForbiddenImport(message(name.partition(".")[0]))
        return None


_finder = StudentImportFinder()


def govern(module: types.ModuleType, allowed) -> None:
    """Apply the allow-list ``allowed`` (names of top-level packages; None: everything) to the
    code that will run in ``module``'s namespace."""
    if allowed is None:
        return
    allowed = frozenset(allowed)
    module.__dict__["__builtins__"] = guarded_builtins(allowed)
    _finder.policies[module.__name__] = allowed
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
