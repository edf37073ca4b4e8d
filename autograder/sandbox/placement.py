"""Where the judge and its child run: together, on one CPU.

The judge and the child take turns: a request, an answer, the next request. On two CPUs every
turn wakes an idle CPU, and in a virtual machine that costs 150-300 µs (measured on the
project's machines: 300 µs per round trip once each side computes between messages, against
27 µs when both share one CPU). A full submission makes about 30 round trips. So a grading
thread is pinned to one CPU, and the sandbox starts each child with the affinity of the thread
that asked for it (:meth:`~autograder.sandbox.forkserver.ForkServer.start_child`).

A pinned judge runs torch with one thread: a second one would only compete for the same CPU.
"""

from __future__ import annotations

import contextlib
import os
import sys


def allowed_cpus() -> list[int]:
    """The CPUs this thread may run on, in order."""
    return sorted(os.sched_getaffinity(0))


def current_cpu() -> int | None:
    """The CPU the calling thread is running on now (None where Linux's /proc is missing)."""
    try:
        with open("/proc/thread-self/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[36])  # field 39, "processor"
    except (OSError, ValueError, IndexError):
        return None


def cpu_for_worker(index: int) -> int:
    """The CPU of local worker ``index``: one each while there are enough, then round robin."""
    cpus = allowed_cpus()
    return cpus[index % len(cpus)]


def pin(cpu: int) -> None:
    """Pin the calling thread (and every process and thread it starts from now on) to ``cpu``."""
    os.sched_setaffinity(0, {cpu})
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@contextlib.contextmanager
def pinned(cpu: int | None = None):
    """Run the block pinned to ``cpu`` (default: the CPU the thread is on), then restore the affinity.

    Does nothing where the thread is already confined to one CPU or its CPU cannot be read."""
    before = os.sched_getaffinity(0)
    cpu = current_cpu() if cpu is None else cpu
    if len(before) == 1 or cpu not in before:
        yield
        return
    threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    pin(cpu)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
        if threads is not None:
            sys.modules["torch"].set_num_threads(threads)
