"""Fingerprints of each unit and the comparison of two students, with copydetect.

copydetect (MIT) tokenizes Python with pygments and normalizes it: every variable, attribute
and module name becomes ``V``, every function name ``F``, every class name ``O``, every string
``S``; whitespace and comments are dropped. So ``total = np.sum(x)  # add`` and
``acc = np.sum(values)`` are the same text, ``V=V.V(V)``. It then hashes every k-gram of that text
(k = :data:`NOISE`, characters of the normalized code, which copydetect calls tokens) and keeps the
hashes that winnowing selects (window :data:`WINDOW`; 1 keeps them all).

Boilerplate: the k-gram hashes of the released stub (every one, window 1, as copydetect's own
``CopyDetector`` does) are removed from each unit's fingerprints, so signatures, docstrings and
given code match nothing. A unit's *length* is copydetect's ``token_coverage``: the normalized
characters its remaining fingerprints cover, i.e. what the student wrote beyond the stub.

Two students are compared unit by unit (each function against each of the other's): each unit's
best match in the other submission counts, and the pair's score is the matched length of both
sides over their total length (units shorter than :data:`MIN_UNIT_TOKENS` left out of both):

    score = (sum over A's units of best overlap + sum over B's units of best overlap)
            / (sum of A's unit lengths + sum of B's unit lengths)

A pair whose sides have fewer than :data:`MIN_PAIR_TOKENS` between them is too short to judge.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from copydetect import CodeFingerprint, compare_files

from autograder.similarity.extract import StudentCode, Unit

NOISE = 25  # k: copydetect's default noise threshold (a match shorter than 25 normalized characters is noise)
WINDOW = 1  # winnowing window: copydetect's default (guarantee threshold 25 = noise threshold) keeps every k-gram
# A function with less of its own than this is not compared: a one-line sigmoid is 32 normalized
# characters ("defF(V):Sreturn1.0/(1.0+V.V(-V))"), a two-line one that converts its input first 48.
MIN_UNIT_TOKENS = 50
MIN_PAIR_TOKENS = 150  # both sides together: less than this is too little code to call anything a copy


def fingerprint(code: str, boilerplate: np.ndarray | None = None) -> CodeFingerprint:
    """copydetect's fingerprint of Python ``code`` (read from memory: nothing is written or run)."""
    return CodeFingerprint("unit.py", NOISE, WINDOW, boilerplate=boilerplate, language="python", fp=io.StringIO(code))


def boilerplate_hashes(stub: str) -> np.ndarray:
    """Every k-gram hash of the stub (window 1), what :func:`fingerprint` removes."""
    if not stub.strip():
        return np.array([], dtype=np.int64)
    whole = CodeFingerprint("stub.py", NOISE, 1, language="python", fp=io.StringIO(stub))
    return np.unique(np.array(sorted(whole.hashes), dtype=np.int64))


@dataclass(frozen=True)
class Fingerprinted:
    """A unit with its fingerprint and its length (``tokens``: what the student wrote beyond the stub)."""

    unit: Unit
    fp: CodeFingerprint

    @property
    def tokens(self) -> int:
        return int(self.fp.token_coverage)

    @property
    def counted(self) -> bool:
        return self.tokens >= MIN_UNIT_TOKENS


@dataclass(frozen=True)
class StudentPrints:
    code: StudentCode
    units: tuple[Fingerprinted, ...]

    @property
    def counted(self) -> tuple[Fingerprinted, ...]:
        return tuple(u for u in self.units if u.counted)

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.counted)


def fingerprint_student(code: StudentCode, boilerplate: np.ndarray) -> StudentPrints:
    return StudentPrints(code, tuple(Fingerprinted(u, fingerprint(u.code, boilerplate)) for u in code.units))


@dataclass(frozen=True)
class UnitMatch:
    """A unit of A and its best match in B: the copied slices (character offsets in each unit's code)."""

    left: Unit
    right: Unit
    overlap: int  # normalized characters of ``left`` found in ``right``
    left_share: float  # of ``left``'s length
    right_share: float
    left_slices: tuple[tuple[int, int], ...]
    right_slices: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PairComparison:
    """Two students compared: ``score`` in [0, 1], None when too short to judge."""

    a: StudentPrints
    b: StudentPrints
    score: float | None
    matched_tokens: int  # matched lengths of both sides, halved: about how much code the two share
    tokens: int  # both sides' lengths together
    matches: tuple[UnitMatch, ...]  # each of A's units with its best match in B, largest first


def _slices(raw: np.ndarray, length: int) -> tuple[tuple[int, int], ...]:
    if raw.size == 0:
        return ()
    return tuple((max(0, min(int(s), length)), max(0, min(int(e), length))) for s, e in zip(raw[0], raw[1]))


def compare_students(a: StudentPrints, b: StudentPrints) -> PairComparison:
    """Compare every counted unit of ``a`` with every counted unit of ``b`` (copydetect's
    ``compare_files``; a pair of units without a common hash is skipped before it)."""
    left, right = a.counted, b.counted
    best_left = [0.0] * len(left)
    best_right = [0.0] * len(right)
    best_match: list[UnitMatch | None] = [None] * len(left)
    for i, x in enumerate(left):
        for j, y in enumerate(right):
            if not (x.fp.hashes & y.fp.hashes):
                continue
            overlap, (share_x, share_y), (slices_x, slices_y) = compare_files(x.fp, y.fp)
            covered_x = min(float(overlap), float(x.tokens))
            covered_y = min(float(share_y) * y.tokens, float(y.tokens))
            best_right[j] = max(best_right[j], covered_y)
            if covered_x > best_left[i]:
                best_left[i] = covered_x
                best_match[i] = UnitMatch(x.unit, y.unit, int(overlap), float(share_x), float(share_y),
                                          _slices(slices_x, len(x.unit.code)), _slices(slices_y, len(y.unit.code)))
    tokens = a.tokens + b.tokens
    matched = (sum(best_left) + sum(best_right)) / 2
    score = None if tokens < MIN_PAIR_TOKENS or not left or not right else (sum(best_left) + sum(best_right)) / tokens
    matches = sorted((m for m in best_match if m is not None), key=lambda m: -m.overlap)
    return PairComparison(a, b, score, int(round(matched)), tokens, tuple(matches))
