"""Start-up of a one-off grading: `dlgrade grade` and `dlgrade check` timed as whole processes.

A TA who grades one student, or a regrade request, pays the interpreter, the imports, the sandbox's
start and self-test, the plan (rubrics, torch references, known mistakes) and the checks, every
time. This times three commands, each as a fresh process (wall time and the CPU time of the process
and the children it waited for), alternating a BEFORE tree and an AFTER tree run after run so that
the load of a shared machine falls on both alike, and prints the medians:

- ``grade`` of the bundled full submission (every assignment);
- ``grade`` of one of its files (one assignment: the others are not attempted);
- ``check losses``, the student's self-check against the release's frozen public values.

Then, once per tree and command, where the time goes: a timeline of the phases (the CLI's imports,
the torch and scipy imports wherever they happen, the sandbox's start and self-test, the plan, the
checks), taken by running the same CLI under wrappers that note when each phase starts and ends,
in which thread. The phases of different threads overlap.

    git worktree add /tmp/dlgrade-before <commit>
    python benchmarks/startup.py --before /tmp/dlgrade-before [--after .] [--runs 5]

Both trees run with this interpreter (its site-packages); each tree's own ``cli.py``, engine,
solutions and release are used, on this tree's fixtures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURE = REPOSITORY / "tests" / "fixtures" / "submissions" / "vectorized"
PHASES_ENV = "DLGRADE_STARTUP_PHASES"  # the driver writes its timeline to this file
ZERO_ENV = "DLGRADE_STARTUP_ZERO"  # time.time() just before the driver's process was started


def commands(tree: Path) -> dict[str, list[str]]:
    """The timed command lines (after ``python cli.py``) for the tree at ``tree``."""
    return {
        "grade, full submission": ["grade", str(FIXTURE), "--seed", "1"],
        "grade, one assignment": ["grade", str(FIXTURE / "losses.py"), "--seed", "1"],
        "check losses": ["check", "losses", str(tree / "assignments" / "losses" / "losses.py")],
    }


def run_once(tree: Path, arguments: list[str], scratch: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one whole ``python TREE/cli.py ARGUMENTS`` process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(tree / "cli.py"), *arguments], cwd=scratch,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_environment(tree))
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    error = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{tree}: `dlgrade {' '.join(arguments)}` failed ({process.returncode}):\n{error}")
    return wall, usage.ru_utime + usage.ru_stime


def _environment(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DLGRADE_SOLUTIONS", "DLGRADE_SEED")}
    env["PYTHONPATH"] = str(tree)  # the tree's engine before any installed one
    return env


# ---------------------------------------------------------------- where the time goes (the driver)

def drive(tree: str, arguments: list[str]) -> None:
    """Run the tree's CLI in this process, noting each phase's start and end (seconds since the
    process was started) and thread, then write them as JSON to $DLGRADE_STARTUP_PHASES."""
    import atexit
    import builtins
    import threading

    zero = float(os.environ[ZERO_ENV])
    spans: list[dict] = []

    def note(name: str, start: float) -> None:
        thread = "main" if threading.current_thread() is threading.main_thread() else "background"
        spans.append({"phase": name, "start": start - zero, "end": time.time() - zero, "thread": thread})

    watched = {"torch": "import torch", "scipy.stats": "import scipy.stats", "scipy.special": "import scipy.special"}
    original_import = builtins.__import__

    def timed_import(name, *args, **kwargs):
        missing = [m for m in watched if m not in sys.modules]
        start = time.time()
        try:
            return original_import(name, *args, **kwargs)
        finally:
            for module in missing:
                if module in sys.modules and not any(s["phase"] == watched[module] for s in spans):
                    note(watched[module], start)

    def wrap(owner, attribute: str, phase: str) -> None:
        function = getattr(owner, attribute, None)
        if function is None:
            return  # this tree has no such step
        bound = isinstance(owner.__dict__.get(attribute), classmethod)
        inner = function.__func__ if bound else function

        def timed(*args, **kwargs):
            start = time.time()
            try:
                return inner(*args, **kwargs)
            finally:
                note(phase, start)

        setattr(owner, attribute, classmethod(timed) if bound else timed)

    builtins.__import__ = timed_import
    sys.path.insert(0, tree)
    start = time.time()
    import cli  # noqa: E402  (the tree's)
    note("python start + CLI imports", zero)
    del start
    import autograder.sandbox as sandbox
    from autograder.judge import grader, rubric

    for attribute, phase in (("open", "sandbox start + self-test"), ("launch", "sandbox launch"),
                             ("prove", "sandbox start + self-test")):
        if attribute in sandbox.Sandbox.__dict__:
            wrap(sandbox.Sandbox, attribute, phase)
    if "launch" in sandbox.Sandbox.__dict__:  # open() is launch() + prove(): count them, not it
        sandbox.Sandbox.open = lambda self: self.launch().prove()
    wrap(grader.Plan, "for_course", "plan: rubrics, references, mutants")
    wrap(grader.Plan, "outline", "plan: rubrics only")
    wrap(rubric, "load_released", "plan: public checks, frozen values")
    wrap(grader, "grade", "grading (checks)")

    def write() -> None:
        spans.append({"phase": "exit", "start": time.time() - zero, "end": time.time() - zero, "thread": "main"})
        Path(os.environ[PHASES_ENV]).write_text(json.dumps(spans))

    atexit.register(write)
    cli.main(arguments, prog_name="dlgrade")


def phases(tree: Path, arguments: list[str], scratch: Path) -> list[dict]:
    """The timeline of one run of ``dlgrade ARGUMENTS`` from ``tree`` under the driver."""
    out = scratch / "phases.json"
    env = dict(_environment(tree), **{PHASES_ENV: str(out), ZERO_ENV: repr(time.time())})
    subprocess.run([sys.executable, __file__, "--drive", str(tree), "--", *arguments], cwd=scratch, env=env,
                   stdout=subprocess.DEVNULL, check=True)
    return json.loads(out.read_text())


def print_timeline(label: str, spans: list[dict]) -> None:
    print(f"  {label}")
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if span["phase"] == "exit":
            print(f"    {'process exit':<40} {'':>13} at {span['end']:6.2f} s")
            continue
        print(f"    {span['phase']:<40} {span['start']:6.2f} -> {span['end']:5.2f} s "
              f"({span['end'] - span['start']:5.2f} s, {span['thread']})")


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="the tree to compare with (a git worktree of the base commit)")
    parser.add_argument("--after", type=Path, default=REPOSITORY, help="the tree under test (default: this one)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command in each tree (median)")
    parser.add_argument("--drive", default=None, help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.arguments)
        return
    trees = {"after": args.after.resolve()}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    for label, tree in trees.items():
        if not (tree / "cli.py").is_file():
            parser.error(f"{tree} ({label}) holds no cli.py")
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-startup-") as folder:
        scratch = Path(folder)
        for round_number in range(args.runs):
            order = list(trees.items()) if round_number % 2 == 0 else list(reversed(trees.items()))
            for name in commands(REPOSITORY):
                for label, tree in order:
                    times.setdefault((name, label), []).append(run_once(tree, commands(tree)[name], scratch))
        print(f"whole processes, median of {args.runs} runs each, trees alternating "
              f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)")
        header = f"{'command':<26}" + "".join(f"{label + ' wall':>13}{label + ' CPU':>12}" for label in trees)
        print(header + (f"{'wall after/before':>19}" if len(trees) == 2 else ""))
        for name in commands(REPOSITORY):
            row = f"{name:<26}"
            walls = {}
            for label in trees:
                wall = statistics.median(w for w, _ in times[name, label])
                cpu = statistics.median(c for _, c in times[name, label])
                walls[label] = wall
                row += f"{wall:>11.2f} s{cpu:>10.2f} s"
            if len(trees) == 2:
                row += f"{walls['after'] / walls['before']:>19.2f}"
            print(row)
        print("\nwhere the time goes (one run each; seconds since the process started; threads overlap)")
        for name in commands(REPOSITORY):
            print(f"{name}")
            for label, tree in trees.items():
                print_timeline(label, phases(tree, commands(tree)[name], scratch))


if __name__ == "__main__":
    main()
