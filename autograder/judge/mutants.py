"""Known mistakes ("mutants"): wrong variants of the reference that name what went wrong.

Each assignment's ``solutions/<a>/mutants.py`` lists its mutants. A mutant replaces one or more
functions (or classes) of the reference; when a failing submission's output matches a mutant's
output on the same inputs (and the mutant is far from the reference there), the feedback names
the mistake and gives its hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Mutant:
    """One known mistake.

    Attributes:
        id: stable identifier, ``<assignment>.<function>.<mistake>``, e.g. ``dropout.dropout_forward.not_rescaled``.
        exercise: the exercise the mistake is made in, ``<assignment>.<function>``.
        title: the mistake in one line, as the student reads it.
        hint: what to do about it.
        overrides: reference names -> replacements (functions or classes, torch, same signatures).
        submission: a NumPy submission fragment with the same mistake (redefines the function),
            used by the project's tests to prove the mistake is caught and named.
        affects: the exercises whose results change with this mistake (default: ``exercise``),
            e.g. a wrong ``backward`` also changes ``train``.
    """

    id: str
    exercise: str
    title: str
    hint: str
    overrides: dict[str, Callable] = field(default_factory=dict, hash=False, compare=False)
    submission: str = ""
    affects: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.affects:
            object.__setattr__(self, "affects", (self.exercise,))

    @property
    def slug(self) -> str:
        return self.id.replace(".", "_")

    def public_description(self) -> dict:
        return {"exercise": self.exercise, "title": self.title, "hint": self.hint, "affects": list(self.affects)}

    @classmethod
    def from_description(cls, mutant_id: str, description: dict) -> "Mutant":
        return cls(mutant_id, description["exercise"], description["title"], description["hint"],
                   affects=tuple(description.get("affects", ())))
