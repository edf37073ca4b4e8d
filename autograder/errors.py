"""The one root of dlgrade's expected failures.

Every failure a person can act on (a missing course folder, a broken rubric, an unreadable
submission path, a gradebook that does not exist, a sandbox that cannot start) is a
:class:`DlgradeError` whose message is one line: what went wrong and what to do. The command
line reports it once, as that line, with exit status 1. Anything else that escapes is a bug in
dlgrade and keeps its traceback.
"""

from __future__ import annotations


class DlgradeError(Exception):
    """An expected failure: ``str(error)`` is the one line to show, exit status 1."""
