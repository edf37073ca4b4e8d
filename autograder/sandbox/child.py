"""The child process that runs student code: it loads submissions and answers call requests.

Started by :mod:`autograder.sandbox.launcher` as ``python -I -m autograder.sandbox.child R W``:
requests arrive on file descriptor R, answers leave on W, both in the plain-data format of
:mod:`autograder.wire`. The child never sees the judge's checks, references or expected
values, only the inputs of each call. Nothing it sends back is trusted: the judge decodes it
with caps and does every comparison itself. This module imports numpy and the standard library
only, so a fresh child starts fast.
"""

from __future__ import annotations

import random
import sys
import traceback
import types
import warnings

import numpy as np

from autograder.wire import MAX_ITEMS, MAX_MESSAGE_BYTES, decode, encode_parts
from autograder.sandbox import heap, imports, messages, notebook_shell

MAX_WARNINGS = 10


class Child:
    def __init__(self):
        self.modules: dict[str, types.ModuleType] = {}
        self.handles: dict[str, object] = {}

    # ------------------------------------------------------------ requests
    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "batch":
            return self.batch(request["requests"])
        if op == "group":  # independent batches (several tests): a failure stops only its own
            return {"ok": True, "answers": [self.batch(requests) for requests in request["batches"]]}
        if op == "load":
            return self.load(request["module"], request["cells"], request["filename"], request.get("tolerant", False),
                             request.get("numbers"), request.get("allowed_imports"))
        if op == "call":
            return self.call(request)
        if op == "put":
            self.handles[request["keep"]] = self.resolve(request["value"])
            return {"ok": True}
        if op == "get":
            return {"ok": True, "value": _plain(self.resolve(request["value"]))}
        if op == "reseed":
            np.random.seed(request["seed"])
            random.seed(request["seed"])
            return {"ok": True}
        if op == "forget":
            self.handles.clear()
            return {"ok": True}
        return {"ok": False, "error": {"kind": "protocol", "type": "ProtocolError", "message": f"unknown op {op!r}"}}

    def respond(self, body: bytes) -> bytes:
        """One request in the wire format, its answer in the wire format (never an exception)."""
        return b"".join(self.answer(body))

    def answer(self, body) -> list:
        """:meth:`respond`'s answer as the buffers of :func:`~autograder.wire.encode_parts`."""
        try:
            return encode_parts(self.handle(decode(body)))
        except BaseException as error:  # a value that cannot be encoded, a bad reference...
            return encode_parts({"ok": False, "error": _describe(error, "<judge>") | {"kind": "protocol"}})

    def batch(self, requests: list[dict]) -> dict:
        """Run requests in order; stop at the first failure. Warnings of all of them are kept."""
        warnings_seen: list[str] = []
        reply: dict = {"ok": True}
        for request in requests:
            reply = self.handle(request)
            warnings_seen += [w for w in reply.get("warnings", []) if w not in warnings_seen]
            if not reply.get("ok"):
                break
        return reply | {"warnings": warnings_seen[:MAX_WARNINGS]}

    def load(self, name: str, cells: list[str], filename: str, tolerant: bool, numbers=None,
             allowed_imports=None) -> dict:
        """Run the submission's code as module ``name``: one cell for a .py file, one per code cell
        of a notebook. In a notebook (``tolerant``) a failing cell is reported and the next runs, as
        in Jupyter's "run all, continue on errors", and ``get_ipython()`` is a
        :class:`~autograder.sandbox.notebook_shell.NotebookShell`; in a .py file any failure stops
        the load. ``numbers``: each cell's number in the notebook, for the notes.
        ``allowed_imports``: the packages the assignment allows besides the standard library (None:
        any); the others are unusable stand-ins (:mod:`.imports`)."""
        module = types.ModuleType(name)
        module.__file__ = filename
        sys.modules[name] = module
        imports.govern(module, allowed_imports)
        shell = notebook_shell.install(module, filename) if tolerant else None
        notes: list[str] = shell.notes if shell is not None else []  # one list, in the order things happened
        numbers = list(numbers or []) + list(range(len(numbers or []) + 1, len(cells) + 1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for number, source in zip(numbers, cells):
                if shell is not None:
                    shell.cell = number
                try:
                    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
                except BaseException as error:  # SystemExit and KeyboardInterrupt included
                    if not tolerant:
                        sys.modules.pop(name, None)
                        return {"ok": False, "error": _describe(error, filename)}
                    notes.append(_cell_failure(number, error, _describe(error, filename)))
        self.modules[name] = module
        refused = sorted({value._package for value in list(module.__dict__.values())
                          if isinstance(value, imports.Forbidden)})
        notes += [f"imports {package}, which this assignment does not allow: the functions that use it "
                  "get no points" for package in refused]
        return {"ok": True, "warnings": notes + _warnings(caught)}

    def call(self, request: dict) -> dict:
        module = self.modules.get(request["module"])
        target = request["target"]
        if isinstance(target, str):
            if module is None or not hasattr(module, target):
                if request.get("tolerant") and request.get("keep"):
                    self.handles[request["keep"]] = Raised()
                    return {"ok": True, "warnings": []}
                return {"ok": False, "error": {"kind": "missing", "type": "AttributeError",
                                               "message": f"{target} is not defined"}}
            function = getattr(module, target)
        else:
            function = self.resolve(target)
        filename = getattr(module, "__file__", "<submission>")
        caught = []
        try:
            args = [self.resolve(a) for a in request.get("args", [])]
            kwargs = {k: self.resolve(v) for k, v in request.get("kwargs", {}).items()}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = function(*args, **kwargs)
                if isinstance(result, types.GeneratorType) or (
                    hasattr(result, "__next__") and hasattr(result, "__iter__")
                ):
                    result = _materialize(result)
        except BaseException as error:
            if not request.get("tolerant"):
                return {"ok": False, "error": _describe(error, filename)}
            result = Raised()  # the judge sees an Unsupported value and asks for this call alone
        if request.get("keep"):
            self.handles[request["keep"]] = result
        return {"ok": True, "warnings": _warnings(caught)}

    # ------------------------------------------------------------ arguments
    def resolve(self, value):
        """Turn the judge's markers (handles, generators) into live objects; copy plain data."""
        if isinstance(value, dict):
            if set(value) == {"$ref"}:
                return self.follow(value["$ref"])
            if set(value) == {"$rng"}:
                return np.random.default_rng(value["$rng"])
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        return value

    def follow(self, ref):
        handle, path = ref
        obj = self.handles[handle]
        for kind, key in path:
            if isinstance(obj, Raised):  # a part of a tolerant call that raised: the marker again
                break
            obj = obj[key] if kind == "item" else getattr(obj, key)
        return obj


class Raised:
    """The value of a tolerant call that raised."""


def _materialize(iterator):
    items = []
    for item in iterator:
        items.append(item)
        if len(items) > MAX_ITEMS:
            break
    return items


def _plain(value, depth=0):
    """Student values as wire data: arrays stay arrays, containers are walked, the rest is named."""
    if depth > 32:
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return np.array(value)  # a subclass travels as its plain data, its methods stay here
    return value


def _cell_failure(number: int, error: BaseException, described: dict) -> str:
    """The note for a notebook cell that raised: which cell, which line, what, and what did not run."""
    line = (described.get("where") or {}).get("line")
    at = f" (line {line})" if line else ""
    text = f"{described['type']}: {described['message'][:200]}"
    if isinstance(error, SyntaxError):
        return f"code cell {number}{at} was not run: {text}"
    return f"code cell {number}{at} raised {text}; the rest of that cell was not run"


def _describe(error: BaseException, filename: str) -> dict:
    """The exception type and message, and the last line of the student's own code it passed."""
    kind = ("not_implemented" if isinstance(error, NotImplementedError)
            else "forbidden" if isinstance(error, imports.ForbiddenImport) else "raised")
    where = None
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename == filename:
            where = {"line": frame.lineno, "function": frame.name, "code": (frame.line or "")[:200]}
            break
    if isinstance(error, SyntaxError) and error.filename == filename:
        where = {"line": error.lineno, "function": None, "code": (error.text or "").strip()[:200]}
    try:
        message = str(error)[:2000]
    except BaseException:
        message = "<the exception's message could not be printed>"
    return {"kind": kind, "type": type(error).__name__[:100], "message": message, "where": where}


def _warnings(caught) -> list[str]:
    seen: list[str] = []
    for item in caught:
        text = f"{item.category.__name__}: {item.message}"[:300]
        if text not in seen:
            seen.append(text)
        if len(seen) >= MAX_WARNINGS:
            break
    return seen


def serve(read_fd: int, write_fd: int, shared: "messages.SharedRegion | int | None" = None) -> None:
    """Answer the judge's requests until it closes the pipe; large bodies cross the ``shared`` region
    (a :class:`~autograder.sandbox.messages.SharedRegion` this side maps, or its file descriptor).
    The caller has called :func:`~autograder.sandbox.heap.retain_freed_memory`."""
    if isinstance(shared, int):
        shared = messages.SharedRegion(shared)
    child, inbox = Child(), messages.Inbox()
    while (body := inbox.receive(read_fd, MAX_MESSAGE_BYTES, shared=shared)) is not None:
        messages.send(write_fd, child.answer(body), shared=shared)


if __name__ == "__main__":
    heap.retain_freed_memory()
    serve(*(int(fd) for fd in sys.argv[1:4]))
