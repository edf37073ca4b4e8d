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
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the student release into (created if needed).")
@click.option("--course", "course_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="An existing nbgrader course directory: write source/<a>/ there and run its generate_assignment.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if --out differs from what the release would be.")
@solutions_option
def release(assignment, out, course_root, check, solutions):
    """Build the student release (stubs and nbgrader notebooks) from the solutions.

    Solution regions between '### BEGIN SOLUTION' and '### END SOLUTION' are replaced by
    'raise NotImplementedError', hidden tests are removed (nbgrader's generate_assignment does it
    for the notebooks). Nothing else from solutions/ is copied.
    """
    from autograder.nbgrader_bridge.course_dir import NbgraderError
    from autograder.release import release_drift, release_files, write_release

    if (out is None) == (course_root is None):
        raise click.UsageError("give exactly one of --out DIR or --course DIR")
    course = open_course(solutions)
    if course_root is not None:
        _release_into_course(course, course_root, assignment)
        return
    try:
        files = release_files(course, assignment)
    except (MarkerError, NotebookSourceError, NbgraderError, CourseError, ValueError) as error:
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


def _release_into_course(course: Course, root: Path, assignments) -> None:
    from autograder.curriculum import check_assignment_names
    from autograder.nbgrader_bridge import NBGRADER_CONFIG, PREPROCESSOR
    from autograder.nbgrader_bridge.course_dir import NbgraderError, release_through_nbgrader

    if not root.is_dir():
        raise click.ClickException(f"{root} is not a directory: create the nbgrader course first (nbgrader quickstart)")
    try:
        files = release_through_nbgrader(course, root.resolve(), check_assignment_names(assignments))
    except (MarkerError, NotebookSourceError, NbgraderError, CourseError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"generated {len(files)} files under {root / 'release'}")
    config = root / "nbgrader_config.py"
    if not config.is_file() or PREPROCESSOR not in config.read_text(encoding="utf-8"):
        click.echo(f"Add to {config} so that autograde uses dlgrade's judge:\n\n{NBGRADER_CONFIG}", err=True)


def _read_config_seed() -> int | None:
    """``seed = N`` in ./dlgrade.toml: the course secret that fixes hidden inputs."""
    from autograder.course import course_settings

    try:
        value = course_settings().get("seed")
    except CourseError as error:
        raise click.ClickException(str(error)) from error
    if value is not None and not isinstance(value, int):
        raise click.ClickException("dlgrade.toml: seed must be an integer")
    return value


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", "assignments", multiple=True, type=click.Choice(ASSIGNMENTS),
              help="Grade only these assignments (repeatable; default: all seven).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results to this file ('-' for stdout).")
@click.option("--format", "output_format", type=click.Choice(["native", "gradescope"]), default="native",
              show_default=True, help="The JSON format of --json.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the torch references run.")
@click.option("--seed", type=int, default=None, envvar="DLGRADE_SEED",
              help="Seed of the hidden inputs (a course secret; default: `seed` in ./dlgrade.toml, else a fresh one per run).")
@solutions_option
def grade(path, assignments, json_file, output_format, device, seed, solutions):
    """Grade a submission: a folder with any of the assignment files (.py or .ipynb), or one file.

    Exit status 0 whenever grading ran, whatever the score; 1 when dlgrade itself could not run.
    """
    import json

    from autograder.console import print_summary
    from autograder.judge.grader import Plan, grade as grade_submission, new_seed
    from autograder.judge.oracle import OracleError
    from autograder.judge.rubric import RubricError, live_oracle, load_rubric
    from autograder.submission import SubmissionError, find_files
    from autograder.tensors import resolve_device

    try:
        find_files(path, assignments or ASSIGNMENTS)  # a missing or foreign path fails before any work
    except SubmissionError as error:
        raise click.ClickException(str(error)) from error
    course = open_course(solutions)
    try:
        resolve_device(device)
        rubrics = {}
        for assignment in assignments or ASSIGNMENTS:
            rubric = load_rubric(course, assignment)
            rubrics[assignment] = (rubric, live_oracle(course, rubric, device))
    except (CourseError, RubricError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    if seed is None:
        seed = _read_config_seed()
    plan = Plan(rubrics, seed if seed is not None else new_seed(), device)
    try:
        result = grade_submission(path, plan)
    except SubmissionError as error:
        raise click.ClickException(str(error)) from error
    except OracleError as error:
        raise click.ClickException(f"course material error: {error}") from error
    document = result.to_gradescope() if output_format == "gradescope" else result.to_json()
    if json_file is not None:
        text = json.dumps(document, indent=2, allow_nan=False)
        if str(json_file) == "-":
            click.echo(text)
            return
        _write_new_file(json_file, text)
    print_summary(result)


def _write_new_file(path: Path, text: str) -> None:
    """Write ``path`` without following a symlink planted where it goes."""
    if path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


@main.command()
@click.argument("assignment", type=click.Choice(ASSIGNMENTS))
@click.argument("path", type=click.Path(path_type=Path), required=False)
def check(assignment, path):
    """Check your work on ASSIGNMENT with its public tests (PATH: your file or folder; default: here).

    The same engine as the grader, with the public checks that come with the assignment. Hidden
    checks test more cases when your work is graded.
    """
    from autograder.console import print_self_check
    from autograder.judge.grader import Plan, grade as grade_submission
    from autograder.judge.rubric import PUBLIC_SEED, RubricError, load_released
    from autograder.submission import SubmissionError

    target = _locate_student_file(assignment, path)
    try:
        rubric, oracle = load_released(target.parent, assignment)
        result = grade_submission(target, Plan({assignment: (rubric, oracle)}, PUBLIC_SEED))
    except (RubricError, SubmissionError) as error:
        raise click.ClickException(str(error)) from error
    print_self_check(result)


def _locate_student_file(assignment: str, path: Path | None) -> Path:
    """The student's file: PATH itself, or <assignment>.py/.ipynb in PATH, ./, ./<assignment>/ or ./assignments/<assignment>/."""
    from autograder.submission import SubmissionError, find_files

    if path is not None and path.is_file():
        return path
    folders = [path] if path is not None else [Path("."), Path(assignment), Path("assignments") / assignment]
    for folder in folders:
        try:
            found = find_files(folder, (assignment,))
        except SubmissionError:
            continue
        if assignment in found:
            return found[assignment]
    where = path if path is not None else "this folder"
    raise click.ClickException(f"no {assignment}.py or {assignment}.ipynb in {where}: "
                               f"run `dlgrade check {assignment}` from your assignment folder, or give its path")


@main.command()
@click.argument("assignment", nargs=-1, type=click.Choice(ASSIGNMENTS))
@click.option("--release", "release_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Validate this existing release folder (e.g. assignments/) instead of a freshly built one.")
@click.option("--no-run", is_flag=True, help="Skip executing the notebooks in a Jupyter kernel.")
@solutions_option
def validate(assignment, release_dir, no_run, solutions):
    """Check a release before students get it (instructors).

    The model answers score full marks, the released stubs score 0, the release holds no hidden
    content, and every notebook runs top to bottom. Exit 1 if anything fails.
    """
    import tempfile

    from autograder.curriculum import check_assignment_names
    from autograder.nbgrader_bridge.course_dir import NbgraderError
    from autograder.nbgrader_bridge.validate import validate as validate_assignment
    from autograder.release import release_files, write_release

    course = open_course(solutions)
    names = check_assignment_names(assignment)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as built:
        try:
            if release_dir is None:
                release_dir = Path(built)
                write_release(release_files(course, names), release_dir)
        except (MarkerError, NotebookSourceError, NbgraderError, CourseError, ValueError) as error:
            raise click.ClickException(str(error)) from error
        for name in names:
            folder = release_dir / name
            files = {f"{name}/{p.name}": p.read_text(encoding="utf-8") for p in sorted(folder.glob("*")) if p.is_file()}
            for finding in validate_assignment(course, name, folder, files, execute=not no_run):
                click.echo(f"{'✔' if finding.ok else '✘'} {name}: {finding.what}")
                for problem in finding.problems:
                    click.echo(f"    {problem}")
                failed += not finding.ok
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
