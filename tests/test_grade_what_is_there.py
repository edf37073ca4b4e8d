"""`dlgrade grade` grades the assignments a path holds, and output into a pipe is not wrapped."""

import io
import json

import pytest
from click.testing import CliRunner

from autograder.batch.run import BatchSummary, summary_line
from autograder.console import count_states, make_console
from autograder.gradebook import Gradebook
from autograder.submission import assignment_of
from cli import main
from support import ASSIGNMENTS, BUNDLED
from test_batch_run import FIXTURES


@pytest.mark.parametrize("name, assignment", [
    ("losses.py", "losses"), ("LOSSES.ipynb", "losses"), ("Losses (1).py", "losses"), ("losses-2.py", "losses"),
    ("losses_1.ipynb", "losses"), ("Perceptron.PY", "perceptron"), ("notes.txt", None), ("losses.txt", None),
    ("lossesx.py", None), ("losses (1) (2).py", None), ("", None),
])
def test_assignment_of_reads_names_as_browsers_and_lmss_write_them(name, assignment):
    for course in (ASSIGNMENTS, BUNDLED):  # the names, or the Course itself
        match = assignment_of(name, course)
        assert (match and match.assignment) == assignment


def grade(*args):
    return CliRunner().invoke(main, ["grade", *map(str, args), "--seed", "3"])


def test_grade_of_one_file_grades_its_assignment_alone(tmp_path):
    path = tmp_path / "Losses (1).py"  # a browser's second download of losses.py
    path.write_text((FIXTURES / "vectorized" / "losses.py").read_text())
    out = tmp_path / "result.json"
    result = grade(path, "--json", out)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert [a["assignment"] for a in document["assignments"]] == ["losses"]
    assert {t["assignment"] for t in document["tests"]} == {"losses"}
    assert document["score"] == document["max_score"] == 100
    assert "losses: 100 / 100" in result.output
    assert not any(a in result.output for a in ASSIGNMENTS if a != "losses")


def test_grade_of_a_folder_grades_the_assignments_it_holds(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "activations.py").write_text((FIXTURES / "vectorized" / "activations.py").read_text())
    (folder / "readme.md").write_text("my work\n")
    out = tmp_path / "result.json"
    result = grade(folder, "--json", out)
    assert result.exit_code == 0, result.output
    assert [a["assignment"] for a in json.loads(out.read_text())["assignments"]] == ["activations"]


def test_an_assignment_named_but_not_in_the_folder_is_missing(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "activations.py").write_text((FIXTURES / "vectorized" / "activations.py").read_text())
    out = tmp_path / "result.json"
    result = grade(folder, "-a", "activations", "-a", "perceptron", "--json", out)
    assert result.exit_code == 0, result.output
    entries = {a["assignment"]: a for a in json.loads(out.read_text())["assignments"]}
    assert entries["perceptron"]["status"] == "missing" and entries["perceptron"]["score"] == 0
    assert entries["activations"]["status"] == "graded"
    assert "perceptron: 0 / 100: missing, not handed in" in result.output


def test_a_folder_without_assignment_files_is_one_line_and_exit_1(tmp_path):
    folder = tmp_path / "unrelated"
    folder.mkdir()
    for name in ("notes.txt", "data.csv", "helper.py"):
        (folder / name).write_text("x\n")
    result = grade(folder)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: no assignment file in {folder}") and "nothing to grade" in line


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "losses.py").write_text("def softmax(:\n")
    result = grade(folder)  # the runner's stdout is no terminal, as a pipe is not
    assert result.exit_code == 0
    (line,) = [line for line in result.output.splitlines() if "NOT GRADABLE" in line]
    assert len(line) > 80 and "SyntaxError" in line


def test_a_console_on_a_pipe_prints_long_lines_whole():
    stream = io.StringIO()
    make_console(file=stream).print("x" * 150 + " " + "y" * 150)
    assert stream.getvalue() == "x" * 150 + " " + "y" * 150 + "\n"


def test_summaries_count_each_state_once_with_its_label():
    rows = [{"verdict": v} for v in ["graded", "not_gradable"] * 4]
    assert summary_line(BatchSummary(rows=rows)) == "8 submissions: 4 graded, 4 not gradable"
    assert count_states(["timeout", "graded", "missing", "tool_failure", "graded"]) == \
        "2 graded, 1 timed out, 1 missing, 1 tool failure"


def test_grade_batch_of_folders_without_assignment_files_is_one_line_and_exit_1(tmp_path):
    for student in ("alice", "bob"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / "notes.txt").write_text("x\n")
    result = CliRunner().invoke(main, ["grade-batch", str(tmp_path / "subs"), "--db", str(tmp_path / "g.db"),
                                       "--workers", "1"])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: no assignment file in {tmp_path / 'subs'}") and "-a" in line


def test_grade_batch_grades_and_records_the_assignments_collected(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "activations.py").write_text((FIXTURES / "vectorized" / "activations.py").read_text())
    (tmp_path / "subs" / "bob").mkdir()
    (tmp_path / "subs" / "bob" / "notes.txt").write_text("x\n")
    db = tmp_path / "g.db"
    result = CliRunner().invoke(main, ["grade-batch", str(tmp_path / "subs"), "--db", str(db), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "graded: activations\n" in result.output
    assert "2 submissions: 1 graded, 1 not gradable" in result.output
    with Gradebook.open(db) as gradebook:
        assert sorted((g.student_id, g.assignment) for g in gradebook.gradings()) == [
            ("alice", "activations"), ("bob", "activations")]


def test_a_batch_collects_the_assignments_of_files_named_as_browsers_and_lmss_write_them(tmp_path):
    """grade-batch grades what was collected: `Losses (1).py` and `PERCEPTRON.PY` count as losses and perceptron."""
    from autograder.batch.intake import discover
    from autograder.batch.run import graded_assignments

    for student, name in (("alice", "Losses (1).py"), ("bob", "PERCEPTRON.PY"), ("carol", "notes.txt")):
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / name).write_text("x = 1\n")
    submissions = discover(tmp_path / "subs", tmp_path / "stage", ASSIGNMENTS).submissions
    assert graded_assignments((), ASSIGNMENTS, submissions) == tuple(a for a in ASSIGNMENTS if a in ("perceptron", "losses"))
    assert {s.student: sorted(s.assignments) for s in submissions} == {"alice": ["losses"], "bob": ["perceptron"],
                                                                     "carol": []}
