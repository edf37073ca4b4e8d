"""Training curves: cleaned and read from a result document, drawn beside the student's feedback,
summarized per check in the course report."""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.gradebook.export import write_student_files
from autograder.gradebook.feedback import curve_figures, feedback_html, feedback_markdown
from autograder.judge.learning_curves import MAX_SERIES, NAME_CHARS, clean_curves, describe_run, read_run
from autograder.judge.results import Curves
from autograder.judge.schemas import NATIVE
from autograder.report import build_report, stats
from report_documents import REFERENCE_EPOCHS, TRAINING_CHECK, loss_curves, reference_band, training_document
from test_report import Page, svg_of

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</svg><script>alert(1)</script>"


def run_of(kind: str, **changes):
    curves = {"series": loss_curves(kind), "band": reference_band()}
    curves.update(changes)
    return clean_curves(curves)


def svg_points(root: ET.Element, gid: str) -> int:
    """The number of vertices of the line in the group ``gid`` of a matplotlib SVG (its first path; the
    markers follow it)."""
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]
    path = next(group.iter(f"{SVG}path"))
    return len(re.findall(r"[ML]", path.get("d")))


def svg_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


# ---------------------------------------------------------------- cleaning
def test_the_test_documents_are_valid_native_results():
    jsonschema = pytest.importorskip("jsonschema")
    for kind in ("good", "overfit", "early", "flat"):
        jsonschema.validate(training_document("ada", loss_curves(kind)), NATIVE)


def test_no_curves_is_none():
    assert clean_curves(None) is None
    assert clean_curves({"series": {}}) is None
    assert clean_curves("<svg>") is None
    assert clean_curves({"series": [1.0, 2.0]}) is None


def test_a_series_is_cut_at_its_first_value_that_is_not_finite_with_a_note():
    for bad, word in ((float("nan"), "NaN"), (float("inf"), "infinite"), (-float("inf"), "infinite"),
                      (1e300, "beyond 1e9"), (10 ** 400, "infinite")):
        values = [2.0, 1.5, 1.0, bad, 0.5]
        run = clean_curves({"series": {"training loss": values}})
        (curve,) = run.curves
        assert curve.values == (2.0, 1.5, 1.0) and curve.cut_at == 4
        assert run.notes == (f"training loss: the loss is {word} at epoch 4; drawn up to epoch 3",)


def test_a_series_that_is_not_numbers_is_refused_and_the_others_kept():
    run = clean_curves({"series": {"training loss": [1.0, "2"], "validation loss": [1.0, True],
                                   "other": {"a": 1}, "kept": [3, 2.5]}})
    assert [c.name for c in run.curves] == ["kept"] and run.curves[0].values == (3.0, 2.5)
    assert len(run.notes) == 3 and all("not drawn" in note for note in run.notes)


def test_too_long_series_too_many_series_and_long_or_hostile_names_are_bounded():
    limit = Curves.MAX_EPOCHS
    series = {f"loss {i}": [1.0] * 5 for i in range(MAX_SERIES + 4)}
    series["loss 0"] = list(np.linspace(2, 1, limit + 500))
    run = clean_curves({"series": series})
    assert len(run.curves) == MAX_SERIES and run.curves[0].epochs == limit
    assert f"{limit + 500} epochs; only the first {limit} are drawn" in run.notes[1]
    assert f"{MAX_SERIES + 4} series; only the first {MAX_SERIES} are drawn" == run.notes[0]

    run = clean_curves({"series": {"\x1b]0;pwned\x07train\u202eing\r\nloss" + "x" * 10_000: [1.0], "": [2.0]}})
    long, empty = run.curves
    assert len(long.name) <= NAME_CHARS and long.name.startswith("]0;pwnedtraining loss")
    assert not re.search("[\x00-\x1f\x7f\u202e]", long.name)
    assert empty.name == "series 2"

    run = clean_curves({"series": {"loss": [1.0], "lo\x00ss": [2.0]}, "band": {"lo\x00ss": {"low": [1.5], "high": [2.5]}}})
    assert [(c.name, c.values, c.band is not None) for c in run.curves] == [("loss", (1.0,), False),
                                                                            ("loss (2)", (2.0,), True)]


def test_a_band_is_kept_only_when_finite_ordered_and_as_long_as_itself():
    good = {"low": [1.0, 0.5], "high": [1.2, 0.7]}
    bad = {
        "low above high": {"low": [1.0, 0.9], "high": [1.2, 0.7]},
        "lengths differ": {"low": [1.0], "high": [1.2, 0.7]},
        "NaN": {"low": [1.0, float("nan")], "high": [1.2, 0.7]},
        "not numbers": {"low": ["1"], "high": [2]},
        "not a dict": [1.0, 2.0],
        "empty": {"low": [], "high": []},
    }
    for why, band in bad.items():
        run = clean_curves({"series": {"training loss": [2.0, 1.0]}, "band": {"training loss": band}})
        assert run.curves[0].band is None, why
        assert run.notes == ("training loss: the reference's band is not two lists of numbers; not drawn",) or \
            run.notes == ("training loss: the reference's band is not a finite low <= high per epoch; not drawn",), why
    run = clean_curves({"series": {"training loss": [2.0, 1.0]}, "band": {"training loss": good}})
    assert run.curves[0].band.low == [1.0, 0.5] and run.notes == ()


# ---------------------------------------------------------------- reading
@pytest.mark.parametrize("kind, overfit, not_converged, stopped_early, best", [
    ("good", False, False, False, 30),
    ("overfit", True, False, False, 12),
    ("early", True, False, True, 12),
    ("flat", False, True, False, 30),
    ("diverged", False, True, False, 4),
])
def test_each_kind_of_run_is_read_as_what_it_is(kind, overfit, not_converged, stopped_early, best):
    reading = read_run(run_of(kind))
    assert (reading.overfit, reading.not_converged, reading.stopped_early, reading.best_epoch) == (
        overfit, not_converged, stopped_early, best)
    assert reading.reference_epochs == REFERENCE_EPOCHS


def test_without_a_band_a_run_that_did_not_fall_has_not_converged_and_none_stopped_early():
    rising = clean_curves({"series": {"training loss": [1.0, 1.1, 1.2], "validation loss": [1.0, 1.1, 1.2]}})
    assert read_run(rising).not_converged and not read_run(rising).stopped_early
    assert not read_run(run_of("early", band={})).stopped_early


def test_a_validation_loss_that_levels_off_is_not_overfitting():
    """Near its end a correct run's validation loss wobbles on a plateau: no new lowest value for a
    while, the training loss still falling. Only a rise of 5 % or more above the lowest is overfitting."""
    good = loss_curves("good")
    wobble = [1.0, 1.004, 0.998, 1.006, 1.003, 1.008, 1.002, 1.009, 1.004, 1.01]
    validation = good["validation loss"][:20] + [good["validation loss"][19] * w for w in wobble]
    run = clean_curves({"series": {"training loss": good["training loss"], "validation loss": validation},
                        "band": reference_band()})
    reading = read_run(run)
    assert reading.best_epoch == 23 and not reading.overfit
    text = describe_run(run, reading)
    assert "Your validation loss was lowest at epoch 23" in text and "overfitting" not in text

    rising = validation[:23] + [validation[22] * (1 + 0.03 * k) for k in range(1, 8)]
    run = clean_curves({"series": {"training loss": good["training loss"], "validation loss": rising}})
    assert read_run(run).overfit and "rose to" in describe_run(run, read_run(run))


@pytest.mark.parametrize("factor, not_converged", [(1.5, False), (2.5, True)])
def test_only_a_training_loss_far_above_the_band_has_not_converged(factor, not_converged):
    """The band is the spread of the reference's own runs: a correct run ends above it now and then."""
    band = reference_band()
    training = loss_curves("good")["training loss"]
    training[-1] = factor * band["training loss"]["high"][-1]
    run = clean_curves({"series": {"training loss": training}, "band": band})
    assert read_run(run).not_converged is not_converged
    assert "At epoch 30 your training loss" in describe_run(run, read_run(run))
    assert "is above the reference's band" in describe_run(run, read_run(run))
    # a run longer than the band is held to the band's last epoch
    longer = clean_curves({"series": {"training loss": training[:-1] + [training[-2]] * 10 + [training[-1]]},
                           "band": band})
    assert read_run(longer).not_converged is not_converged


def test_the_reading_is_computed_from_the_numbers():
    run = run_of("early")
    text = describe_run(run, read_run(run))
    assert "Your validation loss stopped improving at epoch 12 (0.436)" in text
    assert "that is overfitting" in text
    assert "Training stopped after epoch 17 of the reference's 30, 5 epochs after the lowest validation loss" in text
    assert "early stopping should restore the weights of epoch 12" in text
    assert "At epoch 17 your validation loss (0.536) is above the reference's band (0.287 to 0.35)" in text

    # The same shape with its best epoch elsewhere says so: nothing is canned.
    validation = [2.0 - 0.2 * e for e in range(1, 9)] + [0.4 + 0.05 * e for e in range(1, 8)]
    training = [2.0 - 0.12 * e for e in range(1, 16)]
    moved = clean_curves({"series": {"training loss": training, "validation loss": validation}})
    text = describe_run(moved, read_run(moved))
    assert "stopped improving at epoch 8 (0.4)" in text and "by epoch 15" in text
    assert "early stopping" not in text and "band" not in text  # no band: nothing said about one

    good = run_of("good")
    text = describe_run(good, read_run(good))
    assert "overfitting" not in text and "still at its lowest at the last epoch, 30" in text
    assert "inside the band at 30 of 30 epochs" in text

    flat = run_of("flat")
    assert "hardly changed" in describe_run(flat, read_run(flat))
    assert "has not converged" in describe_run(flat, read_run(flat))

    diverged = run_of("diverged")
    text = describe_run(diverged, read_run(diverged))
    assert "rose from" in text and "At epoch 8 it stopped being a finite number: the run diverged" in text


# ---------------------------------------------------------------- the student's figure
def test_feedback_with_curves_writes_the_figure_beside_it_and_embeds_it(tmp_path):
    document = training_document("ada", loss_curves("early"))
    paths = write_student_files(tmp_path, "ada", document)
    folder = tmp_path / "ada"
    assert [p.name for p in paths] == ["feedback.md", "feedback.html", "curves-training-1.svg", "curves-training-1.png"]
    assert (folder / "curves-training-1.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    svg = (folder / "curves-training-1.svg").read_bytes()
    root = ET.fromstring(svg)
    # the student's two series, 17 epochs each; the reference's two bands; the best epoch marked
    assert svg_points(root, "series-1") == 17 and svg_points(root, "series-2") == 17
    for band in ("band-1", "band-2"):
        assert [g for g in root.iter(f"{SVG}g") if g.get("id") == band and list(g.iter(f"{SVG}path"))]
    assert [g for g in root.iter(f"{SVG}g") if g.get("id") == "best-epoch"]
    texts = svg_texts(root)
    assert TRAINING_CHECK in texts and "epoch" in texts and "loss" in texts
    assert {"your training loss", "your validation loss", "reference band (training loss)",
            "reference band (validation loss)", "lowest validation loss (epoch 12)"} <= set(texts)

    html = (folder / "feedback.html").read_text()
    page = Page(html)
    (image,) = page.tags("img")
    assert svg_of(image).encode() == svg
    assert image["alt"] == f"training curves of {TRAINING_CHECK}"
    assert {a["href"] for a in page.tags("a")} == {"curves-training-1.svg", "curves-training-1.png"}
    visible = " ".join(page.text)
    assert "Training curves: " + TRAINING_CHECK in visible and "early stopping should restore the weights of epoch 12" in visible

    markdown = (folder / "feedback.md").read_text()
    assert "](curves-training-1.svg)" in markdown and "](curves-training-1.png)" in markdown
    assert "stopped improving at epoch 12" in markdown


def test_feedback_without_curves_has_no_figure_and_an_earlier_figure_is_removed(tmp_path):
    write_student_files(tmp_path, "ada", training_document("ada", loss_curves("good")))
    assert sorted(p.name for p in (tmp_path / "ada").iterdir()) == [
        "curves-training-1.png", "curves-training-1.svg", "feedback.html", "feedback.md"]
    document = training_document("ada", None)
    paths = write_student_files(tmp_path, "ada", document)
    assert [p.name for p in paths] == ["feedback.md", "feedback.html"]
    assert sorted(p.name for p in (tmp_path / "ada").iterdir()) == ["feedback.html", "feedback.md"]
    assert curve_figures(document) == []
    html = feedback_html(document, "ada")
    assert not Page(html).tags("img") and "Training curves" not in html
    assert "curves-" not in feedback_markdown(document, "ada")


def test_each_training_check_gets_its_own_numbered_figure(tmp_path):
    document = training_document("ada", loss_curves("good"))
    second = copy.deepcopy(document["tests"][1])
    second["name"] = "training of the MLP on digits, seed 1"
    second["curves"]["series"] = loss_curves("overfit")
    document["tests"].append(second)
    document["assignments"][0]["assignment"] = document["tests"][0]["assignment"] = "../../etc"
    for test in document["tests"]:
        test["assignment"] = "../../etc"
    paths = write_student_files(tmp_path, "ada", document)
    assert [p.name for p in paths[2:]] == ["curves-assignment1-1.svg", "curves-assignment1-1.png",
                                           "curves-assignment1-2.svg", "curves-assignment1-2.png"]
    assert all(p.parent == tmp_path / "ada" for p in paths)
    assert len(Page((tmp_path / "ada" / "feedback.html").read_text()).tags("img")) == 2


def test_hostile_names_are_text_in_the_svg_and_the_pages(tmp_path):
    series = loss_curves("overfit")
    series = {HOSTILE: series["training loss"], "$\\frac{$ _x": series["validation loss"],
              "lone \ud800 surrogate": [1.0, 0.5]}  # json.loads makes one of "\\ud800"
    document = training_document("ada", series, band={HOSTILE: reference_band()["training loss"]},
                                 test="<img src=x onerror=alert(1)> $x^2$")
    paths = write_student_files(tmp_path, "ada", document)
    svg = paths[2].read_text()
    root = ET.fromstring(svg)  # well-formed: the name did not close anything
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject", "img")]
    texts = svg_texts(root)
    assert f"your {HOSTILE}" in texts and f"reference band ({HOSTILE})" in texts
    assert "your $\\frac{$ _x" in texts  # drawn as written, never parsed as mathtext
    assert "<img src=x onerror=alert(1)> $x^2$" in texts
    assert "your lone \ufffd surrogate" in texts

    html = paths[1].read_text()
    page = Page(html)
    assert not page.tags("script") and [i["src"][:5] for i in page.tags("img")] == ["data:"]
    assert "<img src=x" not in html and "Training curves: &lt;img src=x onerror=alert(1)&gt; $x^2$" in html
    assert HOSTILE not in html  # the series' names are in the figure only (base64)
    markdown = paths[0].read_text()
    assert not re.search(r"(?<!\\)<", markdown)  # every "<" escaped, as the rest of feedback.md does
    assert "![training curves of \\<img src=x onerror=alert\\(1\\)\\> $x^2$](curves-training-1.svg)" in markdown


def test_nan_inf_and_too_long_series_never_crash_the_feedback(tmp_path):
    limit = Curves.MAX_EPOCHS
    series = {"training loss": [2.0, 1.0, float("nan"), 0.5], "validation loss": [float("inf")],
              "weird": ["x"], "long": list(np.linspace(2.0, 0.1, limit * 3))}
    document = training_document("ada", series, band={"training loss": {"low": [math.nan], "high": [1.0]}})
    paths = write_student_files(tmp_path, "ada", document)
    root = ET.fromstring(paths[2].read_bytes())
    assert svg_points(root, "series-1") == 2  # cut before the NaN
    assert svg_points(root, "series-3") == limit  # "long": the third curve kept (validation has no value left)
    visible = " ".join(Page(paths[1].read_text()).text)
    for note in ("training loss: the loss is NaN at epoch 3; drawn up to epoch 2",
                 "validation loss: the loss is infinite at epoch 1; not drawn",
                 "weird: epoch 1 holds something other than a number; not drawn",
                 f"long: {3 * limit} epochs; only the first {limit} are drawn",
                 "training loss: the reference's band is not a finite low <= high per epoch; not drawn"):
        assert note in visible


def test_a_test_whose_curves_leave_nothing_to_draw_gets_its_reading_and_no_file(tmp_path):
    document = training_document("ada", {"training loss": [float("nan")]}, band={})
    paths = write_student_files(tmp_path, "ada", document)
    assert [p.name for p in paths] == ["feedback.md", "feedback.html"]
    visible = " ".join(Page(paths[1].read_text()).text)
    assert "training loss: the loss is NaN at epoch 1; not drawn" in visible
    assert "At epoch 1 it stopped being a finite number: the run diverged" in visible


_NAMES = st.text(st.characters(codec="utf-8"), max_size=120)
_VALUES = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(),
                             st.text(max_size=3), st.none()), max_size=60)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=4),
       band=st.dictionaries(_NAMES, st.fixed_dictionaries({"low": _VALUES, "high": _VALUES}), max_size=2),
       title=_NAMES)
def test_any_curves_give_well_formed_bounded_files_or_notes_never_an_exception(series, band, title):
    document = training_document("ada", series, band=band, test=title)
    (figure,) = curve_figures(document)
    if figure.drawing is not None:
        root = ET.fromstring(figure.drawing.svg)
        assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject")]
        assert figure.drawing.png.startswith(b"\x89PNG")
    page = Page(feedback_html(document, "ada", [figure]))
    assert not page.tags("script")
    assert all(len(note) < 400 for note in figure.notes)


# ---------------------------------------------------------------- the course report
COHORT = {"ada": "good", "bob": "good", "cy": "good", "dee": "overfit", "eve": "overfit", "fay": "early",
          "gus": "flat", "hal": "diverged", "ivy": None}


@pytest.fixture(scope="module")
def cohort() -> list[dict]:
    return [training_document(student, None if kind is None else loss_curves(kind)) for student, kind in COHORT.items()]


def test_the_cohort_summary_counts_each_kind_of_run(cohort):
    (row,) = stats.training_curves(cohort)
    assert (row.assignment, row.test) == ("training", TRAINING_CHECK)
    assert (row.runs, row.overfit, row.not_converged, row.stopped_early) == (8, 3, 2, 1)


def test_the_cohort_median_and_quartiles_per_epoch(cohort):
    (row,) = stats.training_curves(cohort)
    validation = next(s for s in row.series if s.name == "validation loss")
    runs = [loss_curves(kind)["validation loss"] for kind in COHORT.values() if kind is not None]
    for epoch in (1, 5, 12, 20, 30):
        values = [r[epoch - 1] for r in runs if len(r) >= epoch and math.isfinite(r[epoch - 1])]
        assert validation.runs[epoch - 1] == len(values)
        assert validation.median[epoch - 1] == pytest.approx(float(np.median(values)))
        assert validation.q1[epoch - 1] == pytest.approx(float(np.percentile(values, 25)))
        assert validation.q3[epoch - 1] == pytest.approx(float(np.percentile(values, 75)))
    assert validation.runs[0] == 8 and validation.runs[19] == 6  # early stopped at 17, diverged at 8
    assert validation.band.high == reference_band()["validation loss"]["high"]


def test_the_report_shows_the_training_curves_section_escaped(cohort):
    documents = copy.deepcopy(cohort)
    for document in documents:
        document["tests"][1]["name"] = HOSTILE
        if document["tests"][1]["curves"]:  # a third series, whose name matplotlib must not parse as mathtext
            document["tests"][1]["curves"]["series"]["$\\frac{$"] = [1.0, 0.5]
    page = Page(build_report(documents))
    assert [a.get("id") for a in page.tags("section")] == ["overview", "scores", "mistakes", "curves", "problems", "timing"]
    assert not page.tags("script")
    curves = [i for i in page.tags("img") if i["alt"].startswith("training curves of")]
    assert len(curves) == 1 and svg_of(curves[0]).count("<g id=\"axes_") == 3 and curves[0]["alt"].startswith(f"training curves of {HOSTILE}")  # an attribute, escaped
    svg = svg_of(curves[0])
    ET.fromstring(svg)
    assert svg.count("<path") > 10
    visible = " ".join(page.text)
    assert HOSTILE in visible  # shown as text
    row = re.search(r"<td><a href=\"#curves-1\">(.*?)</a></td>(.*?)</tr>", build_report(documents), re.S)
    assert row.group(1) == "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert re.findall(r">(\d+)</td>", row.group(2)) == ["8", "3", "2", "1"]


def test_a_report_without_curves_has_no_curves_section():
    page = Page(build_report([training_document("ada", None)]))
    assert "curves" not in [a.get("id") for a in page.tags("section")]


# ---------------------------------------------------------------- through the commands' paths
def test_the_gradebook_export_and_the_report_of_a_results_folder_carry_the_curves(tmp_path):
    """``export --format feedback`` (from the gradebook), ``grade-batch --out`` (its per-student writer)
    and ``report --results`` (reading those result files back) all carry the curves."""
    from autograder.batch.run import _write_outputs
    from autograder.gradebook import Gradebook, StudentInfo
    from autograder.gradebook.export import export, safe_name
    from autograder.report import read_result_folder

    kinds = {"ada": "good", "bob": "overfit", "cy": "early", "dee": None}
    documents = {s: training_document(s, None if k is None else loss_curves(k)) for s, k in kinds.items()}
    with Gradebook.open(f"sqlite:///{tmp_path / 'grades.db'}") as gradebook:
        for number, (student, document) in enumerate(documents.items()):
            gradebook.record(StudentInfo(student, student.title()), f"{number}" * 64, f"{student}.py", [], "graded",
                             document)
        export(gradebook, "feedback", tmp_path / "feedback")
    for student, kind in kinds.items():
        names = sorted(p.name for p in (tmp_path / "feedback" / safe_name(student, student.title())).iterdir())
        assert names == sorted(["feedback.html", "feedback.md"] + (
            [] if kind is None else ["curves-training-1.png", "curves-training-1.svg"])), student
    assert "stopped improving at epoch 12" in (tmp_path / "feedback" / "Bob_bob" / "feedback.html").read_text()

    for student, document in documents.items():
        _write_outputs(tmp_path / "out", student, document)
    assert sorted(p.name for p in (tmp_path / "out" / "cy").iterdir()) == [
        "curves-training-1.png", "curves-training-1.svg", "feedback.html", "feedback.md", "result.json"]
    (row,) = stats.training_curves(read_result_folder(tmp_path / "out"))
    assert (row.runs, row.overfit, row.not_converged, row.stopped_early) == (3, 2, 0, 1)
