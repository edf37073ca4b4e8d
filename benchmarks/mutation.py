"""Mutation testing of the judge's comparison, statistics and value/gradient checks (slow: not CI).

Runs mutmut 3 (``pip install -e ".[mutation]"``) in a scratch copy of the repository (mutmut
writes a ``mutants/`` folder next to the code), on:

- ``autograder/judge/compare.py`` (every mutant),
- ``autograder/judge/statistics.py`` (every mutant),
- ``autograder/judge/checks.py``, its value and gradient parts only: ``ValueCheck``,
  ``GradientCheck`` and the ``Trial`` methods they fail through (``mismatch``, ``diagnose``,
  ``ignored_input`` with ``zeroed_inputs``).

Each mutant is tested by the fast, in-process unit tests that pin these files (``TESTS``; mutmut
runs only those of them that reach the mutated function). It prints, per target, the score
(killed / tested, a timeout counting as killed), then every surviving mutant; ``--diffs`` also
prints each survivor's diff, for the review of why it is equivalent
(``benchmarks/mutation_survivors.md`` lists the last run's survivors and why each is equivalent)::

    python benchmarks/mutation.py                         # all three targets, ~9 min on 2 cores
    python benchmarks/mutation.py --only compare --diffs  # one target
    python benchmarks/mutation.py --keep /tmp/mut         # reuse (and keep) a scratch folder:
                                                          # mutmut re-tests only what changed
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    """A file to mutate and the mutants of it that count (mutmut's names, as fnmatch patterns)."""

    path: str
    patterns: tuple[str, ...]


MODULE = "autograder.judge."
TARGETS = {
    "compare": Target("autograder/judge/compare.py", (MODULE + "compare.*",)),
    "statistics": Target("autograder/judge/statistics.py", (MODULE + "statistics.*",)),
    # mutmut names a method's mutant <module>.xǁ<Class>ǁ<method>__mutmut_<n>
    "checks": Target("autograder/judge/checks.py", (
        MODULE + "checks.xǁValueCheckǁ*", MODULE + "checks.xǁGradientCheckǁ*",
        MODULE + "checks.xǁTrialǁmismatch__*", MODULE + "checks.xǁTrialǁdiagnose__*",
        MODULE + "checks.xǁTrialǁignored_input__*", MODULE + "checks.x_zeroed_inputs__*")),
}
TESTS = ["tests/test_compare.py", "tests/test_statistics.py", "tests/test_checks_unit.py"]
COPY = ["autograder", "tests", "solutions", "assignments", "cli.py", "pyproject.toml"]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
UNTESTED = {"skipped", "not checked", "no tests", "check was interrupted by user"}
RESULT_LINE = re.compile(r"^\s*(\S+__mutmut_\d+): (\S.*)$")


def mutmut_settings(targets: list[Target]) -> str:
    """The ``[tool.mutmut]`` table for the scratch copy's pyproject.toml (TOML lists of strings)."""

    def toml_list(values) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    return ("\n[tool.mutmut]\n"
            'source_paths = ["autograder"]\n'
            f"only_mutate = {toml_list(t.path for t in targets)}\n"
            f"pytest_add_cli_args_test_selection = {toml_list(TESTS)}\n"
            # a fixed hypothesis seed: the same examples for every mutant, so runs are reproducible
            # the repeated runs of whole samplers (false and true rejections 30-300 times over, ~35 s)
            # are left to CI: each test's boundaries are pinned on both sides by the fast tests
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "--hypothesis-seed=0", "-k", "not every_time"]\n'
            'also_copy = ["solutions/", "assignments/", "cli.py"]\n')


def scratch_copy(target: Path, targets: list[Target]) -> None:
    """The repository's code, course and tests in ``target``, with the mutmut settings appended."""
    missing = [t for t in TESTS if not (REPOSITORY / t).exists()]
    if missing:
        raise SystemExit(f"missing test files: {missing}")
    for name in COPY:
        source, destination = REPOSITORY / name, target / name
        if source.is_dir():
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
        else:
            shutil.copy2(source, destination)
    with open(target / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write(mutmut_settings(targets))


def mutmut(work: Path, *args: str, capture: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, check=False,
                          capture_output=capture, text=True)
    return done.stdout if capture else ""


def parse_results(listing: str) -> dict[str, str]:
    """``mutmut results --all true`` as {mutant name: status}."""
    return {m[1]: m[2].strip() for m in map(RESULT_LINE.match, listing.splitlines()) if m}


def report(name: str, target: Target, statuses: dict[str, str], work: Path, diffs: bool) -> tuple[int, int]:
    """Print one target's score and survivors; return (killed, tested)."""
    from fnmatch import fnmatchcase

    mine = {k: v for k, v in statuses.items() if any(fnmatchcase(k, p) for p in target.patterns)}
    tested = {k: v for k, v in mine.items() if v not in UNTESTED}
    killed = sorted(k for k, v in tested.items() if v in KILLED)
    survivors = sorted(k for k, v in tested.items() if v not in KILLED)
    untested = sorted(k for k, v in mine.items() if v in UNTESTED)
    score = f"{100 * len(killed) / len(tested):.1f}%" if tested else "n/a"
    print(f"{name} ({target.path}): mutants {len(mine)}, tested {len(tested)}, killed {len(killed)}, "
          f"survived {len(survivors)}, untested {len(untested)}: score {score}")
    for mutant in survivors:
        print(f"  {tested[mutant]}: {mutant}")
        if diffs:
            print(mutmut(work, "show", mutant, capture=True))
    for mutant in untested:
        print(f"  {mine[mutant]}: {mutant}")
    return len(killed), len(tested)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TARGETS), action="append")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="scratch folder to use and keep (reuses earlier results)")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    args = parser.parse_args()
    names = args.only or sorted(TARGETS)
    targets = [TARGETS[n] for n in names]
    with tempfile.TemporaryDirectory(prefix="dlgrade-mutation-") as folder:
        work = args.keep or Path(folder)
        work.mkdir(parents=True, exist_ok=True)
        scratch_copy(work, targets)
        patterns = [p for t in targets for p in t.patterns]
        mutmut(work, "run", f"--max-children={args.max_children}", *patterns)
        statuses = parse_results(mutmut(work, "results", "--all", "true", capture=True))
        if not statuses:
            print("mutmut reported no mutants: see its output above")
            return 1
        killed = tested = 0
        for name, target in zip(names, targets):
            k, t = report(name, target, statuses, work, args.diffs)
            killed, tested = killed + k, tested + t
    print(f"overall: {killed} of {tested} tested mutants killed: score {100 * killed / max(tested, 1):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
