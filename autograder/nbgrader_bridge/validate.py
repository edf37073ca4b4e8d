"""``dlgrade validate``: the instructor's gate before a release goes out.

For each assignment, five findings (each a list of problems; empty means it holds):

- the model answer, as the generated nbgrader source notebook, scores full marks with the full rubric;
- the released notebook and ``.py`` stub score 0 (nbgrader's ``validate --invert`` idea: the
  checks can fail);
- every known mistake (its NumPy version appended to the model answer) loses points and is named;
- the release holds no hidden content: no solution marker or hidden-test region, no line of a
  solution body, of the torch reference, of the hidden checks or of the mutants;
- both notebooks run top to bottom in a Jupyter kernel: the instructor's without any error, the
  student's with no error but the stubs' ``NotImplementedError``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import SOLUTIONS_ENV, Course
from autograder.markers import BEGIN_SOLUTION, END_SOLUTION, solution_regions
from autograder.nbgrader_bridge.source import BEGIN_HIDDEN, END_HIDDEN

MIN_SECRET_LINE = 12  # shorter lines (`return x`, `pass`) are not telling


@dataclass
class Finding:
    what: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.strip().startswith("#")}


def secret_lines(course: Course, assignment: str) -> set[str]:
    """Code lines that must never reach students (answer bodies, reference, hidden checks, mutants)."""
    source = course.answer_source(assignment).read_text(encoding="utf-8")
    lines = source.splitlines()
    inside = {n for begin, end, _ in solution_regions(source) for n in range(begin + 1, end)}
    secret = _lines("\n".join(lines[n] for n in sorted(inside)))
    visible = _lines("\n".join(line for n, line in enumerate(lines) if n not in inside))
    for hidden in ("reference.py", "hidden_checks.py", "mutants.py"):
        secret |= _lines((course.solutions / assignment / hidden).read_text(encoding="utf-8"))
    for public in course.solutions.glob("*/public_checks.py"):
        visible |= _lines(public.read_text(encoding="utf-8"))
    return {line for line in secret - visible if len(line) >= MIN_SECRET_LINE and not line.startswith(('"', "'"))}


def leaks(course: Course, assignment: str, files: dict[str, str]) -> list[str]:
    """What of the hidden material appears in the release ``files`` ({relative path: text})."""
    secret = secret_lines(course, assignment)
    problems = []
    for relative, text in sorted(files.items()):
        for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, "_dlgrade.hidden()"):
            if marker in text:
                problems.append(f"{relative}: contains {marker!r}")
        code = text
        if relative.endswith(".ipynb"):
            code = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code")
        if not relative.endswith(".json"):
            found = sorted(_lines(code) & secret)
            if found:
                problems.append(f"{relative}: hidden code {found[:3]}")
    return problems


def scores(course: Course, assignment: str, release: Path, source_nb) -> tuple[Finding, Finding]:
    """Grade the model answer notebook (full marks expected) and the released files (0 expected)."""
    from autograder.judge.grader import Plan, grade, new_seed
    from autograder.sandbox import open_sandbox

    plan = Plan.for_course(course, [assignment], new_seed())
    full, zero = Finding("the model answer scores full marks"), Finding("the released stubs score 0")
    with tempfile.TemporaryDirectory(prefix="dlgrade-validate-") as folder, \
            open_sandbox(hidden=course.hidden_paths()) as sandbox:
        answer = Path(folder) / f"{assignment}.ipynb"
        nbformat.write(source_nb, answer)
        result = grade(answer, plan, start_child=sandbox.start_child)
        if result.score != result.max_score:
            lost = [f"{t.name}: {t.outcome} {t.message}" for t in result.tests if t.score < t.max_score]
            full.problems.append(f"{result.score:g}/{result.max_score:g} (seed {plan.seed}); "
                                 + "; ".join(lost[:3]) + "".join(f"; {a.reason}" for a in result.assignments if a.reason))
        for stub in (release / f"{assignment}.ipynb", release / f"{assignment}.py"):
            result = grade(stub, plan, start_child=sandbox.start_child)
            if result.score != 0:
                passed = [t.name for t in result.tests if t.score > 0]
                zero.problems.append(f"{stub.name} scores {result.score:g}: {passed[:3]} pass on a stub")
    return full, zero


def runs(course: Course, source_nb, release: Path, assignment: str) -> Finding:
    """Execute the instructor's and the student's notebook top to bottom in a kernel (which finds
    this course's hidden checks through $DLGRADE_SOLUTIONS)."""
    import nbclient

    finding = Finding("the notebooks run top to bottom")
    with tempfile.TemporaryDirectory(prefix="dlgrade-validate-") as folder, _environment(SOLUTIONS_ENV, course.solutions):
        shutil.copytree(release, folder, dirs_exist_ok=True)  # the public checks sit next to the notebook
        student_nb = nbformat.read(release / f"{assignment}.ipynb", as_version=4)
        for name, notebook, allowed in (("instructor", source_nb, set()), ("student", student_nb, {"NotImplementedError"})):
            notebook = nbformat.from_dict(notebook)
            client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                                             resources={"metadata": {"path": folder}})
            client.execute()
            errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
            bad = [f"{e.ename}: {e.evalue}"[:200] for e in errors if e.ename not in allowed]
            if bad:
                finding.problems.append(f"the {name} notebook raised {bad[:3]}")
    return finding


@contextlib.contextmanager
def _environment(name: str, value) -> None:
    """``$name`` set to ``value`` for the processes started inside the block (a Jupyter kernel)."""
    before = os.environ.get(name)
    os.environ[name] = str(value)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def mistakes_caught(course: Course, assignment: str) -> Finding:
    """Every known mistake, appended to the model answer in NumPy, loses points in its exercise
    and is named there: the catalogue the feedback relies on is real."""
    from autograder.judge.grader import Plan, grade
    from autograder.judge.rubric import live_oracle, load_rubric
    from autograder.sandbox import open_sandbox

    finding = Finding("every known mistake loses points and is named")
    rubric = load_rubric(course, assignment)
    plan = Plan({assignment: (rubric, live_oracle(course, rubric))}, seed=1)
    answer = course.answer_source(assignment).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="dlgrade-validate-") as folder, \
            open_sandbox(hidden=course.hidden_paths()) as sandbox:
        for mutant in rubric.mutants:
            if not mutant.submission:
                finding.problems.append(f"{mutant.id}: no NumPy version (submission=) to prove it is caught")
                continue
            path = Path(folder) / mutant.slug / f"{assignment}.py"
            path.parent.mkdir()
            path.write_text(answer + "\n\n" + mutant.submission_source, encoding="utf-8")
            tests = [t for t in grade(path, plan, start_child=sandbox.start_child).tests
                     if t.exercise == mutant.exercise]
            if all(t.score == t.max_score for t in tests):
                finding.problems.append(f"{mutant.id}: keeps full marks in {mutant.exercise}")
            elif not any(t.mistake == mutant.id for t in tests):
                finding.problems.append(f"{mutant.id}: loses points but is never named")
    return finding


def validate(course: Course, assignment: str, release: Path, files: dict[str, str], execute: bool = True) -> list[Finding]:
    """Every finding for one assignment whose release is in ``release`` (texts in ``files``)."""
    from autograder.judge.rubric import load_rubric
    from autograder.nbgrader_bridge.source import build_source_notebook

    source_nb = build_source_notebook(course.answer_source(assignment).read_text(encoding="utf-8"),
                                      assignment=assignment, rubric=load_rubric(course, assignment))
    findings = list(scores(course, assignment, release, source_nb))
    findings.append(mistakes_caught(course, assignment))
    findings.append(Finding("no hidden content in the release", leaks(course, assignment, files)))
    if execute:
        findings.append(runs(course, source_nb, release, assignment))
    return findings
