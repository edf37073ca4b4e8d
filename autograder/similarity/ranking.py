"""Every pair of an assignment's cohort compared, ranked, and flagged relative to the cohort.

The flag rule (:func:`flag_rule`): a pair is flagged when all three hold

1. its score is at least :data:`FLOOR` (half of both students' own code matched), and
2. its robust z-score against the cohort's pair scores is at least :data:`Z_MIN`:
   ``z = (score - median) / MAD``, the MAD (median absolute deviation) scaled by 1.4826 so that it
   estimates the standard deviation of normal data (``scipy.stats.median_abs_deviation(...,
   scale="normal")``). 3.5 is Iglewicz and Hoaglin's cut-off for this "modified z-score": a value
   above it is an outlier. When the MAD is 0 (most pairs share nothing), any score above the
   median is an outlier and the floor decides;
3. the two share at least :data:`MIN_MATCHED_TOKENS` normalized characters of their own code.

Code that every correct answer shares raises the whole cohort's scores, hence the median: only a
pair far above what honest pairs share is flagged. A short function (a one-line sigmoid) is
below :data:`~autograder.similarity.compare.MIN_UNIT_TOKENS` and counts for nothing.
Nothing here changes a grade: the ranking is for a person to read the matched code and decide.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import median_abs_deviation

from autograder.similarity.compare import PairComparison, StudentPrints, boilerplate_hashes, compare_students, \
    fingerprint_student
from autograder.similarity.extract import StudentCode

FLOOR = 0.5
Z_MIN = 3.5
MIN_MATCHED_TOKENS = 100


def flag_rule() -> str:
    """The rule, as the outputs state it."""
    return (f"flagged: score >= {FLOOR:g}, robust z = (score - cohort median) / (1.4826 MAD) >= {Z_MIN:g}, "
            f"and at least {MIN_MATCHED_TOKENS} normalized characters of the students' own code in common")


class PairStatus(enum.StrEnum):
    FLAGGED = "flagged"
    NOT_FLAGGED = "not flagged"
    TOO_SHORT = "too short"  # too little code of their own to judge


@dataclass(frozen=True)
class RankedPair:
    rank: int
    comparison: PairComparison
    z: float | None
    status: PairStatus

    @property
    def score(self) -> float | None:
        return self.comparison.score


@dataclass(frozen=True)
class Cohort:
    """One assignment's pairs, best first; ``median`` and ``mad`` of the scored pairs' scores."""

    assignment: str
    students: tuple[StudentCode, ...]
    pairs: tuple[RankedPair, ...]
    median: float
    mad: float

    @property
    def flagged(self) -> tuple[RankedPair, ...]:
        return tuple(p for p in self.pairs if p.status is PairStatus.FLAGGED)


def robust_z(score: float, median: float, mad: float) -> float:
    if mad > 0:
        return (score - median) / mad
    return math.inf if score > median else 0.0


def rank_cohort(assignment: str, students: list[StudentCode], stub: str) -> Cohort:
    """Compare every pair of ``students`` (the stub's fingerprints removed) and rank them."""
    boilerplate = boilerplate_hashes(stub)
    prints: list[StudentPrints] = [fingerprint_student(s, boilerplate) for s in students]
    comparisons = [compare_students(a, b) for a, b in combinations(prints, 2)]
    scores = [c.score for c in comparisons if c.score is not None]
    median = float(np.median(scores)) if scores else 0.0
    mad = float(median_abs_deviation(scores, scale="normal")) if len(scores) > 1 else 0.0
    ranked = sorted(comparisons, key=lambda c: (c.score is None, -(c.score or 0.0), -c.matched_tokens,
                                                c.a.code.student, c.b.code.student))
    pairs = []
    for rank, comparison in enumerate(ranked, start=1):
        if comparison.score is None:
            pairs.append(RankedPair(rank, comparison, None, PairStatus.TOO_SHORT))
            continue
        z = robust_z(comparison.score, median, mad)
        flagged = comparison.score >= FLOOR and z >= Z_MIN and comparison.matched_tokens >= MIN_MATCHED_TOKENS
        pairs.append(RankedPair(rank, comparison, z, PairStatus.FLAGGED if flagged else PairStatus.NOT_FLAGGED))
    return Cohort(assignment, tuple(students), tuple(pairs), median, mad)
