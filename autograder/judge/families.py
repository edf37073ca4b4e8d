"""Families of checks that many assignments share, written once in the engine.

An assignment's check files compose these; none pastes its own copy:

- :func:`leaves_inputs_unchanged`: the function leaves the caller's arrays (lists, dicts) alone;
- :func:`uses_only_given_rng`: a random function draws from the rng it is given and nothing else;
- :func:`optimizer_updates_in_place` and :func:`optimizer_keeps_float32`: the optimizer contract
  (``step(params, grads)`` updates the very arrays of ``params`` in place, leaves ``grads`` alone,
  and keeps float32 parameters the same float32 arrays with the reference's values).

Each returns a probe for a :class:`~autograder.judge.checks.BehaviourCheck`, made of one round trip
to the child (so it shares that round trip with its neighbours).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from autograder.judge.checks import OneFetchProbe, Trial
from autograder.judge.compare import Rejected, compare_values, numeric_array

OPTIMIZER_STEPS = 3  # steps the optimizer probes take: momentum and moments matter from step 2


def leaves_inputs_unchanged(draw: Callable, call: Callable, names: tuple[str, ...]) -> OneFetchProbe:
    """A probe: after ``call(ns, **inputs)``, the inputs ``names`` still hold their original values."""

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        remote = {k: (trial.student.keep(v) if k in names else v) for k, v in inputs.items()}
        call(trial.student, **remote)
        return {name: remote[name] for name in names}, inputs

    def judge(trial: Trial, inputs: dict, after: dict) -> str | None:
        for name in names:
            comparison = compare_values(after[name], inputs[name], f"the argument {name}", exact=True)
            if not comparison.ok:
                return f"the function modified its argument {name!r} in place; work on a copy instead"
        return None

    return OneFetchProbe(ask, judge)


def uses_only_given_rng(draw: Callable, call: Callable) -> OneFetchProbe:
    """A probe: ``call(ns, rng=..., **inputs)`` depends on the rng passed in, and on nothing else.

    Two calls with equal-seeded generators, after seeding NumPy's global generator differently,
    must agree exactly; a differently seeded generator must change the result.
    """

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        seed = int(trial.rng.integers(2**31))
        calls = []
        for global_seed, rng_seed in ((1, seed), (2, seed), (1, seed + 1)):
            trial.student.reseed_global(global_seed)
            calls.append(call(trial.student, rng=trial.student.rng(rng_seed), **inputs))
        return calls, None  # the three calls, in order, in one round trip

    def judge(trial: Trial, _, results: list) -> str | None:
        try:
            first, again, other = (numeric_array(r)[0] for r in results)
        except Rejected as rejection:
            return str(rejection)
        if first.shape != again.shape or not np.array_equal(first, again):
            return ("two calls with identically seeded generators gave different results: use the rng argument "
                    "for every random draw (not np.random.* or the random module)")
        if first.shape == other.shape and np.array_equal(first, other):
            return "the result does not depend on the rng passed in: draw your random numbers from it"
        return None

    return OneFetchProbe(ask, judge)



def _params_arrays(value, names, what) -> dict:
    """A fetched params dict as {name: (float64 array, precision)}; Rejected when it is not one."""
    if not isinstance(value, dict) or set(value) != set(names):
        raise Rejected(f"{what} is no longer a dict with the keys {sorted(names)}")
    return {name: numeric_array(value[name], f"{what}[{name!r}]") for name in names}


def _run_optimizer(optimizer, params, grads):
    for g in grads:
        optimizer.step(params, g)
    return params


def optimizer_updates_in_place(draw: Callable, make: Callable) -> OneFetchProbe:
    """A probe: :data:`OPTIMIZER_STEPS` steps of ``make(ns, **hyper)`` change the original arrays of
    ``params``, and leave ``grads`` alone.

    ``draw(rng)`` returns ``{"params": {name: array}, "grads": [{name: array}, ...], **hyper}``.
    One round trip: params, the arrays they held and the grads are fetched together.
    """

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        hyper = {k: v for k, v in inputs.items() if k not in ("params", "grads")}
        ns = trial.student
        params = ns.keep(inputs["params"])
        originals = {name: ns.keep(params[name]) for name in inputs["params"]}  # the very array objects
        grads = [ns.keep(g) for g in inputs["grads"][:OPTIMIZER_STEPS]]
        optimizer = make(ns, **hyper)
        for g in grads:
            optimizer.step(params, g)
        return (params, originals, grads), inputs

    def judge(trial: Trial, inputs: dict, fetched) -> str | None:
        after, held, grads_after = fetched
        names = list(inputs["params"])
        try:
            after = _params_arrays(after, names, "params")
            held = _params_arrays(held, names, "the original arrays")
        except Rejected as rejection:
            return str(rejection)
        for name in names:
            start = inputs["params"][name]
            if np.array_equal(after[name][0], start):
                return (f"params[{name!r}] is unchanged after {OPTIMIZER_STEPS} steps: step must update the "
                        "arrays of params in place (p -= ...)")
            if np.array_equal(held[name][0], start):
                return (f"step replaced params[{name!r}] by a new array instead of updating it in place: "
                        "the model still holds the old array; write p -= ... or p[...] = ...")
            if not np.array_equal(held[name][0], after[name][0], equal_nan=True):
                return f"params[{name!r}] no longer holds the array it held before the steps"
        for g, kept in zip(inputs["grads"], grads_after):
            comparison = compare_values(kept, g, "grads", exact=True)
            if not comparison.ok:
                return "step modified grads in place; compute the update in new arrays and leave grads alone"
        return None

    return OneFetchProbe(ask, judge)


def optimizer_keeps_float32(draw: Callable, make: Callable) -> OneFetchProbe:
    """A probe: float32 params stay the same float32 arrays, with the reference's values after
    :data:`OPTIMIZER_STEPS` steps (one round trip). ``draw`` as for :func:`optimizer_updates_in_place`,
    with float32 arrays."""

    def ask(trial: Trial):
        inputs = trial.inputs(draw)
        hyper = {k: v for k, v in inputs.items() if k not in ("params", "grads")}
        grads = inputs["grads"][:OPTIMIZER_STEPS]
        expected = trial.expected(lambda ns: _run_optimizer(make(ns, **hyper), ns.keep(inputs["params"]), grads))
        ns = trial.student
        params = ns.keep(inputs["params"])
        originals = {name: ns.keep(params[name]) for name in inputs["params"]}
        optimizer = make(ns, **hyper)
        for g in grads:
            optimizer.step(params, g)
        return (params, originals), (list(inputs["params"]), expected)

    def judge(trial: Trial, state, fetched) -> str | None:
        names, expected = state
        try:
            after = _params_arrays(fetched[0], names, "params")
            held = _params_arrays(fetched[1], names, "the original arrays")
        except Rejected as rejection:
            return str(rejection)
        for name in names:
            if after[name][1] != "float32":
                return (f"params[{name!r}] was float32 and is no longer float32 after step: update the "
                        "float32 array in place (p -= update), which keeps its dtype")
            if not np.array_equal(held[name][0], after[name][0], equal_nan=True):
                return f"step replaced the float32 array params[{name!r}] instead of updating it in place"
        comparison = compare_values(fetched[0], expected, "params")
        if not comparison.ok:
            return f"with float32 parameters (and float32 gradients) the result is wrong: {comparison.problem}"
        return None

    return OneFetchProbe(ask, judge)
