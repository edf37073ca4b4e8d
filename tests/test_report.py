"""The course report: its figures, its HTML (escaped, self-contained) and `dlgrade report`."""

from __future__ import annotations

import base64
import copy
import json
import os
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from autograder.report import ReportSourceError, build_report, read_result_folder
from autograder.report import stats
from cli import main
from report_documents import NO_BIAS, graded_batch


@pytest.fixture(scope="module")
def documents(course, tmp_path_factory):
    return graded_batch(course, tmp_path_factory.mktemp("submissions"))


class Page(HTMLParser):
    """The elements of a page, with their attributes, and its visible text."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def tags(self, name: str) -> list[dict]:
        return [attrs for tag, attrs in self.elements if tag == name]


def svg_of(image: dict) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert image["src"].startswith(prefix)
    return base64.b64decode(image["src"][len(prefix):]).decode("utf-8")


# ---------------------------------------------------------------- the figures
def test_scores_per_assignment_and_exercise_count_graded_files_only(documents):
    (row,) = stats.assignment_scores(documents)
    assert row.assignment == "perceptron" and row.max_score == 100
    assert row.not_gradable == 1 and row.missing == 0
    assert len(row.scores) == 5  # eve's syntax error is no score of 0
    assert row.scores[:2] == [100.0, 100.0] and max(row.scores[2:4]) < 100 and row.scores[4] == 92.0
    assert set(row.exercises) == {"perceptron.step", "perceptron.perceptron_fit", "perceptron.perceptron_predict"}
    assert all(len(values) == 5 and all(0 <= v <= 100 for v in values) for values in row.exercises.values())
    # In document order (ada, bob, cy, dee, fay): the two no-bias answers lose points in predict only;
    # fay's timed-out first test costs her points in step.
    predict = row.exercises["perceptron.perceptron_predict"]
    assert predict[:2] == [100.0, 100.0] and predict[4] == 100.0 and max(predict[2:4]) < 100
    assert row.exercises["perceptron.step"][4] < 100 == row.exercises["perceptron.step"][0]


def test_mistakes_are_counted_once_per_submission_with_their_title(documents):
    mistakes = stats.common_mistakes(documents)
    assert mistakes[0].mistake == NO_BIAS
    assert mistakes[0].submissions == 2
    assert mistakes[0].tests >= 2
    assert "bias" in mistakes[0].title
    assert mistakes[0].exercise == "perceptron.perceptron_predict"


def test_problems_list_not_gradable_files_and_timeouts_with_their_reasons(documents):
    rows = stats.problems(documents)
    assert [(p.student, p.kind) for p in rows] == [("eve", "not gradable"), ("fay", "timed out")]
    assert "SyntaxError" in rows[0].reason and "line 1" in rows[0].reason
    assert "did not finish within 5 s" in rows[1].reason


def test_a_whole_submission_refused_is_listed_with_the_documents_reason():
    document = {"student": "gus", "score": 0, "max_score": 0, "status": "not_gradable",
                "reason": "the batch's time limit of 60 s ran out", "assignments": [], "tests": []}
    (row,) = stats.problems([document])
    assert (row.student, row.assignment, row.kind, row.reason) == (
        "gus", "(all)", "not gradable", "the batch's time limit of 60 s ran out")


def test_grading_time_percentiles():
    documents = [{"duration_s": float(s)} for s in range(1, 101)]
    durations = stats.durations(documents + [{"duration_s": None}, {}])
    assert len(durations.seconds) == 100
    assert durations.p50 == pytest.approx(50.5)
    assert durations.p95 == pytest.approx(95.05)


# ---------------------------------------------------------------- the page
def test_the_report_shows_every_section_with_real_plots(documents):
    text = build_report(documents)
    page = Page(text)
    sections = {attrs.get("id") for attrs in page.tags("section")}
    assert sections == {"overview", "scores", "mistakes", "problems", "timing"}
    images = page.tags("img")
    # total, per assignment, one panel for perceptron, mistakes, grading time
    assert len(images) == 5
    for image in images:
        svg = svg_of(image)
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.count("<path") > 10
    visible = " ".join(page.text)
    assert NO_BIAS in visible and "perceptron_predict leaves out the bias" in visible
    assert "SyntaxError" in visible and "eve" in visible and "fay" in visible
    assert "p50" in visible and "p95" in visible


def test_the_report_is_self_contained(documents):
    page = Page(build_report(documents))
    assert not page.tags("script") and not page.tags("link") and not page.tags("iframe")
    sources = [attrs.get("src", "") for _, attrs in page.elements if "src" in attrs]
    assert sources and all(src.startswith("data:") for src in sources)
    assert "http://" not in " ".join(sources) and "https://" not in " ".join(sources)


def test_student_derived_strings_render_as_text(documents):
    hostile = copy.deepcopy(documents[4])  # eve: not gradable, so her name and reason are shown
    hostile["student"] = "<script>alert('name')</script>"
    hostile["assignments"][0]["reason"] = 'perceptron.py: <img src=x onerror="alert(1)"> & </td></table>'
    hostile["tests"] = [dict(documents[2]["tests"][0], mistake_title="<b>bold</b>", mistake="x.y.<i>z</i>")]
    text = build_report([hostile])
    page = Page(text)
    assert not page.tags("script") and not page.tags("b") and not page.tags("i")
    assert [attrs.get("src", "")[:5] for attrs in page.tags("img")] == ["data:"] * len(page.tags("img"))
    visible = "".join(page.text)
    assert "<script>alert('name')</script>" in visible
    assert '<img src=x onerror="alert(1)"> & </td></table>' in visible
    assert "<b>bold</b>" in visible and "x.y.<i>z</i>" in visible
    assert "&lt;script&gt;" in text


def test_an_empty_batch_still_renders():
    page = Page(build_report([]))
    assert not page.tags("img")
    visible = " ".join(page.text)
    assert "0 submissions" in visible
    assert "No named mistake" in visible and "No grading time recorded" in visible


# ---------------------------------------------------------------- reading a results folder
def test_a_results_folder_gives_native_documents_named_by_their_folder(documents, tmp_path):
    for document in documents[:3]:
        plain = {k: v for k, v in document.items() if k != "student"}
        (tmp_path / document["student"]).mkdir()
        (tmp_path / document["student"] / "result.json").write_text(json.dumps(plain))
    (tmp_path / "ada" / "results.json").write_text(json.dumps({"score": 1, "tests": []}))  # Gradescope's
    (tmp_path / "ada" / "notes.json").write_text("{not json")
    (tmp_path / "top.json").write_text(json.dumps(dict(documents[3], student="dee")))
    (tmp_path / "planted.json").symlink_to(tmp_path / "ada" / "result.json")
    os.symlink(tmp_path / "ada", tmp_path / "linked")
    found = read_result_folder(tmp_path)
    assert [d["student"] for d in found] == ["ada", "bob", "cy", "dee"]
    assert [d["score"] for d in found] == [d["score"] for d in documents[:4]]


def test_a_results_folder_without_results_is_an_error(tmp_path):
    with pytest.raises(ReportSourceError, match="no such folder"):
        read_result_folder(tmp_path / "missing")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(ReportSourceError, match="no native result JSON"):
        read_result_folder(tmp_path)


# ---------------------------------------------------------------- the command
def test_dlgrade_report_from_a_results_folder(documents, tmp_path):
    for document in documents:
        (tmp_path / "out" / document["student"]).mkdir(parents=True)
        (tmp_path / "out" / document["student"] / "result.json").write_text(json.dumps(document))
    runner = CliRunner()
    result = runner.invoke(main, ["report", "--results", str(tmp_path / "out"), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "6 submissions" in result.output
    assert len(Page((tmp_path / "r.html").read_text(encoding="utf-8")).tags("img")) == 5


def test_dlgrade_report_needs_exactly_one_source(tmp_path):
    runner = CliRunner()
    neither = runner.invoke(main, ["report", "--out", str(tmp_path / "r.html")])
    both = runner.invoke(main, ["report", "--db", "sqlite://", "--results", str(tmp_path)])
    assert neither.exit_code == both.exit_code == 2
    assert "either --db URL or --results DIR" in neither.output
    missing = runner.invoke(main, ["report", "--results", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no such folder" in missing.output
    assert not (tmp_path / "r.html").exists()


def test_a_submission_over_the_batch_time_limit_is_listed_as_timed_out_once_per_assignment(course):
    from autograder.batch.worker import failure_result
    from autograder.judge.results import TIMEOUT
    from grading import plan_for

    reason = "grading took longer than the limit of 60 s for one submission"
    document = failure_result(plan_for(course, "perceptron", "losses"), "hal", reason, TIMEOUT).to_json()
    document["student"] = "hal"
    rows = stats.problems([document])
    assert [(p.student, p.assignment, p.kind, p.reason) for p in rows] == [
        ("hal", "perceptron", "timed out", reason), ("hal", "losses", "timed out", reason)]
    assert [(r.assignment, r.not_gradable, r.scores) for r in stats.assignment_scores([document])] == [
        ("perceptron", 1, []), ("losses", 1, [])]


def test_dlgrade_report_from_the_gradebook(documents, tmp_path):
    from autograder.gradebook import Gradebook
    from autograder.gradebook.store import StudentInfo

    url = f"sqlite:///{tmp_path / 'grades.db'}"
    with Gradebook.open(url) as gradebook:
        for number, document in enumerate(documents):
            plain = {k: v for k, v in document.items() if k != "student"}
            gradebook.record(StudentInfo(document["student"]), f"{number:064x}", document["student"], [],
                             document["status"], plain)
    runner = CliRunner()
    result = runner.invoke(main, ["report", "--db", url, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "6 submissions" in result.output
    page = Page((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert len(page.tags("img")) == 5
    assert "eve" in page.text and NO_BIAS in " ".join(page.text)
    missing = runner.invoke(main, ["report", "--db", str(tmp_path / "typo.db"), "--out", str(tmp_path / "e.html")])
    assert missing.exit_code == 1 and "no gradebook at" in missing.output and not (tmp_path / "typo.db").exists()
    Gradebook.open(tmp_path / "empty.db").close()  # a gradebook no run has graded into yet
    empty = runner.invoke(main, ["report", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--out", str(tmp_path / "e.html")])
    assert empty.exit_code == 1 and "holds no graded submission" in empty.output
