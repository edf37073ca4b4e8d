"""The cohorts to compare, from a submissions folder or from the gradebook.

A folder is read with the same intake as ``grade-batch`` (every LMS layout, zips unpacked safely,
the file chosen per student and assignment as for grading). The gradebook gives the file of each
(student, assignment)'s latest grading, which it keeps since it keeps files
(:meth:`~autograder.gradebook.store.Gradebook.graded_files`): the same bytes under the same name
as the folder's staged file, so the same scores. Then each file's units. Nothing is run or
imported, and nothing is written to the gradebook.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.intake import discover
from autograder.course import Course
from autograder.errors import DlgradeError
from autograder.gradebook.store import GradedFile
from autograder.similarity.extract import StudentCode, read_student, stored_student, stub_text
from autograder.similarity.ranking import Cohort, rank_cohort
from autograder.states import State
from autograder.submission import SubmissionError, find_files
from autograder.untrusted import LINE, MESSAGE, NOTE, cap, inert

NAMED = 10  # students named per assignment in the note on those without a kept file


class SimilarityError(DlgradeError):
    """Nothing to compare: the folder holds no student's file for the assignments asked for."""


@dataclass
class Collected:
    """Each assignment's students' code, and what could not be read (one line each)."""

    cohorts: dict[str, list[StudentCode]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GradebookView:
    """What the gradebook says about the students, read only: their names (from the roster), and
    the content hash of the file each (student, assignment)'s latest grading graded."""

    names: dict[str, str] = field(default_factory=dict)
    graded: dict[tuple[str, str], str] = field(default_factory=dict)


def collect(root: Path, course: Course, assignments: tuple[str, ...], gradebook: GradebookView | None = None
            ) -> Collected:
    """Read every student's file for each of ``assignments`` under ``root``. With ``gradebook``, a
    student's name from its roster is shown, and a note says when the file compared is not the one
    the gradebook graded (the same content hash as ``grade-batch`` records)."""
    names = gradebook.names if gradebook is not None else {}
    staging = Path(tempfile.mkdtemp(prefix="dlgrade-similarity-"))
    collected = Collected({a: [] for a in assignments})
    try:
        intake = discover(root, staging, course.assignments)
        for submission in intake.submissions:
            if submission.path is None:
                continue
            label = cap(inert(names.get(submission.student) or submission.name or submission.student), LINE)
            found = find_files(submission.path, assignments)
            for assignment in assignments:
                if assignment not in found:
                    continue
                if gradebook is not None:
                    graded = gradebook.graded.get((submission.student, assignment))
                    if graded is None:
                        collected.notes.append(cap(f"{label}: {assignment}: not graded in the gradebook", NOTE))
                    elif graded != submission.hashes.get(assignment):
                        collected.notes.append(cap(f"{label}: {assignment}: this file is not the one the gradebook "
                                                   "graded (grade-batch this folder to grade it)", NOTE))
                try:
                    collected.cohorts[assignment].append(
                        read_student(submission.student, label, assignment, found[assignment]))
                except SubmissionError as error:
                    collected.notes.append(cap(inert(f"{label}: {assignment}: {error}"), NOTE))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return collected


def collect_graded(files: list[GradedFile], names: dict[str, str], assignments: tuple[str, ...]
                   ) -> tuple[Collected, int]:
    """Each student's file of each of ``assignments`` as the gradebook keeps it (``files``: the
    latest grading of each (student, assignment), :meth:`Gradebook.graded_files`; ``names``: the
    students' names). A student who handed nothing in is not compared; one note lists the students
    graded before the gradebook kept files, and returns their number with what was collected."""
    collected = Collected({a: [] for a in assignments})
    before: dict[str, list[str]] = {}
    for graded in files:
        if graded.assignment not in collected.cohorts:
            continue
        label = cap(inert(names.get(graded.student) or graded.student), LINE)
        if graded.content is None or graded.name is None:
            if graded.verdict is State.MISSING:  # not handed in: nothing to compare, as in a folder
                continue
            if graded.kept is False:
                collected.notes.append(cap(f"{label}: {graded.assignment}: the gradebook kept no file of this grading "
                                           "(too large or unreadable when graded: its grade says why)", NOTE))
            else:
                before.setdefault(graded.assignment, []).append(label)
            continue
        try:
            collected.cohorts[graded.assignment].append(
                stored_student(graded.student, label, graded.assignment, graded.name, graded.content))
        except SubmissionError as error:
            collected.notes.append(cap(inert(f"{label}: {graded.assignment}: {error}"), NOTE))
    if before:
        collected.notes.append(before_note(before))
    return collected, sum(len(labels) for labels in before.values())


def before_note(before: dict[str, list[str]]) -> str:
    """One line: the students graded before the gradebook kept files, per assignment."""
    count = sum(len(labels) for labels in before.values())
    listed = "; ".join(f"{assignment}: {', '.join(labels[:NAMED])}"
                       + (f" and {len(labels) - NAMED} more" if len(labels) > NAMED else "")
                       for assignment, labels in before.items())
    return cap(f"{count} {'student' if count == 1 else 'students'} not compared, graded before the gradebook kept "
               f"files: give the download folder (dlgrade similarity DOWNLOADS --db ...) to compare them: {listed}",
               MESSAGE)


def analyse(root: Path, course: Course, assignments: tuple[str, ...], gradebook: GradebookView | None = None
            ) -> tuple[list[Cohort], list[str]]:
    """The ranked cohort of each assignment with at least two students' files in the folder
    ``root``, and the notes."""
    collected = collect(root, course, assignments, gradebook)
    if not any(collected.cohorts.values()):
        expected = ", ".join(f"{a}.py" for a in assignments[:3]) + (", ..." if len(assignments) > 3 else "")
        raise SimilarityError(f"no student's file in {root} for {', '.join(assignments)} (expected files such as "
                              f"{expected}, or .ipynb): give the folder of the downloaded submissions")
    return _ranked(collected, course)


def analyse_graded(files: list[GradedFile], names: dict[str, str], course: Course, assignments: tuple[str, ...]
                   ) -> tuple[list[Cohort], list[str]]:
    """As :func:`analyse`, over the files the gradebook keeps (:func:`collect_graded`)."""
    collected, before = collect_graded(files, names, assignments)
    if not any(collected.cohorts.values()):
        older = f" ({before} graded before it kept files)" if before else ""
        raise SimilarityError(f"the gradebook keeps no graded file of {', '.join(assignments)}{older}: give the "
                              "folder of the downloaded submissions")
    return _ranked(collected, course)


def _ranked(collected: Collected, course: Course) -> tuple[list[Cohort], list[str]]:
    notes = list(collected.notes)
    notes += [f"{a}: only one student's file, nothing to compare" for a, students in collected.cohorts.items()
              if len(students) == 1]
    cohorts = [rank_cohort(a, students, stub_text(course, a))
               for a, students in collected.cohorts.items() if len(students) >= 2]
    return cohorts, notes
