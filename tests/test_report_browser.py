"""The course report in a real browser: headless Chromium loads it without errors and draws its plots.

A copy of the report gets one small probe script (its CSP is widened by a nonce for that script
only). The probe records script errors and CSP violations from the start, and at the load event
writes, for each plot, whether it decoded, its natural and laid-out size, and whether drawing it
on a canvas gives non-white pixels (just after the load event). ``chromium --dump-dom`` prints the DOM with that record.
Skips, with the reason, where no Chromium is installed (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from autograder.gradebook.export import write_student_files
from autograder.report import build_report
from report_documents import graded_batch, loss_curves, training_document

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless Chromium on this machine (CI installs it: apt-get install -y chromium)")

NONCE = "dlgrade-probe"
PROBE = """<script nonce="%s">
window.__problems = [];
window.addEventListener("error", e => window.__problems.push("error: " + (e.message || e.type)), true);
window.addEventListener("securitypolicyviolation", e => window.__problems.push("csp: " + e.violatedDirective + " " + e.blockedURI));
window.addEventListener("load", () => setTimeout(() => {  // after the load's queued events
  const plots = Array.from(document.images).map(img => {
    const box = img.getBoundingClientRect();
    let inked = -1;
    try {
      const canvas = document.createElement("canvas");
      canvas.width = 200; canvas.height = 120;
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff"; context.fillRect(0, 0, 200, 120);
      context.drawImage(img, 0, 0, 200, 120);
      const pixels = context.getImageData(0, 0, 200, 120).data;
      inked = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 600) inked++;
    } catch (error) { window.__problems.push("canvas: " + error); }
    return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
            shown_width: box.width, shown_height: box.height, inked: inked};
  });
  const record = document.createElement("pre");
  record.id = "probe";
  record.textContent = JSON.stringify({plots: plots, problems: window.__problems, title: document.title,
                                       sections: Array.from(document.querySelectorAll("section")).map(s => s.id)});
  document.body.appendChild(record);
}, 200));
</script>""" % NONCE


def with_probe(report: str) -> str:
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', report)
    assert csp, "the report declares its Content-Security-Policy"
    policy = csp.group(1) + f"; script-src 'nonce-{NONCE}'"
    return report.replace(csp.group(0), f'<meta http-equiv="Content-Security-Policy" content="{policy}">' + PROBE, 1)


def render(path, profile) -> dict:
    completed = subprocess.run(
        [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", "--window-size=1200,2000", "--virtual-time-budget=5000",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', completed.stdout, re.S)
    assert found, f"the probe did not run; stderr: {completed.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def test_the_report_loads_without_errors_and_draws_its_plots(course, tmp_path):
    documents = graded_batch(course, tmp_path / "submissions")
    documents[4]["student"] = "<script>window.__problems.push('injected')</script>"
    page = tmp_path / "report.html"
    page.write_text(with_probe(build_report(documents)), encoding="utf-8")
    record = render(page, tmp_path / "profile")
    assert record["problems"] == []
    assert record["title"] == "dlgrade course report"
    assert record["sections"] == ["overview", "scores", "mistakes", "problems", "timing"]
    assert len(record["plots"]) == 5
    for plot in record["plots"]:
        assert plot["complete"] and plot["width"] > 100 and plot["height"] > 50, plot
        assert plot["shown_width"] > 100 and plot["shown_height"] > 50, plot
        assert plot["inked"] > 200, plot  # axes, bars and labels drawn, not a blank image


def test_a_script_smuggled_into_the_report_would_be_caught_by_the_probe(tmp_path):
    """The probe is not blind: an external image and an inline script are reported."""
    page = tmp_path / "report.html"
    report = build_report([]).replace(
        "</body>", '<img src="https://example.invalid/x.png"><script>document.title = "ran"</script></body>')
    page.write_text(with_probe(report), encoding="utf-8")
    record = render(page, tmp_path / "profile")
    assert any(p.startswith("csp: img-src") for p in record["problems"]), record
    assert any(p.startswith("csp: script-src") for p in record["problems"]), record
    assert record["title"] == "dlgrade course report"  # the page's policy blocked the script


def test_the_training_curves_draw_in_the_report_and_in_the_students_feedback(tmp_path):
    """The cohort's curves in the report, and one student's figure embedded in feedback.html, decode and
    draw under each page's policy; a hostile series name in the figure runs nothing."""
    kinds = {"ada": "good", "bob": "overfit", "cy": "early", "dee": "flat"}
    documents = [training_document(student, loss_curves(kind)) for student, kind in kinds.items()]
    page = tmp_path / "report.html"
    page.write_text(with_probe(build_report(documents)), encoding="utf-8")
    record = render(page, tmp_path / "profile")
    assert record["problems"] == []
    assert record["sections"] == ["overview", "scores", "mistakes", "curves", "problems", "timing"]
    for plot in record["plots"]:
        assert plot["complete"] and plot["width"] > 100 and plot["inked"] > 200, plot

    series = loss_curves("early")
    series["<script>window.__problems.push('injected')</script>"] = series.pop("validation loss")
    paths = write_student_files(tmp_path / "feedback", "ada", training_document("ada", series))
    feedback = paths[1]
    feedback.write_text(with_probe(feedback.read_text()), encoding="utf-8")
    record = render(feedback, tmp_path / "profile")
    assert record["problems"] == []
    (plot,) = record["plots"]
    assert plot["complete"] and plot["width"] > 300 and plot["shown_width"] > 300 and plot["inked"] > 200, plot
