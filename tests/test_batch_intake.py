"""Intake: every layout a TA downloads, duplicates, hostile zips and bad input, one student at a time."""

import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from autograder.batch import archive
from autograder.batch.intake import IntakeError, discover

from support import ASSIGNMENTS

GOOD = "import numpy as np\n\ndef step(z):\n    return (np.asarray(z) > 0).astype(np.int64)\n"


def write(path: Path, text: str = GOOD, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def by_student(intake):
    return {s.student: s for s in intake.submissions}


def test_one_folder_per_student_and_unrelated_files(tmp_path):
    write(tmp_path / "subs" / "alice" / "perceptron.py")
    write(tmp_path / "subs" / "alice" / "hw" / "mlp.py")  # sub-folders count
    write(tmp_path / "subs" / "bob" / "notes.txt", "my notes")
    write(tmp_path / "subs" / "bob" / ".ipynb_checkpoints" / "perceptron.py")  # hidden: ignored
    (tmp_path / "subs" / "carol").mkdir()
    found = by_student(discover(tmp_path / "subs", tmp_path / "stage", ASSIGNMENTS))
    assert sorted(found) == ["alice", "bob", "carol"]
    alice = found["alice"]
    student, path, notes = alice
    assert student == "alice" and sorted(p.name for p in path.iterdir()) == ["mlp.py", "perceptron.py"]
    assert (path / "perceptron.py").read_text() == GOOD and len(alice.sha256) == 64
    assert found["bob"].path is None and "no assignment file found" in found["bob"].error
    assert "notes.txt" in found["bob"].error
    assert found["carol"].path is None and found["carol"].error == "the submission is empty"


def test_nbgrader_layout_merges_assignment_folders(tmp_path):
    root = tmp_path / "course"
    write(root / "submitted" / "alice" / "perceptron" / "perceptron.py")
    write(root / "submitted" / "alice" / "losses" / "losses.py", "x = 1\n")
    write(root / "submitted" / "alice" / "losses" / "timestamp.txt", "2024-01-01 10:00:00")
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    assert list(found) == ["alice"]
    assert sorted(p.name for p in found["alice"].path.iterdir()) == ["losses.py", "perceptron.py"]


def test_moodle_folders_give_id_and_name(tmp_path):
    write(tmp_path / "dl" / "Ada Lovelace_4711_assignsubmission_file_" / "perceptron.py")
    (submission,) = discover(tmp_path / "dl", tmp_path / "stage", ASSIGNMENTS).submissions
    assert (submission.student, submission.name, submission.lms_id) == ("4711", "Ada Lovelace", "4711")


def canvas_zip(path: Path, members: dict[str, str], when=(2024, 3, 1, 12, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=when)
            if isinstance(text, tuple):  # (text, date_time)
                text, info.date_time = text
            zf.writestr(info, text)
    return path


def test_canvas_zip_resubmissions_newest_wins_and_is_logged(tmp_path, caplog):
    root = tmp_path / "dl"
    root.mkdir()
    canvas_zip(root / "submissions.zip", {
        "lovelaceada_4711_9001_perceptron.py": ("x = 'old'\n", (2024, 3, 1, 9, 0, 0)),
        "lovelaceada_LATE_4711_9002_perceptron-1.py": ("x = 'new'\n", (2024, 3, 2, 9, 0, 0)),
        "turingalan_4712_9003_perceptron.ipynb": "{}",
    })
    with caplog.at_level("INFO", logger="dlgrade.intake"):
        found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    assert sorted(found) == ["4711", "4712"]
    ada = found["4711"]
    assert ada.name == "lovelaceada" and (ada.path / "perceptron.py").read_text() == "x = 'new'\n"
    assert any("graded lovelaceada_LATE_4711_9002_perceptron-1.py (Canvas resubmission 1, the latest" in n
               for n in ada.notes)
    assert "graded lovelaceada_LATE_4711_9002_perceptron-1.py" in caplog.text
    assert (found["4712"].path / "perceptron.ipynb").is_file()  # unreadable: the grader says so, for 4712 alone


def test_duplicates_across_folders_newest_wins(tmp_path):
    now = time.time()
    write(tmp_path / "subs" / "alice" / "v1" / "perceptron.py", "x = 1\n", now - 3600)
    write(tmp_path / "subs" / "alice" / "v2" / "perceptron.py", "x = 2\n", now)
    (alice,) = discover(tmp_path / "subs", tmp_path / "stage", ASSIGNMENTS).submissions
    assert (alice.path / "perceptron.py").read_text() == "x = 2\n"
    assert any("2 files" in note for note in alice.notes)


def test_zip_slip_and_symlinks_are_skipped(tmp_path):
    root = tmp_path / "dl"
    root.mkdir()
    path = root / "bulk.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("alice/perceptron.py", GOOD)
        zf.writestr("../../evil/perceptron.py", "owned = True\n")
        zf.writestr("/abs/perceptron.py", "owned = True\n")
        link = zipfile.ZipInfo("alice/mlp.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    intake = discover(root, tmp_path / "stage", ASSIGNMENTS)
    assert [s.student for s in intake.submissions] == ["alice"]
    assert sorted(p.name for p in intake.submissions[0].path.iterdir()) == ["perceptron.py"]
    assert not (tmp_path / "evil").exists() and not Path("/abs").exists()
    assert any("leaves the archive" in n for n in intake.notes) and any("symbolic link" in n for n in intake.notes)


def test_zip_bombs_are_refused_before_extraction(tmp_path, monkeypatch):
    root = tmp_path / "dl"
    write(root / "bob" / "perceptron.py")
    ratio_bomb = root / "alice" / "alice.zip"  # a student's own zip: refused for alice alone
    ratio_bomb.parent.mkdir(parents=True)
    with zipfile.ZipFile(ratio_bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("perceptron.py", b"\0" * (8 << 20))
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 4 << 20)
    with zipfile.ZipFile(root / "bulk.zip", "w", zipfile.ZIP_STORED) as zf:  # ratio 1, but too big in total
        zf.writestr("carol/perceptron.py", os.urandom(5 << 20))
    intake = discover(root, tmp_path / "stage", ASSIGNMENTS)
    found = by_student(intake)
    assert "zip bomb" in found["alice"].error and found["alice"].path is None
    assert found["bob"].path is not None and "carol" not in found
    assert any("refused bulk.zip" in n and "over the limit" in n for n in intake.notes)
    assert not list((tmp_path / "stage" / ".unpacked").rglob("perceptron.py"))  # nothing was written


def test_lying_sizes_stop_the_extraction(tmp_path):
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("perceptron.py", b"a" * 100_000)
    data = bytearray(path.read_bytes())
    # Patch the central directory's uncompressed size down to 10 bytes (offset 24 of the entry).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(archive.UnsafeArchive):
        archive.extract(path, tmp_path / "out")


def test_a_two_gigabyte_file_is_that_students_problem_alone(tmp_path):
    big = tmp_path / "subs" / "alice" / "perceptron.py"
    big.parent.mkdir(parents=True)
    with big.open("wb") as stream:  # sparse: no disk used
        stream.truncate(2 << 30)
    write(tmp_path / "subs" / "alice" / "mlp.py")
    write(tmp_path / "subs" / "bob" / "perceptron.py")
    found = by_student(discover(tmp_path / "subs", tmp_path / "stage", ASSIGNMENTS))
    alice = found["alice"]
    assert "2.0 GiB, over the 5 MiB limit" in alice.problems["perceptron"]
    assert sorted(p.name for p in alice.path.iterdir()) == ["mlp.py"]
    assert found["bob"].problems == {}


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(IntakeError, match="does not exist"):
        discover(tmp_path / "nowhere", tmp_path / "stage", ASSIGNMENTS)
    (tmp_path / "empty").mkdir()
    intake = discover(tmp_path / "empty", tmp_path / "stage", ASSIGNMENTS)
    assert intake.submissions == [] and "is empty" in intake.notes[0]
