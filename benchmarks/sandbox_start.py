"""What it costs to start the sandbox once: the part of a one-off ``dlgrade grade`` that is not grading.

Two figures, each the median of ``--repeat`` runs taking turns (a shared machine's slow spell hits
both alike):

- ``python cli.py sandbox``: a fresh interpreter that starts the fork server in bubblewrap, runs the
  self-test (two confined children) and prints what isolates code, as a user would time it;
- the fork server alone, in this process: from ``ForkServer.start()`` until the server reports
  ready (bubblewrap, the runtime's mounts, an interpreter importing numpy inside).

    python benchmarks/sandbox_start.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))


def cli_sandbox_seconds() -> float:
    """Wall time of one ``python cli.py sandbox`` (which must pass its self-test)."""
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(REPOSITORY / "cli.py"), "sandbox"], cwd=REPOSITORY,
                               capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"`cli.py sandbox` failed:\n{completed.stdout}{completed.stderr}")
    return elapsed


def server_start_seconds() -> float:
    """Wall time from ForkServer.start() until the server inside bubblewrap reports ready."""
    from autograder.sandbox.forkserver import ForkServer

    server = ForkServer()
    started = time.perf_counter()
    server.start()
    elapsed = time.perf_counter() - started
    server.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    cli_times, server_times = [], []
    for run in range(args.repeat + 1):  # one warm-up round (page cache)
        cli, server = cli_sandbox_seconds(), server_start_seconds()
        if run:
            cli_times.append(cli)
            server_times.append(server)
    print(f"{args.repeat} rounds (median, min):")
    print(f"  python cli.py sandbox (start, self-test, report)   {statistics.median(cli_times):7.3f}s  "
          f"{min(cli_times):7.3f}s")
    print(f"  fork server start until ready                      {statistics.median(server_times):7.3f}s  "
          f"{min(server_times):7.3f}s")


if __name__ == "__main__":
    main()
