"""Attacks that need a second party (another submission, a listener, a later moment), and the
sandbox's own guarantees: fail closed, --insecure recorded, nothing shared between children."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from autograder.judge.grader import grade
from autograder.judge.results import GRADED, NOT_GRADABLE
from autograder.sandbox import InsecureSandbox, SandboxUnavailable, bubblewrap, open_sandbox
from autograder.sandbox.forkserver import ForkServer
from autograder.sandbox.selftest import run_self_test
from redteam.harness import ASSIGNMENT, HONEST, ORIGINAL_RESULTS, sandbox_processes


def write(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{ASSIGNMENT}.py").write_text(source)
    return folder


def test_a_file_left_in_tmp_never_reaches_the_next_submission(tmp_path, redteam_sandbox, attack_plan):
    sender = write(tmp_path / "a", "open('/tmp/covert', 'w').write('answers')\n"
                                   "open('/dev/shm/covert', 'w').write('answers')\n")
    receiver = write(tmp_path / "b", "import os\nfor path in ('/tmp/covert', '/dev/shm/covert'):\n"
                                     "    if os.path.exists(path):\n        raise RuntimeError('covert channel open: ' + path)\n")
    assert grade(sender, attack_plan, start_child=redteam_sandbox.start_child).assignments[0].status == GRADED
    received = grade(receiver, attack_plan, start_child=redteam_sandbox.start_child).assignments[0]
    assert received.status == GRADED, received.reason


def test_a_socket_to_a_listener_on_the_hosts_loopback_never_connects(tmp_path, redteam_sandbox, attack_plan):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    source = ("import socket\nerrors = []\nfor family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):\n"
              "    try:\n        s = socket.socket(family)\n        s.settimeout(1)\n"
              f"        s.connect((host, {port}))\n        s.sendall(b'stolen')\n"
              "    except OSError as error:\n        errors.append(type(error).__name__)\n"
              "def step(z):\n    raise RuntimeError('socket errors: ' + ' '.join(errors))\n")
    result = grade(write(tmp_path / "s", source), attack_plan, start_child=redteam_sandbox.start_child)
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert "socket errors: PermissionError PermissionError" in result.tests[0].message


def test_another_students_submission_in_the_same_batch_is_out_of_reach(tmp_path, redteam_sandbox, attack_plan):
    victim = write(tmp_path / "batch" / "victim", HONEST.read_text())
    source = ("import glob, os\nstolen = []\n"
              f"for path in glob.glob('{tmp_path}/batch/*/*.py') + ['{victim}/{ASSIGNMENT}.py']:\n"
              "    try:\n        stolen.append(open(path).read())\n    except OSError as error:\n"
              "        stolen.append(type(error).__name__)\n"
              "def step(z):\n    raise RuntimeError('stolen: ' + repr(stolen))\n")
    thief = write(tmp_path / "batch" / "thief", source)
    result = grade(thief, attack_plan, start_child=redteam_sandbox.start_child)
    assert "stolen: ['FileNotFoundError']" in result.tests[0].message


def test_a_detached_daemon_dies_with_its_submission(tmp_path, judge_files, redteam_sandbox, attack_plan):
    before = sandbox_processes(redteam_sandbox)
    source = ("import os, time\n"
              "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(2)\n"
              f"        for name in ('results.json', 'late.txt'):\n"
              f"            try:\n                open('{judge_files}/' + name, 'w').write('tampered')\n"
              "            except OSError:\n                pass\n        os._exit(0)\n    os._exit(0)\n")
    grade(write(tmp_path / "d", source), attack_plan, start_child=redteam_sandbox.start_child)
    time.sleep(3)
    assert (judge_files / "results.json").read_text() == ORIGINAL_RESULTS
    assert not (judge_files / "late.txt").exists()
    assert len(sandbox_processes(redteam_sandbox)) == len(before)


def test_monkeypatching_numpy_affects_no_later_submission(tmp_path, redteam_sandbox, attack_plan):
    patcher = write(tmp_path / "p", "import numpy as np\nnp.asarray = lambda *a, **k: 0\nnp.pi = 3\n")
    grade(patcher, attack_plan, start_child=redteam_sandbox.start_child)
    honest = grade(HONEST.parent, attack_plan, start_child=redteam_sandbox.start_child)
    assert honest.assignments[0].score == honest.assignments[0].max_score


def test_the_child_is_nobody_pid_one_without_capabilities_or_hidden_paths(tmp_path, redteam_sandbox, attack_plan):
    source = ("import os, socket\n"
              "def step(z):\n    status = open('/proc/self/status').read()\n"
              "    capabilities = [l.split()[1] for l in status.splitlines() if l.startswith(('CapEff', 'CapPrm', 'CapBnd'))]\n"
              "    raise RuntimeError(repr({'uid': os.getuid(), 'pid': os.getpid(), 'ppid': os.getppid(), "
              "'caps': capabilities, 'host': socket.gethostname(), 'processes': sorted(p for p in os.listdir('/proc') if p.isdigit()), "
              "'root': sorted(os.listdir('/'))}))\n")
    message = grade(write(tmp_path / "v", source), attack_plan, start_child=redteam_sandbox.start_child).tests[0].message
    view = eval(message[message.index("{"):message.rindex("}") + 1])
    assert view["uid"] == 65534 and view["pid"] == 1 and view["ppid"] == 0
    assert view["caps"] == ["0000000000000000"] * 3
    assert view["host"] == "sandbox" and view["processes"] == ["1"]
    assert "solutions" not in view["root"] and "home" not in view["root"]


def test_the_judge_cannot_be_ptraced_or_read_by_its_own_user(redteam_sandbox):
    import ctypes

    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE: no ptrace, no /proc/<pid>/mem


def test_the_self_test_catches_an_unsandboxed_child():
    """Fail closed only means something if the self-test can fail: against a plain child it must."""
    problems = run_self_test(InsecureSandbox().start_child, hidden=[str(Path(__file__).resolve().parents[2] / "solutions")])
    joined = "\n".join(problems)
    assert "read a secret file the judge planted" in joined
    assert "connect to the judge's loopback listener" in joined
    assert "see or signal the judge's process" in joined


def test_the_self_test_catches_host_paths_in_the_mount_table(monkeypatch):
    """With the runtime bound as it is on the host (no overlay), mountinfo prints each bound folder's
    host path: the self-test must say so, and so refuse to grade."""
    monkeypatch.setattr(bubblewrap, "_overlay", lambda staging, source, mount: ["--ro-bind", source, mount])
    with ForkServer() as server:
        problems = run_self_test(server.start_child, hidden=[])
    assert [p for p in problems if "mount table" in p] == problems != []
    assert any(marker in problems[0] for marker in bubblewrap.host_markers())


def test_the_stand_ins_of_the_runtime_leave_nothing_on_the_host(monkeypatch):
    """The outer bubblewrap's stand-in folders are needed only while the sandbox mounts its overlays:
    gone once the server is up, and children still import what the server did not and list the
    runtime's folders (an overlay's root merges its layers: a deleted layer would empty it)."""
    made = []
    monkeypatch.setattr(bubblewrap, "stage", lambda where, stage=bubblewrap.stage: made.append(stage(where)) or made[-1])
    source = ("import os, fractions, numpy, numpy.polynomial\n"
              "def listing():\n    return [name for folder in (os.path.dirname(numpy.__path__[0]), os.path.dirname(os.__file__))\n"
              "            for name in sorted(os.listdir(folder)) if name in ('numpy', 'os.py')]\n")
    with ForkServer() as server:
        assert len(made) == 1 and not Path(made[0].folder).exists()
        child = server.start_child()
        try:
            for step in ({"op": "load", "module": "late", "cells": [source], "filename": "late.py"},
                         {"op": "call", "module": "late", "target": "listing", "args": [], "keep": "r"},
                         {"op": "get", "value": {"$ref": ["r", []]}}):
                answer = child.request(step, 30)
                assert answer.get("ok"), answer
            assert answer["value"] == ["numpy", "os.py"]
        finally:
            child.kill()


@pytest.mark.parametrize("overlays", [False, True])
def test_a_distribution_bubblewrap_is_used_only_if_it_builds_overlays(tmp_path, monkeypatch, overlays):
    """An old distribution bwrap (Ubuntu 22.04 has 0.6) has no --ro-overlay: the wheel's is used instead."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...]'\n"
                    + ("echo '    --ro-overlay DEST            Mount overlayfs read-only on DEST'\n" if overlays else ""))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert (bubblewrap.find_bwrap() == str(fake)) is overlays


def test_without_bubblewrap_grading_is_refused_with_how_to_fix_it(monkeypatch, tmp_path):
    def missing():
        raise bubblewrap.BubblewrapMissing("bubblewrap (bwrap) was not found")

    monkeypatch.setattr(bubblewrap, "find_bwrap", missing)
    with pytest.raises(SandboxUnavailable, match="How to fix it"):
        open_sandbox()
    outcome = CliRunner().invoke(cli.main, ["grade", str(HONEST.parent), "-a", ASSIGNMENT])
    assert outcome.exit_code == 1
    assert "bwrap" in outcome.output and "--insecure" in outcome.output
    assert "total" not in outcome.output


def test_insecure_grading_warns_loudly_and_marks_every_result(tmp_path):
    out = tmp_path / "result.json"
    outcome = CliRunner().invoke(cli.main, ["grade", str(HONEST.parent), "-a", ASSIGNMENT, "--insecure",
                                            "--json", str(out), "--seed", "1"])
    assert outcome.exit_code == 0, outcome.output
    assert "WARNING: --insecure" in outcome.output
    assert json.loads(out.read_text())["insecure"] is True
    secure = tmp_path / "secure.json"
    CliRunner().invoke(cli.main, ["grade", str(HONEST.parent), "-a", ASSIGNMENT, "--json", str(secure), "--seed", "1"])
    assert json.loads(secure.read_text())["insecure"] is False


def test_the_fork_server_is_recycled_and_every_child_is_fresh():
    with ForkServer(recycle_after=2) as server:
        first = server.process.pid
        pids = []
        for _ in range(3):
            child = server.start_child()
            pids.append(child.pid)
            child.kill()
        assert server.process.pid != first, "not recycled after 2 children"
        assert not server.live


def test_a_broken_load_is_not_gradable_and_the_next_child_is_healthy(tmp_path, redteam_sandbox, attack_plan):
    broken = grade(write(tmp_path / "x", "import ctypes\nctypes.string_at(0)\n"), attack_plan, start_child=redteam_sandbox.start_child)
    assert broken.assignments[0].status == NOT_GRADABLE
    honest = grade(HONEST.parent, attack_plan, start_child=redteam_sandbox.start_child)
    assert honest.assignments[0].score == honest.assignments[0].max_score


LOCKER = r'''
import errno, fcntl, numpy

def take(kind):
    """Take a lock on a runtime file every child shares; the errno name, or 'taken'."""
    shared = open(numpy.__file__, "rb")
    globals().setdefault("held", []).append(shared)
    try:
        if kind == "flock":
            fcntl.flock(shared, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            fcntl.lockf(shared, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    return "taken"
'''


def _call(child, function: str, *arguments):
    for step in ({"op": "load", "module": "locker", "cells": [LOCKER], "filename": "locker.py"},
                 {"op": "call", "module": "locker", "target": function, "args": list(arguments), "keep": "r"},
                 {"op": "get", "value": {"$ref": ["r", []]}}):
        answer = child.request(step, 20)
        assert answer.get("ok"), answer
    return answer["value"]


@pytest.mark.parametrize("kind", ["flock", "fcntl"])
def test_two_children_at_once_cannot_signal_through_a_lock_on_a_shared_file(redteam_sandbox, kind):
    """Two students graded side by side: the first locks a shared runtime file, the second would
    read one bit from whether it can. Neither may take a lock at all (ENOLCK), so the second
    learns nothing from the first."""
    first, second = redteam_sandbox.start_child(), redteam_sandbox.start_child()
    try:
        assert _call(first, "take", kind) == "ENOLCK"
        assert _call(second, "take", kind) == "ENOLCK"
    finally:
        first.kill()
        second.kill()


def test_an_abstract_unix_socket_of_the_judge_is_out_of_reach(tmp_path, redteam_sandbox, attack_plan):
    """AF_UNIX is the one family a child may open, and only within its own network namespace: an
    abstract socket the judge listens on is not there."""
    name = f"dlgrade-redteam-{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + name)
    listener.listen(1)
    listener.setblocking(False)
    source = ("import socket\ndef step(z):\n    s = socket.socket(socket.AF_UNIX)\n"
              f"    try:\n        s.connect('\\0{name}')\n        s.sendall(b'stolen')\n"
              "    except OSError as error:\n        raise RuntimeError('unix socket: ' + type(error).__name__)\n"
              "    raise RuntimeError('unix socket: connected')\n")
    result = grade(write(tmp_path / "u", source), attack_plan, start_child=redteam_sandbox.start_child)
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert "unix socket: ConnectionRefusedError" in result.tests[0].message


def test_a_course_kept_inside_a_tree_the_sandbox_mounts_stays_hidden(tmp_path, attack_plan):
    """An instructor's --solutions folder inside site-packages (a tree every child sees, read-only):
    the course's sandbox covers it wherever it is; the default one would not."""
    import shutil
    import uuid

    from autograder.course import Course

    import sysconfig

    folder = Path(sysconfig.get_paths()["purelib"]) / f"dlgrade-test-course-{uuid.uuid4().hex[:8]}"
    shutil.copytree(Path(__file__).resolve().parents[2] / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("__pycache__"))
    try:
        course = Course.locate(folder / "solutions")
        marker = folder.name
        source = ("import os\nfound = []\nfor top in ('/opt',):  # where the sandbox mounts the runtime trees\n"
                  "    for root, dirs, files in os.walk(top):\n"
                  f"        if {marker!r} in root and 'hidden_checks.py' in files:\n"
                  "            found.append(open(os.path.join(root, 'hidden_checks.py')).read()[:40])\n"
                  "def step(z):\n    raise RuntimeError('found: ' + repr(found))\n")
        submission = write(tmp_path / "reader", source)
        messages = {}
        for label, hidden in (("default", None), ("course", course.hidden_paths())):
            with open_sandbox(hidden=hidden) as sandbox:
                result = grade(submission, attack_plan, start_child=sandbox.start_child)
            assert result.tests, result.assignments[0].reason
            messages[label] = result.tests[0].message
        assert "found: []" in messages["course"], messages["course"]
        assert "Hidden checks" in messages["default"], messages["default"]  # the same folder, not covered
    finally:
        shutil.rmtree(folder)
