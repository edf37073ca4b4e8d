"""Realistic mistakes that are NOT in the course's catalogue of known mistakes, and correct styles.

Each :class:`Case` is a submission of one assignment: the model answer with some functions
redefined after it (``code``, appended: a later ``def`` replaces the earlier one, and the model's
other functions call the new one, as a student's would). A mistake names the function that must
lose points (``faulty``) and the functions allowed to lose points with it (``dependents``: they
call the faulty one in the student's own code, as declared by ``depends_on``); a correct style has
no ``faulty`` and must keep full marks. ``files`` replaces the model answer by whole files (the
bundled fixtures, a notebook).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    assignment: str
    code: str = ""
    faulty: str | None = None  # None: a correct style (full marks expected)
    dependents: tuple[str, ...] = ()
    notebook: bool = False  # hand it in as <assignment>.ipynb, with magics around the code
    fixture: str | None = None  # a bundled style folder of tests/fixtures/submissions instead of the model answer


def mistake(name, assignment, faulty, code, dependents=()):
    return Case(name, assignment, code, faulty, tuple(dependents))


def style(name, assignment, code="", notebook=False, fixture=None):
    return Case(name, assignment, code, None, (), notebook, fixture)
