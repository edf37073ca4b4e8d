"""Mutation testing of the judge's comparison, statistics and value/gradient checks (slow: not CI).

Runs mutmut (``pip install -e ".[mutation]"``) on ``autograder/judge/compare.py``,
``autograder/judge/statistics.py`` and ``autograder/judge/checks.py`` against the fast unit
tests that pin them, in a scratch copy of the repository (mutmut writes a ``mutants/`` folder),
then prints the score (killed / tested) and every surviving mutant's name, for review:

    python benchmarks/mutation.py                 # all three files
    python benchmarks/mutation.py --only compare  # one file
    python benchmarks/mutation.py --max-children 2

A survivor is either a test to add or an equivalent mutant (list it with why in the change note).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
FILES = {"compare": "autograder/judge/compare.py", "statistics": "autograder/judge/statistics.py",
         "checks": "autograder/judge/checks.py"}
TESTS = ["tests/test_compare.py", "tests/test_statistics.py", "tests/test_symptoms.py", "tests/test_naming.py",
         "tests/test_checks_unit.py"]
COPY = ["autograder", "tests", "solutions", "assignments", "cli.py", "pyproject.toml"]


def scratch_copy(target: Path, files: list[str]) -> None:
    for name in COPY:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
        elif source.exists():
            shutil.copy2(source, target / name)
    tests = [t for t in TESTS if (REPOSITORY / t).exists()]
    config = ("\n[tool.mutmut]\n"
              'source_paths = ["autograder/"]\n'
              f"only_mutate = {files!r}\n".replace("'", '"')
              + f"pytest_add_cli_args_test_selection = {tests!r}\n".replace("'", '"')
              + 'pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q"]\n'
              + 'also_copy = ["solutions/", "assignments/", "cli.py"]\n')
    with open(target / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write(config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FILES), action="append")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    files = [FILES[name] for name in (args.only or sorted(FILES))]
    with tempfile.TemporaryDirectory(prefix="dlgrade-mutation-") as folder:
        work = Path(folder)
        scratch_copy(work, files)
        subprocess.run([sys.executable, "-m", "mutmut", "run", f"--max-children={args.max_children}"], cwd=work,
                       check=False)
        listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                                 capture_output=True, text=True, check=False).stdout
    statuses: dict[str, str] = {}
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+): (\w[\w ]*)$", line)
        if match:
            statuses[match[1]] = match[2].strip()
    tested = {k: v for k, v in statuses.items() if v not in ("skipped", "not checked", "no tests")}
    killed = [k for k, v in tested.items() if v in ("killed", "timeout")]
    survivors = sorted(k for k, v in tested.items() if v == "survived")
    no_tests = sorted(k for k, v in statuses.items() if v == "no tests")
    print(f"mutants: {len(statuses)}; tested: {len(tested)}; killed: {len(killed)}; "
          f"survived: {len(survivors)}; no tests: {len(no_tests)}")
    if tested:
        print(f"score: {100 * len(killed) / len(tested):.1f}% of tested mutants killed")
    for name in survivors:
        print(f"survived: {name}")
    for name in no_tests:
        print(f"no test reaches: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
