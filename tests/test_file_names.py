"""File names as LMSs and browsers write them: any case, ``(1)``/``-1``/``_1`` copies, Canvas's
resubmissions, and which copy is graded (and the note that says why), in the intake and `dlgrade grade`."""

import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from autograder.batch.intake import discover
from autograder.submission import FileCandidate, FileMatch, assignment_of, choose_file, find_files

from support import ASSIGNMENTS

MARKERS = {"": None, " ({n})": "paren", "({n})": "paren", "-{n}": "plain", "_{n}": "plain"}


def mixed_case(draw_bits, text: str) -> str:
    return "".join(c.upper() if bit else c.lower() for c, bit in zip(text, draw_bits))


@given(assignment=st.sampled_from(ASSIGNMENTS), marker=st.sampled_from(sorted(MARKERS)),
       number=st.integers(1, 9999), suffix=st.sampled_from([".py", ".ipynb", ".PY", ".IPYNB", ".Py"]),
       bits=st.lists(st.booleans(), min_size=40, max_size=40))
def test_every_case_and_copy_marker_is_recognised(assignment, marker, number, suffix, bits):
    name = mixed_case(bits, assignment) + marker.format(n=number) + suffix
    match = assignment_of(name, ASSIGNMENTS)
    assert match is not None, name
    assert (match.assignment, match.suffix) == (assignment, suffix.lower())
    assert match.copy == (number if marker else 0)
    assert match.marker == marker.format(n=number)


@given(name=st.text(min_size=1, max_size=30), suffix=st.sampled_from([".py", ".ipynb", ".txt", ""]))
def test_a_match_is_always_an_assignment_name_and_nothing_else(name, suffix):
    """Whatever the name, a match's stem is the assignment (any case), with at most one copy marker."""
    match = assignment_of(name + suffix, ASSIGNMENTS)
    if match is None:
        return
    stem = os.path.splitext(os.path.basename(name + suffix))[0].strip()
    assert stem.casefold().startswith(match.assignment.casefold())
    rest = stem[len(match.assignment):]
    assert rest == match.marker and (match.copy == 0) == (rest == "")


@pytest.mark.parametrize("name", ["notes.py", "losses.txt", "losses (1).zip", "losses_v2.py", "my_losses.py",
                                  "losses_20240301.py", "losses (1) (2).py", "losses.py.bak", "losses-.py"])
def test_names_that_are_no_assignment_file(name):
    assert assignment_of(name, ASSIGNMENTS) is None


def test_an_assignment_named_like_a_copy_is_matched_whole():
    assert assignment_of("lab_1.py", ["lab", "lab_1"]) == FileMatch("lab_1", ".py")
    assert assignment_of("lab_2.py", ["lab", "lab_1"]) == FileMatch("lab", ".py", 2, "_2")
    assert assignment_of("Losses (1).py", ["losses"]) == FileMatch("losses", ".py", 1, " (1)")


def candidate(name: str, mtime: float, canvas: bool = False) -> FileCandidate:
    return FileCandidate(Path(name), assignment_of(name, ["losses"]), mtime, canvas)


def test_canvas_resubmission_beats_the_timestamp():
    best, why = choose_file([candidate("losses.py", 200.0, True), candidate("losses-1.py", 100.0, True),
                             candidate("losses-2.py", 50.0, True)])
    assert best.path.name == "losses-2.py" and why.startswith("Canvas resubmission 2, the latest")


def test_at_equal_times_a_resubmission_or_copy_wins_over_the_original():
    for canvas in (False, True):
        best, why = choose_file([candidate("losses.py", 100.0, canvas), candidate("losses-1.py", 100.0, canvas)])
        assert best.path.name == "losses-1.py"
    best, why = choose_file([candidate("losses.py", 100.0), candidate("Losses (1).py", 100.0)])
    assert best.path.name == "Losses (1).py"
    assert why.startswith("saved at the same time as losses.py") and "a later copy ((1)) wins over the original" in why


def test_outside_canvas_the_newest_file_wins_even_over_a_copy():
    best, why = choose_file([candidate("losses.py", 300.0), candidate("losses (2).py", 100.0)])
    assert best.path.name == "losses.py" and why.startswith("the newest, saved 1970-01-01 00:05:00 UTC")


COPIES = st.lists(st.tuples(st.sampled_from(["", " (1)", "-2", "_3", " (12)", "-1"]), st.sampled_from([".py", ".ipynb"]),
                            st.sampled_from([100.0, 200.0, 300.0])), min_size=1, max_size=6, unique_by=lambda t: t[:2])


@given(copies=COPIES, canvas=st.booleans())
def test_the_chosen_file_is_the_latest_by_the_documented_order(copies, canvas):
    """Outside Canvas: the newest, then the highest copy, then the .py; from Canvas: the highest
    resubmission first, then the time. The reason names the rule that decided."""
    candidates = [candidate(f"losses{marker}{suffix}", mtime, canvas) for marker, suffix, mtime in copies]
    best, why = choose_file(candidates)
    if canvas:
        assert best.match.copy == max(c.match.copy for c in candidates)
        assert best.mtime == max(c.mtime for c in candidates if c.match.copy == best.match.copy)
    else:
        assert best.mtime == max(c.mtime for c in candidates)
        assert best.match.copy == max(c.match.copy for c in candidates if c.mtime == best.mtime)
    rivals = [c for c in candidates if c is not best]
    assert (why == "") == (not rivals)
    if rivals and not canvas and best.mtime > max(c.mtime for c in rivals):
        assert why.startswith("the newest")


def write(path: Path, text: str, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_intake_recognises_the_variants_and_stages_the_plain_name(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "ada" / "LOSSES.IPYNB", "{}", 1000.0)
    write(subs / "alan" / "Losses (1).py", "x = 'copy'\n", 1000.0)
    write(subs / "alan" / "losses.py", "x = 'original'\n", 1000.0)
    write(subs / "grace" / "Activations_2.py", "x = 2\n", 1000.0)
    write(subs / "grace" / "activations-1.py", "x = 1\n", 2000.0)  # the newest wins outside Canvas
    found = {s.student: s for s in discover(subs, tmp_path / "stage", ASSIGNMENTS).submissions}
    assert sorted(p.name for p in found["ada"].path.iterdir()) == ["losses.ipynb"]
    assert (found["alan"].path / "losses.py").read_text() == "x = 'copy'\n"
    (note,) = [n for n in found["alan"].notes if n.startswith("losses:")]
    assert note.startswith("losses: 2 files; graded Losses (1).py (saved at the same time as losses.py")
    assert note.endswith("not losses.py")
    assert (found["grace"].path / "activations.py").read_text() == "x = 1\n"


def test_canvas_download_with_equal_times_grades_the_resubmission(tmp_path):
    root = tmp_path / "dl"
    root.mkdir()
    when = (2026, 12, 1, 12, 0, 0)  # Canvas's zip gives every member the download's time
    with zipfile.ZipFile(root / "submissions.zip", "w") as archive:
        for name, text in {"lovelaceada_4711_9001_losses.py": "x = 'first'\n",
                           "lovelaceada_4711_9001_losses-1.py": "x = 'second'\n",
                           "lovelaceada_4711_9001_losses-2.py": "x = 'third'\n",
                           "turingalan_LATE_4712_9002_Losses (1).ipynb": "{}"}.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), text)
    found = {s.student: s for s in discover(root, tmp_path / "stage", ASSIGNMENTS).submissions}
    assert (found["4711"].path / "losses.py").read_text() == "x = 'third'\n"
    assert any("graded lovelaceada_4711_9001_losses-2.py (Canvas resubmission 2, the latest" in n
               for n in found["4711"].notes)
    assert sorted(p.name for p in found["4712"].path.iterdir()) == ["losses.ipynb"]


def test_dlgrade_grade_finds_the_same_files(tmp_path):
    write(tmp_path / "alice" / "Losses (1).py", "x = 1\n", 1000.0)
    write(tmp_path / "alice" / "losses.py", "x = 0\n", 1000.0)
    write(tmp_path / "alice" / "MLP.ipynb", "{}", 1000.0)
    assert find_files(tmp_path / "alice", ASSIGNMENTS) == {"losses": tmp_path / "alice" / "Losses (1).py",
                                                           "mlp": tmp_path / "alice" / "MLP.ipynb"}
    assert find_files(tmp_path / "alice" / "MLP.ipynb", ASSIGNMENTS) == {"mlp": tmp_path / "alice" / "MLP.ipynb"}
