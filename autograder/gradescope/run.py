"""What ``run_autograder`` runs in Gradescope's container: grade ``/autograder/submission/`` and
write ``/autograder/results/results.json``.

- **Whose work, when.** ``submission_metadata.json`` (:mod:`.metadata`) gives the student, whose
  key seeds the hidden inputs exactly as ``dlgrade grade --seed SEED --student KEY`` does (the
  seed is the build's), and the submission time and due dates, for the course's late policy
  (``[late]`` of ``solutions/course.toml``, :class:`~autograder.course.LatePolicy`). A penalty is
  applied to the whole score and said in the top-level ``output``.
- **Which files.** Gradescope keeps the folders of an uploaded zip or repository, so the whole
  submission tree is searched (symbolic links not followed, hidden folders and ``__MACOSX``
  skipped, bounded in depth and entries); each file's name says its assignment as everywhere in
  dlgrade (``Losses (1).py``, ``LOSSES.ipynb``: :func:`~autograder.submission.assignment_of`), and
  among one assignment's files :func:`~autograder.submission.choose_file` picks. An assignment of
  the zip without a file is *missing* (0, "not handed in"); a submission with no assignment file
  at all gets 0 and an output that says what was expected and what came: that is its verdict.
- **A tool failure is never a grade.** When dlgrade cannot grade (the sandbox cannot start: no
  bubblewrap, no user namespaces; unreadable metadata; a bug), results.json holds no test, an
  ``output`` that begins ``AUTOGRADER FAILURE`` and says it is no grade and why, and
  ``extra_data.tool_failure``; run_autograder exits 1, so the run shows as failed to the staff and
  in ``dlgrade gradescope test``. Gradescope needs a score in a results.json, so it is 0 there,
  but nothing in the file presents it as the student's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import Course, LatePenalty
from autograder.errors import DlgradeError
from autograder.gradescope import CONFIG, SOLUTIONS
from autograder.gradescope.metadata import SubmissionMetadata, read_metadata
from autograder.judge.results import SubmissionResult
from autograder.submission import FileCandidate, assignment_of, choose_file
from autograder.untrusted import LINE, MESSAGE, cap, inert

MAX_DEPTH = 8  # folders below /autograder/submission/ searched for assignment files
MAX_ENTRIES = 20_000  # names looked at in all
SHOWN_NAMES = 20  # names listed when no assignment file is found
FAILURE = "AUTOGRADER FAILURE"


@dataclass
class Found:
    """The submission's files: the one chosen per assignment, why (when there was a choice), and
    the names seen (for a submission with no assignment file)."""

    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    truncated: bool = False


def find_submission_files(folder: Path, assignments) -> Found:
    """The assignment files anywhere under ``folder`` (module docstring)."""
    found = Found()
    options: dict[str, list[FileCandidate]] = {}
    seen = 0
    for current, dirs, names in os.walk(folder, followlinks=False):
        depth = len(Path(current).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX") if depth < MAX_DEPTH else []
        for name in sorted(names):
            seen += 1
            if seen > MAX_ENTRIES:
                found.truncated = True
                dirs[:] = []
                break
            path = Path(current) / name
            relative = path.relative_to(folder).as_posix()
            if len(found.names) < SHOWN_NAMES:
                found.names.append(inert(cap(relative, LINE)))
            match = assignment_of(name, assignments)
            if match is None or path.is_symlink() or not path.is_file():
                continue
            options.setdefault(match.assignment, []).append(FileCandidate(path, match, path.stat().st_mtime))
        if found.truncated:
            break
    for assignment in assignments:
        if assignment in options:
            best, why = choose_file(options[assignment])
            found.files[assignment] = best.path
            if why:
                where = best.path.relative_to(folder).as_posix()
                found.notes.append(inert(cap(f"{assignment}: graded {where} of {len(options[assignment])} files ({why})",
                                             MESSAGE)))
    return found


@dataclass(frozen=True)
class Settings:
    """The build's choices (``dlgrade-autograder.json`` in the zip)."""

    assignments: tuple[str, ...]
    seed: int
    insecure: bool
    dlgrade_version: str

    @classmethod
    def read(cls, source: Path) -> "Settings":
        path = source / CONFIG
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(tuple(data["assignments"]), int(data["seed"]), bool(data["insecure"]), str(data["dlgrade_version"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DlgradeError(f"cannot read the autograder's {path}: {error}: build the zip again with "
                               "`dlgrade gradescope build`") from None


def _refuse_child():
    raise DlgradeError("no submission file to run")  # never called: nothing is graded without a file


def grade_submission(course: Course, settings: Settings, found: Found, student: str, insecure: bool) -> SubmissionResult:
    """Each found file graded for its assignment, in one sandbox; the others missing. The scores
    are those of ``dlgrade grade`` on the same files with the same seed and student."""
    from autograder.judge.grader import Plan, grade
    from autograder.sandbox import open_sandbox_in_background, placement

    started = time.perf_counter()
    results = {}
    missing = [a for a in settings.assignments if a not in found.files]
    with tempfile.TemporaryDirectory(prefix="dlgrade-nothing-") as nothing:
        if missing:
            outline = Plan.outline(course, missing, settings.seed)
            results["missing"] = grade(Path(nothing), outline, start_child=_refuse_child, student=student)
    if found.files:
        hidden = course.hidden_paths() + [str(course.solutions.parent)]
        with open_sandbox_in_background(insecure=insecure, hidden=hidden) as starting:
            plans = {a: Plan.for_course(course, [a], settings.seed) for a in found.files}  # while the sandbox starts
            sandbox = starting.wait()
            with placement.pinned():
                for assignment, file in found.files.items():
                    results[assignment] = grade(file, plans[assignment], start_child=sandbox.start_child, student=student)
    parts = list(results.values())
    by_assignment = {a.assignment: (a, r) for r in parts for a in r.assignments}
    order = [a for a in settings.assignments if a in by_assignment]
    return SubmissionResult(
        submission=student,
        assignments=[by_assignment[a][0] for a in order],
        tests=[t for a in order for t in by_assignment[a][1].tests if t.assignment == a],
        seed=settings.seed, device="cpu",
        checks_version={k: v for r in parts for k, v in r.checks_version.items()},
        duration_s=time.perf_counter() - started,
        insecure=any(r.insecure for r in parts),
    )


def results_document(result: SubmissionResult, found: Found, penalty: LatePenalty, metadata: SubmissionMetadata,
                     expected: tuple[str, ...]) -> dict:
    """Gradescope's results.json of a grading (the student's verdict)."""
    notes = list(found.notes)
    if penalty.percent:
        notes.append(penalty.note)
    score = penalty.applied(result.score) if penalty.percent else None
    document = result.to_gradescope(score=score, notes=notes)
    if not found.files:  # the verdict itself, first
        names = ", ".join(found.names) + (", ..." if found.truncated or len(found.names) >= SHOWN_NAMES else "")
        wanted = ", ".join(f"{a}.py or {a}.ipynb" for a in expected)
        document["output"] = (f"No assignment file was found in your submission, so nothing could be graded: expected "
                              f"{wanted}. Received: {names or 'no file'}. Name your file after the assignment and "
                              f"submit again.\n" + document["output"])
    if result.insecure:
        document["output"] += "\nGraded without the OS sandbox (the autograder was built with --insecure)."
    document["extra_data"].update({
        "student": metadata.student, "late_penalty_percent": penalty.percent, "days_late": penalty.days_late,
        "score_before_penalty": result.score, "tool_failure": False,
    })
    return document


def failure_document(reason: str) -> dict:
    """results.json when dlgrade itself could not grade: no test, and an output that says so (the
    reason's first line; all of it, with how to fix it, in ``extra_data`` and the staff's stdout)."""
    first = inert(cap(str(reason).strip().splitlines()[0] if str(reason).strip() else "unknown", MESSAGE))
    return {
        "score": 0,
        "execution_time": 1,
        "output": f"{FAILURE}: the autograder could not grade this submission, so this is not a grade. "
                  f"The course staff must fix the autograder and rerun it. Reason: {first}",
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"tool_failure": True, "reason": inert(cap(" ".join(str(reason).split()), MESSAGE))},
        "tests": [],
    }


def write_results(root: Path, document: dict) -> Path:
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    temporary = results / ".results.json.tmp"
    temporary.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def run(root: Path, insecure: bool = False) -> int:
    """Grade the submission of the ``/autograder``-shaped folder ``root``; the exit status (0: a
    results.json with the student's verdict; 1: one that says dlgrade could not grade)."""
    root = Path(root)
    if insecure:
        from autograder.sandbox import INSECURE_WARNING

        print(INSECURE_WARNING, file=sys.stderr)  # into Gradescope's stdout file, for the staff
    try:
        source = root / "source"
        settings = Settings.read(source)
        course = Course.locate(source / SOLUTIONS)
        metadata = read_metadata(root / "submission_metadata.json")
        penalty = course.late_policy.penalty(metadata.submitted, metadata.due, metadata.late_due)
        found = find_submission_files(root / "submission", settings.assignments)
        result = grade_submission(course, settings, found, metadata.student, insecure)
        document = results_document(result, found, penalty, metadata, settings.assignments)
    except Exception as error:  # noqa: BLE001 - whatever stops the tool is reported as the tool's failure
        reason = str(error) if isinstance(error, DlgradeError) else f"{type(error).__name__}: {error}"
        write_results(root, failure_document(reason))
        print(f"{FAILURE}: {reason}", file=sys.stderr)
        return 1
    write_results(root, document)
    print(f"graded {metadata.student}: {document['score']:g} / {result.max_score:g}"
          + (f" ({penalty.note})" if penalty.percent else ""))
    return 0
