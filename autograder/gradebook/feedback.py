"""Per-student feedback files, Markdown and HTML, from a native result document.

Public tests show everything the student's own ``dlgrade check`` shows (message, named
mistake, hint, inputs and values). Hidden tests show their name, points, outcome and message
only: never their inputs, expected values or code. Student-controlled text (exception
messages) goes into code blocks in the Markdown, and every piece of text is escaped in the HTML,
so nothing a student wrote becomes markup. Both formats render the same blocks (:func:`_blocks`).
Only the assignments of the document appear (those graded); one the student did not hand in is a
single line saying so.
"""

from __future__ import annotations

import re

from html import escape

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}
pre{{background:#f4f4f4;padding:.6em;white-space:pre-wrap}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em}}</style></head>
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


def _blocks(document: dict, student: str) -> list[tuple]:
    """The feedback as a list of blocks (kind, content), rendered by both formats below."""
    blocks: list[tuple] = [("h1", f"Feedback for {student}"),
                           ("strong", f"Total: {document['score']:g} / {document['max_score']:g}")]
    adjustments = []
    for adjustment in document.get("adjustments", []):
        what = "late penalty" if adjustment["kind"] == "late_penalty" else "score set by hand"
        adjustments.append(f"{what} on {adjustment['target']}: {adjustment['old']:g} → {adjustment['new']:g} "
                           f"({adjustment['reason']})")
    if adjustments:
        blocks.append(("items", adjustments))
    for entry in document["assignments"]:
        blocks.append(("h2", f"{entry['assignment']}: {entry['score']:g} / {entry['max_score']:g}"))
        if entry["status"] == "not_gradable":
            blocks += [("p", "Not gradable:"), ("code", entry.get("reason", ""))]
            continue
        if entry["status"] == "missing":  # one line, not a table of tests never attempted
            blocks.append(("p", f"Missing: {entry.get('reason') or 'not handed in'}"))
            continue
        if entry.get("reason"):
            blocks.append(("p", entry["reason"]))
        tests = [t for t in document["tests"] if t["assignment"] == entry["assignment"]]
        blocks.append(("table", [(f"{t['name']}{' (hidden)' if t['visibility'] != 'public' else ''}",
                                  f"{t['score']:g}/{t['max_score']:g}", t["outcome"].replace("_", " "))
                                 for t in tests]))
        for test in tests:
            if test["outcome"] != "passed":
                blocks += [("h3", test["name"]), ("code", _test_text(test))]
    return blocks


def feedback_markdown(document: dict, student: str) -> str:
    """The feedback of one student as Markdown."""
    lines: list[str] = []
    for kind, content in _blocks(document, student):
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
    return "\n".join(line for line in lines if line is not None) + "\n"


def _test_text(test: dict) -> str:
    parts = [test.get("message") or test["outcome"].replace("_", " ")]
    if test["visibility"] == "public":
        if test.get("mistake_title"):
            parts.append(f"Likely mistake: {test['mistake_title']}.")
        if test.get("hint"):
            parts.append(f"Hint: {test['hint']}")
        if test.get("details"):
            parts.append(test["details"])
        parts += [f"Advice: {a}" for a in test.get("advice", [])]
    return "\n".join(parts)


def feedback_html(document: dict, student: str) -> str:
    """The same feedback as one HTML page: every piece of text escaped, no markup from any input."""
    parts = []
    for kind, content in _blocks(document, student):
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
    title = escape(f"Feedback for {student}")
    return _HTML_PAGE.format(title=title, body="\n".join(parts) + "\n")
