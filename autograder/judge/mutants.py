"""Known mistakes ("mutants"): wrong variants of the reference that name what went wrong.

Each assignment's ``solutions/<a>/mutants.py`` lists its mutants. A mutant replaces one or more
functions (or classes) of the reference; when a failing submission's output matches a mutant's
output on the same inputs (and the mutant is far from the reference there), the feedback names
the mistake and gives its hint.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import Callable


def numpy_source(piece: Callable | type) -> str:
    """The source of ``piece`` (a function or class named ``<name>__<mistake>``) renamed ``<name>``."""
    name = piece.__name__
    if "__" not in name.strip("_"):
        raise ValueError(f"{name}: a known mistake's NumPy version is named <function>__<mistake>")
    student_name = name[: name.index("__", 1)]
    source = textwrap.dedent(inspect.getsource(piece))
    return re.sub(rf"^(def|class) {re.escape(name)}\b", rf"\1 {student_name}", source, count=1, flags=re.M) + "\n"


@dataclass(frozen=True)
class Mutant:
    """One known mistake.

    Attributes:
        id: stable identifier, ``<assignment>.<function>.<mistake>``, e.g. ``metrics.mae.per_sample``.
        exercise: the exercise the mistake is made in, ``<assignment>.<function>``.
        title: the mistake in one line, as the student reads it.
        hint: what to do about it.
        overrides: reference names -> replacements (functions or classes, torch, same signatures).
        submission: the same mistake in NumPy, as real code: a function or class (or a tuple of
            them) named ``<function>__<mistake>``, e.g. ``softmax__no_max_shift``. Appended to the
            model answer under its own name (:attr:`submission_source`), it is what a student who
            makes the mistake hands in; the project's tests use it to prove the mistake is caught
            and named.
        affects: the exercises whose results change with this mistake (default: ``exercise``),
            e.g. a wrong ``backward`` also changes ``train``.
    """

    id: str
    exercise: str
    title: str
    hint: str
    overrides: dict[str, Callable] = field(default_factory=dict, hash=False, compare=False)
    submission: Callable | type | tuple = field(default=(), hash=False, compare=False)
    affects: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.affects:
            object.__setattr__(self, "affects", (self.exercise,))

    @property
    def submission_source(self) -> str:
        """The NumPy version's source, each piece under the name students give it (``softmax``)."""
        pieces = self.submission if isinstance(self.submission, tuple) else (self.submission,)
        return "\n\n".join(numpy_source(piece) for piece in pieces if piece)

    @property
    def slug(self) -> str:
        return self.id.replace(".", "_")

    def public_description(self) -> dict:
        return {"exercise": self.exercise, "title": self.title, "hint": self.hint, "affects": list(self.affects)}

    @classmethod
    def from_description(cls, mutant_id: str, description: dict) -> "Mutant":
        return cls(mutant_id, description["exercise"], description["title"], description["hint"],
                   affects=tuple(description.get("affects", ())))
