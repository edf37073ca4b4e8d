"""Synthetic course submissions for the batch benchmark: a realistic mix, reproducible from a seed.

``make_submissions(course, folder, n, assignments, seed)`` writes ``folder/<student>/<a>.py`` for
each of ``n`` students and returns one :class:`Synthetic` per student. Every student writes all
the chosen assignments in one style (the three fixture styles: vectorized, loops, float32); the
student's *kind* changes one of those files (the target):

- ``correct``: nothing changed;
- ``buggy``: a named mistake from ``solutions/<a>/mutants.py`` (appended to the model answer);
- ``slow``: a 0.4 s sleep at the top level, or 20 ms of busy loop in every call of a function
  (well under the per-test limit);
- ``crashing``: a syntax error, an exception at the top level, or a function that raises;
- ``hostile``: ``os._exit`` in a function, an infinite loop in a function, a 1 GiB memory grab
  at the top level, or 20 MB printed while loading.

Benign kinds (correct, buggy, slow) score the same in every grader; the others need isolation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Course
from autograder.judge.rubric import load_rubric

CONTRACT = {a: s.functions for a, s in Course.locate().specs.items()}

REPOSITORY = Path(__file__).resolve().parents[1]
STYLES = ("vectorized", "loops", "float32")
KINDS = {"correct": 0.45, "buggy": 0.30, "slow": 0.08, "crashing": 0.09, "hostile": 0.08}
BENIGN = ("correct", "buggy", "slow")


@dataclass(frozen=True)
class Synthetic:
    student: str
    kind: str
    variant: str  # which correct style, mistake, slowness, crash or attack
    target: str  # the assignment the kind applies to


def _function_of(assignment: str, rng: random.Random) -> str:
    """A lower-case function of the contract (classes such as SGD are left alone)."""
    return rng.choice([f for f in CONTRACT[assignment] if f[0].islower()])


def _wrap(function: str, body: str) -> str:
    """Source that redefines ``function`` to run ``body`` first, then the student's own version."""
    return (f"\n\n_original_{function} = {function}\n\n"
            f"def {function}(*args, **kwargs):\n{body}"
            f"    return _original_{function}(*args, **kwargs)\n")


def _changed(kind: str, source: str, answer: str, assignment: str, mutants, rng: random.Random) -> tuple[str, str]:
    """The target file's source for ``kind``, and the variant's name."""
    function = _function_of(assignment, rng)
    if kind == "buggy":
        mutant = rng.choice(mutants)
        return answer + "\n\n# --- the mistake ---\n" + mutant.submission_source, mutant.id
    if kind == "slow":
        if rng.random() < 0.5:
            return "import time as _time\n_time.sleep(0.4)\n" + source, "sleep at load"
        busy = ("    import time as _time\n    _until = _time.perf_counter() + 0.02\n"
                "    while _time.perf_counter() < _until:\n        pass\n")
        return source + _wrap(function, busy), f"busy loop in {function}"
    if kind == "crashing":
        variant = rng.choice(("syntax error", "raise at load", "raise in function"))
        if variant == "syntax error":
            return source.replace("def ", "def (", 1), variant
        if variant == "raise at load":
            return source + "\n\nraise RuntimeError('my data file is missing')\n", variant
        return source + _wrap(function, "    return 1 / 0\n"), f"{variant} {function}"
    if kind == "hostile":
        variant = rng.choice(("os._exit", "infinite loop", "memory grab", "output flood"))
        if variant == "os._exit":
            return source + _wrap(function, "    import os\n    os._exit(3)\n"), f"{variant} in {function}"
        if variant == "infinite loop":
            return source + _wrap(function, "    while True:\n        pass\n"), f"{variant} in {function}"
        if variant == "memory grab":
            return source + "\n\n_hoard = [bytearray(64 << 20) for _ in range(16)]  # 1 GiB\n", variant
        return source + "\n\nfor _ in range(2000):\n    print('x' * 10000)\n", variant
    return source, "unchanged"


def make_submissions(course: Course, folder: Path, n: int, assignments: tuple[str, ...], seed: int = 0) -> list[Synthetic]:
    """Write ``n`` students' submissions under ``folder`` (one sub-folder each); return what each one is."""
    rng = random.Random(seed)
    fixtures = REPOSITORY / "tests" / "fixtures" / "submissions"
    mutants = {a: load_rubric(course, a).mutants for a in assignments}
    answers = {a: course.answer_source(a).read_text(encoding="utf-8") for a in assignments}
    made = []
    for number in range(n):
        student = f"student{number:04d}"
        style = rng.choice(STYLES)
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        target = rng.choice(assignments)
        variant = style
        (folder / student).mkdir(parents=True, exist_ok=True)
        for assignment in assignments:
            source = (fixtures / style / f"{assignment}.py").read_text(encoding="utf-8")
            if assignment == target and kind != "correct":
                source, variant = _changed(kind, source, answers[assignment], assignment, mutants[assignment], rng)
            (folder / student / f"{assignment}.py").write_text(source, encoding="utf-8")
        made.append(Synthetic(student, kind, variant, target))
    return made
