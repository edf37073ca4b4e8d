"""Student strings where they enter the judge: capped per field and per submission, without
control characters; the console shows markup and escape sequences as inert text."""

import os

from hypothesis import given, strategies as st
from rich.console import Console

from autograder import untrusted
from autograder.console import print_self_check, print_summary
from autograder.judge import results
from autograder.judge.session import Session, StudentError, WorkerCrashed

import pytest

CLEAR_AND_TITLE = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07"  # clear screen, title, clipboard
RLO = "\u202e"


def test_inert_removes_escapes_bidi_and_surrogates_and_keeps_lines_where_asked():
    text = f"a{CLEAR_AND_TITLE}b\r\nc\td{RLO}e\x85f\udcff"
    assert untrusted.inert(text) == "a[2J]0;pwned]52;c;ZWNobyBvd25lZA==b c def\ufffd"
    assert untrusted.inert(text, multiline=True) == "a[2J]0;pwned]52;c;ZWNobyBvd25lZA==b\nc\tdef\ufffd"


@given(st.text())
def test_inert_output_has_no_control_character_and_never_grows(text):
    for multiline in (False, True):
        clean = untrusted.inert(text, multiline=multiline)
        assert len(clean) <= len(text)
        assert not any(ord(c) < 32 and c not in "\n\t" for c in clean)
        assert not any(0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in clean)
        clean.encode("utf-8")  # no lone surrogate left: every writer accepts it


def test_budget_caps_each_field_and_the_submission_total():
    budget = untrusted.Budget(total=1000)
    name = budget.take("f" * 10_000_000)
    assert len(name) == untrusted.LINE and name.endswith("more characters]")
    assert budget.used == untrusted.LINE and budget.dropped > 9_000_000
    message = budget.take("m" * 5000, 700, multiline=True)
    assert len(message) == 700
    last = budget.take("x" * 500, 500)
    assert len(last) == 100  # what was left of the 1000
    assert budget.take("anything") == untrusted.SPENT and budget.left == 0
    assert budget.take(["a", "huge", "list"] * 100000) == untrusted.SPENT


def test_budget_lists_are_bounded_and_deduplicated():
    budget = untrusted.Budget()
    kept = budget.take_list([f"w{i % 50}" for i in range(10_000)], items=5)
    assert kept == ["w0", "w1", "w2", "w3", "w4"]
    assert budget.take_list({"not": "a list"}) == [] and budget.take_list(None) == []
    assert budget.take(12) == "12" and budget.take({"a": 1}) == "<dict>"


class FakeChild:
    """A child that answers every request with one crafted answer (what a tampered child may send)."""

    alive, isolated = True, True

    def __init__(self, answer):
        self.answer = answer

    def request(self, request, timeout):
        return self.answer

    def kill(self):
        pass


def session_answering(answer) -> Session:
    session = Session(lambda: FakeChild(answer))
    session.start()
    return session


def test_a_hostile_error_description_is_capped_and_inert_where_it_arrives():
    answer = {"ok": False, "error": {"kind": "raised", "type": "E" * 1_000_000 + "\x1b[2J",
                                     "message": ("m" * 100 + CLEAR_AND_TITLE) * 100_000,
                                     "where": {"line": "12; rm -rf", "function": "f" * 5_000_000}},
              "warnings": [f"warning {i}\x1b]0;title\x07" for i in range(100_000)]}
    session = session_answering(answer)
    with session.test("perceptron", 5):
        with pytest.raises(StudentError) as raised:
            session.fetch(session.call("step", 1))
    error = raised.value
    assert 50 <= len(error.type_name) <= untrusted.LINE and 1000 < len(error.message) <= untrusted.MESSAGE
    assert error.where == {"line": None, "function": error.where["function"]}
    assert 50 <= len(error.where["function"]) <= untrusted.LINE
    assert 0 < len(session.warnings) <= untrusted.ITEMS and all("\x1b" not in w for w in session.warnings)
    assert "\x1b" not in error.describe() and "\x07" not in error.describe()
    assert len(error.describe()) < untrusted.MESSAGE + 3 * untrusted.LINE


def test_every_answer_spends_one_budget_per_submission():
    answer = {"ok": False, "error": {"kind": "raised", "type": "ValueError", "message": "x" * 10**6}}
    session = session_answering(answer)
    lengths = []
    for _ in range(200):  # a message sent again for every test of the submission
        with session.test("perceptron", 5):
            with pytest.raises(StudentError) as raised:
                session.fetch(session.call("step", 1))
        lengths.append(len(raised.value.message))
    assert sum(lengths) <= untrusted.SUBMISSION_CHARS + 200 * len(untrusted.SPENT)
    assert raised.value.message == untrusted.SPENT


def test_load_notes_and_errors_are_bounded():
    notes = [f"code cell {i} raised ValueError: {'n' * 10_000}\x1b[31m" for i in range(10_000)]
    session = session_answering({"ok": True, "warnings": notes})
    kept = session.load("perceptron", ["x = 1"], "perceptron.ipynb", True)
    assert len(kept) == untrusted.ITEMS and all(len(n) <= untrusted.NOTE and "\x1b" not in n for n in kept)
    session = session_answering({"ok": False, "error": {"kind": "protocol", "type": "X", "message": "\x1b[2J" * 10**6}})
    with session.test("perceptron", 5):
        with pytest.raises(WorkerCrashed) as crashed:
            session.fetch(session.call("step", 1))
    assert len(str(crashed.value)) < untrusted.MESSAGE + 300 and "\x1b" not in str(crashed.value)


def hostile_result() -> results.SubmissionResult:
    text = "[bold red]FAKE: full marks[/bold red] [link=https://evil.example]click[/link]" + CLEAR_AND_TITLE
    test = results.TestResult("step on ints" + CLEAR_AND_TITLE, "perceptron", "perceptron.step", 0.0, 1.0, "error",
                      message=text, details=text + "\nline two" + CLEAR_AND_TITLE, advice=[text])
    assignment = results.AssignmentResult("perceptron", "graded", 0.0, 1.0, "perceptron.py", notes=[text])
    return results.SubmissionResult("x", [assignment], [test], seed=1)


def test_the_console_shows_student_markup_literally_and_no_control_character():
    console = Console(record=True, width=400, file=open(os.devnull, "w"), force_terminal=True, color_system=None)
    print_summary(hostile_result(), console)
    print_self_check(hostile_result(), console)
    plain = console.export_text(styles=False)
    assert "[bold red]FAKE: full marks[/bold red]" in plain and "[link=https://evil.example]" in plain
    assert "\x1b" not in plain and "\x07" not in plain
