"""Exports of the gradebook: grades CSV, Canvas upload CSV, Gradescope results.json, feedback.

All of them read :meth:`Gradebook.grades` / :meth:`Gradebook.result_documents`, so overrides
and late penalties are in every one. CSV files are written by the csv module (a name like
"B, Jr." is quoted and stays in its column), and every cell that is text (a name, a reason)
and starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
(OWASP's rule against CSV injection: a spreadsheet would run such a cell as a formula, for
example ``=HYPERLINK(...)`` that sends the sheet away). Numbers dlgrade formats itself
(:class:`Numeral`) are written as they are, so a negative number stays a number.

Only the assignments the gradebook graded appear: one never collected has no column (an empty or
zero column would overwrite, or create, that assignment in the LMS's gradebook). A student who
did not hand in an assignment that was graded is *missing*: 0, and the reason where the format
has room for one.

- ``csv``: ``student, name, login, email, section`` (the names and logins come from the roster,
  ``dlgrade roster import``), then per assignment ``<assignment>.<function>..., <assignment>,
  <assignment> state`` (``graded``, or ``missing: not handed in ...``, ``not gradable: ...``),
  then ``total, adjustments``;
- ``canvas``: Canvas's gradebook import format: ``Student, ID, SIS User ID, SIS Login ID,
  Section``, then one column per assignment (a new column creates the assignment in Canvas),
  and a ``Points Possible`` row under the header; a missing assignment is 0;
- ``gradescope``: ``OUT/<folder>/results.json`` per student (validated against the schema);
- ``feedback``: ``OUT/<folder>/feedback.md`` and ``feedback.html``, and for each training check
  its curves as ``curves-<assignment>-<n>.svg`` and ``.png`` beside them.

A student's folder is ``<name>_<id>`` when the name is known (:func:`student_folder`), else the id.
"""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path

from autograder.gradebook.feedback import curve_figures, feedback_html, feedback_markdown
from autograder.gradebook.store import Gradebook, describe_adjustment, stale_note
from autograder.identity import is_safe_component, student_folder, student_key
from autograder.judge.results import AssignmentResult, SubmissionResult, TestResult
from autograder.states import State

FORMATS = ("csv", "canvas", "gradescope", "feedback")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_name(student: str, name: str = "") -> str:
    """A folder name for a student key (and the student's name, when known: ``<name>_<key>``,
    :func:`~autograder.identity.student_folder`). The key is used as it is (keys are made to be
    one), or, for an id that is not one (a gradebook filled by hand), escaped. Never '.', '..' or a
    path, and two keys never share a folder."""
    if name:
        return student_folder(student, name)
    return student if is_safe_component(student) else student_key(student)


def _names(gradebook: Gradebook) -> dict[str, str]:
    return {s.id: s.name for s in gradebook.students().values()}


class Numeral(str):
    """A number dlgrade formatted itself: a CSV cell written as it is."""


def csv_cell(value) -> str:
    """A cell as written: text that a spreadsheet would take for a formula gets a leading quote."""
    text = "" if value is None else str(value)
    if isinstance(value, Numeral):
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_new_file(path: Path, text: str | bytes) -> None:
    """Write ``path`` (replacing a symlink planted there rather than following it); bytes as they are,
    text as UTF-8."""
    if path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def result_json(document: dict) -> str:
    """A result document as JSON a person can read and a diff can follow: one line per top-level
    key and one per element of a top-level list (a test each), each line compact. Each line is
    encoded by json's C encoder: ``indent=`` selects the pure-Python encoder, several times
    slower, and a batch writes one of these per submission. NaN and infinity are refused."""
    def encode(value) -> str:
        return json.dumps(value, allow_nan=False)

    def member(key, value) -> str:
        if isinstance(value, list) and value:
            return f"  {encode(key)}: [\n" + ",\n".join(f"    {encode(item)}" for item in value) + "\n  ]"
        return f"  {encode(key)}: {encode(value)}"

    if not document:
        return "{}\n"
    return "{\n" + ",\n".join(member(k, v) for k, v in document.items()) + "\n}\n"


def export(gradebook: Gradebook, kind: str, out: Path, assignment: str | None = None) -> list[Path]:
    """Write the export ``kind`` to ``out`` (a file for csv/canvas, a folder otherwise)."""
    if kind == "csv":
        return [write_grades_csv(gradebook, out, assignment)]
    if kind == "canvas":
        return [write_canvas_csv(gradebook, out, assignment)]
    if kind == "gradescope":
        return write_gradescope(gradebook, out, assignment)
    if kind == "feedback":
        return write_feedback(gradebook, out, assignment)
    raise ValueError(f"unknown export format {kind!r}: one of {', '.join(FORMATS)}")


def _columns(grades) -> tuple[list[str], dict[str, list[str]]]:
    # In the order the gradebook recorded them (each submission is graded in the course's teaching order).
    assignments = list(dict.fromkeys(a for g in grades for a in g.assignments))
    exercises = {a: sorted({e for g in grades if a in g.assignments for e in g.assignments[a].exercises})
                 for a in assignments}
    return assignments, exercises


def _number(value: float) -> Numeral:
    return Numeral(f"{value:g}")


def write_grades_csv(gradebook: Gradebook, out: Path, assignment: str | None = None) -> Path:
    grades = gradebook.grades(assignment)
    assignments, exercises = _columns(grades)
    header = ["student", "name", "login", "email", "section"]
    for a in assignments:
        header += exercises[a] + [a, f"{a} state"]
    header += ["total", "adjustments"]
    rows = [header]
    for grade in grades:
        student = grade.student
        row = [student.id, student.name, student.login, student.email, student.section]
        for a in assignments:
            entry = grade.assignments.get(a)
            row += [_number(entry.exercises.get(e, 0.0)) if entry else "" for e in exercises[a]]
            row += ["", ""] if entry is None else [_number(entry.score), _state(entry)]
        row += [_number(grade.total), "; ".join([describe_adjustment(j, "->") for j in grade.adjustments]
                                                + [f"not applied: {stale_note(e)}" for e in grade.stale_overrides])]
        rows.append(row)
    return _write_csv(out, rows)


def _state(entry) -> str:
    """``graded``, or the state's label and why: ``missing: not handed in (no losses.py ...)``."""
    label = State(entry.status).label
    return f"{label}: {entry.reason}" if entry.reason and entry.status != State.GRADED else label


def write_canvas_csv(gradebook: Gradebook, out: Path, assignment: str | None = None) -> Path:
    grades = gradebook.grades(assignment)
    assignments, _ = _columns(grades)
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + assignments]
    maxima = {a: max(g.assignments[a].max_score for g in grades if a in g.assignments) for a in assignments}
    rows.append(["    Points Possible", "", "", "", ""] + [_number(maxima[a]) for a in assignments])
    for grade in grades:
        student = grade.student
        canvas_id = student.lms_id if student.lms_id.isdigit() else ""
        login = student.login or ("" if canvas_id else student.id)  # without a Canvas id, Canvas matches the login
        rows.append([student.name or student.id, canvas_id, student.sis_user_id, login, student.section]
                    + [_number(grade.assignments[a].score) if a in grade.assignments else "" for a in assignments])
    return _write_csv(out, rows)


def _write_csv(out: Path, rows: list[list[str]]) -> Path:
    if out.is_symlink():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([[csv_cell(cell) for cell in row] for row in rows])
    return out


def document_result(document: dict) -> SubmissionResult:
    """The :class:`SubmissionResult` of a native document (to reuse its Gradescope conversion)."""
    test_fields = {f.name for f in fields(TestResult)}
    assignment_fields = {f.name for f in fields(AssignmentResult)}
    return SubmissionResult(
        submission=document.get("student", document.get("submission", "")),
        assignments=[AssignmentResult(**{k: v for k, v in a.items() if k in assignment_fields})
                     for a in document["assignments"]],
        tests=[TestResult(**{k: v for k, v in t.items() if k in test_fields}) for t in document["tests"]],
        seed=document["seed"], device=document.get("device", "cpu"),
        checks_version=document.get("checks_version", {}), duration_s=document.get("duration_s", 0.0),
        insecure=document.get("insecure", False),
    )


def gradescope_document(document: dict) -> dict:
    lines = [describe_adjustment(j) for j in document.get("adjustments", [])]
    lines += [f"Note: {stale_note(e)}" for e in document.get("stale_overrides", [])]
    # the score with overrides and penalties included, and the lines that say which
    return document_result(document).to_gradescope(score=document["score"], notes=lines)


def write_gradescope(gradebook: Gradebook, out: Path, assignment: str | None = None) -> list[Path]:
    written = []
    names = _names(gradebook)
    for document in gradebook.result_documents(assignment):
        path = out / safe_name(document["student"], names.get(document["student"], "")) / "results.json"
        write_new_file(path, json.dumps(gradescope_document(document), indent=2, allow_nan=False) + "\n")
        written.append(path)
    return written


def write_student_files(out: Path, student: str, document: dict, name: str = "") -> list[Path]:
    """``OUT/<folder>/feedback.md`` and ``feedback.html``, addressed to "name (id)" when the name is
    known, and the curves of each training check (``curves-<assignment>-<n>.svg`` and ``.png``);
    figures of an earlier grading that this one no longer has are removed, so the folder never shows
    curves the feedback does not."""
    folder = out / safe_name(student, name)
    who = f"{name} ({student})" if name and name != student else student
    figures = curve_figures(document)
    paths = [folder / "feedback.md", folder / "feedback.html"]
    write_new_file(paths[0], feedback_markdown(document, who, figures))
    write_new_file(paths[1], feedback_html(document, who, figures))
    for figure in figures:
        if figure.drawing is not None:
            paths += [folder / figure.svg_name, folder / figure.png_name]
            write_new_file(paths[-2], figure.drawing.svg)
            write_new_file(paths[-1], figure.drawing.png)
    for stale in [*folder.glob("curves-*.svg"), *folder.glob("curves-*.png")]:
        if stale not in paths:
            stale.unlink()  # a symlink is removed itself, never followed
    return paths


def write_feedback(gradebook: Gradebook, out: Path, assignment: str | None = None) -> list[Path]:
    written = []
    names = _names(gradebook)
    for document in gradebook.result_documents(assignment):
        written += write_student_files(out, document["student"], document, names.get(document["student"], ""))
    return written
