"""Grading results as data: per test, per assignment, per submission; native JSON and Gradescope.

Native JSON (``SubmissionResult.to_json``)::

    {"score", "max_score", "status": "graded" | "not_gradable" | "missing", "reason",
     "assignments": [{"assignment", "status", "reason", "file", "score", "max_score"}],
     "tests": [{"name", "assignment", "exercise", "score", "max_score", "outcome", "message",
                "mistake", "visibility", "hint", "details", "advice", "curves"}],
     "seed", "device", "checks_version", "dlgrade_version", "insecure", "duration_s"}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from autograder import __version__
from autograder.states import Outcome, State

PASSED, FAILED, ERROR, TIMEOUT, NOT_ATTEMPTED = (Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT,
                                                Outcome.NOT_ATTEMPTED)
OUTCOMES = tuple(Outcome)
GRADED, NOT_GRADABLE, MISSING = State.GRADED, State.NOT_GRADABLE, State.MISSING


@dataclass
class Band:
    """The reference's spread at each epoch: ``low[i] <= high[i]``, one value per epoch."""

    low: list[float]
    high: list[float]


@dataclass
class Curves:
    """Per-epoch losses of a training run, for plotting beside the reference's band.

    ``series`` maps a curve's name (``"training loss"``, ``"validation loss"``) to the student's values,
    one per epoch (epoch 1 first, at most ``MAX_EPOCHS``); ``band`` maps the same names to the
    reference's spread over seeds. Values are finite floats (the judge drops a run whose curve is not).
    """

    series: dict[str, list[float]]
    band: dict[str, Band] = field(default_factory=dict)

    MAX_EPOCHS = 1000


@dataclass
class TestResult:
    name: str
    assignment: str
    exercise: str
    score: float
    max_score: float
    outcome: str
    message: str = ""
    mistake: str | None = None
    visibility: str = "hidden"
    hint: str = ""
    details: str = ""
    advice: list[str] = field(default_factory=list)
    mistake_title: str = ""
    duration_s: float = 0.0
    curves: Curves | None = None  # a training check's per-epoch losses (None for every other check)
    # The known mistakes seen by this test, until the grader decides which to name (never exported).
    sightings: tuple = field(default=(), repr=False, compare=False)


@dataclass
class AssignmentResult:
    assignment: str
    status: str  # a State: graded | not_gradable | missing (no file: 0, "not handed in") | timeout | tool_failure
    score: float
    max_score: float
    file: str | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class SubmissionResult:
    submission: str
    assignments: list[AssignmentResult]
    tests: list[TestResult]
    seed: int
    device: str = "cpu"
    checks_version: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    insecure: bool = False
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(a.score for a in self.assignments), 6)

    @property
    def max_score(self) -> float:
        return round(sum(a.max_score for a in self.assignments), 6)

    @property
    def status(self) -> str:
        """not_gradable when every file handed in is; missing when no assignment was handed in."""
        present = [a for a in self.assignments if a.file is not None]
        if present and all(a.status == NOT_GRADABLE for a in present):
            return NOT_GRADABLE
        if self.assignments and all(a.status == MISSING for a in self.assignments):
            return MISSING
        return GRADED

    @property
    def reason(self) -> str:
        return "; ".join(f"{a.assignment}: {a.reason}" for a in self.assignments if a.status == NOT_GRADABLE)

    def to_json(self) -> dict:
        return {
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "reason": self.reason,
            "assignments": [asdict(a) for a in self.assignments],
            "tests": [_test_json(t) for t in self.tests],
            "seed": self.seed,
            "device": self.device,
            "checks_version": self.checks_version,
            "dlgrade_version": __version__,
            "insecure": self.insecure,
            "duration_s": round(self.duration_s, 3),
            "timing_s": {k: round(v, 4) for k, v in self.timing.items()},
        }

    def to_gradescope(self, *, score: float | None = None, notes=()) -> dict:
        """A Gradescope results.json: tests are passed or failed, hidden details stay hidden.

        Gradescope's ``visibility`` (per test and top level: hidden, after_due_date,
        after_published, visible): a public check's result is ``visible`` at once; a hidden
        check's (its message shows the hidden inputs) is ``after_published``, shown once the
        instructor publishes the grades. ``stdout_visibility`` is ``hidden``: what the grader
        printed is for the course staff. ``score`` replaces the tests' sum (Gradescope takes a
        top-level score over the tests' sum: overrides, late penalties), and ``notes`` are lines
        added to the top-level ``output`` that say why.
        """
        tests = []
        for number, test in enumerate(self.tests, start=1):
            output = test_feedback(test)
            tests.append({
                "score": test.score,
                "max_score": test.max_score,
                "status": "passed" if test.outcome == PASSED else "failed",
                "name": f"{test.exercise}: {test.name}",
                "number": str(number),
                "output": output,
                "output_format": "text",
                "tags": [test.assignment, test.outcome] + ([test.mistake] if test.mistake else []),
                "visibility": GRADESCOPE_VISIBILITY.get(test.visibility, "after_published"),
                "extra_data": {"outcome": test.outcome, "mistake": test.mistake, "visibility": test.visibility},
            })
        lines = [f"{a.assignment}: {a.score:g}/{a.max_score:g}" + (f" ({State(a.status).label}: {a.reason})"
                                                                   if a.status != GRADED else "")
                 for a in self.assignments]
        return {
            "score": self.score if score is None else score,
            "execution_time": max(1, round(self.duration_s)),
            "output": "\n".join(lines + list(notes)),
            "output_format": "text",
            "test_output_format": "text",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            # not the seed: it is the course's secret, and results.json goes to a platform students use
            "extra_data": {"status": self.status, "reason": self.reason,
                           "checks_version": self.checks_version, "insecure": self.insecure},
            "tests": tests,
        }


# A test's visibility (public: a released check; hidden: the grader's own) as Gradescope's: a hidden
# check's feedback names its hidden inputs, so students see it once the grades are published.
GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}


def _test_json(test: TestResult) -> dict:
    data = asdict(test)
    data.pop("duration_s")
    data.pop("sightings")
    return data


def test_feedback(test: TestResult) -> str:
    """The full feedback text of one test, as a student reads it."""
    label = Outcome(test.outcome).label
    parts = [f"{label}: {test.message}" if test.message else label]
    if test.mistake:
        parts.append(f"Likely mistake: {test.mistake_title}.")
        if test.hint:
            parts.append(f"Hint: {test.hint}")
    if test.details:
        parts.append(test.details)
    for advice in test.advice:
        parts.append(f"Advice: {advice}")
    return "\n".join(parts)
