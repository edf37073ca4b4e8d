"""The ``dlgrade`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autograder import __version__
from autograder.course import Course, CourseError
from autograder.curriculum import ASSIGNMENTS, CONTRACT
from autograder.markers import MarkerError
from autograder.notebook import NotebookSourceError


def open_course(solutions) -> Course:
    try:
        return Course.locate(solutions)
    except CourseError as error:
        raise click.ClickException(str(error)) from error


solutions_option = click.option(
    "--solutions",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="DLGRADE_SOLUTIONS",
    show_envvar=True,
    help="The course's hidden solutions/ folder (default: the one in dlgrade's own repository).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlgrade")
def main():
    """dlgrade: auto-graded exercises for the fundamentals of deep learning."""


@main.command("assignments")
def list_assignments():
    """List the course's assignments and the functions each one asks for."""
    for assignment in ASSIGNMENTS:
        click.echo(f"{click.style(assignment, bold=True):<24} {', '.join(CONTRACT[assignment])}")


@main.command()
@click.argument("assignment", nargs=-1, type=click.Choice(ASSIGNMENTS))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the student release into (created if needed).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if --out differs from what the release would be.")
@solutions_option
def release(assignment, out, check, solutions):
    """Build the student release (stubs and notebooks) from the solutions.

    Solution regions between '### BEGIN SOLUTION' and '### END SOLUTION' are replaced by
    'raise NotImplementedError'. Nothing else from solutions/ is copied.
    """
    from autograder.release import release_drift, release_files, write_release

    course = open_course(solutions)
    try:
        files = release_files(course, assignment)
    except (MarkerError, NotebookSourceError) as error:
        raise click.ClickException(str(error)) from error
    if check:
        problems = release_drift(files, out)
        for problem in problems:
            click.echo(problem)
        if problems:
            click.echo(f"{out} is out of date: run `dlgrade release --out {out}`", err=True)
            sys.exit(1)
        click.echo(f"{out} matches the release ({len(files)} files)")
        return
    if out.resolve() == course.solutions or course.solutions in out.resolve().parents:
        raise click.ClickException("refusing to write the student release inside solutions/")
    written = write_release(files, out)
    click.echo(f"wrote {len(written)} files to {out}")


if __name__ == "__main__":
    main()
