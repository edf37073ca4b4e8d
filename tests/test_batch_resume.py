"""A real `dlgrade grade-batch` killed with SIGKILL mid-run, then started again: each submission graded once."""

import os
from contextlib import closing
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from autograder.gradebook import Gradebook

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "submissions"
STUDENTS = [f"s{i}" for i in range(5)]


def dlgrade(*args, **kwargs):
    executable = Path(sys.executable).parent / "dlgrade"
    return subprocess.Popen([str(executable), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, **kwargs)


def count_gradings(db: Path) -> int:
    """Committed gradings, read without writing (the running batch owns the file)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as connection:
            return connection.execute("SELECT count(*) FROM gradings").fetchone()[0]
    except sqlite3.OperationalError:  # no file or no table yet
        return 0


def test_sigkill_then_restart_grades_each_submission_exactly_once(tmp_path):
    styles = ["vectorized", "loops", "float32"]
    for i, student in enumerate(STUDENTS):
        (tmp_path / "subs" / student).mkdir(parents=True)
        source = (FIXTURES / styles[i % 3] / "perceptron.py").read_text()
        (tmp_path / "subs" / student / "perceptron.py").write_text(source + f"\n# {student}\n")
    db = tmp_path / "grades.db"
    args = ["grade-batch", str(tmp_path / "subs"), "--db", str(db), "-a", "perceptron", "--workers", "1",
            "--seed", "7"]
    process = dlgrade(*args)
    deadline = time.monotonic() + 120
    while count_gradings(db) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed: " + process.stderr.read().decode()
    os.killpg(process.pid, signal.SIGKILL)  # the coordinator and its workers, mid-run
    process.wait()
    done_before = count_gradings(db)
    assert 1 <= done_before < len(STUDENTS)

    again = dlgrade(*args)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    with Gradebook.open(db) as gradebook:
        per_student = Counter(g.student_id for g in gradebook.gradings())
        assert per_student == Counter({student: 1 for student in STUDENTS})
        assert all(g.score == 100 for g in gradebook.gradings())
        assert [e.action for e in gradebook.audit_trail()] == ["graded"] * len(STUDENTS)
        assert len({len(gradebook.test_rows(g.id)) for g in gradebook.gradings()}) == 1  # no half-written grading
