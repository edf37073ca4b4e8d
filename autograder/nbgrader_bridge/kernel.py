"""What a test cell runs inside a Jupyter kernel: one exercise's checks on the kernel's own functions.

A test cell of a dlgrade notebook (see :mod:`.source`) reads::

    _dlgrade = exercise_checks("<assignment>.<function>", globals())
    _dlgrade.public()          # the public checks, frozen values from ./public_checks.json
    ### BEGIN HIDDEN TESTS
    _dlgrade.hidden()          # the hidden checks, live torch reference from the course's solutions
    ### END HIDDEN TESTS
    _dlgrade.score()

``score()`` follows nbgrader's reading of a test cell: it prints each check's verdict and returns
nothing when every check that ran passed (full points), returns the points earned (a float, partial
credit) when some passed, and raises when none did (no points; ``NotImplementedError`` while the
function is still a stub).

This runs the checks *in the student's kernel*, the trust model of plain nbgrader: it serves
students' self-checks in Jupyter and nbgrader's own ``validate``. Grading goes through
:class:`~autograder.nbgrader_bridge.autograde.DlgradeAutograde`, which never executes these cells.
"""

from __future__ import annotations

import types
from pathlib import Path

from autograder.wire import WireError, decode, encode
from autograder.sandbox.launcher import ChildCrashed


class ChecksFailed(AssertionError):
    """No check of the exercise passed; the message lists what went wrong."""


class KernelChild:
    """A child that is this process: the student's own kernel (their self-check, never a grade).

    With ``namespace``, loading a module means taking the kernel's globals as they are; without,
    the submission's code is executed here. Requests and answers still cross the plain-data wire
    format through :meth:`Child.respond`, so values are copied exactly as with a real child.
    """

    alive = True
    isolated = False

    def __init__(self, namespace: dict | None = None):
        from autograder.sandbox.child import Child

        self.child = Child()
        if namespace is not None:
            self.namespace = namespace
            self.child.load = self._load

    def _load(self, name, cells, filename, tolerant, numbers=None, allowed_imports=None):  # the kernel's imports stand
        module = types.ModuleType(name)
        module.__dict__.update(self.namespace)  # the functions keep the kernel's globals
        module.__file__ = filename
        self.child.modules[name] = module
        return {"ok": True, "warnings": []}

    def request(self, document: dict, timeout: float):  # no time limit can be enforced in-process
        try:
            return decode(self.child.respond(encode(document)))
        except WireError as error:  # as across the pipe: an answer that cannot travel is a crash
            raise ChildCrashed(f"the answer was not valid plain data: {error}") from error

    def kill(self) -> None:
        pass


class ExerciseChecks:
    """The checks of one exercise against a kernel namespace; results accumulate until ``score()``."""

    def __init__(self, exercise: str, namespace: dict, folder: Path | None = None):
        self.exercise, self.namespace = exercise, namespace
        self.assignment = exercise.split(".")[0]
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.results = []

    def public(self) -> None:
        """Run the public checks with the values frozen in ``public_checks.json`` next to the notebook."""
        from autograder.judge.rubric import PUBLIC_SEED, load_released

        rubric, oracle = load_released(self.folder, self.assignment)
        self._run([c for c in rubric.checks if c.exercise == self.exercise], oracle, PUBLIC_SEED)

    def hidden(self) -> None:
        """Run the hidden checks against the course's torch reference (instructors only)."""
        from autograder.course import Course, configured_seed
        from autograder.judge.grader import new_seed
        from autograder.judge.rubric import live_oracle, load_rubric

        course = Course.locate()
        rubric = load_rubric(course, self.assignment)
        seed = configured_seed()
        checks = [c for c in rubric.checks if c.exercise == self.exercise and c.visibility != "public"]
        self._run(checks, live_oracle(course, rubric), seed if seed is not None else new_seed())

    def _run(self, checks, oracle, seed: int) -> None:
        from autograder.judge.grader import run_checks
        from autograder.judge.session import Session

        with Session(lambda: KernelChild(self.namespace)) as session:
            session.load(self.assignment, [], "<notebook>", True)
            self.results += run_checks(checks, session, oracle, seed, self.assignment)

    def score(self) -> float | None:
        """Print the verdicts; None for full points, the points earned, or raise for none."""
        from autograder.judge.results import NOT_ATTEMPTED, PASSED, test_feedback

        if not self.results:
            raise ChecksFailed(f"no checks of {self.exercise} ran")
        earned = sum(t.score for t in self.results)
        total = sum(t.max_score for t in self.results)
        for test in self.results:
            mark = "✔" if test.outcome == PASSED else "✘"
            print(f"{mark} {test.name} ({test.score:g}/{test.max_score:g})")
            if test.outcome != PASSED:
                print("    " + test_feedback(test).replace("\n", "\n    "))
        if all(t.outcome == PASSED for t in self.results):
            return None
        if earned <= 0:
            if all(t.outcome == NOT_ATTEMPTED for t in self.results):
                raise NotImplementedError(f"{self.exercise.split('.')[1]} is not implemented yet")
            raise ChecksFailed(f"0 of {total:g} points: no check of {self.exercise} passes")
        return round(earned, 6)


def exercise_checks(exercise: str, namespace: dict) -> ExerciseChecks:
    return ExerciseChecks(exercise, namespace)
