"""``dlgrade gradescope test``: a local dry run of an autograder zip.

The zip is unpacked into a ``/autograder``-shaped folder (``source/``, ``submission/``,
``results/``, ``submission_metadata.json``, and ``run_autograder`` copied up beside them, as
Gradescope does); what ``setup.sh`` would install is checked, never installed (no apt, no pip):
this dlgrade at the zip's version, torch, and bubblewrap unless the zip was built with
``--insecure``. Then the zip's own ``run_autograder`` runs for real, as a subprocess, with
``$AUTOGRADER_ROOT`` pointing at the folder and ``$DLGRADE_PYTHON`` at this interpreter (whose
dlgrade, the one checked, it imports), and its ``results.json`` is validated against Gradescope's
schema (:data:`autograder.judge.schemas.GRADESCOPE`, jsonschema).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import autograder
from autograder import __version__
from autograder.batch.archive import MAX_MEMBERS, Allowance, UnsafeArchive, extract
from autograder.errors import DlgradeError
from autograder.gradescope import AUTOGRADER_ROOT_ENV, PYTHON_ENV
from autograder.gradescope.metadata import dry_run_metadata
from autograder.gradescope.run import Settings
from autograder.untrusted import LINE, MESSAGE, cap, inert

MAX_UNPACKED = 512 << 20  # the zip's files together (the engine and a course: a few MiB)


@dataclass
class DryRun:
    root: Path
    settings: Settings
    checks: list[str] = field(default_factory=list)  # what was checked, one line each
    warnings: list[str] = field(default_factory=list)
    status: int = 0  # run_autograder's exit status
    output: str = ""  # what it printed (stdout and stderr)
    results: dict | None = None


def unpack(archive: Path, source: Path) -> None:
    """The zip's members into the new folder ``source``, all or nothing, by the intake's own safe
    unzip (:func:`~autograder.batch.archive.extract`: names checked before anything is created,
    sizes bounded, plain files only), each with the mode the zip records (the scripts executable)."""
    try:
        skipped = extract(archive, source, Allowance(MAX_UNPACKED, MAX_MEMBERS))
        if skipped:
            raise DlgradeError(f"{skipped[0]}: not a dlgrade autograder zip")
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                if not info.is_dir():
                    (source / info.filename).chmod(0o755 if (info.external_attr >> 16) & 0o111 else 0o644)
    except (UnsafeArchive, zipfile.BadZipFile, OSError) as error:
        raise DlgradeError(f"cannot unpack {archive}: {error}: give the zip `dlgrade gradescope build` wrote") from None


def check_environment(settings: Settings, run: DryRun) -> None:
    """What setup.sh would have installed, present here (nothing is installed)."""
    if settings.dlgrade_version != __version__:
        raise DlgradeError(f"the zip was built by dlgrade {settings.dlgrade_version}, this is dlgrade {__version__}: "
                           "build it again with this dlgrade, or test it with the version that built it")
    run.checks.append(f"dlgrade {__version__} (the zip's version), from {Path(autograder.__file__).parent}")
    if importlib.util.find_spec("torch") is None:
        raise DlgradeError("torch is not installed here (setup.sh installs it in Gradescope's container): "
                           "pip install torch, then test again")
    run.checks.append("torch importable")
    if settings.insecure:
        run.checks.append("sandbox: off (built with --insecure)")
        return
    from autograder.sandbox.bubblewrap import BubblewrapMissing, find_bwrap

    try:
        run.checks.append(f"bubblewrap: {find_bwrap()}")
    except BubblewrapMissing as error:
        run.warnings.append(f"{error} (run_autograder will report that its sandbox cannot start)")


def dry_run(archive: Path, submission: Path, root: Path, metadata: Path | None = None, student: str | None = None,
            timeout: float = 1800) -> DryRun:
    """Unpack ``archive`` into ``root`` (an empty or new folder), put ``submission`` (a folder or a
    file) into ``root/submission``, write or copy the metadata, run the zip's run_autograder and
    read its results.json (None when there is none; see :func:`validate`)."""
    archive, submission, root = Path(archive), Path(submission), Path(root)
    if not archive.is_file():
        raise DlgradeError(f"{archive} does not exist: give the zip `dlgrade gradescope build` wrote")
    if not submission.exists():
        raise DlgradeError(f"{submission} does not exist: give a student's file or folder")
    if root.exists() and any(root.iterdir()):
        raise DlgradeError(f"{root} is not empty: the dry run needs a new folder")
    source = root / "source"
    root.mkdir(parents=True, exist_ok=True)
    unpack(archive, source)
    settings = Settings.read(source)
    run = DryRun(root, settings)
    check_environment(settings, run)
    if submission.is_dir():
        shutil.copytree(submission, root / "submission", symlinks=True)
    else:
        (root / "submission").mkdir()
        shutil.copy2(submission, root / "submission" / submission.name)
    (root / "results").mkdir()
    if metadata is not None:
        shutil.copyfile(metadata, root / "submission_metadata.json")
    else:
        who = student or (submission.resolve().parent if submission.is_file() else submission.resolve()).name
        now = datetime.now(timezone.utc)
        generated = dry_run_metadata(who, now, now + timedelta(days=1), ", ".join(settings.assignments))
        (root / "submission_metadata.json").write_text(json.dumps(generated, indent=2) + "\n", encoding="utf-8")
    shutil.copy2(source / "run_autograder", root / "run_autograder")  # as Gradescope does
    engine = str(Path(autograder.__file__).resolve().parent.parent)
    environment = {**os.environ, AUTOGRADER_ROOT_ENV: str(root), PYTHON_ENV: sys.executable,
                   "PYTHONPATH": os.pathsep.join([engine] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    try:
        done = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=environment, capture_output=True,
                              text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DlgradeError(f"run_autograder ran over {timeout:g} s: it did not finish") from None
    run.status = done.returncode
    run.output = inert(cap(done.stdout + done.stderr, MESSAGE * 5), multiline=True)
    (root / "results" / "stdout").write_text(done.stdout + done.stderr, encoding="utf-8")  # Gradescope keeps it too
    path = root / "results" / "results.json"
    if path.is_file():
        try:
            run.results = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DlgradeError(f"run_autograder wrote a results.json that is no JSON ({error}): Gradescope would "
                               "show an autograder failure") from None
    return run


def validate(run: DryRun) -> None:
    """One line, exit 1, when results.json is missing or not what Gradescope reads."""
    import jsonschema

    from autograder.judge.schemas import GRADESCOPE

    if run.results is None:
        tail = " ".join(run.output.split())[-300:]
        raise DlgradeError(f"run_autograder (exit status {run.status}) wrote no results/results.json: Gradescope "
                           f"would show an autograder failure; its output ends: {tail or '(nothing)'}")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(GRADESCOPE).iter_errors(run.results))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise DlgradeError(f"results.json is not valid for Gradescope: at {where}: {inert(cap(error.message, LINE))}")


def _text(value, limit: int = LINE):
    from rich.text import Text

    return Text(inert(cap(str(value), limit)))  # a Text is never read as markup


def print_dry_run(run: DryRun, console=None) -> None:
    """The checks, the score, the top-level output and each test (pass/fail, points, Gradescope's
    visibility); every string from results.json is control-character free and shown as plain text."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False)
    for line in run.checks:
        console.print(_text(f"✔ {line}"))
    for line in run.warnings:
        console.print(_text(f"! {line}"), style="yellow")
    results = run.results or {}
    tests = results.get("tests") or []
    maximum = sum(t.get("max_score", 0) for t in tests)
    console.print(_text(f"run_autograder: exit status {run.status}; results.json: score {results.get('score', 0):g}"
                        + (f" / {maximum:g}" if tests else "")), style="bold")
    for line in str(results.get("output", "")).splitlines()[:40]:
        console.print(_text(f"  {line}", MESSAGE))
    if not tests:
        return
    table = Table("#", "test", "status", "points", "visibility")
    for test in tests:
        table.add_row(_text(test.get("number", "")), _text(test.get("name", "")), _text(test.get("status", "")),
                      _text(f"{test.get('score', 0):g}/{test.get('max_score', 0):g}"),
                      _text(test.get("visibility", results.get("visibility", "visible"))))
    console.print(table)
    passed = sum(t.get("status") == "passed" for t in tests)
    shown = {v: sum(t.get("visibility") == v for t in tests) for v in ("visible", "after_published")}
    console.print(_text(f"{passed} of {len(tests)} tests passed; {shown['visible']} visible at once, "
                        f"{shown['after_published']} after the grades are published"))
