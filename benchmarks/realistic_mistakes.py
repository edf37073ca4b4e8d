"""Figures of the judge on realistic mistakes outside the catalogue, and on correct styles.

Grades every case of :mod:`benchmarks.mistakes.cases` (one sandbox, a fixed seed) and prints:
false fails (a correct style losing points), false passes (a mistake losing no points in its
function), points lost outside the faulty function and its declared dependents, and how the
caught mistakes are reported: named (a known mistake, confirmed), described by a symptom (NaN at
large inputs, a factor, a shape, an argument modified in place, a dtype...), or vague ("differs
from the expected value" and nothing more).

    python benchmarks/realistic_mistakes.py [--verbose]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from benchmarks.mistakes import Case  # noqa: E402

SEED = 20_261_122
# "differs from the expected value", maybe "at 3 of 12 entries", then nothing but the error sizes.
VAGUE = re.compile(r"differs from the expected value(?: at \d+ of \d+ entries)?(?: \(|;|$)")
NOTEBOOK_MAGICS = ("%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nimport numpy as np",
                   "%%time\nprint('ready')")


@dataclass
class Outcome:
    case: Case
    lost: dict[str, float]  # points lost per function
    report: str = ""  # named / described / vague, for a caught mistake
    messages: list[str] = field(default_factory=list)
    declared: tuple[str, ...] = ()  # functions that run the faulty one (depends_on, transitively)

    @property
    def caught(self) -> bool:
        return self.case.faulty is not None and self.lost.get(self.case.faulty, 0.0) > 1e-9

    @property
    def outside(self) -> float:
        """Points lost in functions that are neither faulty nor declared dependents."""
        allowed = {self.case.faulty, *self.case.dependents, *self.declared}
        return sum(v for f, v in self.lost.items() if f not in allowed)


@dataclass
class Figures:
    outcomes: list[Outcome]

    def _mistakes(self):
        return [o for o in self.outcomes if o.case.faulty is not None]

    @property
    def false_fails(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.faulty is None and sum(o.lost.values()) > 1e-9]

    @property
    def false_passes(self) -> list[Outcome]:
        return [o for o in self._mistakes() if not o.caught]

    @property
    def outside_points(self) -> float:
        return sum(o.outside for o in self.outcomes if o.case.faulty is not None)

    def count(self, report: str) -> int:
        return sum(1 for o in self._mistakes() if o.caught and o.report == report)

    @property
    def informative_share(self) -> float:
        caught = [o for o in self._mistakes() if o.caught]
        return (self.count("named") + self.count("described")) / len(caught) if caught else 1.0

    def lines(self) -> list[str]:
        mistakes = self._mistakes()
        caught = len(mistakes) - len(self.false_passes)
        return [
            f"cases: {len(mistakes)} mistakes outside the catalogue, {len(self.outcomes) - len(mistakes)} correct styles",
            f"false fails (a correct style lost points): {len(self.false_fails)}",
            f"false passes (a mistake lost no points in its function): {len(self.false_passes)}",
            f"points lost outside the faulty function and its declared dependents: {self.outside_points:g}",
            f"caught mistakes: {caught}; named {self.count('named')}, described by symptom "
            f"{self.count('described')}, vague {self.count('vague')}",
            f"named or described: {100 * self.informative_share:.1f}%",
        ]


def declared_dependents(spec, function: str) -> tuple[str, ...]:
    """The functions whose declared ``depends_on`` reaches ``function``, directly or not."""
    found: set[str] = set()
    frontier = {function}
    while frontier:
        frontier = {e.name for e in spec.exercises if set(e.depends_on) & frontier} - found
        found |= frontier
    return tuple(sorted(found - {function}))


def report_kind(failed) -> str:
    """named / described / vague, from the failed tests of the faulty function."""
    if any(t.mistake for t in failed):
        return "named"
    cores = [t.message.split(" (checked:")[0] for t in failed]
    if any(not VAGUE.search(core) for core in cores):
        return "described"
    return "vague"


def submission_files(case: Case, course, folder: Path) -> Path:
    folder.mkdir(parents=True)
    if case.fixture:
        source = (REPOSITORY / "tests" / "fixtures" / "submissions" / case.fixture / f"{case.assignment}.py").read_text()
    else:
        source = course.answer_source(case.assignment).read_text()
    source += ("\n\n# --- the student's version ---\n" + case.code) if case.code else ""
    if case.notebook:
        import nbformat

        cells = [nbformat.v4.new_markdown_cell(f"# {case.assignment}"),
                 nbformat.v4.new_code_cell(NOTEBOOK_MAGICS[0]), nbformat.v4.new_code_cell(source),
                 nbformat.v4.new_code_cell(NOTEBOOK_MAGICS[1])]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{case.assignment}.ipynb")
    else:
        (folder / f"{case.assignment}.py").write_text(source)
    return folder


def grade_cases(cases, seed: int = SEED) -> Figures:
    """Grade each case against its assignment's hidden rubric (one sandbox for all)."""
    from autograder.course import Course
    from autograder.judge.grader import Plan, grade

    course = Course.locate(REPOSITORY / "solutions")
    assignments = sorted({c.assignment for c in cases})
    full = Plan.for_course(course, assignments, seed)
    plans = {a: Plan({a: full.rubrics[a]}, seed) for a in assignments}
    outcomes = []
    with tempfile.TemporaryDirectory() as root:
        for number, case in enumerate(cases):
            folder = submission_files(case, course, Path(root) / str(number))
            result = grade(folder, plans[case.assignment])
            lost: dict[str, float] = {}
            for test in result.tests:
                function = test.exercise.split(".")[-1]
                lost[function] = lost.get(function, 0.0) + (test.max_score - test.score)
            outcome = Outcome(case, {f: v for f, v in lost.items() if v > 1e-9})
            if case.faulty:
                outcome.declared = declared_dependents(course.spec(case.assignment), case.faulty)
            failed = [t for t in result.tests if t.max_score - t.score > 1e-9]
            outcome.messages = [f"{t.name}: {t.mistake or ''} {t.message}" for t in failed]
            if outcome.caught:
                outcome.report = report_kind([t for t in failed if t.exercise.split(".")[-1] == case.faulty])
            outcomes.append(outcome)
    return Figures(outcomes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every case and its failed tests")
    parser.add_argument("--json", type=Path, help="also write the per-case outcomes here")
    args = parser.parse_args()
    from benchmarks.mistakes.cases import MISTAKES, STYLES

    figures = grade_cases(MISTAKES + STYLES)
    for outcome in figures.outcomes:
        flag = ("FALSE FAIL" if outcome in figures.false_fails else "FALSE PASS" if outcome in figures.false_passes
                else f"outside {outcome.outside:g}" if outcome.outside else outcome.report or "ok")
        if args.verbose or flag not in ("ok", "named", "described"):
            print(f"[{flag}] {outcome.case.assignment}: {outcome.case.name}: lost {outcome.lost}")
            for message in outcome.messages if args.verbose or flag != "vague" else outcome.messages[:3]:
                print(f"    {message[:300]}")
    print("\n".join(figures.lines()))
    if args.json:
        args.json.write_text(json.dumps([{"case": o.case.name, "assignment": o.case.assignment, "lost": o.lost,
                                          "report": o.report} for o in figures.outcomes], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
