"""The course report as one static HTML page: inline CSS, plots as data URIs, nothing fetched.

Rendered with Jinja2 and autoescaping on: every string that comes from a document (student
names, reasons, messages, mistake titles) is HTML-escaped, so a name like ``<script>`` shows as
text. Only the plots' data URIs (built here, base64) go into attributes.
"""

from __future__ import annotations

import datetime as _dt
import os
import statistics
import urllib.parse
from pathlib import Path

import jinja2

from autograder import __version__
from autograder.judge.learning_curves import NOT_CONVERGED_FACTOR, RISE, STALL_EPOCHS
from autograder.report import plots, stats

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>dlgrade course report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img.plot { display: block; max-width: 100%; height: auto; margin: 0.5em 0; }
.muted { color: #666; } .reason { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.95em; }
</style>
</head>
<body>
<h1>Course report</h1>
<p class="muted">{{ generated }} · dlgrade {{ version }} · {{ overview.submissions }} submissions</p>
{% if similarity %}<p id="similarity"><a href="{{ similarity }}">Who copied? Code similarity between students</a> (dlgrade similarity; it changes no grade)</p>{% endif %}

<section id="overview">
<h2>Overview</h2>
<table>
<tr><th>submissions</th><td class="num">{{ overview.submissions }}</td></tr>
<tr><th>graded</th><td class="num">{{ overview.graded }}</td></tr>
<tr><th>not gradable</th><td class="num">{{ overview.not_gradable }}</td></tr>
<tr><th>with a timed-out test</th><td class="num">{{ overview.with_timeouts }}</td></tr>
<tr><th>total score, mean / median</th><td class="num">{{ "%.1f"|format(overview.mean_percent) }} % / {{ "%.1f"|format(overview.median_percent) }} %</td></tr>
</table>
{% if total_plot %}<img class="plot" id="plot-total" alt="histogram of total scores" src="{{ total_plot }}">{% endif %}
</section>

<section id="scores">
<h2>Scores per assignment</h2>
{% if assignments_plot %}<img class="plot" id="plot-assignments" alt="box plot of scores per assignment" src="{{ assignments_plot }}">{% endif %}
<table>
<tr><th>assignment</th><th>graded</th><th>missing</th><th>not gradable</th><th>mean</th><th>median</th><th>max</th></tr>
{% for row in assignments %}
<tr><td><a href="#assignment-{{ loop.index }}">{{ row.assignment }}</a></td><td class="num">{{ row.scores|length }}</td>
<td class="num">{{ row.missing }}</td><td class="num">{{ row.not_gradable }}</td>
<td class="num">{{ mean(row.scores) }}</td><td class="num">{{ median(row.scores) }}</td><td class="num">{{ "%g"|format(row.max_score) }}</td></tr>
{% endfor %}
</table>
{% for row, panel in panels %}
<h3 id="assignment-{{ loop.index }}">{{ row.assignment }}</h3>
{% if panel %}<img class="plot" alt="scores of {{ row.assignment }}, per exercise" src="{{ panel }}">
{% else %}<p class="muted">No graded submission of this assignment.</p>{% endif %}
{% endfor %}
</section>

<section id="mistakes">
<h2>Most common mistakes</h2>
{% if mistakes %}
<img class="plot" id="plot-mistakes" alt="bar chart of the most common named mistakes" src="{{ mistakes_plot }}">
<table>
<tr><th>mistake</th><th>what it is</th><th>exercise</th><th>submissions</th><th>tests</th></tr>
{% for m in mistakes %}
<tr><td><code>{{ m.mistake }}</code></td><td>{{ m.title }}</td><td>{{ m.exercise }}</td><td class="num">{{ m.submissions }}</td><td class="num">{{ m.tests }}</td></tr>
{% endfor %}
</table>
{% else %}<p class="muted">No named mistake in these submissions.</p>{% endif %}
</section>

{% if curves %}
<section id="curves">
<h2>Training curves</h2>
<p class="muted">Per training check: the students' losses per epoch (median, and the middle half of the runs
shaded) against the reference's band. A run <em>overfits</em> when its validation loss rises ({{ rise }} % of its
lowest or more) in the {{ stall }} or more epochs after its lowest while its training loss keeps falling; it
<em>did not converge</em> when its training loss diverged or ended more than {{ factor }} times above the top of
the reference's band; it <em>stopped early</em> when it ran fewer epochs than the reference's band covers
(runs that stopped early drop out of the later epochs).</p>
<table>
<tr><th>assignment</th><th>check</th><th>runs</th><th>overfit</th><th>did not converge</th><th>stopped early</th></tr>
{% for row, plot in curves %}
<tr><td>{{ row.assignment }}</td><td><a href="#curves-{{ loop.index }}">{{ row.test }}</a></td><td class="num">{{ row.runs }}</td>
<td class="num">{{ row.overfit }}</td><td class="num">{{ row.not_converged }}</td><td class="num">{{ row.stopped_early }}</td></tr>
{% endfor %}
</table>
{% for row, plot in curves %}
<h3 id="curves-{{ loop.index }}">{{ row.assignment }}: {{ row.test }}</h3>
{% if plot %}<img class="plot" alt="training curves of {{ row.test }}: the students' median and middle half against the reference's band" src="{{ plot }}">
{% else %}<p class="muted">No run has a curve left to draw.</p>{% endif %}
{% endfor %}
</section>
{% endif %}

<section id="problems">
<h2>Not gradable or timed out</h2>
{% if problems %}
<table>
<tr><th>student</th><th>assignment</th><th>what happened</th><th>reason</th></tr>
{% for p in problems %}
<tr><td>{{ p.student }}</td><td>{{ p.assignment }}</td><td>{{ p.kind }}</td><td class="reason">{{ p.reason }}</td></tr>
{% endfor %}
</table>
{% else %}<p class="muted">Every submitted file was graded, and no test ran out of time.</p>{% endif %}
</section>

<section id="timing">
<h2>Grading time</h2>
{% if durations.seconds %}
<p>Per submission: p50 {{ "%.2f"|format(durations.p50) }} s, p95 {{ "%.2f"|format(durations.p95) }} s,
max {{ "%.2f"|format(durations.seconds|max) }} s; {{ "%.1f"|format(durations.total) }} s in all
({{ durations.seconds|length }} submissions; wall time of each grading, not of the whole run).</p>
<img class="plot" id="plot-durations" alt="histogram of grading time per submission" src="{{ durations_plot }}">
{% else %}<p class="muted">No grading time recorded.</p>{% endif %}
</section>
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def similarity_link(report: Path, page: Path | None = None) -> str:
    """The address, relative to ``report``, of the similarity page: ``page`` when given, else
    ``similarity.html`` or ``similarity/similarity.html`` beside the report when one exists
    (where ``dlgrade similarity --out .`` or its default ``--out similarity`` writes it); "" for none."""
    folder = report.resolve().parent
    candidates = [page] if page is not None else [folder / "similarity.html", folder / "similarity" / "similarity.html"]
    for candidate in candidates:
        if candidate.is_file():
            return urllib.parse.quote(Path(os.path.relpath(candidate.resolve(), folder)).as_posix())
    return ""


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.1f}" if values else "–"


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "–"


def build_report(documents: list[dict], now: _dt.datetime | None = None, similarity: str = "") -> str:
    """The course report for ``documents`` (native result documents, one per submission), as HTML.
    ``similarity``: the address of ``dlgrade similarity``'s page relative to the report, linked when given."""
    overview = stats.overview(documents)
    assignments = stats.assignment_scores(documents)
    mistakes = stats.common_mistakes(documents)
    durations = stats.durations(documents)
    curves = stats.training_curves(documents)
    percents = [100.0 * d["score"] / d["max_score"] for d in documents
                if d.get("status") != stats.NOT_GRADABLE and d.get("max_score")]
    template = _ENVIRONMENT.from_string(_TEMPLATE)
    return template.render(
        generated=(now or _dt.datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=__version__,
        overview=overview,
        total_plot=plots.total_histogram(percents) if percents else "",
        assignments=assignments,
        assignments_plot=plots.assignments_boxplot(assignments) if any(r.scores for r in assignments) else "",
        panels=[(row, plots.assignment_panel(row) if row.scores else "") for row in assignments],
        mistakes=mistakes,
        mistakes_plot=plots.mistakes_bar(mistakes) if mistakes else "",
        curves=[(row, plots.cohort_curves(row) if row.series else "") for row in curves],
        stall=STALL_EPOCHS,
        rise=f"{100 * RISE:g}",
        factor=f"{NOT_CONVERGED_FACTOR:g}",
        problems=stats.problems(documents),
        durations=durations,
        durations_plot=plots.durations_histogram(durations) if durations.seconds else "",
        mean=_mean,
        median=_median,
        similarity=similarity,
    )
