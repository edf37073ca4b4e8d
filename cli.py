"""The ``dlgrade`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from autograder import __version__
from autograder.course import Course, CourseError, configured_seed
from autograder.curriculum import ASSIGNMENTS, CONTRACT
from autograder.markers import MarkerError
from autograder.notebook import NotebookSourceError
from autograder.sandbox import placement


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


insecure_option = click.option(
    "--insecure", is_flag=True,
    help="Run student code WITHOUT the OS sandbox (a laptop without user namespaces). Loudly warned, "
         "and recorded in every result. Never for real submissions.",
)


def start_sandbox(insecure: bool):
    """The sandbox for this run, proving itself in the background while the command loads what it
    grades with (``.wait()`` for it: :func:`sandbox_or_fail`); or a clear refusal."""
    from autograder.sandbox import INSECURE_WARNING, SandboxUnavailable, open_sandbox_in_background

    if insecure:
        click.secho(INSECURE_WARNING, fg="red", bold=True, err=True)
    try:
        return open_sandbox_in_background(insecure=insecure)
    except SandboxUnavailable as error:
        raise click.ClickException(f"{error}") from None


def sandbox_or_fail(starting):
    """The sandbox once it is open, or a clear refusal that says how to fix it."""
    from autograder.sandbox import SandboxUnavailable

    try:
        return starting.wait()
    except SandboxUnavailable as error:
        raise click.ClickException(f"{error}") from None


def plan_for_submission(course: Course, assignments, found, seed: int, device: str):
    """The grading plan of a submission whose files are ``found`` ({assignment: path}).

    The hidden rubric, torch reference and known mistakes of each assignment it has a file for; of
    the others, the rubric alone (their tests are not attempted, and nothing runs for them), so a
    one-file submission loads one reference, not seven.
    """
    from autograder.judge.grader import Plan

    graded = Plan.for_course(course, [a for a in assignments if a in found], seed, device)
    missing = Plan.outline(course, [a for a in assignments if a not in found], seed, device)
    return Plan({a: graded.rubrics.get(a) or missing.rubrics[a] for a in assignments}, seed, device)


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
@insecure_option
@solutions_option
def grade(path, assignments, json_file, output_format, device, seed, insecure, solutions):
    """Grade a submission: a folder with any of the assignment files (.py or .ipynb), or one file.

    Exit status 0 whenever grading ran, whatever the score; 1 when dlgrade itself could not run.
    """
    import json

    from autograder.console import print_summary
    from autograder.judge.grader import grade as grade_submission, new_seed
    from autograder.judge.oracle import OracleError
    from autograder.judge.rubric import RubricError
    from autograder.submission import SubmissionError, find_files

    names = assignments or ASSIGNMENTS
    try:
        found = find_files(path, names)  # a missing or foreign path fails before any work
    except SubmissionError as error:
        raise click.ClickException(str(error)) from error
    course = open_course(solutions)
    with start_sandbox(insecure) as starting:  # it starts while the references load (a torch import)
        try:
            if device != "cpu":
                from autograder.tensors import resolve_device

                resolve_device(device)
            if seed is None:
                seed = configured_seed()
            plan = plan_for_submission(course, names, found, seed if seed is not None else new_seed(), device)
        except (CourseError, RubricError, RuntimeError) as error:
            raise click.ClickException(str(error)) from error
        sandbox = sandbox_or_fail(starting)
        try:
            with placement.pinned():  # judge and child on one CPU
                result = grade_submission(path, plan, start_child=sandbox.start_child)
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
@insecure_option
def check(assignment, path, insecure):
    """Check your work on ASSIGNMENT with its public tests (PATH: your file or folder; default: here).

    The same engine as the grader, with the public checks that come with the assignment. Hidden
    checks test more cases when your work is graded.
    """
    target = _locate_student_file(assignment, path)
    with start_sandbox(insecure) as starting:  # it starts while the public checks load
        from autograder.console import print_self_check
        from autograder.judge.grader import Plan, grade as grade_submission
        from autograder.judge.rubric import PUBLIC_SEED, RubricError, load_released
        from autograder.submission import SubmissionError

        try:
            rubric, oracle = load_released(target.parent, assignment)
            sandbox = sandbox_or_fail(starting)
            with placement.pinned():
                result = grade_submission(target, Plan({assignment: (rubric, oracle)}, PUBLIC_SEED),
                                          start_child=sandbox.start_child)
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


@main.command("sandbox")
def sandbox_command():
    """Start the sandbox and run its self-test: what isolates student code on this machine."""
    from autograder.sandbox import SandboxUnavailable, open_sandbox
    from autograder.sandbox.bubblewrap import find_bwrap

    try:
        with open_sandbox() as sandbox:
            server = sandbox.server
            click.echo(f"bubblewrap:   {find_bwrap()}")
            click.echo(f"mode:         {'started as root, server drops to uid ' + str(server.info.get('uid')) if os.geteuid() == 0 else 'unprivileged user namespaces'}")
            click.echo(f"memory/procs: {'cgroup ' + ', '.join(map(str, server.cgroup.directories)) if server.cgroup else 'rlimits only (no cgroup could be made)'}")
            click.echo(f"seccomp:      {'on' if server.info.get('seccomp') else 'off (libseccomp not found)'}")
            click.echo("self-test:    passed (secret file, hidden folder, loopback socket, the judge's process and "
                       "environment, runtime writes, capabilities, /tmp between submissions: all blocked)")
    except SandboxUnavailable as error:
        raise click.ClickException(str(error)) from None


# ------------------------------------------------------------------ batch grading and the gradebook

db_option = click.option("--db", "db_url", default="gradebook.db", show_default=True, envvar="DLGRADE_DB",
                         show_envvar=True,
                         help="The gradebook: a SQLite file, or a URL such as postgresql://user@host/course.")


def _open_gradebook(db_url):
    from autograder.gradebook import Gradebook, GradebookError

    try:
        return Gradebook.open(db_url)
    except GradebookError as error:
        raise click.ClickException(str(error)) from error


@main.command("grade-batch")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Local worker processes (default: all cores).")
@db_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write OUT/<student>/result.json, feedback.md and feedback.html.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786).")
@click.option("--regrade", is_flag=True, help="Grade again what the gradebook already has.")
@click.option("--assignment", "-a", "assignments", multiple=True, type=click.Choice(ASSIGNMENTS),
              help="Grade only these assignments (repeatable; default: all seven).")
@click.option("--seed", type=int, default=None, envvar="DLGRADE_SEED",
              help="Seed of the hidden inputs (default: `seed` in ./dlgrade.toml, else the gradebook's own).")
@click.option("--time-limit", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds one submission may take in all.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the torch references run (with --scheduler: tasks ask for the Dask resource GPU=1).")
@solutions_option
def grade_batch(submissions, workers, db_url, out, scheduler, regrade, assignments, seed, time_limit, device,
                solutions):
    """Grade every student's submission in SUBMISSIONS into the gradebook.

    SUBMISSIONS: one folder per student, nbgrader's submitted/, Moodle folders, or Canvas/LMS zip
    downloads. Already graded submissions (same content, checks and seed) are skipped.
    """
    from autograder.batch.intake import IntakeError
    from autograder.batch.pool import PoolError
    from autograder.batch.run import print_summary, run_batch
    from autograder.batch.worker import GradingSettings

    course = open_course(solutions)
    gradebook = _open_gradebook(db_url)
    if seed is None:
        try:
            seed = configured_seed()
        except CourseError as error:
            raise click.ClickException(str(error)) from error
    if seed is None:
        seed = gradebook.course_seed()
    settings = GradingSettings(str(course.solutions), tuple(assignments or ASSIGNMENTS), seed, device,
                               time_limit=time_limit)
    try:
        summary = run_batch(submissions, settings, gradebook, out=out, workers=workers, scheduler=scheduler,
                            regrade=regrade)
    except (IntakeError, PoolError, CourseError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        gradebook.close()
    print_summary(summary)


@main.command("export")
@db_option
@click.option("--format", "kind", type=click.Choice(["csv", "canvas", "gradescope", "feedback"]), required=True,
              help="csv: grades per exercise; canvas: Canvas gradebook import; gradescope: OUT/<student>/results.json; "
                   "feedback: OUT/<student>/feedback.md and .html.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The file (csv, canvas) or folder.")
@click.option("--assignment", "-a", type=click.Choice(ASSIGNMENTS), default=None, help="Only this assignment.")
def export_command(db_url, kind, out, assignment):
    """Export the gradebook (overrides and late penalties applied)."""
    from autograder.gradebook.export import export

    with _open_gradebook(db_url) as gradebook:
        written = export(gradebook, kind, out, assignment)
    click.echo(f"wrote {len(written)} file{'s' if len(written) != 1 else ''} ({kind}) to {out}")


@main.command()
@click.argument("student")
@click.argument("target")
@click.argument("score", type=float)
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", "actor", required=True, help="Who decides (kept in the audit trail).")
@click.option("--assignment", "-a", type=click.Choice(ASSIGNMENTS), default=None,
              help="The assignment of TARGET when several tests share its name.")
@db_option
def override(student, target, score, reason, actor, assignment, db_url):
    """Set STUDENT's SCORE for TARGET: a test name, or a whole assignment."""
    from autograder.gradebook import GradebookError

    with _open_gradebook(db_url) as gradebook:
        try:
            label = gradebook.override(student, target, score, reason, actor, assignment)
        except GradebookError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{student}: {label} set to {score:g} (recorded in the audit trail)")


@main.command()
@click.argument("student")
@click.argument("assignment", type=click.Choice(ASSIGNMENTS))
@click.argument("penalty")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", "actor", required=True, help="Who decides (kept in the audit trail).")
@db_option
def late(student, assignment, penalty, reason, actor, db_url):
    """Deduct PENALTY from STUDENT's ASSIGNMENT: a percentage of the score (10%) or points (5)."""
    from autograder.gradebook import GradebookError

    with _open_gradebook(db_url) as gradebook:
        try:
            gradebook.late_penalty(student, assignment, penalty, reason, actor)
        except GradebookError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{student}: {assignment} late penalty {penalty} (recorded in the audit trail)")


@main.command()
@click.argument("student", required=False)
@db_option
def audit(student, db_url):
    """Print the audit trail (of STUDENT, or of everyone)."""
    with _open_gradebook(db_url) as gradebook:
        for entry in gradebook.audit_trail(student):
            click.echo(f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.student_id} {entry.action} {entry.target}: "
                       f"{entry.old or '-'} -> {entry.new} by {entry.actor} ({entry.reason})")

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

@main.command()
@click.option("--db", "db_url", default=None,
              help="The gradebook: a SQLite file, or a URL such as postgresql://user@host/course.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Instead of --db: a folder of native result JSON files (as written by `grade-batch --out`).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
def report(db_url, results, out):
    """Write the course report: one static HTML file with score distributions, common mistakes,
    submissions not gradable or timed out, and grading times."""
    from autograder.report import ReportSourceError, build_report, read_result_folder

    if (db_url is None) == (results is None):
        raise click.UsageError("give either --db URL or --results DIR")
    if results is not None:
        try:
            documents = read_result_folder(results)
        except ReportSourceError as error:
            raise click.ClickException(str(error)) from error
    else:
        with _open_gradebook(db_url) as gradebook:
            documents = gradebook.result_documents()
        if not documents:
            raise click.ClickException(f"{db_url}: the gradebook holds no graded submission")
    _write_new_file(out, build_report(documents))
    click.echo(f"wrote the report on {len(documents)} submissions to {out}")


if __name__ == "__main__":
    main()
