"""Terminal output: a table per assignment for TAs, a friendly checklist for students.

Student strings (messages, reasons, notes, names) reach the terminal only as ``rich.text.Text``
built by :func:`shown`: never parsed as markup (``[bold]`` or ``[link=...]`` in a message is
printed as written), and without control characters (an escape sequence in an exception message
would otherwise clear the TA's screen, retitle the window or write the clipboard).
"""

from __future__ import annotations

import sys
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.states import Outcome, State
from autograder.untrusted import inert

from autograder.judge.results import (
    ERROR, FAILED, NOT_ATTEMPTED, NOT_GRADABLE, PASSED, TIMEOUT, SubmissionResult, TestResult,
)

STYLE = {PASSED: "green", FAILED: "red", ERROR: "magenta", TIMEOUT: "yellow", NOT_ATTEMPTED: "dim"}
SYMBOL = {PASSED: "✔", FAILED: "✘", ERROR: "!", TIMEOUT: "⏱", NOT_ATTEMPTED: "·"}
MESSAGE_CHARS = 160


# Output into a pipe or a file has no width to fit: rich would wrap it at 80 columns (its default
# when the stream is no terminal), cutting lines a script or `grep` reads. Wide enough for any line
# dlgrade prints (messages are capped far below), so nothing wraps.
PIPE_WIDTH = 100_000


def make_console(stderr: bool = False, file=None) -> Console:
    """A console for ``file`` (default: stdout, or stderr): a terminal's own width, or, for a
    pipe or a file, no wrapping at all."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    console = Console(file=stream, stderr=stderr and file is None)
    if not console.is_terminal:
        console = Console(file=stream, stderr=stderr and file is None, width=PIPE_WIDTH, soft_wrap=True)
    return console


def count_states(states) -> str:
    """Each state once, in the vocabulary's order, with its label: "4 graded, 4 not gradable" (empty: "none")."""
    counts = Counter(State(state) for state in states)
    return ", ".join(f"{counts[state]} {state.label}" for state in State if counts[state]) or "none"


def shown(text: str, style: str = "", *, multiline: bool = False) -> Text:
    """``text`` as rich renders it literally: no markup, no control characters."""
    return Text(inert(str(text), multiline=multiline), style=style)


def _short(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_summary(result: SubmissionResult, console: Console | None = None) -> None:
    """The TA's view: one table per assignment, then the total."""
    console = console or make_console()
    for assignment in result.assignments:
        title = f"{assignment.assignment}: {assignment.score:g} / {assignment.max_score:g}"
        if assignment.status == NOT_GRADABLE:
            console.print(shown(f"{assignment.assignment}: {NOT_GRADABLE.label.upper()}: {assignment.reason}", "bold red"))
            continue
        if assignment.status == State.MISSING:
            console.print(shown(f"{title}: missing, {assignment.reason}", "bold yellow"))
            continue
        table = Table(title=title, title_justify="left", expand=False, show_lines=False)
        table.add_column("exercise")
        table.add_column("test")
        table.add_column("points", justify="right")
        table.add_column("outcome")
        table.add_column("feedback", overflow="fold")
        for test in (t for t in result.tests if t.assignment == assignment.assignment):
            feedback = test.message if test.outcome != PASSED else ""
            if test.mistake:
                feedback = f"[{test.mistake_title}] {feedback}"
            # Text, not markup: messages hold brackets (arrays, indices) that rich would eat.
            table.add_row(shown(test.exercise.split(".", 1)[1]), shown(test.name), f"{test.score:g}/{test.max_score:g}",
                          Text(Outcome(test.outcome).label, style=STYLE[test.outcome]), shown(_short(feedback)))
        console.print(table)
        for note in assignment.notes:
            console.print(shown(f"  note: {note}", "yellow"))
    status = "" if result.status != NOT_GRADABLE else f"  ({NOT_GRADABLE.label}: {result.reason})"
    console.print(shown(f"total: {result.score:g} / {result.max_score:g}{status}   seed {result.seed}", "bold"))


def print_self_check(result: SubmissionResult, console: Console | None = None) -> None:
    """The student's view of ``dlgrade check``: every public test, details of failures, what next."""
    console = console or make_console()
    for assignment in result.assignments:
        if assignment.status == NOT_GRADABLE:
            console.print(shown(f"✘ {assignment.file} could not be loaded:", "bold red"))
            console.print(shown(f"  {assignment.reason}", multiline=True))
            console.print("Fix that first: the file must run from top to bottom without errors.")
            return
    tests = result.tests
    for test in tests:
        console.print(shown(f"{SYMBOL[test.outcome]} {test.exercise}: {test.name}", STYLE[test.outcome]))
        if test.outcome != PASSED:
            _print_failure(test, console)
        for advice in test.advice:
            console.print(shown(f"    advice: {advice}", "yellow"))
    passed = sum(t.outcome == PASSED for t in tests)
    console.print()
    console.print(Text(f"{passed} of {len(tests)} public checks pass ({result.score:g} / {result.max_score:g} points)",
                       style="bold green" if passed == len(tests) else "bold"))
    console.print(Text(next_step(tests)))


def _print_failure(test: TestResult, console: Console) -> None:
    console.print(shown(f"    {test.message}", multiline=True))
    if test.mistake:
        console.print(shown(f"    likely mistake: {test.mistake_title}", "bold red"))
        if test.hint:
            console.print(shown(f"    hint: {test.hint}"))
    for line in test.details.splitlines():
        console.print(shown(f"      {line}", "dim"))


def next_step(tests: list[TestResult]) -> str:
    """One sentence: what the student should do now."""
    for outcome, advice in (
        (ERROR, "Next: fix the error in {f} (its message is above)."),
        (TIMEOUT, "Next: {f} did not finish in time; look for a loop that never ends."),
        (FAILED, "Next: {f} returns wrong values; compare your result with the expected one above."),
        (NOT_ATTEMPTED, "Next: implement {f} (replace `raise NotImplementedError`)."),
    ):
        pending = [t for t in tests if t.outcome == outcome]
        if pending:
            return advice.format(f=pending[0].exercise.split(".", 1)[1])
    return ("All public checks pass. Hidden checks grade more cases (other shapes, extreme values, "
            "float32 inputs): make sure your code follows the docstrings exactly.")


def print_roster_import(path, roster, changes, console: Console | None = None) -> None:
    """What ``dlgrade roster import`` read (the format it detected, rows skipped) and changed.

    ``roster``: an :class:`autograder.roster.Roster`; ``changes``: the gradebook's ``RosterImport``
    (``added``, ``updated``, ``unchanged`` lists of ids)."""
    console = console or make_console()
    # soft_wrap: lines as they are, never folded at the terminal's (or a pipe's 80) columns
    console.print(shown(f"read {path} as {roster.format.label}: {len(roster.entries)} students"), soft_wrap=True)
    for skipped in roster.skipped[:20]:
        console.print(shown(f"  skipped {skipped}", "yellow"), soft_wrap=True)
    if len(roster.skipped) > 20:
        console.print(shown(f"  ... and {len(roster.skipped) - 20} more rows skipped", "yellow"), soft_wrap=True)
    console.print(Text(f"gradebook: {len(changes.added)} added, {len(changes.updated)} updated, "
                       f"{len(changes.unchanged)} unchanged", style="bold"), soft_wrap=True)


def print_roster(students, missing: set[str], console: Console | None = None) -> None:
    """The gradebook's students (objects with ``id``, ``name``, ``login``, ``email``, ``section``,
    ``on_roster``), and which of the roster's (ids in ``missing``) have no submission."""
    console = console or make_console()
    if not console.is_terminal:  # piped: rows whole, not folded into 80 columns
        console = make_console(file=console.file)
    table = Table(title=f"{len(students)} students", title_justify="left")
    for column in ("id", "name", "login", "email", "section", "submission"):
        table.add_column(column, overflow="fold")
    for student in students:
        status = "missing" if student.id in missing else ("handed in" if student.on_roster else "not on the roster")
        table.add_row(shown(student.id), shown(student.name), shown(student.login), shown(student.email),
                      shown(student.section), Text(status, style="red" if student.id in missing else ""))
    console.print(table)
    if missing:
        console.print(Text(f"{len(missing)} on the roster without a submission", style="bold red"), soft_wrap=True)
