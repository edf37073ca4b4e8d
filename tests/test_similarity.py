"""`dlgrade similarity`: planted copies ranked first and flagged, honest pairs, short shared functions
and the stub never flagged, hostile names inert in every output, the command on a real download."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from rich.console import Console

from autograder.gradebook import Gradebook
from autograder.gradebook.store import StudentInfo
from autograder.similarity import compare, ranking
from autograder.similarity.compare import fingerprint_student
from autograder.similarity.extract import StudentCode, Unit, read_student, stub_text, units_of
from autograder.similarity.outputs import csv_text, html_page, segments, terminal_table
from autograder.similarity.ranking import PairStatus, rank_cohort
from cli import main
from similarity_cohort import SIGMOID_DOC, Student, cohort, renamed, stub, student_code, with_comments

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"


@pytest.fixture(scope="module")
def students() -> list[Student]:
    return cohort()


@pytest.fixture(scope="module")
def ranked(students):
    return rank_cohort("synthetic", [student_code(s) for s in students], stub())


def pair_keys(pair) -> frozenset[str]:
    return frozenset((pair.comparison.a.code.student, pair.comparison.b.code.student))


def planted(students) -> set[frozenset[str]]:
    return {frozenset((s.key, s.copy_of)) for s in students if s.kind == "copy"}


def test_the_cohort_is_thirty_students_of_every_kind(students):
    assert len(students) == 30
    assert {s.kind for s in students} == {"honest", "buggy", "copy", "stub"}
    assert len({s.source for s in students}) == 30


def test_the_planted_copies_are_the_top_three_pairs_and_the_only_ones_flagged(students, ranked):
    copies = planted(students)
    assert {pair_keys(p) for p in ranked.pairs[:3]} == copies
    assert {pair_keys(p) for p in ranked.flagged} == copies
    for pair in ranked.pairs[:3]:
        assert pair.score > 0.9 and pair.z >= ranking.Z_MIN, pair
    honest = [p for p in ranked.pairs if pair_keys(p) not in copies and p.score is not None]
    assert len(honest) > 300
    assert all(p.status is PairStatus.NOT_FLAGGED for p in honest)
    assert max(p.score for p in honest) < min(p.score for p in ranked.pairs[:3])


def test_the_copies_were_really_disguised(students):
    """Renamed variables and helpers, reversed functions, comments: the copies differ from their originals as text."""
    by_key = {s.key: s for s in students}
    for copy in (s for s in students if s.kind == "copy"):
        original = by_key[copy.copy_of]
        original_units = [u.name for u in units_of(original.source)]
        copy_units = [u.name for u in units_of(copy.source)]
        public = [name for name in original_units if not name.startswith("_")]
        assert [name for name in copy_units if not name.startswith("_")] == public[::-1]
        assert not {n for n in original_units if n.startswith("_")} & set(copy_units)  # helpers renamed
        assert "# my own solution" in copy.source
        code_lines = {line.strip() for line in original.source.splitlines()
                      if line.strip().startswith(("for ", "return ", "if ", "while "))}
        shared = code_lines & {line.strip() for line in copy.source.splitlines()}
        assert len(shared) < len(code_lines) / 3, shared  # most code lines were rewritten


def test_the_cohort_relative_rule_is_what_keeps_honest_pairs_unflagged(students, monkeypatch):
    """Honest students share idioms: with the absolute floor alone, honest pairs would be flagged."""
    monkeypatch.setattr(ranking, "Z_MIN", -math.inf)
    loose = rank_cohort("synthetic", [student_code(s) for s in students], stub())
    assert {pair_keys(p) for p in loose.flagged} - planted(students), "the floor alone flags honest pairs"


TWO_LINE_SIGMOID = SIGMOID_DOC + "    z = np.asarray(z, dtype=float)\n    return 1.0 / (1.0 + np.exp(-z))\n"


def _with_two_line_sigmoid(source: str) -> str:
    start = source.index("def sigmoid")
    end = source.index("\ndef ", start + 1)
    return source[:start] + TWO_LINE_SIGMOID + source[end:]


def short_cohort(students) -> list[StudentCode]:
    """Everyone writes the same two-line sigmoid; two students wrote nothing else."""
    others = [Student(s.key, _with_two_line_sigmoid(s.source), s.kind) for s in students if s.kind in ("honest", "buggy")]
    release = stub()
    only = release.replace(SIGMOID_DOC + "    # YOUR CODE HERE\n    raise NotImplementedError\n", TWO_LINE_SIGMOID)
    assert only != release
    return [student_code(s) for s in others] + [student_code(Student("sig1", only, "short")),
                                                 student_code(Student("sig2", only.replace("(z", "(t").replace("-z", "-t"), "short"))]


def test_a_short_function_everyone_shares_flags_nobody(students):
    result = rank_cohort("synthetic", short_cohort(students), stub())
    assert result.flagged == ()
    (pair,) = [p for p in result.pairs if pair_keys(p) == {"sig1", "sig2"}]
    assert pair.status is PairStatus.TOO_SHORT


def test_without_the_minimum_lengths_the_short_function_would_flag(students, monkeypatch):
    for name in ("MIN_UNIT_TOKENS", "MIN_PAIR_TOKENS"):
        monkeypatch.setattr(compare, name, 0)
    monkeypatch.setattr(ranking, "MIN_MATCHED_TOKENS", 0)
    result = rank_cohort("synthetic", short_cohort(students), stub())
    assert frozenset({"sig1", "sig2"}) in {pair_keys(p) for p in result.flagged}


def test_students_who_left_the_stub_are_not_flagged(ranked):
    stubs = [p for p in ranked.pairs if pair_keys(p) <= {"stub0", "stub1", "stub2"}]
    assert len(stubs) == 3
    assert all(p.status is PairStatus.TOO_SHORT and p.comparison.matched_tokens == 0 for p in stubs)
    assert not any(pair_keys(p) & {"stub0", "stub1", "stub2"} for p in ranked.flagged)


def test_without_the_stub_as_boilerplate_the_stub_students_would_be_flagged(students):
    result = rank_cohort("synthetic", [student_code(s) for s in students], "")
    assert frozenset({"stub0", "stub2"}) in {pair_keys(p) for p in result.flagged}


@pytest.mark.parametrize("suffix", ["py", "ipynb"])
def test_the_release_itself_is_all_boilerplate(course, suffix):
    """A student who hands in the release untouched, the .py or nbgrader's notebook, wrote nothing of
    their own: every fingerprint of every function is the stub's."""
    release = Path(__file__).resolve().parents[1] / "assignments"
    for assignment in course.assignments:
        code = read_student("idle", "idle", assignment, release / assignment / f"{assignment}.{suffix}")
        assert code.units, assignment
        prints = fingerprint_student(code, compare.boilerplate_hashes(stub_text(course, assignment)))
        assert {u.unit.name: u.tokens for u in prints.units if u.tokens} == {}, assignment


def test_a_unit_is_each_top_level_function_or_class_and_broken_code_is_one_unit():
    source = "import numpy as np\nX = 1\n@staticmethod\ndef f(a):\n    return a\n\nclass C:\n    pass\nprint(X)\n"
    assert [(u.name, u.code) for u in units_of(source)] == [
        ("f", "@staticmethod\ndef f(a):\n    return a\n"), ("C", "class C:\n    pass\n")]
    assert units_of("def f(:\n  pass\n", "cell 3") == [Unit("cell 3", "def f(:\n  pass\n")]


# ---------------------------------------------------------------- hostile strings in every output
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "formula": "=cmd|' /C calc'!A0",
    "ansi": "\x1b[2J\x1b]0;owned\x07ev\x1b[31mil",
    "markup": "[bold red]loud[/]",
}


EVIL = """def evil():
    parts = ['</pre><script>alert(2)</script>']
    for index in range(10):
        parts.append(str(index * index) + '</pre>')
    return ''.join(parts) + '<script>alert(3)</script>'
"""


@pytest.fixture(scope="module")
def hostile(students):
    """The cohort with the planted pairs' students renamed to hostile names, and code that closes the <pre>."""
    names = dict(zip(("copy0", "honest02", "copy1", "honest09"), HOSTILE.values()))
    codes = []
    for s in students:
        source = s.source
        if s.key in ("copy0", "honest02"):
            source = source.replace("import math", "import math\n\n" + EVIL)
        codes.append(student_code(Student(s.key, source, s.kind), label=names.get(s.key)))
    return rank_cohort("synthetic", codes, stub())


def test_hostile_names_and_code_are_escaped_in_the_page(hostile):
    assert len(hostile.flagged) == 3
    page = html_page([hostile])
    assert "<script" not in page and "\x1b" not in page and "\x07" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)" in page  # the student's code, shown as text
    assert "=cmd|&#39; /C calc&#39;!A0" in page


def test_every_link_of_the_page_has_its_target(students, ranked, hostile):
    other = rank_cohort("other", [student_code(s, assignment="other") for s in students[:8]], stub())
    page = html_page([hostile, ranked, other])
    links = re.findall(r'href="#([^"]+)"', page)
    targets = set(re.findall(r' id="([^"]+)"', page))
    assert len(links) > 20 and set(links) <= targets
    assert len(re.findall(r' id="([^"]+)"', page)) == len(targets)  # no id twice


def test_matched_segments_keep_their_place_around_control_characters():
    code = "a\x1b[2J = 1\nbb = 2\n"
    start = code.index("bb")
    parts = segments(code, ((start, start + 2), (0, 1)))
    assert [(p.text, p.matched) for p in parts] == [("a", True), ("[2J = 1\n", False), ("bb", True), (" = 2\n", False)]


def test_hostile_names_are_neutralized_in_the_csv(hostile):
    rows = list(csv.DictReader(io.StringIO(csv_text([hostile]))))
    assert len(rows) == len(hostile.pairs)
    names = {row["name_a"] for row in rows} | {row["name_b"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    assert not any("\x1b" in value or "\x07" in value for row in rows for value in row.values())
    assert rows[0]["score"] == "1.00" and rows[0]["status"] == "flagged"


def test_hostile_names_reach_the_terminal_as_inert_text(hostile):
    out = io.StringIO()
    Console(file=out, width=400, force_terminal=True, color_system=None).print(terminal_table(hostile))
    text = out.getvalue()
    assert "\x1b[2J" not in text and "\x1b]0" not in text and "\x07" not in text
    assert "[bold red]loud[/]" in text  # printed as written, not taken for markup
    assert "<script>alert(1)</script>" in text


# ---------------------------------------------------------------- the command on a real download
def _notebook_from(course_release: Path, source: str, seed: int) -> str:
    """The released perceptron notebook with each answer cell holding ``source``'s function, renamed."""
    notebook = nbformat.read(course_release, as_version=4)
    units = {u.name: u.code for u in units_of(source)}
    used = set()
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id") in units:
            cell.source = renamed(units[meta["grade_id"]], seed)
            used.add(meta["grade_id"])
    helpers = "\n\n".join(code for name, code in units.items() if name not in used)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(renamed("import numpy as np\n" + helpers, seed)))
    return nbformat.writes(notebook)


def _document(assignment: str) -> dict:
    """A native result of one graded assignment, as the gradebook records it."""
    entry = {"assignment": assignment, "score": 50.0, "max_score": 100.0, "status": "graded"}
    return {"student": "", "seed": 1, "score": 50.0, "max_score": 100.0, "status": "graded", "tests": [],
            "assignments": [entry], "checks_version": {assignment: "v1"}}


def test_dlgrade_similarity_on_a_download_with_a_copied_notebook(tmp_path):
    """Three students' perceptron.py, one who handed in the release untouched, a planted .py copy of
    "vectorized" (renamed, reordered, commented), and a notebook whose answer cells hold "loops"'s code."""
    download = tmp_path / "download"
    for student in ("float32", "loops", "vectorized"):
        (download / student).mkdir(parents=True)
        (download / student / "perceptron.py").write_text((FIXTURES / student / "perceptron.py").read_text())
    repository = Path(__file__).resolve().parents[1]
    release = repository / "assignments" / "perceptron"
    (download / "idle").mkdir()
    (download / "idle" / "perceptron.py").write_text((release / "perceptron.py").read_text())
    (download / "mallory").mkdir()
    vectorized = (FIXTURES / "vectorized" / "perceptron.py").read_text()
    (download / "mallory" / "Perceptron (1).py").write_text(with_comments(renamed(vectorized, 11, helpers=True, reverse=True)))
    (download / "nora").mkdir()
    loops = (FIXTURES / "loops" / "perceptron.py").read_text()
    (download / "nora" / "perceptron.ipynb").write_text(_notebook_from(release / "perceptron.ipynb", loops, 12))

    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,section\nmallory,Mallory [red]Evil[/],m@example.org,A\n", encoding="utf-8")
    db = tmp_path / "course.db"
    runner = CliRunner()
    assert runner.invoke(main, ["roster", "import", str(roster), "--db", str(db)]).exit_code == 0
    with Gradebook.open(str(db)) as gradebook:  # loops's file as graded, float32's an older one
        for student, content in (("loops", (download / "loops" / "perceptron.py").read_bytes()), ("float32", b"old")):
            graded = hashlib.sha256(b"perceptron.py\0" + content).hexdigest()  # as grade-batch's intake hashes it
            gradebook.record(StudentInfo(student), graded, student, [], "graded", _document("perceptron"),
                             hashes={"perceptron": graded})
        before = [(g.id, g.score, g.content_sha256) for g in gradebook.gradings()], len(gradebook.audit_trail())

    out = tmp_path / "similarity"
    result = runner.invoke(main, ["similarity", str(download), "-a", "perceptron", "--out", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "6 students, 15 pairs, 2 flagged" in result.output
    assert "Mallory [red]Evil[/] (mallory)" in result.output  # the roster's name, printed as written
    notes = [line for line in result.output.splitlines() if ": perceptron: " in line]
    assert "float32: perceptron: this file is not the one the gradebook graded" in notes[0]
    assert not any(line.startswith("loops:") for line in notes)
    assert any(line.startswith("vectorized: perceptron: not graded in the gradebook") for line in notes)
    with Gradebook.open(str(db)) as gradebook:  # it never changes a grade
        assert ([(g.id, g.score, g.content_sha256) for g in gradebook.gradings()], len(gradebook.audit_trail())) == before
    assert "no grade was changed" in result.output
    rows = list(csv.DictReader((out / "similarity.csv").open(encoding="utf-8")))
    flagged = {frozenset((r["student_a"], r["student_b"])) for r in rows if r["status"] == "flagged"}
    assert flagged == {frozenset({"mallory", "vectorized"}), frozenset({"loops", "nora"})}
    assert {frozenset((r["student_a"], r["student_b"])) for r in rows[:2]} == flagged
    idle = [r for r in rows if "idle" in (r["student_a"], r["student_b"])]
    assert len(idle) == 5 and all(r["status"] == "too short" for r in idle)
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "perceptron_fit" in page and "<mark>" in page


def test_dlgrade_report_links_the_similarity_page_beside_it(tmp_path):
    results = tmp_path / "graded" / "ada"
    results.mkdir(parents=True)
    results.joinpath("result.json").write_text(
        '{"student": "ada", "score": 1, "max_score": 2, "status": "graded", "tests": [], "assignments": []}')
    runner = CliRunner()
    report = tmp_path / "report.html"
    args = ["report", "--results", str(tmp_path / "graded"), "--out", str(report)]
    assert runner.invoke(main, args).exit_code == 0
    assert "similarity.html" not in report.read_text(encoding="utf-8")  # no page: no link
    (tmp_path / "similarity").mkdir()
    (tmp_path / "similarity" / "similarity.html").write_text("<html></html>")
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and "linking similarity/similarity.html" in result.output
    assert '<a href="similarity/similarity.html">' in report.read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere" / "sim page.html"
    elsewhere.parent.mkdir()
    elsewhere.write_text("<html></html>")
    assert runner.invoke(main, args + ["--similarity", str(elsewhere)]).exit_code == 0
    assert '<a href="elsewhere/sim%20page.html">' in report.read_text(encoding="utf-8")


def test_a_folder_without_any_students_file_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "notes.txt").write_text("nothing here")
    result = CliRunner().invoke(main, ["similarity", str(tmp_path), "-a", "perceptron", "--out", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no student's file in") and "perceptron.py" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(main, ["similarity", str(tmp_path / "missing"), "--out", str(tmp_path / "s")])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "s").exists()


def test_a_file_that_cannot_be_read_is_a_note_and_the_others_are_compared(tmp_path):
    for student in ("loops", "vectorized"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "perceptron.py").write_text((FIXTURES / student / "perceptron.py").read_text())
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "perceptron.ipynb").write_text("{ this is not JSON")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "perceptron.py").write_bytes("# caf\xe9\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["similarity", str(tmp_path), "-a", "perceptron", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "broken: perceptron: perceptron.ipynb is not a readable Jupyter notebook" in result.output
    assert "latin1: perceptron: perceptron.py is not UTF-8 text" in result.output
    assert "perceptron: 2 students, 1 pair, 0 flagged" in result.output
