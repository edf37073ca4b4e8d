"""Strings that come from a submission, made bounded and inert where they enter the trusted side.

Everything a student controls ends up in text the grader stores, writes and prints: exception
messages and types, function names, warnings, notebook cell notes, file and folder names, names
in an LMS download. Each such string passes through a :class:`Budget` (one per submission) the
moment it is received, and leaves it:

- **capped**: at most ``limit`` characters (a field's own cap, :data:`LINE` for names and
  :data:`MESSAGE` for messages), and the submission's strings together at most
  :data:`SUBMISSION_CHARS`; once that is spent, every further string is :data:`SPENT`. A megabyte
  name copied into 160 test messages thus costs at most ``160 * LINE`` characters.
- **inert**: no control characters reach a terminal, a database or a file. C0 and C1 controls
  (ESC starts every terminal escape sequence: clear screen, window title, OSC 52 clipboard
  writes), DEL, the Unicode bidirectional overrides and isolates (text that reads differently
  from what it is), and lone surrogates (undecodable bytes: no UTF-8 encoder accepts them) are
  removed or replaced. Multi-line fields (messages, details) keep ``\\n`` and ``\\t``, which only
  move the cursor forward; one-line fields (names, types, notes) turn them into spaces. ``\\r``
  is dropped everywhere (it rewrites the line a TA is reading).

Rich markup is not interpreted here: the console renders student strings as ``rich.text.Text``
(never as markup), and :func:`markup` escapes a string for the few places that build markup;
:func:`plot_label` does the same for a matplotlib label.
"""

from __future__ import annotations

import re

LINE = 200             # a name, a type, a function name
NOTE = 300             # one warning, one notebook cell note, one intake note
MESSAGE = 2_000        # an exception message, a load error, a test's details
ITEMS = 20             # warnings or notes kept from one answer
SUBMISSION_CHARS = 200_000  # all of one submission's strings together
SPENT = "[text dropped: this submission's output limit is reached]"

# C0 but tab and newline, DEL, C1, bidi marks/embeddings/overrides/isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile("[\t\n]+")


def inert(text: str, *, multiline: bool = False) -> str:
    """``text`` without control characters (see the module docstring); its length never grows."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text.replace("\r\n", "\n")))
    return text if multiline else _BREAKS.sub(" ", text)


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    tail = f"... [{len(text) - limit} more characters]"
    return text[: max(limit - len(tail), 0)] + tail[: limit]


def as_text(value) -> str:
    """A received value as a string, without ever printing a large structure (a list stays "<list>")."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)[:LINE]
    return f"<{type(value).__name__}>"


class Budget:
    """The characters one submission may still bring into the trusted side.

    ``take`` is the only way in: each string is capped to its field's limit and to what is left,
    then made inert. ``used`` counts what was taken; ``dropped`` counts the characters cut off.
    """

    def __init__(self, total: int = SUBMISSION_CHARS):
        self.left = total
        self.used = 0
        self.dropped = 0

    def take(self, value, limit: int = LINE, *, multiline: bool = False) -> str:
        text = as_text(value)
        if not text:
            return ""
        if self.left <= 0:
            self.dropped += len(text)
            return SPENT
        allowed = min(limit, self.left)
        # Cut before cleaning (slicing costs what is kept): cleaning never makes a string longer.
        clean = inert(cap(text, allowed), multiline=multiline)
        self.dropped += max(len(text) - len(clean), 0)
        self.left -= len(clean)
        self.used += len(clean)
        return clean

    def take_list(self, values, limit: int = LINE, items: int = ITEMS) -> list[str]:
        """At most ``items`` distinct non-empty strings of ``values`` (any value: a non-list gives [])."""
        if not isinstance(values, (list, tuple)):
            return []
        kept: list[str] = []
        for value in values[: items * 4]:
            text = self.take(value, limit)
            if text and text not in kept:
                kept.append(text)
            if len(kept) >= items:
                break
        return kept


def markup(text: str) -> str:
    """``text`` escaped for rich markup (``[bold]`` shown as written), after :func:`inert`."""
    from rich.markup import escape

    return escape(inert(text))


def plot_label(text: str) -> str:
    """``text`` (after :func:`inert`, one line) for a matplotlib label or title, drawn as written.

    matplotlib parses text between two ``$`` as mathtext (a ``$\\frac{$`` raises when drawn):
    every ``$`` is escaped: then no ``$`` is left unescaped, so the text is never mathtext, and
    matplotlib shows each ``\\$`` as ``$``.
    """
    return inert(text).replace("$", "\\$")
