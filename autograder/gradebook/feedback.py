"""Per-student feedback files, Markdown and HTML, from a native result document.

Public tests show everything the student's own ``dlgrade check`` shows (message, named
mistake, hint, inputs and values). Hidden tests show their name, points, outcome and message
only: never their inputs, expected values or code. Student-controlled text (exception
messages) goes into code blocks in the Markdown, and every piece of text is escaped in the HTML,
so nothing a student wrote becomes markup. Both formats render the same blocks (:func:`_blocks`).

A test that carries training curves (a training check) gets a figure (:func:`curve_figures`): the
student's per-epoch losses against the reference's band, written beside the feedback as
``curves-<assignment>-<n>.svg`` and ``.png`` (``n`` counts the assignment's training checks from 1),
embedded in the HTML as an ``<img>`` data URI (an SVG shown through ``<img>`` runs no script, and the
page's Content-Security-Policy allows images from data URIs only), linked from the Markdown, and
followed by a paragraph that reads the curves.

Only the assignments of the document appear (those graded); one the student did not hand in is a
single line saying so.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from autograder.gradebook.store import describe_adjustment, stale_note
from autograder.judge.learning_curves import clean_curves, describe_run, read_run
from autograder.states import Outcome, State
from autograder.untrusted import LINE, cap, inert

if TYPE_CHECKING:
    from autograder.gradebook.curve_figure import Drawing

_SAFE_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}
pre{{background:#f4f4f4;padding:.6em;white-space:pre-wrap}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em}} figure{{margin:1em 0}} figure img{{max-width:100%;height:auto}}</style></head>
<body>
{body}</body></html>
"""


def _block(text: str) -> str:
    """A fenced code block that no backtick run inside ``text`` can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}\n"


def _cell(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>])", r"\\\1", " ".join(str(text).split()))


@dataclass(frozen=True)
class CurveFigure:
    """The figure of one training check: what to call its files, its drawing and its reading.

    ``drawable``: cleaning left something to draw; ``drawing`` is None when not drawable or not drawn
    (``curve_figures(draw=False)``); ``notes`` say what cleaning changed.
    """

    assignment: str
    test: str
    stem: str  # curves-<assignment>-<n>: a plain file name, no path
    reading: str
    notes: tuple[str, ...]
    drawable: bool
    drawing: Drawing | None = None

    @property
    def svg_name(self) -> str:
        return self.stem + ".svg"

    @property
    def png_name(self) -> str:
        return self.stem + ".png"


def _stem(assignment: str, position: int, number: int) -> str:
    """``curves-<assignment>-<number>``, or ``curves-assignment<position>-<number>`` for a name that is
    not a plain file name (assignment names are identifiers; a hand-made document may hold anything)."""
    name = assignment if _SAFE_STEM.fullmatch(assignment) else f"assignment{position}"
    return f"curves-{name}-{number}"


def curve_figures(document: dict, *, draw: bool = True) -> list[CurveFigure]:
    """One :class:`CurveFigure` per test with curves, in document order (``draw=False``: no drawing)."""
    figures: list[CurveFigure] = []
    for position, entry in enumerate(document.get("assignments", []), start=1):
        assignment = str(entry.get("assignment", ""))
        number = 0
        for test in document.get("tests", []):
            if test.get("assignment") != assignment:
                continue
            run = clean_curves(test.get("curves"))
            if run is None:
                continue
            number += 1
            name = inert(cap(str(test.get("name", "")), LINE))
            reading = read_run(run)
            drawable = any(c.values or c.band for c in run.curves)
            drawing = None
            if draw and drawable:
                from autograder.gradebook.curve_figure import draw_run  # matplotlib: only when there is a figure

                drawing = draw_run(name, run, reading)
            figures.append(CurveFigure(assignment, name, _stem(assignment, position, number),
                                       describe_run(run, reading), run.notes, drawable, drawing))
    return figures


def _blocks(document: dict, student: str, figures: Sequence[CurveFigure] = ()) -> list[tuple]:
    """The feedback as a list of blocks (kind, content), rendered by both formats below."""
    blocks: list[tuple] = [("h1", f"Feedback for {student}"),
                           ("strong", f"Total: {document['score']:g} / {document['max_score']:g}")]
    adjustments = [describe_adjustment(a) for a in document.get("adjustments", [])]
    adjustments += [f"Note: {stale_note(entry)}" for entry in document.get("stale_overrides", [])]
    if adjustments:
        blocks.append(("items", adjustments))
    for entry in document["assignments"]:
        blocks.append(("h2", f"{entry['assignment']}: {entry['score']:g} / {entry['max_score']:g}"))
        if entry["status"] == State.NOT_GRADABLE:
            blocks += [("p", "Not gradable:"), ("code", entry.get("reason", ""))]
            continue
        if entry["status"] == State.MISSING:  # one line, not a table of tests never attempted
            blocks.append(("p", f"Missing: {entry.get('reason') or 'not handed in'}"))
            continue
        if entry.get("reason"):
            blocks.append(("p", entry["reason"]))
        tests = [t for t in document["tests"] if t["assignment"] == entry["assignment"]]
        blocks.append(("table", [(f"{t['name']}{' (hidden)' if t['visibility'] != 'public' else ''}",
                                  f"{t['score']:g}/{t['max_score']:g}", Outcome(t["outcome"]).label)
                                 for t in tests]))
        for test in tests:
            if test["outcome"] != Outcome.PASSED:
                blocks += [("h3", test["name"]), ("code", _test_text(test))]
        for figure in figures:
            if figure.assignment == entry["assignment"]:
                blocks += [("h3", f"Training curves: {figure.test}"), ("figure", figure)]
    return blocks


def feedback_markdown(document: dict, student: str, figures: list[CurveFigure] | None = None) -> str:
    """The feedback of one student as Markdown (``figures``: :func:`curve_figures` of the document,
    computed without drawing when not given; the Markdown links their files)."""
    if figures is None:
        figures = curve_figures(document, draw=False)
    lines: list[str] = []
    for kind, content in _blocks(document, student, figures):
        if kind in ("h1", "h2", "h3"):
            lines += ["" if lines else None, f"{'#' * int(kind[1])} {_cell(content)}", ""]
        elif kind == "strong":
            lines += [f"**{content}**", ""]  # numbers only
        elif kind == "items":
            lines += [f"- {_cell(item)}" for item in content]
        elif kind == "p":
            lines += [_cell(content), ""]
        elif kind == "code":
            lines.append(_block(content))
        elif kind == "table":
            lines += ["| test | points | outcome |", "|---|---|---|"]
            lines += [f"| {_cell(name)} | {points} | {outcome} |" for name, points, outcome in content]
        elif kind == "figure":
            if content.drawable:
                lines += [f"![training curves of {_cell(content.test)}]({quote(content.svg_name)})", "",
                          f"PNG: [{_cell(content.png_name)}]({quote(content.png_name)})", ""]
            lines += [_cell(content.reading), ""]
            lines += [f"- {_cell(note)}" for note in content.notes]
    return "\n".join(line for line in lines if line is not None) + "\n"


def _test_text(test: dict) -> str:
    parts = [test.get("message") or Outcome(test["outcome"]).label]
    if test["visibility"] == "public":
        if test.get("mistake_title"):
            parts.append(f"Likely mistake: {test['mistake_title']}.")
        if test.get("hint"):
            parts.append(f"Hint: {test['hint']}")
        if test.get("details"):
            parts.append(test["details"])
        parts += [f"Advice: {a}" for a in test.get("advice", [])]
    return "\n".join(parts)


def _figure_html(figure: CurveFigure) -> str:
    parts = []
    if figure.drawing is not None:
        source = "data:image/svg+xml;base64," + base64.b64encode(figure.drawing.svg).decode("ascii")
        parts.append(f'<figure><img alt="{escape(f"training curves of {figure.test}")}" src="{source}">'
                     f'<figcaption>Also beside this page: <a href="{escape(quote(figure.svg_name))}">'
                     f'{escape(figure.svg_name)}</a>, <a href="{escape(quote(figure.png_name))}">'
                     f'{escape(figure.png_name)}</a></figcaption></figure>')
    parts.append(f'<p class="reading">{escape(figure.reading)}</p>')
    if figure.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(note)}</li>" for note in figure.notes) + "</ul>")
    return "".join(parts)


def feedback_html(document: dict, student: str, figures: list[CurveFigure] | None = None) -> str:
    """The same feedback as one HTML page: every piece of text escaped, no markup from any input;
    ``figures`` (:func:`curve_figures` of the document, drawn here when not given) embedded."""
    if figures is None:
        figures = curve_figures(document)
    parts = []
    for kind, content in _blocks(document, student, figures):
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{escape(content)}</{kind}>")
        elif kind == "strong":
            parts.append(f"<p><strong>{escape(content)}</strong></p>")
        elif kind == "items":
            parts.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in content) + "</ul>")
        elif kind == "p":
            parts.append(f"<p>{escape(content)}</p>")
        elif kind == "code":
            parts.append(f"<pre><code>{escape(content)}</code></pre>")
        elif kind == "table":
            rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(points)}</td><td>{escape(outcome)}</td></tr>"
                           for name, points, outcome in content)
            parts.append(f"<table><thead><tr><th>test</th><th>points</th><th>outcome</th></tr></thead>"
                         f"<tbody>{rows}</tbody></table>")
        elif kind == "figure":
            parts.append(_figure_html(content))
    title = escape(f"Feedback for {student}")
    return _HTML_PAGE.format(title=title, body="\n".join(parts) + "\n")
