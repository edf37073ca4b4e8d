"""`dlgrade gradescope build` and `dlgrade gradescope test`: the autograder zip, and its
run_autograder run for real on a correct, a buggy and a hostile submission, a late one, one without
an assignment file, and one whose sandbox cannot start.

The zip is built once for the module, for two assignments of a three-assignment copy of the course
that declares a late policy; each dry run is a real subprocess (about 3 to 6 s)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import cli
from autograder.course import Course, CourseError, LatePolicy
from autograder.gradescope.metadata import MetadataError, dry_run_metadata, parse_metadata
from autograder.gradescope.package import build
from autograder.gradescope.run import FAILURE, find_submission_files, run
from autograder.judge.schemas import GRADESCOPE
from autograder.sandbox.bubblewrap import BubblewrapMissing, find_bwrap

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "tests" / "fixtures" / "submissions"
SEED = 4242
CHOSEN = ("perceptron", "losses")
LATE = "[late]\npenalty_per_day = 10\ngrace_minutes = 15\nmax_days = 3\n"


def _sandbox_or_skip():
    try:
        find_bwrap()
    except BubblewrapMissing as error:
        pytest.skip(f"needs bubblewrap for the sandbox: {error}")


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Course:
    """perceptron, losses and dropout of the course, and a course.toml with a late policy."""
    solutions = tmp_path_factory.mktemp("course") / "solutions"
    for name in (*CHOSEN, "dropout"):
        shutil.copytree(REPOSITORY / "solutions" / name, solutions / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (solutions / "course.toml").write_text(LATE, encoding="utf-8")
    return Course.locate(solutions)


@pytest.fixture(scope="module")
def archive(course_copy, tmp_path_factory) -> Path:
    return build(course_copy, CHOSEN, tmp_path_factory.mktemp("zip") / "autograder.zip", SEED).path


def dry_run(archive: Path, submission: Path, root: Path, *extra: str):
    """`dlgrade gradescope test` in this process (run_autograder is its subprocess): the CLI result
    and the results.json it ran to."""
    result = CliRunner().invoke(cli.main, ["gradescope", "test", str(archive), str(submission), "--keep", str(root),
                                           *extra])
    path = root / "results" / "results.json"
    return result, (json.loads(path.read_text()) if path.is_file() else None)


def dlgrade_grade(course: Course, submission: Path, student: str, out: Path) -> dict:
    """`dlgrade grade` of the same files with the same seed and student (native JSON)."""
    args = ["grade", str(submission), "--seed", str(SEED), "--student", student, "--json", str(out),
            "--solutions", str(course.solutions)]
    for name in CHOSEN:
        args += ["-a", name]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def metadata_file(tmp_path: Path, student: str, late: timedelta) -> Path:
    due = datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=-8)))
    data = dry_run_metadata(student, due + late, due, "Homework 1")
    data["users"][0].update({"email": f"{student}@example.edu", "id": 777})
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(data))
    return path


def assert_valid(document: dict) -> None:
    jsonschema.validate(document, GRADESCOPE)


def assert_same_scores(document: dict, native: dict) -> None:
    assert document["extra_data"]["score_before_penalty"] == pytest.approx(native["score"])
    assert [t["score"] for t in document["tests"]] == pytest.approx([t["score"] for t in native["tests"]])
    assert [t["name"] for t in document["tests"]] == [f"{t['exercise']}: {t['name']}" for t in native["tests"]]


# ------------------------------------------------------------------ the zip


def test_zip_holds_the_chosen_assignments_only_and_is_deterministic(course_copy, archive, tmp_path):
    names = zipfile.ZipFile(archive).namelist()
    assert names == sorted(names)
    hidden = {n.split("/")[1] for n in names if n.startswith("solutions/") and n.count("/") >= 2}
    assert hidden == set(CHOSEN)
    assert not any("dropout" in n for n in names)
    assert "solutions/course.toml" in names and "setup.sh" in names and "run_autograder" in names
    assert {"engine/pyproject.toml", "engine/cli.py", "engine/autograder/__init__.py"} <= set(names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    info = zipfile.ZipFile(archive).getinfo("run_autograder")
    assert info.date_time == (1980, 1, 1, 0, 0, 0) and (info.external_attr >> 16) & 0o111
    config = json.loads(zipfile.ZipFile(archive).read("dlgrade-autograder.json"))
    assert config["assignments"] == list(CHOSEN) and config["seed"] == SEED and config["insecure"] is False
    setup = zipfile.ZipFile(archive).read("setup.sh").decode()
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in setup and "bubblewrap" in setup
    again = build(course_copy, CHOSEN, tmp_path / "again.zip", SEED).path
    assert again.read_bytes() == archive.read_bytes()


def test_zip_engine_installs_without_the_repository(archive, tmp_path):
    """setup.sh pip-installs engine/: it builds into a wheel on its own (no git, no repository)."""
    with zipfile.ZipFile(archive) as opened:
        for name in opened.namelist():
            if name.startswith("engine/"):
                opened.extract(name, tmp_path / "unpacked")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(tmp_path / "unpacked" / "engine")], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("dlgrade-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"cli.py", "autograder/gradescope/run.py", "autograder/sandbox/zygote.py"} <= set(names)
    assert not any("solutions" in name for name in names)


def test_insecure_build_is_recorded_in_run_autograder(course_copy, tmp_path):
    script = zipfile.ZipFile(build(course_copy, ["perceptron"], tmp_path / "a.zip", SEED, insecure=True).path)
    assert "--insecure" in script.read("run_autograder").decode()
    assert json.loads(script.read("dlgrade-autograder.json"))["insecure"] is True
    plain = zipfile.ZipFile(build(course_copy, ["perceptron"], tmp_path / "b.zip", SEED).path)
    assert "--insecure" not in plain.read("run_autograder").decode()


def test_insecure_zip_grades_without_the_sandbox_and_says_so(course_copy, tmp_path, monkeypatch):
    """Built with --insecure, run_autograder grades where bubblewrap is not there, and every result
    says it was graded without the OS sandbox."""
    monkeypatch.setenv("DLGRADE_BWRAP", str(tmp_path / "no-such-bwrap"))
    insecure = build(course_copy, ["perceptron"], tmp_path / "insecure.zip", SEED, insecure=True).path
    submission = tmp_path / "ada"
    submission.mkdir()
    shutil.copy2(FIXTURES / "vectorized" / "perceptron.py", submission)
    result, document = dry_run(insecure, submission, tmp_path / "root")
    assert result.exit_code == 0, result.output
    assert_valid(document)
    assert document["score"] == 100 and document["extra_data"]["insecure"] is True
    assert "Graded without the OS sandbox" in document["output"] and "sandbox: off" in result.output
    assert "WARNING: --insecure" in (tmp_path / "root" / "results" / "stdout").read_text()


def test_build_command_prints_what_it_wrote(course_copy, tmp_path):
    out = tmp_path / "cmd.zip"
    result = CliRunner().invoke(cli.main, ["gradescope", "build", "losses", "--out", str(out), "--seed", "7",
                                           "--solutions", str(course_copy.solutions)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: losses" in result.output and "seed 7" in result.output
    assert "late policy: 10% per day, grace 15 min, 0 after 3 days" in result.output
    bad = CliRunner().invoke(cli.main, ["gradescope", "build", "lossess", "--out", str(out),
                                        "--solutions", str(course_copy.solutions)])
    assert bad.exit_code != 0 and "did you mean 'losses'" in bad.output


# ------------------------------------------------------------------ dry runs, for real


def test_correct_submission_scores_as_dlgrade_grade(course_copy, archive, tmp_path):
    _sandbox_or_skip()
    submission = tmp_path / "ada"
    submission.mkdir()
    for name in CHOSEN:
        shutil.copy2(FIXTURES / "vectorized" / f"{name}.py", submission)
    result, document = dry_run(archive, submission, tmp_path / "root")
    assert result.exit_code == 0, result.output
    assert_valid(document)
    native = dlgrade_grade(course_copy, submission, "ada", tmp_path / "native.json")
    assert native["score"] == 200 and document["score"] == 200
    assert_same_scores(document, native)
    # hidden checks' details (their inputs) show once the grades are published, public ones at once
    by_kind = {t["extra_data"]["visibility"]: set() for t in document["tests"]}
    for test in document["tests"]:
        by_kind[test["extra_data"]["visibility"]].add(test["visibility"])
    assert by_kind == {"public": {"visible"}, "hidden": {"after_published"}}
    assert document["stdout_visibility"] == "hidden"
    assert "seed" not in document["extra_data"] and str(SEED) not in json.dumps(document)  # the course secret
    count = len(document["tests"])
    assert "after_published" in result.output and f"{count} of {count} tests passed" in result.output


def test_buggy_late_submission_gets_the_late_policy(course_copy, archive, tmp_path):
    _sandbox_or_skip()
    submission = tmp_path / "bob"
    (submission / "homework").mkdir(parents=True)  # Gradescope keeps an uploaded zip's folders
    source = (FIXTURES / "vectorized" / "losses.py").read_text()
    buggy = source.replace("return logits.dtype.type(-total / n)", "return logits.dtype.type(-total)")
    assert buggy != source
    (submission / "homework" / "Losses (1).py").write_text(buggy)
    shutil.copy2(FIXTURES / "loops" / "perceptron.py", submission)
    metadata = metadata_file(tmp_path, "bob", timedelta(days=1, hours=2))  # 2 started days late
    result, document = dry_run(archive, submission, tmp_path / "root", "--metadata", str(metadata))
    assert result.exit_code == 0, result.output
    assert_valid(document)
    flat = tmp_path / "flat" / "bob"
    flat.mkdir(parents=True)
    shutil.copy2(submission / "homework" / "Losses (1).py", flat)
    shutil.copy2(submission / "perceptron.py", flat)
    native = dlgrade_grade(course_copy, flat, "bob", tmp_path / "native.json")  # the seed: users[0].sid
    assert 100 < native["score"] < 200
    assert_same_scores(document, native)
    assert document["score"] == pytest.approx(native["score"] * 0.8)
    assert document["extra_data"]["late_penalty_percent"] == 20
    assert "Late: submitted 1 d 2 h 0 min after the due date (2 days at 10% each): -20% of the score." \
        in document["output"]
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert failed and all(t["name"].startswith("losses.cross_entropy") for t in failed)


def test_hostile_submission_cannot_forge_results(course_copy, archive, tmp_path):
    """A submission that tries to write results.json and to read the seed and the hidden course
    from /autograder gets the verdict `dlgrade grade` gives it, in the grader's own results.json."""
    _sandbox_or_skip()
    root = tmp_path / "root"
    forged = json.dumps({"score": 1000, "output": "pwned", "tests": []})
    attack = f"""import os, json
import numpy as np
stolen = []
for path in [{str(root / 'source' / 'dlgrade-autograder.json')!r}, {str(root / 'source' / 'solutions' / 'perceptron' / 'perceptron.py')!r}]:
    try:
        stolen.append(open(path).read())
    except OSError:
        pass
for path in [{str(root / 'results' / 'results.json')!r}, '/autograder/results/results.json']:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, 'w').write({forged!r})
    except OSError:
        pass

def step(z):
    if stolen:
        raise RuntimeError("LEAKED " + stolen[0][:100])
    return np.zeros(np.shape(z), dtype=np.int64)
"""
    submission = tmp_path / "mallory"
    submission.mkdir()
    (submission / "perceptron.py").write_text(attack)
    result, document = dry_run(archive, submission, root)
    assert result.exit_code == 0, result.output
    assert_valid(document)
    assert document["score"] != 1000 and "pwned" not in document["output"]
    assert not any("LEAKED" in t["output"] for t in document["tests"])
    native = dlgrade_grade(course_copy, submission, "mallory", tmp_path / "native.json")
    assert_same_scores(document, native)
    assert document["score"] == native["score"] < 25


def test_no_assignment_file_is_a_plain_verdict(archive, tmp_path):
    submission = tmp_path / "eve"
    (submission / "sub").mkdir(parents=True)
    (submission / "sub" / "[bold red]notes\x1b[2J.txt").write_text("my answers")
    (submission / "perceptron.txt").write_text("not code")
    result, document = dry_run(archive, submission, tmp_path / "root")
    assert result.exit_code == 0, result.output
    assert_valid(document)
    assert document["score"] == 0 and document["extra_data"]["tool_failure"] is False
    first = document["output"].splitlines()[0]
    assert first.startswith("No assignment file was found in your submission")
    assert "perceptron.py or perceptron.ipynb, losses.py or losses.ipynb" in first
    assert "[bold red]notes[2J.txt" in first and "\x1b" not in document["output"]  # named, inert
    assert all(t["extra_data"]["outcome"] == "not_attempted" for t in document["tests"])
    assert "\x1b" not in result.output and "[bold red]notes" in result.output  # printed as text, not markup


def test_sandbox_that_cannot_start_is_no_grade(archive, tmp_path, monkeypatch):
    """bwrap pointed at a binary that is not there: run_autograder exits 1 and its results.json
    says the grader could not run, with no test: never a silent 0."""
    monkeypatch.setenv("DLGRADE_BWRAP", str(tmp_path / "no-such-bwrap"))
    submission = tmp_path / "ada"
    submission.mkdir()
    shutil.copy2(FIXTURES / "vectorized" / "perceptron.py", submission)
    result, document = dry_run(archive, submission, tmp_path / "root")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: run_autograder exited with status 1")
    assert_valid(document)
    assert document["output"].startswith(f"{FAILURE}: the autograder could not grade this submission, so this is "
                                         "not a grade")
    assert "DLGRADE_BWRAP" in document["output"] and "no-such-bwrap" in document["output"]
    assert document["tests"] == [] and document["extra_data"]["tool_failure"] is True


def _with_run_autograder(archive: Path, out: Path, script: str) -> Path:
    """``archive`` with another run_autograder: a broken autograder."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, script if info.filename == "run_autograder" else source.read(info))
    return out


@pytest.mark.parametrize("script, message", [
    ("#!/usr/bin/env bash\necho crashed\nexit 3\n", "run_autograder (exit status 3) wrote no results/results.json"),
    ('#!/usr/bin/env bash\necho \'{"score": "high", "tests": []}\' > "$AUTOGRADER_ROOT/results/results.json"\n',
     "results.json is not valid for Gradescope: at score: 'high' is not of type 'number'"),
])
def test_missing_or_invalid_results_is_one_line_error(archive, tmp_path, script, message):
    broken = _with_run_autograder(archive, tmp_path / "broken.zip", script)
    submission = tmp_path / "ada"
    submission.mkdir()
    result, _ = dry_run(broken, submission, tmp_path / "root")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "tests passed" not in result.output  # no summary of results that are not there


# ------------------------------------------------------------------ the pieces, in this process


def test_unreadable_metadata_is_a_tool_failure(archive, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission_metadata.json").write_text('{"users": [], "created_at": "yesterday"}')
    assert run(root) == 1
    document = json.loads((root / "results" / "results.json").read_text())
    assert_valid(document)
    assert document["output"].startswith(FAILURE) and "names no user" in document["output"]


def test_metadata_student_key_and_dates():
    data = dry_run_metadata("s123", datetime(2026, 1, 2, tzinfo=timezone.utc), None, "HW")
    assert parse_metadata(data).student == "s123"
    del data["users"][0]["sid"]
    data["users"][0]["email"] = "ada@example.edu"
    assert parse_metadata(data).student == "ada@example.edu"
    data["users"][0]["email"] = ""
    data["users"][0]["id"] = 1234
    assert parse_metadata(data).student == "1234"
    data["created_at"] = "2018-07-01T14:22:32.365935-07:00"
    assert parse_metadata(data).submitted == datetime(2018, 7, 1, 21, 22, 32, 365935, tzinfo=timezone.utc)
    data["assignment"]["due_date"] = "2018-07-01T23:00:00+00:00"
    assert parse_metadata(data).due == datetime(2018, 7, 1, 23, tzinfo=timezone.utc)
    data["users"][0]["assignment"] = {"due_date": "2018-07-05T23:00:00+00:00", "late_due_date": None}  # an extension
    assert parse_metadata(data).due == datetime(2018, 7, 5, 23, tzinfo=timezone.utc)
    data["users"][0]["assignment"]["due_date"] = "soon"
    with pytest.raises(MetadataError, match=r"users\[0\]\.assignment\.due_date"):
        parse_metadata(data)


def test_late_policy():
    due = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    policy = LatePolicy.from_data({"penalty_per_day": 10, "grace_minutes": 15, "max_days": 3})
    assert policy.penalty(due + timedelta(minutes=15), due).percent == 0  # within the grace
    assert policy.penalty(due + timedelta(minutes=16), due).percent == 10
    assert policy.penalty(due + timedelta(days=1), due).percent == 10
    assert policy.penalty(due + timedelta(days=1, seconds=1), due).percent == 20
    assert policy.penalty(due + timedelta(days=3, hours=1), due).percent == 100  # past max_days
    assert policy.penalty(due - timedelta(days=1), due).percent == 0
    assert LatePolicy().penalty(due + timedelta(days=30), due).percent == 0  # none declared: no penalty
    hard = LatePolicy.from_data({"penalty_per_day": 5, "zero_after_late_due_date": True})
    assert hard.penalty(due + timedelta(days=2), due, due + timedelta(days=1)).percent == 100
    assert hard.penalty(due + timedelta(hours=2), due, due + timedelta(days=1)).percent == 5
    assert policy.penalty(due + timedelta(days=1, seconds=1), due).applied(80) == 64
    for bad, problem in [({"penalty_per_day": 120}, "penalty_per_day"), ({"max_days": -1}, "max_days"),
                         ({"per_day": 10}, "unknown keys")]:
        with pytest.raises(CourseError, match=problem):
            LatePolicy.from_data(bad)


def test_course_toml_declares_the_policy(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(REPOSITORY / "solutions" / "perceptron", solutions / "perceptron",
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert not Course.locate(solutions).late_policy.penalizes
    (solutions / "course.toml").write_text(LATE)
    assert Course.locate(solutions).late_policy == LatePolicy(10, 15, 3)
    (solutions / "course.toml").write_text("[late]\npenalty_per_day = 'ten'\n")
    with pytest.raises(CourseError, match="penalty_per_day"):
        assert Course.locate(solutions).late_policy is None


def test_submission_files_are_found_in_folders(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "a" / "b" / "LOSSES.ipynb").write_text("{}")
    (tmp_path / ".git" / "perceptron.py").write_text("")
    (tmp_path / "__MACOSX" / "perceptron.py").write_text("")
    (tmp_path / "other.py").write_text("")
    (tmp_path / "perceptron.py").symlink_to(tmp_path / "other.py")
    found = find_submission_files(tmp_path, CHOSEN)
    assert found.files == {"losses": tmp_path / "a" / "b" / "LOSSES.ipynb"}
    (tmp_path / "a" / "perceptron (1).py").write_text("")
    (tmp_path / "a" / "b" / "perceptron.py").write_text("")
    found = find_submission_files(tmp_path, CHOSEN)
    assert found.files["perceptron"].parent in {tmp_path / "a", tmp_path / "a" / "b"}
    assert found.notes and found.notes[0].startswith("perceptron: graded ")


def test_bwrap_override_that_is_missing_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DLGRADE_BWRAP", str(tmp_path / "bwrap"))
    with pytest.raises(BubblewrapMissing, match="DLGRADE_BWRAP"):
        find_bwrap()


@pytest.mark.parametrize("member", ["../outside.txt", "/etc/planted.txt", "engine/../../outside.txt"])
def test_the_dry_run_refuses_a_zip_whose_member_leaves_the_folder(tmp_path, member):
    """The dry run unpacks with the intake's safe unzip: a member that would land outside is refused
    whole, before run_autograder could run, and nothing is written outside the folder."""
    from autograder.errors import DlgradeError
    from autograder.gradescope.dryrun import unpack

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("run_autograder", "#!/bin/sh\necho hi\n")
        opened.writestr(member, "planted")
    (tmp_path / "root").mkdir()
    with pytest.raises(DlgradeError, match="not a dlgrade autograder zip"):
        unpack(archive, tmp_path / "root" / "source")
    assert not (tmp_path / "outside.txt").exists() and not Path("/etc/planted.txt").exists()


def test_the_dry_run_unpacks_with_the_modes_the_zip_records(tmp_path):
    from autograder.gradescope.dryrun import unpack

    archive = tmp_path / "ok.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        for name, mode in (("run_autograder", 0o755), ("solutions/a/hidden_checks.py", 0o644)):
            info = zipfile.ZipInfo(name)
            info.external_attr, info.create_system = (0o100000 | mode) << 16, 3
            opened.writestr(info, "x")
    unpack(archive, tmp_path / "source")
    assert (tmp_path / "source/run_autograder").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "source/solutions/a/hidden_checks.py").stat().st_mode & 0o777 == 0o644
