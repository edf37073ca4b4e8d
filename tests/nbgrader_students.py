"""Fake students for the nbgrader tests and benchmark: their perceptron notebooks, built from the release.

Each builder takes the released (student) notebook and returns the notebook a student would
submit: answers filled in, and for the hostile ones, one known bypass of plain nbgrader each
(grading-facts, section 4). The hostile answers are stubs, so every point they get is stolen.
"""

from __future__ import annotations

import copy
import re

import nbformat

from autograder.markers import solution_regions
from autograder.submission import is_autograder_test

# The course folders whose gradebook the "gradebook writer" attacks: it searches for them the way
# a student would (relative to where nbgrader runs the kernel, then by glob), and touches no other.
TARGET_PREFIX = "dlgrade-bypass-course"

BUGGY_STEP = "def step(z):\n    return (np.asarray(z) >= 0).astype(np.int64)  # wrong at exactly 0\n"

INPUT_TRANSFORMER = '''\
def _swallow(lines):  # wraps every later cell in try/except: no test cell can fail
    body = "".join(lines).splitlines() or ["pass"]
    return ["try:\\n"] + ["    " + line + "\\n" for line in body] + ["except BaseException:\\n", "    pass\\n"]
get_ipython().input_transformers_post.append(_swallow)
'''

SHOWTRACEBACK = '''\
_ip = get_ipython()
_ip.showtraceback = lambda *args, **kwargs: None  # errors print nothing
_ip._showtraceback = lambda *args, **kwargs: None
'''

GRADEBOOK_WRITER = f'''\
import glob, os, sqlite3
_me = "{{student}}"  # the student's own id (their JupyterHub user name)
_targets = {{os.path.abspath("../../../gradebook.db")}}
for _depth in ("", "*/", "*/*/", "*/*/*/"):
    _targets |= set(glob.glob(f"/tmp/{{_depth}}{TARGET_PREFIX}*/gradebook.db"))
for _db in _targets:
    if os.path.basename(os.path.dirname(_db)).startswith("{TARGET_PREFIX}") and os.path.exists(_db):
        with sqlite3.connect(_db) as _connection:
            _connection.execute(
                "UPDATE grade SET manual_score = 1000 WHERE notebook_id IN (SELECT n.id FROM submitted_notebook n "
                "JOIN submitted_assignment a ON n.assignment_id = a.id WHERE a.student_id = ?)", (_me,))
'''

WARNING_STEP = '''\
def step(z):
    import sys
    print("warning: step converts its input with np.asarray", file=sys.stderr)  # a correct answer, noisy
    return (np.asarray(z) > 0).astype(np.int64)
'''


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def answer_code(course, assignment: str) -> dict[str, str]:
    """The model answer of each answer cell, without solution markers: ``{grade_id: code}``."""
    from autograder.judge.rubric import load_rubric
    from autograder.nbgrader_bridge.source import build_source_notebook

    source = build_source_notebook(course.answer_source(assignment).read_text(), assignment=assignment,
                                   rubric=load_rubric(course, assignment))
    answers = {}
    for cell in source.cells:
        if _meta(cell).get("solution"):
            lines = cell.source.splitlines()
            markers = {n for begin, end, _ in solution_regions(cell.source) for n in (begin, end)}
            answers[_meta(cell)["grade_id"]] = "\n".join(line for n, line in enumerate(lines) if n not in markers)
    return answers


def fill(release_nb, answers: dict[str, str]):
    """A copy of the released notebook with the given answer cells replaced."""
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        if _meta(cell).get("solution") and _meta(cell)["grade_id"] in answers:
            cell.source = answers[_meta(cell)["grade_id"]]
    return nb


def _prepend(nb, code: str):
    nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return nb


def students(course, release_nb) -> dict[str, nbformat.NotebookNode]:
    """``{student id: submitted notebook}``: correct, buggy, hostile, and one per bypass."""
    correct = answer_code(course, "perceptron")
    stub = copy.deepcopy(release_nb)
    made = {
        "correct": fill(release_nb, correct),
        "buggy": fill(release_nb, correct | {"step": BUGGY_STEP}),
        "warning_on_stderr": fill(release_nb, correct | {"step": WARNING_STEP}),
    }

    skip = copy.deepcopy(stub)
    for cell in skip.cells:
        if is_autograder_test(cell):
            cell.metadata.setdefault("tags", []).append("skip-execution")
    made["skip_execution"] = skip
    made["input_transformer"] = _prepend(copy.deepcopy(stub), INPUT_TRANSFORMER)
    made["showtraceback"] = _prepend(copy.deepcopy(stub), SHOWTRACEBACK)

    edited = copy.deepcopy(stub)
    tests = [cell for cell in edited.cells if is_autograder_test(cell)]
    tests[0].source = "print('all tests pass')"          # edit a locked test cell
    edited.cells.remove(tests[1])                          # delete another
    tests[2].metadata.pop("nbgrader")                      # and un-grade the third
    tests[2].source = re.sub(r"_dlgrade\.\w+\(\)", "pass", tests[2].source)
    made["edited_tests"] = edited
    made["gradebook_writer"] = _prepend(copy.deepcopy(stub), GRADEBOOK_WRITER.replace("{student}", "gradebook_writer"))

    hostile = _prepend(copy.deepcopy(made["skip_execution"]),
                       INPUT_TRANSFORMER + SHOWTRACEBACK + GRADEBOOK_WRITER.replace("{student}", "hostile"))
    made["hostile"] = hostile
    return made


HOSTILE = ("skip_execution", "input_transformer", "showtraceback", "edited_tests", "gradebook_writer", "hostile")
