"""A local pool of warm grading workers: N processes, each with one plan and one sandbox.

The coordinator hands each worker one job at a time over its own pipe, so it always knows
which submission a worker holds. Answers are plain dicts (see :mod:`autograder.batch.worker`).
Inside a worker the per-submission time limit kills the running child and yields a timeout
verdict; should a worker itself stop answering (limit + :data:`GRACE_S`) or die, the
coordinator kills it, answers a timeout (stuck) or a tool failure (died: no grade, graded again
by the next run) for that submission alone, and starts a fresh worker for the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait

from autograder.batch.worker import GradingSettings
from autograder.states import State
from autograder.sandbox import placement
from autograder.errors import DlgradeError

GRACE_S = 60.0  # a worker's own deadline fires first; this catches a worker that is stuck itself


class PoolError(DlgradeError, RuntimeError):
    """The workers cannot start (the course material fails to load in them)."""


def _serve(connection, settings: GradingSettings, cpu: int | None) -> None:  # runs in the worker process
    from autograder.batch.worker import GradingWorker

    try:
        worker = GradingWorker(settings, cpu)
    except Exception as error:  # noqa: BLE001 - reported to the coordinator, which stops
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", worker.where))
    try:
        while True:
            job = connection.recv()
            if job is None:
                break
            connection.send(("done", worker.grade(job)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the coordinator went away: stop
    finally:
        worker.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip the interpreter's teardown (0.7 s with torch loaded): the worker has nothing left to write


@dataclass
class _Slot:
    process: multiprocessing.Process
    connection: object
    index: int
    ready: bool = False
    job: dict | None = None
    started: float = 0.0


class LocalPool:
    """Grade jobs on ``workers`` local processes (default: all cores)."""

    def __init__(self, settings: GradingSettings, workers: int | None = None):
        self.settings = settings
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._context = multiprocessing.get_context("spawn")  # torch and threads do not survive fork
        self._slots: list[_Slot] = []

    def _start(self, index: int) -> _Slot:
        mine, theirs = self._context.Pipe()
        cpu = placement.cpu_for_worker(index) if self.workers > 1 else None
        process = self._context.Process(target=_serve, args=(theirs, self.settings, cpu), daemon=True,
                                        name="dlgrade-worker")
        process.start()
        theirs.close()
        return _Slot(process, mine, index)

    def start(self) -> "LocalPool":
        """Start the workers now: they import torch and build their plans while this process
        does its own start-up (intake, the gradebook). Optional: :meth:`run` starts them otherwise."""
        if not self._slots:
            self._slots = [self._start(index) for index in range(self.workers)]
        return self

    def close(self) -> None:
        """Stop workers started by :meth:`start` that :meth:`run` never used."""
        for slot in self._slots:
            self._kill(slot)  # never given a job: nothing to lose, no need to wait for its start-up
        self._slots = []

    def run(self, jobs, on_result) -> None:
        """Grade every job; call ``on_result(job, answer)`` in this process as each one finishes."""
        pending = deque(jobs)
        started, self._slots = self._slots, []
        for slot in started[len(pending):]:  # more workers than jobs
            self._kill(slot)
        if not pending:
            return
        slots = started[:len(pending)]
        slots += [self._start(index) for index in range(len(slots), min(self.workers, len(pending)))]
        hard_limit = self.settings.time_limit + GRACE_S

        def hand_out(slot: _Slot) -> None:
            if slot.ready and slot.job is None and pending:
                slot.job, slot.started = pending.popleft(), time.monotonic()
                slot.connection.send(slot.job)

        try:
            while pending or any(s.job is not None for s in slots):
                for slot in slots:
                    hand_out(slot)
                for connection in wait([s.connection for s in slots], timeout=1.0):
                    slot = next(s for s in slots if s.connection is connection)
                    try:
                        kind, payload = connection.recv()
                    except (EOFError, OSError):
                        self._replace(slots, slot, on_result, State.TOOL_FAILURE,
                                      "dlgrade could not grade this submission: its grading worker died")
                        continue
                    if kind == "failed":
                        raise PoolError(f"a grading worker could not start: {payload}")
                    if kind == "ready":
                        slot.ready = True
                    else:
                        job, slot.job = slot.job, None
                        hand_out(slot)  # the worker grades the next one while this answer is recorded
                        on_result(job, payload)
                now = time.monotonic()
                for slot in slots:
                    if slot.job is not None and now - slot.started > hard_limit:
                        self._replace(slots, slot, on_result, State.TIMEOUT,
                                      f"grading took longer than the limit of {self.settings.time_limit:g} s")
        finally:
            self._stop_all(slots)

    def _replace(self, slots: list[_Slot], slot: _Slot, on_result, verdict: State, reason: str) -> None:
        job = slot.job
        if job is None and not slot.ready:
            raise PoolError("a grading worker stopped while starting")
        self._kill(slot)
        slots[slots.index(slot)] = self._start(slot.index)
        if job is not None:
            on_result(job, {"student": job["student"], "sha256": job["sha256"], "verdict": verdict.value,
                            "document": None, "reason": reason, "worker": "local"})

    @classmethod
    def _stop_all(cls, slots: list[_Slot]) -> None:
        """Ask every worker to stop, then reap each: they shut down side by side."""
        for slot in slots:
            try:
                slot.connection.send(None)
            except (BrokenPipeError, OSError):
                pass  # already gone
        for slot in slots:
            slot.process.join(timeout=10)
            cls._kill(slot)

    @staticmethod
    def _kill(slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(timeout=5)
        slot.connection.close()
