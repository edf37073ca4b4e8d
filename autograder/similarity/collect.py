"""The cohorts of a submissions folder: the same intake as ``grade-batch`` (every LMS layout, zips
unpacked safely, the file chosen per student and assignment as for grading), then each chosen
file's units. Nothing is run or imported, and nothing is written to the gradebook.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.intake import discover
from autograder.course import Course
from autograder.errors import DlgradeError
from autograder.similarity.extract import StudentCode, read_student, stub_text
from autograder.similarity.ranking import Cohort, rank_cohort
from autograder.submission import SubmissionError, find_files
from autograder.untrusted import LINE, NOTE, cap, inert


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


def analyse(root: Path, course: Course, assignments: tuple[str, ...], gradebook: GradebookView | None = None
            ) -> tuple[list[Cohort], list[str]]:
    """The ranked cohort of each assignment with at least two students' files, and the notes."""
    collected = collect(root, course, assignments, gradebook)
    if not any(collected.cohorts.values()):
        expected = ", ".join(f"{a}.py" for a in assignments[:3]) + (", ..." if len(assignments) > 3 else "")
        raise SimilarityError(f"no student's file in {root} for {', '.join(assignments)} (expected files such as "
                              f"{expected}, or .ipynb): give the folder of the downloaded submissions")
    notes = list(collected.notes)
    notes += [f"{a}: only one student's file, nothing to compare" for a, students in collected.cohorts.items()
              if len(students) == 1]
    cohorts = [rank_cohort(a, students, stub_text(course, a))
               for a, students in collected.cohorts.items() if len(students) >= 2]
    return cohorts, notes
