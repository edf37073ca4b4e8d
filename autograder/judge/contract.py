"""The whole contract, for every function: checks the engine generates from the declaration.

An assignment declares, per function in its ``assignment.toml`` (see :mod:`autograder.course`),
which arguments must stay unchanged, the dtype rule of the result and its shape rule; its
``hidden_checks.py`` gives example inputs, ``CONTRACT_INPUTS = {function: draw}`` with
``draw(rng) -> {argument: value}`` in call order. From these, :func:`contract_checks` makes, per
function, at most two small hidden checks (``contract_points`` each, so a dtype slip costs little):

- ``<f> leaves its inputs unchanged``: after one call, every declared argument (an array, a list
  of arrays, a dict of parameters, a cache tuple) holds exactly its original values;
- ``<f> returns the declared dtype and shape``: every array in the result (nested in tuples, lists
  and dicts) has the declared dtype and shape. Rule ``"input"`` calls twice, on float64 inputs and
  on the same inputs cast to float32, in one round trip.

The engine names no assignment: everything specific comes from the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from autograder.course import AssignmentSpec, Exercise
from autograder.judge.checks import HIDDEN, BehaviourCheck, Check, OneFetchProbe, Trial, calls
from autograder.judge.families import leaves_inputs_unchanged
from autograder.wire import Unsupported

CONTRACT_INPUTS = "CONTRACT_INPUTS"  # the name of the example inputs in an assignment's hidden_checks.py


@dataclass(kw_only=True)
class ContractCheck(BehaviourCheck):
    """A check this module generates from a function's declared contract (its kind tells the grader
    that its points come only with the function's other points)."""


class ContractError(ValueError):
    """A contract declared without example inputs, or inputs that do not fit it (course material bug)."""


def contract_checks(spec: AssignmentSpec, inputs: Mapping[str, Callable]) -> tuple[Check, ...]:
    """The contract checks of every declared function of ``spec``, on ``inputs[function]``."""
    checks: list[Check] = []
    for exercise in spec.exercises:
        if not exercise.has_contract:
            continue
        draw = inputs.get(exercise.name)
        if draw is None:
            raise ContractError(f"{spec.name}: {exercise.name} declares a contract but hidden_checks.py gives no "
                                f"{CONTRACT_INPUTS}[{exercise.name!r}] to check it on")
        exercise_name = f"{spec.name}.{exercise.name}"
        call = calls(exercise.name)
        if exercise.unchanged:
            listed = " and ".join(exercise.unchanged)
            checks.append(ContractCheck(
                name=f"{exercise.name} leaves its inputs unchanged", exercise=exercise_name,
                points=spec.contract_points, visibility=HIDDEN,
                description=f"{listed} hold their original values after {exercise.name} (the contract)",
                probe=leaves_inputs_unchanged(draw, call, exercise.unchanged)))
        if exercise.dtype or exercise.shape:
            checks.append(ContractCheck(
                name=f"{exercise.name} returns the declared dtype and shape", exercise=exercise_name,
                points=spec.contract_points, visibility=HIDDEN,
                description=f"the result of {exercise.name}: {rule_words(exercise)} (the contract)",
                probe=returns_declared(draw, call, exercise)))
    return tuple(checks)


def rule_words(exercise: Exercise) -> str:
    """The dtype and shape rules in words, e.g. ``float32 input gives float32; the shape of z``."""
    words = []
    if exercise.dtype == "input":
        words.append("float32 input gives float32 arrays, float64 input floating arrays")
    elif exercise.dtype:
        words.append(f"{exercise.dtype} arrays")
    if exercise.shape:
        rule, argument = exercise.shape
        words.append(f"the shape of {argument}" if rule == "like" else f"the shape given by {argument}")
    return "; ".join(words)


def returns_declared(draw: Callable, call: Callable, exercise: Exercise) -> OneFetchProbe:
    """A probe: ``call(ns, **inputs)`` returns arrays of the declared dtype and shape (rule
    ``"input"``: also on the float32 cast of the inputs). One round trip."""

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        runs = {"float64": inputs}
        if exercise.dtype == "input":
            runs["float32"] = as_float32(inputs)
        return {precision: call(trial.student, **values) for precision, values in runs.items()}, runs

    def judge(trial: Trial, runs: dict, results: dict) -> str | None:
        for precision, result in results.items():
            problem = result_problem(result, runs[precision], exercise, precision)
            if problem:
                return problem
        return None

    return OneFetchProbe(ask, judge)


def result_problem(result, inputs: dict, exercise: Exercise, precision: str) -> str | None:
    """What breaks the declared dtype or shape rule in ``result`` (called on ``precision``
    inputs), or None. The first offending array is named by its place in the result."""
    leaves = list(array_leaves(result, "the result"))
    if not leaves:
        return f"{exercise.name} returned {type(result).__name__}, not numbers"
    for where, value in leaves:
        if isinstance(value, Unsupported):
            return f"{where} is {value}, expected a NumPy array"
        problem = dtype_problem(value, exercise, precision) or shape_problem(value, inputs, exercise)
        if problem:
            return f"{where} {problem}"
    return None


def dtype_problem(value, exercise: Exercise, precision: str) -> str | None:
    """The dtype rule broken by one returned value (an array, a NumPy scalar or a Python number)."""
    rule = exercise.dtype
    if rule is None:
        return None
    dtype = _dtype(value)
    if dtype is None:
        return f"is a {type(value).__name__}, expected a NumPy array"
    if rule == "input":
        if precision == "float32" and dtype != np.float32:
            return (f"is {dtype} for float32 input: keep the input's dtype (np.zeros_like(z), not "
                    "np.zeros(z.shape); no float64 constants arrays)")
        if dtype not in (np.float32, np.float64):
            return f"is {dtype} for float64 input, expected a floating array"
        return None
    if dtype != np.dtype(rule):
        return f"is {dtype}, but the contract says {rule}: convert with .astype(np.{rule})"
    return None


def shape_problem(value, inputs: dict, exercise: Exercise) -> str | None:
    if exercise.shape is None:
        return None
    rule, argument = exercise.shape
    if argument not in inputs:
        raise ContractError(f"{exercise.name}: the shape rule names {argument!r}, which is not among the "
                            f"{CONTRACT_INPUTS} arguments {sorted(inputs)}")
    expected = np.shape(inputs[argument]) if rule == "like" else tuple(int(n) for n in inputs[argument])
    shape = np.shape(value)
    if shape != expected:
        return f"has shape {shape}, expected {expected} ({'the shape of ' if rule == 'like' else ''}{argument})"
    return None


def array_leaves(value, where: str):
    """(place, leaf) for every number or array in a nested result (tuples, lists, dicts)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from array_leaves(item, f"{where}[{key!r}]")
    elif isinstance(value, (tuple, list)):
        for number, item in enumerate(value):
            yield from array_leaves(item, f"{where}[{number}]")
    elif value is not None:
        yield where, value


def as_float32(value):
    """``value`` with every float64 array (nested in dicts, lists, tuples) cast to float32."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, dict):
        return {k: as_float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_float32(v) for v in value)
    return value


def _dtype(value) -> np.dtype | None:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, float):
        return np.dtype(np.float64)
    if isinstance(value, int):
        return np.dtype(np.int64)
    return None
