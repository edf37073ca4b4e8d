"""Where expected values come from: the live torch reference, or values frozen into a release.

A check asks its oracle for three things, each under a key of its choosing:
- ``inputs(key, draw)``: the inputs of the test, drawn from the check's seeded generator;
- ``expected(key, compute)``: ``compute(namespace)`` on the reference's namespace;
- ``variants(key, compute)``: the same on each known-wrong variant ("mutant") of the reference.

:class:`LiveOracle` computes them with the hidden reference (instructors and TAs). Public checks
ship to students with their values frozen (:class:`FrozenOracle`), so a student's self-check
needs no hidden file. :class:`RecordingOracle` produces that frozen file at release time.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import inspect
import types
from typing import Callable

import numpy as np

from autograder.judge.mutants import Mutant
from autograder.errors import DlgradeError


class OracleError(DlgradeError, RuntimeError):
    """The reference itself failed: a bug in the course material, never the student's fault."""


# ---------------------------------------------------------------- the reference as a namespace

class Namespace:
    """A reference module seen through the student's contract: NumPy in, plain data out.

    ``ns.softmax(z)`` calls ``reference.softmax(z, device=...)``; classes are constructed on the
    same device. Results stay torch tensors until :func:`to_plain` (so the reference's own
    objects, a cache or a dict of parameters updated in place, can be passed on).
    """

    def __init__(self, module: types.ModuleType, device: str = "cpu"):
        self._module, self._device = module, device
        self._takes_device: dict[str, bool] = {}

    def __getattr__(self, name: str):
        attribute = getattr(self._module, name)
        if not callable(attribute):
            return attribute
        if name not in self._takes_device:
            self._takes_device[name] = "device" in inspect.signature(attribute).parameters
        takes_device = self._takes_device[name]

        def call(*args, **kwargs):
            if takes_device:
                kwargs.setdefault("device", self._device)
            result = attribute(*args, **kwargs)
            return list(result) if inspect.isgenerator(result) else result

        return call

    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    def keep(self, value):
        """A private, mutable copy of plain data (the reference updates tensors in place)."""
        import torch

        from autograder.tensors import as_tensor

        if isinstance(value, dict):
            return {k: self.keep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.keep(v) for v in value)
        if isinstance(value, (np.ndarray, torch.Tensor)):
            return as_tensor(value, self._device)
        return copy.deepcopy(value)

    def reseed_global(self, seed: int) -> None:
        """The reference uses no global state: nothing to do."""


def mutant_module(reference: types.ModuleType, mutant: Mutant) -> types.ModuleType:
    """A fresh copy of the reference module with the mutant's replacements in its globals.

    Re-executing the source (rather than patching the shared module) lets the reference's own
    functions call the replacement, e.g. ``train`` picking up a wrong ``_backward``.
    """
    spec = importlib.util.spec_from_file_location(f"{reference.__name__}.mutant_{mutant.slug}", reference.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, replacement in mutant.overrides.items():
        if not hasattr(module, name):
            raise OracleError(f"mutant {mutant.id} replaces {name!r}, which the reference does not define")
        setattr(module, name, replacement)
    return module


def to_plain(value):
    """Tensors (any device) to NumPy, recursively; other values unchanged."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(v) for v in value)
    return value


# ---------------------------------------------------------------- oracles

class LiveOracle:
    """Expected values from the hidden torch reference and its mutants, on ``device``."""

    def __init__(self, reference: types.ModuleType, mutants: tuple[Mutant, ...] = (), device: str = "cpu"):
        self.reference, self.mutants, self.device = reference, tuple(mutants), device
        self._namespaces: dict[str, Namespace] = {}

    def namespace(self, mutant: Mutant | None = None) -> Namespace:
        key = mutant.id if mutant else ""
        if key not in self._namespaces:
            module = self.reference if mutant is None else mutant_module(self.reference, mutant)
            self._namespaces[key] = Namespace(module, self.device)
        return self._namespaces[key]

    def inputs(self, check, key: str, draw: Callable, rng: np.random.Generator):
        return draw(rng)

    def expected(self, check, key: str, compute: Callable):
        try:
            return to_plain(compute(self.namespace()))
        except Exception as error:
            raise OracleError(f"the reference failed in check {check.name!r}: {type(error).__name__}: {error}") from error

    def variants(self, check, key: str, compute: Callable) -> list[tuple[Mutant, object]]:
        found = []
        for mutant in self.mutants:
            if check.exercise not in mutant.affects:
                continue
            try:
                found.append((mutant, to_plain(compute(self.namespace(mutant)))))
            except Exception:
                continue  # a mutant that cannot run on these inputs names nothing here
        return found


class RecordingOracle(LiveOracle):
    """A live oracle that keeps every value it hands out, to freeze public checks into a release."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record: dict[str, dict] = {}

    def _slot(self, check) -> dict:
        return self.record.setdefault(check.name, {"inputs": {}, "expected": {}, "variants": {}})

    def inputs(self, check, key, draw, rng):
        value = super().inputs(check, key, draw, rng)
        # Large inputs (a statistical check's million elements) are re-drawn from the public seed.
        small = _nbytes(value) <= MAX_FROZEN_INPUT_BYTES
        self._slot(check)["inputs"][key] = copy.deepcopy(value) if small else REDRAW
        return value

    def expected(self, check, key, compute):
        value = super().expected(check, key, compute)
        self._slot(check)["expected"][key] = value
        self._slot(check)["variants"][key] = {m.id: v for m, v in super().variants(check, key, compute)}
        return value

    def frozen_document(self, assignment: str) -> dict:
        mutants = {m.id: m.public_description() for m in self.mutants}
        checks = {name: {part: {k: freeze_value(v) for k, v in values.items()} if part != "variants" else
                         {k: {mid: freeze_value(v) for mid, v in per.items()} for k, per in values.items()}
                         for part, values in slot.items()}
                  for name, slot in self.record.items()}
        return {"format": 1, "assignment": assignment, "mutants": mutants, "checks": checks}


class FrozenOracle:
    """Expected values read from a release's ``public_checks.json`` (no reference needed)."""

    def __init__(self, document: dict):
        if document.get("format") != 1:
            raise OracleError("public_checks.json has an unknown format; update dlgrade or the release")
        self.checks = document["checks"]
        self.mutants = {mid: Mutant.from_description(mid, d) for mid, d in document.get("mutants", {}).items()}

    def _slot(self, check) -> dict:
        try:
            return self.checks[check.name]
        except KeyError:
            raise OracleError(f"public check {check.name!r} has no frozen values: re-run `dlgrade release`") from None

    def inputs(self, check, key, draw, rng):
        stored = self._slot(check)["inputs"][key]
        return draw(rng) if stored == REDRAW else thaw_value(stored)

    def expected(self, check, key, compute):
        return thaw_value(self._slot(check)["expected"][key])

    def variants(self, check, key, compute):
        stored = self._slot(check)["variants"].get(key, {})
        return [(self.mutants[mid], thaw_value(v)) for mid, v in stored.items() if mid in self.mutants]


# ---------------------------------------------------------------- JSON-safe values

MAX_FROZEN_INPUT_BYTES = 64 << 10
REDRAW = "$redraw"


def _nbytes(value) -> int:
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value).nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 8

def freeze_value(value):
    """Plain data (arrays, numbers, containers) as JSON-safe data; arrays keep dtype and bits."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value, order="C")
        if array.dtype.hasobject:
            raise OracleError("object arrays cannot be frozen")
        return {"$array": {"dtype": array.dtype.str, "shape": list(array.shape),
                           "data": base64.b64encode(array.tobytes()).decode("ascii")}}
    if isinstance(value, float) and not np.isfinite(value):
        return {"$float": repr(value)}
    if isinstance(value, dict):
        return {"$dict": [[freeze_value(k), freeze_value(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [freeze_value(v) for v in value]}
    if isinstance(value, list):
        return [freeze_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise OracleError(f"cannot freeze a {type(value).__name__}")


def thaw_value(value):
    if isinstance(value, list):
        return [thaw_value(v) for v in value]
    if isinstance(value, dict):
        (tag, body), = value.items()
        if tag == "$array":
            array = np.frombuffer(base64.b64decode(body["data"]), dtype=np.dtype(body["dtype"]))
            return array.reshape(body["shape"]).copy()
        if tag == "$float":
            return float(body)
        if tag == "$dict":
            return {thaw_value(k): thaw_value(v) for k, v in body}
        if tag == "$tuple":
            return tuple(thaw_value(v) for v in body)
        raise OracleError(f"unknown frozen tag {tag}")
    return value
