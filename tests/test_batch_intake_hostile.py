"""Intake against crafted downloads: every problem is one student's verdict, never an abort;
archives unpack one level deep inside one allowance per student; names are checked first.
The last tests fuzz intake with random and malformed zips (hypothesis)."""

import io
import os
import stat
import threading
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from autograder.batch import archive, intake
from autograder.batch.intake import discover

from redteam.batch_attacks import zip_of as zip_bytes  # one way of building hostile zips
from support import ASSIGNMENTS

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")

GOOD = "import numpy as np\n\ndef step(z):\n    return (np.asarray(z) > 0).astype(np.int64)\n"


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def class_with(root: Path, **attackers) -> Path:
    """Two honest students plus the attackers' files (name -> bytes)."""
    write(root / "alice" / "perceptron.py", GOOD)
    write(root / "zoe" / "perceptron.py", GOOD)
    for relative, data in attackers.items():
        write(root / relative.replace("__", "/"), data)
    return root


def honest_ok(found: dict) -> None:
    for name in ("alice", "zoe"):
        assert found[name].error == "" and (found[name].path / "perceptron.py").read_text() == GOOD


def by_student(result):
    return {s.student: s for s in result.submissions}


def unpacked_bytes(stage: Path) -> int:
    return sum(p.stat().st_size for p in (stage / ".unpacked").rglob("*") if p.is_file())


def test_a_file_and_a_folder_of_one_name_skip_the_member_not_the_batch(tmp_path):
    data = zip_bytes({"perceptron.py": GOOD, "perceptron.py/x.py": "x", "a": "file", "a/b/mlp.py": "x"})
    root = class_with(tmp_path / "subs", mallory__work_zip=b"")
    write(root / "mallory" / "work.zip", data)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    mallory = found["mallory"]
    assert (mallory.path / "perceptron.py").read_text() == GOOD
    assert sum("a file and a folder of the archive have the same name" in n for n in mallory.notes) == 2


def test_a_name_too_long_for_the_file_system_is_skipped_before_anything_is_created(tmp_path):
    data = zip_bytes({"x" * 300 + "/perceptron.py": GOOD, "a/" * 40 + "mlp.py": "x",
                      "é" * 130 + ".py": "x", "perceptron.py": GOOD, "ok\x1b[2J.py": "x"})
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "work.zip", data)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    notes = " ".join(found["mallory"].notes)
    assert "longer than 255 bytes" in notes and "folders deep" in notes and "control characters" in notes
    assert "\x1b" not in notes and (found["mallory"].path / "perceptron.py").exists()


def test_devices_fifos_and_links_in_an_archive_are_not_unpacked(tmp_path):
    data = zip_bytes({"perceptron.py": GOOD, "mlp.py": ("/etc/passwd", stat.S_IFLNK | 0o777),
                      "fifo.py": (b"", stat.S_IFIFO | 0o644), "dev.py": (b"", stat.S_IFCHR | 0o644)})
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "work.zip", data)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    notes = " ".join(found["mallory"].notes)
    assert "symbolic link" in notes and notes.count("not a regular file") == 2
    assert sorted(p.name for p in (tmp_path / "stage" / ".unpacked").rglob("*") if p.is_file()) == ["perceptron.py"]


def nested(levels: int, inner: bytes) -> bytes:
    data = inner
    for level in range(levels):
        data = zip_bytes({f"level{level}.zip": data}, zipfile.ZIP_STORED)
    return data


def test_archives_unpack_one_level_deep(tmp_path):
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "deep.zip", nested(60, zip_bytes({"perceptron.py": GOOD})))
    write(root / "trent" / "two.zip", nested(1, zip_bytes({"perceptron.py": GOOD})))
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    assert found["trent"].error == ""  # a zip in a zip: unpacked
    assert found["mallory"].path is None and any("one level deep" in n for n in found["mallory"].notes)
    assert len(list((tmp_path / "stage" / ".unpacked").iterdir())) == 4  # deep.zip, level58, two.zip, level0


def test_nested_archives_share_one_allowance_per_student(tmp_path, monkeypatch):
    """The issue's 14 KB upload that wrote 1 GiB: here 5 inner zips of 3 MiB each, 4 MiB allowed."""
    monkeypatch.setattr(archive, "MAX_STUDENT_BYTES", 4 << 20)
    inner = zip_bytes({f"part{i}.bin": b"\0" * (1 << 20) for i in range(3)})  # 1 MiB members: no ratio check
    outer = zip_bytes({f"inner{i}.zip": inner for i in range(5)} | {"perceptron.py": GOOD}, zipfile.ZIP_STORED)
    assert len(outer) < 60_000
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "upload.zip", outer)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    assert unpacked_bytes(tmp_path / "stage") <= (4 << 20) + (1 << 20)
    assert any("over the limit" in n for n in found["mallory"].notes)
    assert (found["mallory"].path / "perceptron.py").read_text() == GOOD


def test_members_are_capped_across_nesting(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_STUDENT_MEMBERS", 30)
    inner = zip_bytes({f"f{i}.txt": "x" for i in range(20)})
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "upload.zip", zip_bytes({"a.zip": inner, "b.zip": inner, "perceptron.py": GOOD}))
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    assert sum(1 for _ in (tmp_path / "stage" / ".unpacked").rglob("*.txt")) <= 30
    assert any("files, over the limit" in n for n in found["mallory"].notes)


def test_a_fifo_named_like_a_canvas_file_does_not_block_intake(tmp_path):
    root = class_with(tmp_path / "subs")
    os.mkfifo(root / "mallory_1_2_perceptron.py")
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("intake", discover(root, tmp_path / "stage", ASSIGNMENTS)), daemon=True)
    thread.start()
    thread.join(120)
    assert "intake" in done, "intake blocked on a FIFO"
    found = by_student(done["intake"])
    honest_ok(found)
    assert found["1"].path is None and any("not a regular file" in n for n in found["1"].notes)


def test_two_names_of_one_key_are_refused_for_those_students_only(tmp_path):
    composed = "José"
    decomposed = unicodedata.normalize("NFD", composed)
    root = class_with(tmp_path / "subs")
    write(root / composed / "perceptron.py", GOOD)
    write(root / decomposed / "perceptron.py", "x = 'someone else'\n")
    write(root / "Josø" / "perceptron.py", GOOD)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    assert found["Josø"].error == "" and found["Josø"].path is not None
    assert found[composed].path is None and "would share the student key" in found[composed].error


def test_whatever_one_entry_raises_is_that_students_error(tmp_path, monkeypatch):
    root = class_with(tmp_path / "subs")
    write(root / "mallory" / "perceptron.py", GOOD)
    real = intake._Walker.collect

    def collect(self, record, folder, nesting, depth=0):
        if record.key == "mallory":
            raise RecursionError("deep")
        return real(self, record, folder, nesting, depth)

    monkeypatch.setattr(intake._Walker, "collect", collect)
    found = by_student(discover(root, tmp_path / "stage", ASSIGNMENTS))
    honest_ok(found)
    assert found["mallory"].path is None and "nested too deeply" in found["mallory"].error


# ------------------------------------------------------------ fuzzing
NAMES = st.one_of(
    st.sampled_from(["perceptron.py", "mlp.py", "a", "a/b", "a/b/c.py", "../x.py", "/abs.py", "C:\\x.py", "",
                     ".", "..", "./perceptron.py", "a//b", "__MACOSX/x", "._x", "x" * 300, "d/" * 50 + "f",
                     "n\x00ul.py", "e\x1bsc.py", "inner.zip", "perceptron.py/x"]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
)
MODES = st.sampled_from([0, stat.S_IFREG | 0o644, stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644, stat.S_IFDIR | 0o755,
                         stat.S_IFCHR | 0o600, stat.S_IFSOCK | 0o600])
MEMBERS = st.lists(st.tuples(NAMES, st.binary(max_size=200), MODES), max_size=12)


def fuzz_zip(members, nested_member: bytes | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name or "x", date_time=(2024, 3, 1, 12, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        if nested_member is not None:
            zf.writestr("nested.zip", nested_member)
    return buffer.getvalue()


def check_intake(tmp_path: Path, data: bytes, where: str) -> None:
    root = tmp_path / "subs"
    stage = tmp_path / "stage"
    class_with(root)
    write(root / where, data)
    found = by_student(discover(root, stage, ASSIGNMENTS))  # must not raise, whatever the bytes
    honest_ok(found)
    for submission in found.values():
        assert submission.path is not None or submission.error
        assert all("\x1b" not in n and "\x00" not in n for n in submission.notes + [submission.error])
    assert unpacked_bytes(stage) <= archive.MAX_TOTAL_BYTES
    assert not (tmp_path / "x.py").exists() and not Path("/abs.py").exists()


fuzz = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@fuzz
@given(members=MEMBERS, nested_members=st.none() | MEMBERS, where=st.sampled_from(["mallory/w.zip", "bulk.zip"]))
def test_fuzz_random_zips(tmp_path_factory, members, nested_members, where):
    nested_zip = None if nested_members is None else fuzz_zip(nested_members, None)
    check_intake(tmp_path_factory.mktemp("fuzz"), fuzz_zip(members, nested_zip), where)


@fuzz
@given(members=MEMBERS, flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.none() | st.integers(0, 10**6), where=st.sampled_from(["mallory/w.zip", "bulk.zip"]))
def test_fuzz_malformed_zips(tmp_path_factory, members, flips, cut, where):
    data = bytearray(fuzz_zip(members + [("perceptron.py", GOOD.encode(), 0)], None))
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    check_intake(tmp_path_factory.mktemp("fuzz"), bytes(data), where)
