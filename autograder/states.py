"""One vocabulary of states, shared by the console, JSON results, the gradebook, the audit and exports.

Every member is a ``StrEnum``: it is its own string value in JSON, SQL and CSV, so stored documents
read back unchanged.

- ``Outcome``: one test's outcome.
- ``State``: what happened to one (student, assignment) or one submission. ``records_score`` says
  whether it is a grade: a failure of the tool itself (``TOOL_FAILURE``) never is, and the next run
  grades that submission again.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    """One test's outcome."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"  # the student's code ran past the test's deadline
    NOT_ATTEMPTED = "not_attempted"  # the function is missing or still the released stub

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class State(enum.StrEnum):
    """What happened to one (student, assignment), or to a whole submission."""

    GRADED = "graded"  # scored by the checks
    NOT_GRADABLE = "not_gradable"  # handed in but unusable (broken notebook, syntax error): 0, with the reason
    TIMEOUT = "timeout"  # the submission as a whole ran past its budget: the tests done so far count
    MISSING = "missing"  # expected (being graded, or on the roster) but not handed in: 0, with the reason
    TOOL_FAILURE = "tool_failure"  # dlgrade itself failed (sandbox, device, worker, disk): no score recorded

    @property
    def label(self) -> str:
        return {"not_gradable": "not gradable", "timeout": "timed out",
                "tool_failure": "tool failure"}.get(self.value, self.value)

    @property
    def records_score(self) -> bool:
        """Whether this state is a grade a student keeps (everything but a failure of the tool)."""
        return self is not State.TOOL_FAILURE
