"""Per-student feedback files, Markdown and HTML, from a native result document.

Public tests show everything the student's own ``dlgrade check`` shows (message, named
mistake, hint, inputs and values). Hidden tests show their name, points, outcome and message
only: never their inputs, expected values or code. Student-controlled text (exception
messages) goes into code blocks, and the HTML comes from markdown-it with raw HTML disabled,
so nothing a student wrote becomes markup.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

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


def feedback_markdown(document: dict, student: str) -> str:
    """The feedback of one student as Markdown."""
    lines = [f"# Feedback for {_cell(student)}", "",
             f"**Total: {document['score']:g} / {document['max_score']:g}**", ""]
    for adjustment in document.get("adjustments", []):
        what = "late penalty" if adjustment["kind"] == "late_penalty" else "score set by hand"
        lines.append(f"- {what} on {_cell(adjustment['target'])}: {adjustment['old']:g} → {adjustment['new']:g} "
                     f"({_cell(adjustment['reason'])})")
    for entry in document["assignments"]:
        lines += ["", f"## {entry['assignment']}: {entry['score']:g} / {entry['max_score']:g}", ""]
        if entry["status"] == "not_gradable":
            lines += ["Not gradable:", "", _block(entry.get("reason", ""))]
            continue
        if entry.get("reason"):
            lines += [_cell(entry["reason"]), ""]
        tests = [t for t in document["tests"] if t["assignment"] == entry["assignment"]]
        lines += ["| test | points | outcome |", "|---|---|---|"]
        lines += [f"| {_cell(t['name'])}{' (hidden)' if t['visibility'] != 'public' else ''} | "
                  f"{t['score']:g}/{t['max_score']:g} | {t['outcome'].replace('_', ' ')} |" for t in tests]
        for test in tests:
            if test["outcome"] == "passed":
                continue
            lines += ["", f"### {_cell(test['name'])}", ""]
            lines.append(_block(_test_text(test)))
    return "\n".join(lines) + "\n"


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
    """The same feedback as one HTML page."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = renderer.render(feedback_markdown(document, student))
    title = re.sub(r"[<>&\"']", "", f"Feedback for {student}")
    return _HTML_PAGE.format(title=title, body=body)
