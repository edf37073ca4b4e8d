"""The figures of a course report, computed from native result documents (no plotting here).

Input: a list of native result documents (``SubmissionResult.to_json()``), each optionally with
a ``"student"`` key (the gradebook adds it); without one, the ``"submission"`` path names it.
Every function returns plain data (lists, dicts, floats) that ``plots`` and ``page`` render.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from autograder.judge.learning_curves import MAX_SERIES, Curve, RunCurves, clean_curves, read_run
from autograder.judge.results import Band
from autograder.states import State
from autograder.untrusted import LINE, cap, inert


NOT_GRADABLE, TIMEOUT = State.NOT_GRADABLE, State.TIMEOUT


def student_of(document: dict) -> str:
    """The student's name as the gradebook stores it, else the graded path."""
    return str(document.get("student") or document.get("submission") or "?")


def teaching_order(documents: list[dict]) -> dict[str, int]:
    """Each assignment's position in the course, as the documents list them (a result document
    lists its assignments in the course's teaching order): first appearance wins."""
    order: dict[str, int] = {}
    for document in documents:
        for entry in document.get("assignments", []):
            order.setdefault(entry["assignment"], len(order))
    return order


@dataclass
class AssignmentScores:
    """Scores of one assignment over the submissions that handed it in and could be graded.

    ``scores``: one float per graded submission (0..max_score); ``exercises``: exercise name ->
    one percentage (0..100) per graded submission, in the order the tests first appear.
    """

    assignment: str
    max_score: float
    scores: list[float] = field(default_factory=list)
    exercises: dict[str, list[float]] = field(default_factory=dict)
    missing: int = 0
    not_gradable: int = 0


def assignment_scores(documents: list[dict]) -> list[AssignmentScores]:
    """Per assignment: scores of the graded files; counts of missing and not gradable ones."""
    table: dict[str, AssignmentScores] = {}
    for document in documents:
        tests_by_assignment = defaultdict(list)
        for test in document.get("tests", []):
            tests_by_assignment[test["assignment"]].append(test)
        for entry in document.get("assignments", []):
            name = entry["assignment"]
            row = table.setdefault(name, AssignmentScores(name, float(entry["max_score"])))
            if entry.get("file") is None:
                row.missing += 1
            elif entry["status"] == NOT_GRADABLE:
                row.not_gradable += 1
            else:
                row.scores.append(float(entry["score"]))
                earned, possible = defaultdict(float), defaultdict(float)
                for test in tests_by_assignment[name]:
                    earned[test["exercise"]] += float(test["score"])
                    possible[test["exercise"]] += float(test["max_score"])
                for exercise, total in possible.items():
                    percent = 100.0 * earned[exercise] / total if total else 0.0
                    row.exercises.setdefault(exercise, []).append(percent)
    order = teaching_order(documents)
    return [table[name] for name in sorted(table, key=lambda a: (order.get(a, len(order)), a))]


@dataclass(frozen=True)
class MistakeCount:
    """A named mistake: how many submissions made it, and in how many tests it was named."""

    mistake: str
    title: str
    exercise: str
    submissions: int
    tests: int


def common_mistakes(documents: list[dict], limit: int = 15) -> list[MistakeCount]:
    """The named mistakes, most frequent first (by submissions, then tests, then id)."""
    submissions, tests, titles = Counter(), Counter(), {}
    for document in documents:
        seen = set()
        for test in document.get("tests", []):
            mistake = test.get("mistake")
            if not mistake:
                continue
            tests[mistake] += 1
            titles.setdefault(mistake, (test.get("mistake_title") or "", test["exercise"]))
            seen.add(mistake)
        submissions.update(seen)
    ranked = sorted(submissions, key=lambda m: (-submissions[m], -tests[m], m))[:limit]
    return [MistakeCount(m, titles[m][0], titles[m][1], submissions[m], tests[m]) for m in ranked]


@dataclass(frozen=True)
class Problem:
    """A submission (or one assignment of it) that was not gradable or ran out of time."""

    student: str
    assignment: str
    kind: str  # State.NOT_GRADABLE.label | State.TIMEOUT.label
    reason: str


def problems(documents: list[dict]) -> list[Problem]:
    """Not-gradable assignments and timed-out tests, one row per student and assignment."""
    rows = []
    for document in documents:
        student = student_of(document)
        timed_out = defaultdict(list)
        outcomes = defaultdict(set)
        for test in document.get("tests", []):
            outcomes[test["assignment"]].add(test["outcome"])
            if test["outcome"] == TIMEOUT:
                timed_out[test["assignment"]].append(test)
        flagged = set()
        for entry in document.get("assignments", []):
            if entry.get("file") is not None and entry["status"] == NOT_GRADABLE:
                # The batch's own per-submission limit marks every test a timeout: say so.
                kind = State.TIMEOUT.label if outcomes[entry["assignment"]] == {TIMEOUT} else NOT_GRADABLE.label
                rows.append(Problem(student, entry["assignment"], kind, entry.get("reason") or ""))
                flagged.add(entry["assignment"])
        if document.get("status") == NOT_GRADABLE and not flagged:
            # A whole submission refused before any assignment was looked at: the document says why.
            rows.append(Problem(student, "(all)", NOT_GRADABLE.label, document.get("reason") or ""))
        for assignment, tests in timed_out.items():
            if assignment in flagged:
                continue
            first = tests[0]
            more = f" (and {len(tests) - 1} more tests)" if len(tests) > 1 else ""
            rows.append(Problem(student, assignment, State.TIMEOUT.label,
                                f"{first['exercise']}: {first.get('message') or 'time limit'}{more}"))
    order = teaching_order(documents)
    return sorted(rows, key=lambda p: (p.student, order.get(p.assignment, len(order)), p.assignment, p.kind))


@dataclass(frozen=True)
class Durations:
    """Grading time per submission, in seconds."""

    seconds: list[float]

    @property
    def p50(self) -> float:
        return float(np.percentile(self.seconds, 50)) if self.seconds else 0.0

    @property
    def p95(self) -> float:
        return float(np.percentile(self.seconds, 95)) if self.seconds else 0.0

    @property
    def total(self) -> float:
        return float(sum(self.seconds))


def durations(documents: list[dict]) -> Durations:
    """``duration_s`` of every document that records one."""
    return Durations([float(d["duration_s"]) for d in documents
                      if isinstance(d.get("duration_s"), (int, float)) and d["duration_s"] >= 0])


@dataclass(frozen=True)
class Overview:
    submissions: int
    graded: int
    not_gradable: int
    with_timeouts: int
    mean_percent: float
    median_percent: float


def overview(documents: list[dict]) -> Overview:
    """Head counts, and the total score as a percentage of the maximum (graded submissions)."""
    graded = [d for d in documents if d.get("status") != NOT_GRADABLE]
    percents = [100.0 * d["score"] / d["max_score"] for d in graded if d.get("max_score")]
    with_timeouts = sum(any(t["outcome"] == TIMEOUT for t in d.get("tests", [])) for d in documents)
    return Overview(len(documents), len(graded), len(documents) - len(graded), with_timeouts,
                    float(np.mean(percents)) if percents else 0.0,
                    float(np.median(percents)) if percents else 0.0)


@dataclass(frozen=True)
class CohortSeries:
    """One loss (``"validation loss"``...) over a cohort's runs of a training check, per epoch.

    ``median[i]``, ``q1[i]``, ``q3[i]`` summarize the runs that reached epoch ``i + 1`` (``runs[i]`` of
    them: runs that stopped early drop out of later epochs); ``band`` is the reference's, when one was
    recorded.
    """

    name: str
    median: list[float]
    q1: list[float]
    q3: list[float]
    runs: list[int]
    band: Band | None


@dataclass(frozen=True)
class CohortCurves:
    """A training check over the cohort: how many runs had curves, and how many overfit, did not
    converge or stopped early (the definitions of ``learning_curves``); the series summarized."""

    assignment: str
    test: str
    runs: int
    overfit: int
    not_converged: int
    stopped_early: int
    series: list[CohortSeries]


def _summarize(name: str, curves: list[Curve]) -> CohortSeries:
    longest = max((c.epochs for c in curves), default=0)
    median, q1, q3, runs = [], [], [], []
    for epoch in range(longest):
        values = [c.values[epoch] for c in curves if c.epochs > epoch]
        low, middle, high = np.percentile(values, [25, 50, 75])
        median.append(float(middle))
        q1.append(float(low))
        q3.append(float(high))
        runs.append(len(values))
    band = next((c.band for c in curves if c.band is not None), None)
    return CohortSeries(name, median, q1, q3, runs, band)


def training_curves(documents: list[dict]) -> list[CohortCurves]:
    """Per training check (a test with curves), in the order the checks first appear: the counts and
    the per-epoch summary of each series, from every document's cleaned curves."""
    runs: dict[tuple[str, str], list[RunCurves]] = {}
    for document in documents:
        for test in document.get("tests", []):
            run = clean_curves(test.get("curves"))
            if run is not None:
                key = (inert(cap(str(test.get("assignment", "")), LINE)), inert(cap(str(test.get("name", "")), LINE)))
                runs.setdefault(key, []).append(run)
    rows = []
    for (assignment, test), group in runs.items():
        readings = [read_run(run) for run in group]
        names = list(dict.fromkeys(c.name for run in group for c in run.curves))[:MAX_SERIES]
        series = [_summarize(name, [c for run in group for c in run.curves if c.name == name and c.epochs])
                  for name in names]
        rows.append(CohortCurves(assignment, test, len(group), sum(r.overfit for r in readings),
                                 sum(r.not_converged for r in readings), sum(r.stopped_early for r in readings),
                                 [s for s in series if s.median]))
    order = teaching_order(documents)
    return sorted(rows, key=lambda r: order.get(r.assignment, len(order)))
