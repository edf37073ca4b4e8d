"""The ``dlgrade`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from autograder import __version__
from autograder.course import Course, configured_seed
from autograder.errors import DlgradeError
from autograder.sandbox import placement
from autograder.untrusted import cap, inert


class DlgradeGroup(click.Group):
    """The command group: every expected failure (a :class:`DlgradeError`) is reported once, as one
    line on stderr, with exit status 1. Anything else is a bug in dlgrade and keeps its traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DlgradeError as error:
            raise click.ClickException(one_line(str(error))) from None


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` on one line, without control characters, at most ``limit`` characters."""
    return cap(inert(" ".join(part.strip() for part in str(text).splitlines() if part.strip())), limit)


def open_course(solutions) -> Course:
    return Course.locate(solutions)


class AssignmentName(click.ParamType):
    """An assignment of the course (``--solutions``, processed first, says which course): the
    choices, their completion and the error for an unknown name all come from the course."""

    name = "assignment"

    def _course(self, ctx) -> Course | None:
        try:
            return Course.locate(ctx.params.get("solutions") if ctx is not None else None)
        except DlgradeError:
            return None

    def get_metavar(self, param, ctx=None) -> str:
        course = self._course(ctx)
        names = course.assignments if course is not None else ()
        return "[" + "|".join(names) + "]" if names else "ASSIGNMENT"

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        course = self._course(ctx)
        return [CompletionItem(n) for n in (course.assignments if course else ()) if n.startswith(incomplete)]

    def convert(self, value, param, ctx):
        course = self._course(ctx)
        if course is None:
            return value  # the command reports the missing course
        try:
            return course.select([value])[0]
        except DlgradeError as error:
            self.fail(str(error), param, ctx)


ASSIGNMENT = AssignmentName()

solutions_option = click.option(
    "--solutions",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="DLGRADE_SOLUTIONS",
    show_envvar=True,
    is_eager=True,  # before the assignment names, which are checked against this course
    help="The course's hidden solutions/ folder (default: ./dlgrade.toml's, else the one in dlgrade's own repository).",
)


@click.group(cls=DlgradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlgrade")
def main():
    """dlgrade: auto-graded exercises for the fundamentals of deep learning."""


@main.command("assignments")
@solutions_option
def list_assignments(solutions):
    """List the course's assignments, their points and the functions each one asks for."""
    course = open_course(solutions)
    for assignment in course.assignments:
        spec = course.spec(assignment)
        click.echo(f"{click.style(assignment, bold=True):<24} {spec.total:>5g} pts  {', '.join(spec.functions)}")


@main.command("new")
@click.argument("name")
@click.option("--title", default=None, help="The assignment's title (default: its name).")
@click.option("--function", "functions", multiple=True, metavar="NAME",
              help="A function students write (repeatable; default: one example function).")
@solutions_option
def new_assignment(name, title, functions, solutions):
    """Scaffold a new assignment NAME in the course's solutions/ (instructors).

    Writes the declaration, a model answer with solution markers, a torch reference, public and
    hidden checks and a known mistake: a complete assignment that passes `dlgrade validate NAME`,
    ready to be edited into your own exercise.
    """
    from autograder.scaffold import scaffold

    course = open_course(solutions)
    written = scaffold(course, name, title=title, functions=functions)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: edit them, then `dlgrade validate {name}` and `dlgrade release {name} --out assignments`")


@main.command()
@click.argument("assignment", nargs=-1, type=ASSIGNMENT)
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
    from autograder.release import release_drift, release_files, write_release

    if (out is None) == (course_root is None):
        raise click.UsageError("give exactly one of --out DIR or --course DIR")
    course = open_course(solutions)
    if course_root is not None:
        _release_into_course(course, course_root, assignment)
        return
    try:
        files = release_files(course, assignment)
    except ValueError as error:  # an answer cell that defines no function, a notebook nbformat refuses
        raise click.ClickException(one_line(str(error))) from error
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
    from autograder.nbgrader_bridge import NBGRADER_CONFIG, PREPROCESSOR
    from autograder.nbgrader_bridge.course_dir import release_through_nbgrader

    if not root.is_dir():
        raise click.ClickException(f"{root} is not a directory: create the nbgrader course first (nbgrader quickstart)")
    try:
        files = release_through_nbgrader(course, root.resolve(), course.select(assignments))
    except ValueError as error:
        raise click.ClickException(one_line(str(error))) from error
    click.echo(f"generated {len(files)} files under {root / 'release'}")
    config = root / "nbgrader_config.py"
    if not config.is_file() or PREPROCESSOR not in config.read_text(encoding="utf-8"):
        click.echo(f"Add to {config} so that autograde uses dlgrade's judge:\n\n{NBGRADER_CONFIG}", err=True)


insecure_option = click.option(
    "--insecure", is_flag=True,
    help="Run student code WITHOUT the OS sandbox (a laptop without user namespaces). Loudly warned, "
         "and recorded in every result. Never for real submissions.",
)


def start_sandbox(insecure: bool, course: Course | None = None):
    """The sandbox for this run (hiding ``course``'s hidden material wherever it is), proving itself
    in the background while the command loads what it grades with (``.wait()`` for it); a refusal
    that says how to fix it is a :class:`DlgradeError`."""
    from autograder.sandbox import INSECURE_WARNING, open_sandbox_in_background

    if insecure:
        click.secho(INSECURE_WARNING, fg="red", bold=True, err=True)
    return open_sandbox_in_background(insecure=insecure, hidden=course.hidden_paths() if course is not None else None)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", "assignments", multiple=True, type=ASSIGNMENT,
              help="Grade these assignments (repeatable; one not in PATH is missing; default: the assignment "
                   "files PATH holds).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results to this file ('-' for stdout).")
@click.option("--format", "output_format", type=click.Choice(["native", "gradescope"]), default="native",
              show_default=True, help="The JSON format of --json.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the torch references run.")
@click.option("--seed", type=int, default=None, envvar="DLGRADE_SEED",
              help="Seed of the hidden inputs (a course secret; default: `seed` in ./dlgrade.toml, else a fresh one per run).")
@click.option("--student", default=None,
              help="Whose submission it is: the hidden inputs are seeded per student (default: the name of PATH's "
                   "folder, or of the folder above one named after an assignment, as nbgrader's "
                   "submitted/<student>/<assignment>/).")
@insecure_option
@solutions_option
def grade(path, assignments, json_file, output_format, device, seed, student, insecure, solutions):
    """Grade a submission: a folder with any of the assignment files (.py or .ipynb), or one file.

    One file is graded for its own assignment alone (known from its name); a folder, for the
    assignments it holds files for. Exit status 0 whenever grading ran, whatever the score; 1 when
    dlgrade itself could not run, or PATH holds no assignment file.
    """
    import json

    from autograder.console import print_summary
    from autograder.judge.grader import Plan, grade as grade_submission, new_seed

    course = open_course(solutions)
    chosen, found = _graded_in(path, course, assignments)  # a missing or foreign path fails before any work
    with start_sandbox(insecure, course) as starting:  # it starts while the references load (a torch import)
        if device != "cpu":
            from autograder.tensors import resolve_device

            resolve_device(device)
        if seed is None:
            seed = configured_seed()
        plan = Plan.for_submission(course, chosen, found, seed if seed is not None else new_seed(), device)
        sandbox = starting.wait()
        with placement.pinned():  # judge and child on one CPU
            result = grade_submission(path, plan, start_child=sandbox.start_child, student=student)
    document = result.to_gradescope() if output_format == "gradescope" else result.to_json()
    if json_file is not None:
        text = json.dumps(document, indent=2, allow_nan=False)
        if str(json_file) == "-":
            click.echo(text)
            return
        _write_new_file(json_file, text)
    print_summary(result)


def _graded_in(path: Path, course: Course, assignments) -> tuple[tuple[str, ...], dict[str, Path]]:
    """The assignments ``dlgrade grade PATH`` grades and their files: those named (``-a``; one
    without a file in PATH is missing), else those PATH holds a file for (a file: its own)."""
    from autograder.submission import SubmissionError, find_files

    found = find_files(path, course.select(assignments) if assignments else course.assignments)
    if not found and not assignments:
        expected = ", ".join(f"{a}.py" for a in course.assignments[:3])
        raise SubmissionError(f"no assignment file in {path} (expected files such as {expected}, or .ipynb): "
                              "nothing to grade")
    chosen = course.select(assignments) if assignments else tuple(a for a in course.assignments if a in found)
    return chosen, found


def _write_new_file(path: Path, text: str) -> None:
    """Write ``path`` without following a symlink planted where it goes."""
    if path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


@main.command()
@click.argument("assignment")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@insecure_option
def check(assignment, path, insecure):
    """Check your work on ASSIGNMENT with its public tests (PATH: your file or folder; default: here).

    The same engine as the grader, with the public checks that come with the assignment. Hidden
    checks test more cases when your work is graded.
    """
    assignment = assignment.lower()
    target = _locate_student_file(assignment, path)
    with start_sandbox(insecure) as starting:  # it starts while the public checks load
        from autograder.console import print_self_check
        from autograder.judge.grader import Plan, grade as grade_submission
        from autograder.judge.rubric import PUBLIC_SEED, load_released

        rubric, oracle = load_released(target.parent, assignment)
        sandbox = starting.wait()
        with placement.pinned():
            result = grade_submission(target, Plan({assignment: (rubric, oracle)}, PUBLIC_SEED),
                                      start_child=sandbox.start_child)
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
    from autograder.course import declared_assignments, unknown_name_message

    where = path if path is not None else "this folder"
    released = [folder for folder in (Path("assignments"), Path("..")) if folder.is_dir()]
    known = [name for folder in released for name in declared_assignments(folder)]
    if known and assignment not in known:
        raise click.ClickException(unknown_name_message("assignment", assignment, known))
    raise click.ClickException(f"no {assignment}.py or {assignment}.ipynb in {where}: "
                               f"run `dlgrade check {assignment}` from your assignment folder, or give its path")


@main.command("sandbox")
def sandbox_command():
    """Start the sandbox and run its self-test: what isolates student code on this machine."""
    from autograder.sandbox import open_sandbox
    from autograder.sandbox.bubblewrap import find_bwrap

    with open_sandbox() as sandbox:
        server = sandbox.server
        mode = (f"started as root, server drops to uid {server.info.get('uid')}" if os.geteuid() == 0
                else "unprivileged user namespaces")
        limits = (f"cgroup {', '.join(map(str, server.cgroup.directories))}" if server.cgroup
                  else "rlimits only (no cgroup could be made)")
        click.echo(f"bubblewrap:   {find_bwrap()}")
        click.echo(f"mode:         {mode}")
        click.echo(f"memory/procs: {limits}")
        click.echo(f"seccomp:      {'on' if server.info.get('seccomp') else 'off (libseccomp not found)'}")
        click.echo("self-test:    passed (secret file, hidden folder, loopback socket, the judge's process and "
                   "environment, runtime writes, capabilities, CPU affinity, new sessions, priority, non-UNIX sockets, "
                   "locks and watches on shared files, host paths (environment, memory map, mount table), /tmp between "
                   "submissions: all blocked)")


# ------------------------------------------------------------------ Gradescope

@main.group("gradescope")
def gradescope_group():
    """Gradescope's autograder: build the zip to upload, and dry-run it here."""


@gradescope_group.command("build")
@click.argument("assignment", nargs=-1, required=True, type=ASSIGNMENT)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to write (upload it as the assignment's autograder).")
@click.option("--seed", type=int, default=None, envvar="DLGRADE_SEED",
              help="The course secret the hidden inputs derive from, baked into the zip (default: `seed` in "
                   "./dlgrade.toml, else a fresh one, printed).")
@insecure_option
@solutions_option
def gradescope_build(assignment, out, seed, insecure, solutions):
    """Write Gradescope's autograder zip for ASSIGNMENT...: setup.sh, run_autograder, dlgrade's
    source and the hidden folders of these assignments only (instructors: never give it to students)."""
    from autograder.gradescope.package import build
    from autograder.judge.grader import new_seed

    course = open_course(solutions)
    if seed is None:
        seed = configured_seed()
    chosen_seed = seed if seed is not None else new_seed()
    built = build(course, assignment, out, chosen_seed, insecure)
    kib = built.size / 1024
    click.echo(f"wrote {out}: {', '.join(built.assignments)} ({built.members} files, {kib:.0f} KiB)")
    click.echo(f"seed {built.seed}" + ("" if seed is not None else " (fresh: pass --seed to fix it, e.g. for "
                                                                  "`dlgrade grade --seed` to give the same scores)"))
    policy = built.late_policy
    click.echo("late policy: " + (f"{policy.penalty_per_day:g}% per day, grace {policy.grace_minutes:g} min"
                                  + (f", 0 after {policy.max_days} days" if policy.max_days is not None else "")
                                  + (", 0 after the late due date" if policy.zero_after_late_due_date else "")
                                  if policy.penalizes else "none (no [late] in solutions/course.toml)"))
    click.echo("sandbox: off (--insecure, recorded in run_autograder)" if insecure else
               "sandbox: bubblewrap (the container needs unprivileged user namespaces, or root with CAP_SYS_ADMIN)")


@gradescope_group.command("test")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A submission_metadata.json (default: one made here, on time, for --student).")
@click.option("--student", default=None, help="The student of the made metadata (default: SUBMISSION's folder name).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build the /autograder folder here (new or empty) and keep it (default: a temporary one).")
def gradescope_test(archive, submission, metadata, student, keep):
    """Dry-run ARCHIVE (an autograder zip) on SUBMISSION (a student's file or folder) as Gradescope would:
    run its run_autograder for real, validate results.json and summarize it. Installs nothing."""
    import tempfile

    from autograder.gradescope.dryrun import dry_run, print_dry_run, validate

    with tempfile.TemporaryDirectory(prefix="dlgrade-autograder-") as scratch:
        root = keep if keep is not None else Path(scratch) / "autograder"
        run = dry_run(archive, submission, root, metadata, student)
        validate(run)
        print_dry_run(run)
    if run.status != 0:
        raise DlgradeError(f"run_autograder exited with status {run.status}: the autograder could not grade "
                           "(results.json above says why); Gradescope would show no grade for this submission")


@gradescope_group.command("run", hidden=True)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/autograder"))
@insecure_option
def gradescope_run(root, insecure):
    """What the zip's run_autograder runs in Gradescope's container (writes ROOT/results/results.json)."""
    from autograder.gradescope.run import run

    sys.exit(run(root, insecure))


# ------------------------------------------------------------------ batch grading and the gradebook

db_option = click.option("--db", "db_url", default="gradebook.db", show_default=True, envvar="DLGRADE_DB",
                         show_envvar=True,
                         help="The gradebook: a SQLite file, or a URL such as postgresql://user@host/course.")


def _open_gradebook(db_url, *, create: bool = False):
    """The gradebook at ``db_url``; only a grading run or a roster import (``create``) makes one
    that does not exist."""
    from autograder.gradebook import Gradebook

    return Gradebook.open(db_url, create=create)


@main.command("grade-batch")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Local worker processes (default: all cores).")
@db_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write OUT/<student>/result.json, feedback.md and feedback.html.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786).")
@click.option("--regrade", is_flag=True, help="Grade again what the gradebook already has.")
@click.option("--assignment", "-a", "assignments", multiple=True, type=ASSIGNMENT,
              help="Grade and record these assignments only (repeatable; a student without its file is missing; "
                   "default: the assignments that at least one submission has a file for).")
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
    downloads. Grades the assignments collected there (or those of -a) and records only those; the
    others' grades stay as they are. Already graded (student, assignment) pairs (same content,
    checks and seed) are skipped.

    When dlgrade itself fails on a submission (its sandbox or device, a worker that dies, a full
    disk), nothing is recorded for it, the next run grades it, and the exit status is 1.
    """
    from autograder.batch.run import print_summary, run_batch
    from autograder.batch.worker import GradingSettings

    course = open_course(solutions)
    chosen = course.select(assignments) if assignments else ()  # (): the assignments collected in SUBMISSIONS
    if device != "cpu" and not scheduler:  # before anything is graded (a cluster's workers check their own)
        from autograder.tensors import resolve_device

        resolve_device(device)
    gradebook = _open_gradebook(db_url, create=True)
    if seed is None:
        seed = configured_seed()
    if seed is None:
        seed = gradebook.course_seed()
    settings = GradingSettings(str(course.solutions), chosen, seed, device, time_limit=time_limit)
    try:
        summary = run_batch(submissions, settings, gradebook, out=out, workers=workers, scheduler=scheduler,
                            regrade=regrade)
    finally:
        gradebook.close()
    print_summary(summary)
    failures = summary.tool_failures
    if failures:
        raise DlgradeError(f"dlgrade failed on {len(failures)} submission{'s' if len(failures) != 1 else ''} "
                           "(tool failures, listed above): nothing was recorded for them; fix the cause and run "
                           "the same command again to grade them")


@main.command("export")
@db_option
@click.option("--format", "kind", type=click.Choice(["csv", "canvas", "gradescope", "feedback"]), required=True,
              help="csv: grades per exercise; canvas: Canvas gradebook import; gradescope: OUT/<student>/results.json; "
                   "feedback: OUT/<student>/feedback.md and .html.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The file (csv, canvas) or folder.")
@click.option("--assignment", "-a", type=ASSIGNMENT, default=None, help="Only this assignment.")
def export_command(db_url, kind, out, assignment):
    """Export the gradebook (overrides and late penalties applied)."""
    from autograder.gradebook.export import export

    with _open_gradebook(db_url) as gradebook:
        written = export(gradebook, kind, out, assignment)
    click.echo(f"wrote {len(written)} file{'s' if len(written) != 1 else ''} ({kind}) to {out}")


@main.command("upgrade-gradebook")
@db_option
def upgrade_gradebook(db_url):
    """Convert a gradebook of an older dlgrade (a grading per whole submission) to one grading per
    student and assignment. One transaction: a failure changes nothing."""
    from autograder.gradebook.upgrade import upgrade

    count = upgrade(db_url)
    click.echo(f"{db_url}: {count} gradings, one per student and assignment")


@main.command(context_settings={"ignore_unknown_options": True})  # SCORE may be negative with --add: -2
@click.argument("student")
@click.argument("target")
@click.argument("score", type=float, required=False)
@click.option("--replace", "mode", flag_value="replace", default=True,
              help="SCORE is the new score; it replaces earlier overrides of TARGET (the default).")
@click.option("--add", "mode", flag_value="add",
              help="SCORE is points added to TARGET's score as it stands (negative: deducted), on top of earlier overrides.")
@click.option("--drop", "mode", flag_value="drop", help="End every override of TARGET (no SCORE).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", "actor", required=True, help="Who decides (kept in the audit trail).")
@click.option("--assignment", "-a", type=ASSIGNMENT, default=None,
              help="The assignment of TARGET when several tests share its name.")
@db_option
def override(student, target, score, mode, reason, actor, assignment, db_url):
    """Change STUDENT's score for TARGET: a test name, or a whole assignment.

    By default SCORE replaces the score and every earlier override of TARGET (--replace); --add
    adds SCORE points instead, on top of them; --drop ends them. An override holds for the
    submission graded now: when a newer one is graded, it is not applied, and the results say so
    until you make it again or drop it. The audit trail records which.

    STUDENT: an id, login, email or name (any case), as `dlgrade roster list` shows them.
    """
    if (score is None) != (mode == "drop"):
        raise click.UsageError("give SCORE, or --drop without one")
    with _open_gradebook(db_url) as gradebook:
        who = gradebook.find_student(student)
        label = gradebook.override(who.id, target, score, reason, actor, assignment, mode=mode)
    done = {"replace": f"set to {score:g}", "add": f"{score:+g} points", "drop": "overrides dropped"}[mode]
    click.echo(one_line(f"{who.label}: {label} {done} (recorded in the audit trail)"))


@main.command()
@click.argument("student")
@click.argument("assignment", type=ASSIGNMENT)
@click.argument("penalty")
@click.option("--replace", "mode", flag_value="replace", default=True,
              help="This penalty replaces the assignment's earlier late penalties (the default; 0 waives them).")
@click.option("--add", "mode", flag_value="add",
              help="This penalty stacks on the earlier ones (a percentage of the score they left).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", "actor", required=True, help="Who decides (kept in the audit trail).")
@db_option
def late(student, assignment, penalty, mode, reason, actor, db_url):
    """Deduct PENALTY from STUDENT's ASSIGNMENT: a percentage of the score (10%) or points (5).

    By default it replaces the assignment's earlier late penalties (--replace); --add stacks it on
    them. The audit trail records which.

    STUDENT: an id, login, email or name (any case), as `dlgrade roster list` shows them.
    """
    with _open_gradebook(db_url) as gradebook:
        who = gradebook.find_student(student)
        outcome = gradebook.late_penalty(who.id, assignment, penalty, reason, actor, mode=mode)
    click.echo(one_line(f"{who.label}: {assignment} late penalty {penalty}: now {outcome} (recorded in the audit trail)"))


@main.command()
@click.argument("student", required=False)
@db_option
def audit(student, db_url):
    """Print the audit trail (of STUDENT: an id, login, email or name; or of everyone)."""
    with _open_gradebook(db_url) as gradebook:
        if student is not None:
            student = gradebook.find_student(student).id
        students = gradebook.students()
        for entry in gradebook.audit_trail(student):
            who = students[entry.student_id].label if entry.student_id in students else entry.student_id
            click.echo(inert(f"{entry.at:%Y-%m-%d %H:%M:%S} {who} {entry.action} {entry.target}: "
                             f"{entry.old or '-'} -> {entry.new} by {entry.actor} ({entry.reason})"))


@main.group("roster")
def roster_group():
    """The course's students: import the LMS's roster export, list who is on it."""


@roster_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def roster_import(file, db_url):
    """Import FILE, the LMS's roster export, into the gradebook (again: names and sections updated).

    FILE: Canvas's gradebook export (Grades > Export), Moodle's participants download
    (Participants > Download table data as CSV), or a plain CSV with the columns
    id,name,email,section. The format is told by the header.
    """
    from autograder.console import print_roster_import
    from autograder.roster import read_roster

    roster = read_roster(file)  # a file that is no roster fails before the gradebook is opened
    with _open_gradebook(db_url, create=True) as gradebook:  # a course's first step: it may make the gradebook
        changes = gradebook.import_roster(roster)
    print_roster_import(file, roster, changes)


@roster_group.command("list")
@db_option
def roster_list(db_url):
    """List the gradebook's students: id, name, login, email, section, and who has no submission."""
    from autograder.console import print_roster

    with _open_gradebook(db_url) as gradebook:
        students = list(gradebook.students().values())
        missing = {s.id for s in gradebook.missing_students()}
    print_roster(students, missing)

@main.command()
@click.argument("assignment", nargs=-1, type=ASSIGNMENT)
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

    from autograder.judge.rubric import load_rubric
    from autograder.nbgrader_bridge.validate import validate as validate_assignment
    from autograder.release import release_files, write_release

    course = open_course(solutions)
    names = course.select(assignment)
    for name in names:  # first: a rubric that breaks its declaration (points, functions) names the checks
        load_rubric(course, name, with_mutants=False)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as built:
        try:
            if release_dir is None:
                release_dir = Path(built)
                write_release(release_files(course, names), release_dir)
        except ValueError as error:
            raise click.ClickException(one_line(str(error))) from error
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
@click.option("--similarity", "similarity_page", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Link this `dlgrade similarity` page (default: similarity.html or "
                                 "similarity/similarity.html beside the report, when one exists).")
def report(db_url, results, out, similarity_page):
    """Write the course report: one static HTML file with score distributions, common mistakes,
    submissions not gradable or timed out, and grading times."""
    from autograder.report import build_report, read_result_folder, similarity_link

    if (db_url is None) == (results is None):
        raise click.UsageError("give either --db URL or --results DIR")
    if results is not None:
        documents = read_result_folder(results)
    else:
        with _open_gradebook(db_url) as gradebook:
            documents = gradebook.result_documents()
        if not documents:
            raise click.ClickException(f"{db_url}: the gradebook holds no graded submission")
    link = similarity_link(out, similarity_page)
    _write_new_file(out, build_report(documents, similarity=link))
    click.echo(f"wrote the report on {len(documents)} submissions to {out}"
               + (f" (linking {link})" if link else ""))


@main.command()
@click.argument("submissions", type=click.Path(path_type=Path), required=False)
@click.option("--assignment", "-a", "assignments", multiple=True, type=ASSIGNMENT,
              help="Compare these assignments only (repeatable; default: every assignment with files).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("similarity"),
              show_default=True, help="Folder for similarity.html and similarity.csv (`dlgrade report` beside it links the page).")
@click.option("--db", "db_url", default=None, envvar="DLGRADE_DB",
              help="The gradebook (read only; nothing is written to it): without SUBMISSIONS, the files it graded "
                   "are compared; with them, the students' names from its roster, and a note for each file that is "
                   "not the one it graded.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Pairs listed per assignment in the terminal (every flagged pair is listed too).")
@solutions_option
def similarity(submissions, assignments, out, db_url, top, solutions):
    """Who copied? Rank every pair of students by how alike their code is, per assignment.

    SUBMISSIONS: what grade-batch takes (student folders, nbgrader's submitted/, Moodle folders,
    Canvas/LMS zips); without it, --db: the file of each student's latest grading, which the
    gradebook keeps. Each student's functions are compared with every other's by copydetect
    (renamed variables, reordered functions and comments make no difference; the released stub is
    removed), and pairs far above the cohort are flagged. It never changes a grade.
    """
    from autograder.console import make_console, shown
    from autograder.similarity import GradebookView, analyse, analyse_graded, flag_rule, terminal_table, write_outputs

    if submissions is None and db_url is None:
        raise click.UsageError("give SUBMISSIONS (the downloaded submissions), --db URL (the gradebook's graded "
                               "files), or both")
    course = open_course(solutions)
    chosen = course.select(assignments) if assignments else course.assignments
    if submissions is None:
        with _open_gradebook(db_url) as gradebook:
            names = {s.id: s.name for s in gradebook.students().values() if s.name}
            files = gradebook.graded_files(chosen)
        cohorts, notes = analyse_graded(files, names, course, chosen)
    else:
        view = None
        if db_url is not None:
            with _open_gradebook(db_url) as gradebook:
                view = GradebookView({s.id: s.name for s in gradebook.students().values() if s.name},
                                     gradebook.graded_contents())
        cohorts, notes = analyse(submissions, course, chosen, view)
    console = make_console()
    for note in notes:
        console.print(shown(note, "yellow"))
    for cohort in cohorts:
        console.print(terminal_table(cohort, top))
    html, table = write_outputs(cohorts, out)
    console.print(shown(flag_rule()))
    console.print(shown(f"wrote {html} and {table}; no grade was changed"))


if __name__ == "__main__":
    main()
