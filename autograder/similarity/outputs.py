"""The similarity ranking as a terminal table, a CSV file and one static HTML page.

Every student string (names, function names, code) is hostile: the terminal gets it as
``rich.text.Text`` without control characters (:func:`autograder.console.shown`), the CSV through
the csv module with OWASP's formula neutralization (:func:`autograder.gradebook.export.csv_cell`:
a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``),
and the HTML through Jinja2 with autoescaping (the code is split into plain and matched segments
here, and escaped in the template). The page runs no script and fetches nothing (its
Content-Security-Policy says so).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from dataclasses import dataclass
from pathlib import Path

import jinja2
from rich.table import Table

from autograder import __version__
from autograder.console import shown
from autograder.gradebook.export import Numeral, csv_cell, write_new_file
from autograder.similarity.ranking import Cohort, PairStatus, RankedPair, flag_rule
from autograder.untrusted import LINE, cap, inert

HTML_NAME = "similarity.html"
CSV_NAME = "similarity.csv"
SHOWN_PAIRS = 10  # pairs shown side by side on the page beyond the flagged ones (and rows in the terminal)
MAX_CODE_CHARS = 20_000  # of one unit on the page


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _z(value: float | None) -> str:
    return "–" if value is None else ("inf" if value == float("inf") else f"{value:.1f}")


def _label(pair: RankedPair, side: str) -> str:
    code = (pair.comparison.a if side == "a" else pair.comparison.b).code
    return cap(inert(code.label if code.label == code.student else f"{code.label} ({code.student})"), 2 * LINE)


def terminal_table(cohort: Cohort, limit: int = SHOWN_PAIRS) -> Table:
    """The top ``limit`` pairs of ``cohort`` (and every flagged pair), best first."""
    table = Table(title=shown(f"{cohort.assignment}: {len(cohort.students)} students, "
                              f"{_count(len(cohort.pairs), 'pair')}, {len(cohort.flagged)} flagged "
                              f"(median {cohort.median:.2f}, MAD {cohort.mad:.2f})"))
    for column, justify in (("#", "right"), ("student A", "left"), ("student B", "left"), ("score", "right"),
                            ("z", "right"), ("shared", "right"), ("functions matched", "left"), ("", "left")):
        table.add_column(column, justify=justify)
    for pair in _shown_pairs(cohort, limit):
        style = "bold red" if pair.status is PairStatus.FLAGGED else ""
        matches = pair.comparison.matches
        matched = ", ".join(f"{m.left.name}~{m.right.name}" for m in matches[:3])
        matched += f" (+{len(matches) - 3})" if len(matches) > 3 else ""
        table.add_row(str(pair.rank), shown(_label(pair, "a")), shown(_label(pair, "b")), _score(pair.score),
                      _z(pair.z), str(pair.comparison.matched_tokens), shown(cap(matched, 2 * LINE)),
                      shown(pair.status.value, style))
    return table


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _shown_pairs(cohort: Cohort, limit: int) -> list[RankedPair]:
    return [p for p in cohort.pairs if p.status is PairStatus.FLAGGED or p.rank <= limit]


def csv_text(cohorts: list[Cohort]) -> str:
    """Every pair of every cohort: assignment, rank, both students, score, z, shared, status, functions."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["assignment", "rank", "student_a", "name_a", "student_b", "name_b", "score", "z",
                     "shared_tokens", "status", "matched_functions"])
    for cohort in cohorts:
        for pair in cohort.pairs:
            a, b = pair.comparison.a.code, pair.comparison.b.code
            matched = "; ".join(f"{m.left.name}~{m.right.name}" for m in pair.comparison.matches)
            row = [cohort.assignment, Numeral(pair.rank), inert(a.student), inert(a.label), inert(b.student), inert(b.label),
                   Numeral(_score(pair.score)), Numeral(_z(pair.z)), Numeral(pair.comparison.matched_tokens),
                   pair.status.value, cap(inert(matched), 2_000)]
            writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


@dataclass(frozen=True)
class Segment:
    text: str
    matched: bool


def segments(code: str, slices: tuple[tuple[int, int], ...]) -> list[Segment]:
    """``code`` cut into plain and matched segments (``slices``: offsets into ``code``), each made
    inert after the cut, so that a removed control character shifts no highlight."""
    code = code[:MAX_CODE_CHARS]
    out, cursor = [], 0
    for start, end in sorted(slices):
        start, end = max(start, cursor), min(end, len(code))
        if start >= end:
            continue
        if start > cursor:
            out.append(Segment(inert(code[cursor:start], multiline=True), False))
        out.append(Segment(inert(code[start:end], multiline=True), True))
        cursor = end
    if cursor < len(code):
        out.append(Segment(inert(code[cursor:], multiline=True), False))
    return out


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>dlgrade similarity</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 90em; color: #222; padding: 0 1em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #fde8e8; } .muted { color: #666; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; margin: 0.5em 0 1.5em; }
pre { background: #f8f8f8; border: 1px solid #ddd; padding: 0.5em; overflow-x: auto; font-size: 0.85em; margin: 0; }
mark { background: #ffe08a; }
</style>
</head>
<body>
<h1>Who copied? Code similarity</h1>
<p class="muted">{{ generated }} · dlgrade {{ version }} · similarity never changes a grade: read the matched code and decide.</p>
<p>Each student's own code (top-level functions and classes; the released stub removed as boilerplate;
names, strings and comments normalized away by copydetect) is compared function by function with every
other student's. Score: the share of both students' own code that matches. {{ rule }}.</p>
{% for cohort in cohorts %}{% set c = loop.index %}
<section id="assignment-{{ c }}">
<h2>{{ cohort.assignment }}</h2>
<p>{{ cohort.students|length }} students, {{ count(cohort.pairs|length, "pair") }}, {{ cohort.flagged|length }} flagged;
pair scores: median {{ "%.2f"|format(cohort.median) }}, MAD {{ "%.2f"|format(cohort.mad) }}.</p>
<table>
<tr><th>#</th><th>student A</th><th>student B</th><th>score</th><th>z</th><th>shared</th><th>status</th></tr>
{% for pair in shown(cohort) %}
<tr class="{{ 'flagged' if pair.status.value == 'flagged' else '' }}"><td class="num">{{ pair.rank }}</td>
<td>{{ label(pair, 'a') }}</td><td>{{ label(pair, 'b') }}</td><td class="num">{{ score(pair.score) }}</td>
<td class="num">{{ z(pair.z) }}</td><td class="num">{{ pair.comparison.matched_tokens }}</td>
<td>{% if pair.comparison.matches %}<a href="#pair-{{ c }}-{{ pair.rank }}">{{ pair.status.value }}</a>{% else %}{{ pair.status.value }}{% endif %}</td></tr>
{% endfor %}
</table>
{% for pair in shown(cohort) if pair.comparison.matches %}
<h3 id="pair-{{ c }}-{{ pair.rank }}">#{{ pair.rank }} {{ label(pair, 'a') }} · {{ label(pair, 'b') }}: {{ score(pair.score) }} ({{ pair.status.value }})</h3>
{% for m in pair.comparison.matches %}
<p class="muted">{{ m.left.name }} ~ {{ m.right.name }}: {{ "%.0f"|format(100 * m.left_share) }} % / {{ "%.0f"|format(100 * m.right_share) }} % matched</p>
<div class="side">
<pre>{% for s in segments(m.left.code, m.left_slices) %}{% if s.matched %}<mark>{{ s.text }}</mark>{% else %}{{ s.text }}{% endif %}{% endfor %}</pre>
<pre>{% for s in segments(m.right.code, m.right_slices) %}{% if s.matched %}<mark>{{ s.text }}</mark>{% else %}{{ s.text }}{% endif %}{% endfor %}</pre>
</div>
{% endfor %}
{% endfor %}
</section>
{% else %}
<p class="muted">No assignment with two or more students' files.</p>
{% endfor %}
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def html_page(cohorts: list[Cohort], now: _dt.datetime | None = None) -> str:
    """The page: per assignment the ranked pairs, then each flagged or top pair's matched functions side by side."""
    return _ENVIRONMENT.from_string(_TEMPLATE).render(
        generated=(now or _dt.datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=__version__, rule=flag_rule(), cohorts=cohorts,
        shown=lambda cohort: _shown_pairs(cohort, SHOWN_PAIRS), label=_label, score=_score, z=_z, segments=segments, count=_count)


def write_outputs(cohorts: list[Cohort], out: Path) -> tuple[Path, Path]:
    """Write ``out/similarity.html`` and ``out/similarity.csv``."""
    html, table = out / HTML_NAME, out / CSV_NAME
    write_new_file(html, html_page(cohorts))
    write_new_file(table, csv_text(cohorts))
    return html, table
