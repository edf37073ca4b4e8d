"""How one assignment's rubric holds up over many course seeds (the hidden inputs change with it).

For each seed: the correct submissions in every style of ``tests/fixtures/submissions`` (float32,
loops, vectorized) must score full marks, and, on the first ``--mistake-seeds`` seeds, the model
answer must score full marks and every known mistake must lose points, only in the exercises it
affects, and be named. Prints the count per style and per mistake, and every seed that failed.
Grading runs in-process (no sandbox): this measures the rubric, not the isolation.

    python benchmarks/seed_robustness.py normalization [--seeds 200] [--mistake-seeds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "tests" / "fixtures" / "submissions"


def _mistake_problem(result, mutant) -> str | None:
    """Why a graded known mistake is not caught as it should be, or None."""
    failed = [t for t in result.tests if t.score < t.max_score]
    if not failed:
        return "full marks"
    outside = {t.exercise for t in failed} - set(mutant.affects)
    if outside:
        return f"points lost outside {mutant.affects}: {sorted(outside)}"
    if not any(t.mistake == mutant.id for t in failed):
        return "not named"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--seeds", type=int, default=200, help="seeds for the correct styles")
    parser.add_argument("--mistake-seeds", type=int, default=20, help="seeds for the answer and the known mistakes")
    parser.add_argument("--first-seed", type=int, default=1)
    args = parser.parse_args()

    from autograder.course import Course
    from autograder.judge.grader import Plan, grade
    from autograder.judge.rubric import load_rubric

    course = Course.locate(REPOSITORY / "solutions")
    name = course.select([args.assignment])[0]
    mutants = load_rubric(course, name).mutants
    answer = course.answer_source(name).read_text()
    styles = sorted(p.parent.name for p in FIXTURES.glob(f"*/{name}.py"))
    passed, failures = Counter(), []
    with tempfile.TemporaryDirectory() as folder:
        sources = {"answer": answer, **{m.id: answer + "\n\n" + m.submission_source for m in mutants}}
        paths = {}
        for label, source in sources.items():
            paths[label] = Path(folder) / label.replace(".", "_") / f"{name}.py"
            paths[label].parent.mkdir()
            paths[label].write_text(source)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            plan = Plan.for_course(course, (name,), seed, "cpu")
            for style in styles:
                result = grade(FIXTURES / style / f"{name}.py", plan)
                if result.score == result.max_score:
                    passed[style] += 1
                else:
                    failures.append((seed, style, [t.name for t in result.tests if t.score < t.max_score]))
            if seed >= args.first_seed + args.mistake_seeds:
                continue
            result = grade(paths["answer"], plan)
            passed["answer"] += result.score == result.max_score
            for mutant in mutants:
                problem = _mistake_problem(grade(paths[mutant.id], plan), mutant)
                if problem:
                    failures.append((seed, mutant.id, problem))
                else:
                    passed[mutant.id] += 1

    print(f"{name}: seeds {args.first_seed}..{args.first_seed + args.seeds - 1}")
    for style in styles:
        print(f"  correct, {style:<11} full marks in {passed[style]:>4} of {args.seeds} seeds")
    print(f"  model answer           full marks in {passed['answer']:>4} of {args.mistake_seeds} seeds")
    for mutant in mutants:
        print(f"  {mutant.id:<60} caught and named in {passed[mutant.id]:>3} of {args.mistake_seeds} seeds")
    for failure in failures:
        print("  FAILED:", *failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
