"""The hostile submissions: each a real attack on a grader, and the verdict it must get.

Every submission is a ``perceptron.py`` (plus, for some, extra files next to it). None holds a
correct answer, so every attack must end with a score of 0: whatever the trick, it earns nothing.
``expect`` is the assignment status ``not_gradable``, or the outcomes allowed for the tests of
``step``, the function the attack lives in. Attacks are bounded (a fork bomb stops by itself, a
memory bomb stays below the machine's size) so that a failing sandbox fails the test instead of
taking the machine down. ``{marker}`` is replaced by a per-test folder on the host the attack
tries to reach, ``{host}`` by the list of the judge's host paths nothing inside may show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_GRADABLE = "not_gradable"
FAILS = {"failed"}
ERRORS = {"error"}
TIMES_OUT = {"timeout"}
FAILS_OR_ERRORS = {"failed", "error"}


@dataclass(frozen=True)
class Attack:
    name: str
    source: str
    expect: object  # NOT_GRADABLE, or the outcomes allowed for the tests of step (NOT_GRADABLE among
    #                 them when breaking the interpreter itself is also a fair verdict)
    files: dict = field(default_factory=dict)
    message: str = ""  # a fragment the verdict's message must contain


WRONG_STEP = "\ndef step(z):\n    return np.zeros(np.shape(z), dtype=np.int64)\n"

ATTACKS = [
    # --- exits and skips that a naive grader reads as a pass
    Attack("os_exit_at_import", "import os\nos._exit(0)\n", NOT_GRADABLE, message="stopped the process"),
    Attack("sys_exit_at_import", "import sys\nsys.exit(0)\n", NOT_GRADABLE, message="SystemExit"),
    # pytest is no package a NumPy assignment allows: its use is refused before it can skip anything
    Attack("pytest_skip_at_import", "import pytest\npytest.skip('nothing to see', allow_module_level=True)\n",
           NOT_GRADABLE, message="uses pytest, which this assignment does not allow"),
    Attack("os_exit_in_function", "import os\ndef step(z):\n    os._exit(0)\n", ERRORS, message="exited with status 0"),
    Attack("sys_exit_in_function", "import sys\ndef step(z):\n    sys.exit(0)\n", ERRORS, message="SystemExit"),
    Attack("pytest_skip_in_function", "import pytest\ndef step(z):\n    pytest.skip('skip me')\n", FAILS,
           message="uses pytest, which this assignment does not allow"),
    # --- files shipped next to the submission to hijack the run
    Attack("conftest_shipped", "import numpy as np\n" + WRONG_STEP, FAILS, files={
        "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                       "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"}),
    Attack("numpy_py_shipped", "import numpy as np\n" + WRONG_STEP, FAILS, files={
        "numpy.py": "def allclose(*a, **k):\n    return True\ndef array_equal(*a, **k):\n    return True\n"}),
    Attack("torch_py_shipped", "import numpy as np\n" + WRONG_STEP, FAILS, files={
        "torch.py": "def allclose(*a, **k):\n    return True\ndef equal(*a, **k):\n    return True\n"}),
    # --- monkeypatching the comparison machinery
    Attack("patch_np_allclose", "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
           "np.array_equal = lambda *a, **k: True\n" + WRONG_STEP, FAILS),
    Attack("patch_np_testing", "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n"
           "np.testing.assert_array_equal = lambda *a, **k: None\n" + WRONG_STEP, FAILS),
    Attack("patch_builtins", "import builtins, numpy as np\nbuiltins.abs = lambda x: 0\n"
           "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 0\n" + WRONG_STEP,
           FAILS_OR_ERRORS | {NOT_GRADABLE}),
    Attack("patch_import_system", "import sys, builtins, numpy as np\n"
           "real_import = builtins.__import__\n"
           "def fake_import(name, *a, **k):\n    module = real_import(name, *a, **k)\n"
           "    if hasattr(module, 'allclose'):\n        module.allclose = lambda *a, **k: True\n    return module\n"
           "builtins.__import__ = fake_import\n"
           "class Finder:\n    def find_spec(self, *a, **k):\n        return None\n"
           "sys.meta_path.insert(0, Finder())\n" + WRONG_STEP, FAILS),
    # --- return values that lie
    Attack("eq_always_true", "class Liar:\n    def __eq__(self, other):\n        return True\n"
           "    __ne__ = lambda self, other: False\n    shape = (3,)\n"
           "def step(z):\n    return Liar()\n", FAILS_OR_ERRORS),
    Attack("ndarray_subclass_lies", "import numpy as np\nclass Liar(np.ndarray):\n"
           "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
           "    def __array_function__(self, func, types, args, kwargs):\n        return True\n"
           "def step(z):\n    return np.full(np.shape(z), 7).view(Liar)\n", FAILS),
    Attack("tensor_subclass", "import numpy as np\nimport torch\nclass Liar(torch.Tensor):\n"
           "    def __eq__(self, other):\n        return True\n"
           "def step(z):\n    return torch.zeros(np.shape(z)).as_subclass(Liar)\n", NOT_GRADABLE,
           message="uses torch, which this assignment does not allow"),  # torch is refused before it can lie
    Attack("object_array", "import numpy as np\nclass Liar:\n    def __eq__(self, other):\n        return True\n"
           "def step(z):\n    out = np.empty(np.shape(z), dtype=object)\n    out[...] = Liar()\n    return out\n",
           FAILS_OR_ERRORS),
    Attack("empty_array", "import numpy as np\ndef step(z):\n    return np.array([], dtype=np.int64)\n", FAILS),
    Attack("nan_everywhere", "import numpy as np\ndef step(z):\n    return np.full(np.shape(z), np.nan)\n", FAILS),
    Attack("broadcasting_shape", "import numpy as np\ndef step(z):\n    return np.zeros((1,) * max(np.ndim(z), 1), np.int64)\n",
           FAILS),
    Attack("huge_npy_header_forged_on_the_answer_pipe",
           "import os, struct, json, time\n"
           "def step(z):\n"
           "    header = b\"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }\"\n"
           "    blob = b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header\n"
           "    doc = json.dumps({'ok': True, 'value': {'$npy': 0}}).encode()\n"
           "    message = struct.pack('>Q', len(doc) + len(blob)) + doc + blob\n"
           "    for fd in range(3, 64):\n"
           "        try:\n            os.write(fd, message)\n        except OSError:\n            pass\n"
           "    time.sleep(30)\n", FAILS_OR_ERRORS | TIMES_OUT),
    # --- reading what is hidden
    Attack("read_hidden_checks_from_disk",
           "import os, glob\nfound = []\n"
           "for pattern in ('/work/*/solutions/*/*.py', '/opt/*/solutions/*/*.py', '/opt/dlgrade/../../*/solutions/*/*.py', '{solutions}/*/*.py'):\n"
           "    for path in glob.glob(pattern):\n"
           "        try:\n            found.append(open(path).read())\n        except OSError:\n            pass\n"
           "def step(z):\n    raise RuntimeError('found: ' + repr(found)[:1500])\n", ERRORS),
    Attack("scan_sys_modules", "import sys\n"
           "def step(z):\n    names = [n for n in sys.modules if 'solution' in n or 'hidden' in n or 'reference' in n]\n"
           "    raise RuntimeError('modules: ' + repr(names))\n", ERRORS, message="modules: []"),
    Attack("scan_gc_for_expected_values", "import gc, numpy as np\n"
           "def step(z):\n    arrays = [o for o in gc.get_objects() if isinstance(o, np.ndarray) and o is not z]\n"
           "    for a in arrays:\n        if a.shape == np.shape(z) and set(np.unique(a)) <= {0, 1}:\n            return a\n"
           "    return np.zeros(np.shape(z), np.int64)\n", FAILS),
    Attack("inspect_stack_locals", "import inspect\n"
           "def step(z):\n    seen = {}\n"
           "    for frame in inspect.stack():\n        seen.update({k: repr(v)[:100] for k, v in frame.frame.f_locals.items()})\n"
           "    raise RuntimeError('locals: ' + ' '.join(sorted(seen)))\n", ERRORS),
    Attack("proc_parent_mem_and_environ", "import os\n"
           "def step(z):\n    loot = []\n"
           "    for pid in [os.getppid()] + list(range(1, 64)):\n"
           "        for name in ('environ', 'mem', 'cmdline'):\n"
           "            try:\n                loot.append(open(f'/proc/{pid}/{name}', 'rb').read(4096))\n"
           "            except OSError:\n                pass\n"
           "    raise RuntimeError('loot: ' + repr(loot)[:3000])\n", ERRORS),
    Attack("read_the_judge_environment", "import os\n"
           "def step(z):\n    raise RuntimeError('env: ' + repr(dict(os.environ)))\n", ERRORS),
    # --- forging results
    Attack("atexit_rewrites_results", "import atexit, numpy as np\n"
           "def forge():\n    with open('{marker}/results.json', 'w') as f:\n        f.write('{\"score\": 100}')\n"
           "atexit.register(forge)\n" + WRONG_STEP, FAILS),
    Attack("write_results_and_gradebook", "import os, numpy as np\nwritten = []\n"
           "for name in ('results.json', 'gradebook.db', 'feedback.html'):\n"
           "    try:\n        open('{marker}/' + name, 'w').write('forged')\n        written.append(name)\n"
           "    except OSError:\n        pass\n" + WRONG_STEP, FAILS),
    # --- signals and time
    Attack("ignore_sigterm_and_loop", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
           "def step(z):\n    while True:\n        pass\n", TIMES_OUT),
    Attack("cancel_the_alarm_and_loop", "import signal\n"
           "def step(z):\n    while True:\n        signal.alarm(0)\n", TIMES_OUT),
    Attack("catch_everything_and_loop", "def step(z):\n    while True:\n        try:\n            while True:\n"
           "                pass\n        except BaseException:\n            pass\n", TIMES_OUT),
    Attack("kill_every_process", "import os, signal, numpy as np\n"
           "def step(z):\n    for sig in (signal.SIGKILL,):\n        try:\n            os.kill(-1, sig)\n"
           "        except OSError:\n            pass\n    return np.zeros(np.shape(z), np.int64)\n",
           FAILS_OR_ERRORS),
    # --- resource attacks
    Attack("fork_bomb", "import os, time, numpy as np\n"
           "def step(z):\n    for _ in range(400):\n        try:\n            if os.fork() == 0:\n"
           "                time.sleep(20)\n                os._exit(0)\n        except OSError:\n            break\n"
           "    return np.zeros(np.shape(z), np.int64)\n", FAILS_OR_ERRORS | TIMES_OUT),
    Attack("thread_bomb", "import threading, time, numpy as np\n"
           "def step(z):\n    for _ in range(2000):\n        try:\n"
           "            threading.Thread(target=time.sleep, args=(20,), daemon=True).start()\n"
           "        except RuntimeError:\n            break\n    return np.zeros(np.shape(z), np.int64)\n",
           FAILS_OR_ERRORS | TIMES_OUT),
    Attack("memory_bomb", "import numpy as np\n"
           "def step(z):\n    hog = np.ones((6 << 30) // 8)\n    return hog[:1]\n", ERRORS, message="killed: memory"),
    Attack("infinite_loop", "def step(z):\n    while True:\n        pass\n", TIMES_OUT, message="did not finish"),
    Attack("infinite_loop_at_import", "while True:\n    pass\n", NOT_GRADABLE, message="did not finish"),
    Attack("output_flood", "import sys, numpy as np\n"
           "def step(z):\n    for _ in range(2000):\n        sys.stdout.write('x' * 65536)\n        sys.stderr.write('y' * 65536)\n"
           "    return np.zeros(np.shape(z), np.int64)\n", FAILS),
    # The 32 MiB block is made once at import (which has its own, longer limit), not once per file:
    # 24 fresh blocks per call took longer than a test's limit on a loaded machine, and the attack
    # ended as a timeout instead of the failure it is.
    Attack("disk_filler", "import os, numpy as np\nblock = b'x' * (32 << 20)\n"
           "def step(z):\n    for i in range(6):\n        for folder in ('/tmp', '/dev/shm', '.', '{marker}'):\n"
           "            try:\n                with open(f'{folder}/dlgrade-attack-fill-{i}', 'wb') as f:\n"
           "                    f.write(block)\n            except OSError:\n                pass\n"
           "    return np.zeros(np.shape(z), np.int64)\n", FAILS),
    Attack("fd_bomb", "import os, numpy as np\nfds = []\n"
           "def step(z):\n    while True:\n        try:\n            fds.append(os.open('/dev/null', os.O_RDONLY))\n"
           "        except OSError:\n            break\n    return np.zeros(np.shape(z), np.int64)\n", FAILS),
    Attack("ptrace_and_escape_syscalls", "import ctypes, os, numpy as np\nlibc = ctypes.CDLL(None, use_errno=True)\n"
           "def step(z):\n    results = [libc.ptrace(16, 1, 0, 0), libc.unshare(0x10000000), libc.mount(b'none', b'/', None, 0, None)]\n"
           "    if any(r == 0 for r in results):\n        raise RuntimeError(f'escaped: {results}')\n"
           "    return np.zeros(np.shape(z), np.int64)\n", FAILS),
] + [
    # --- one student slowing the others: CPU placement, sessions, priority. Each attack raises
    #     "escaped" when the sandbox lets it through, and otherwise returns a wrong answer: the
    #     verdict is a failure exactly when the defense holds.
    Attack(name, "import os, numpy as np\n" + prelude + "def step(z):\n"
           "    try:\n" + "".join(f"        {line}\n" for line in attempt) +
           "    except OSError:\n        return np.zeros(np.shape(z), np.int64)\n"
           "    raise RuntimeError('escaped: " + name + "')\n", FAILS, message="")
    for name, prelude, attempt in (
        ("widen_cpu_affinity", "", ["os.sched_setaffinity(0, range(os.cpu_count()))"]),
        ("new_session_leaves_its_scheduling_group",
         "def new_session():\n    try:\n        os.setsid()\n        os._exit(0)\n    except OSError:\n        os._exit(1)\n",
         ["pid = os.fork()", "if pid == 0:", "    new_session()",
          "if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]):", "    raise PermissionError('no session')"]),
        ("renice_every_sandbox_process", "", ["os.setpriority(os.PRIO_USER, os.getuid(), 19)"]),
        ("batch_scheduling_policy", "", ["os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))"]),
        # --- sockets beyond AF_UNIX: vsock reaches the hypervisor; the loop tries every family
        ("vsock_to_the_host", "import socket\n", ["socket.socket(40, socket.SOCK_STREAM).close()"]),
        ("every_family_but_unix", "import socket\nopened = []\n"
         "for family in range(2, 46):\n    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET):\n"
         "        try:\n            socket.socket(family, kind).close()\n            opened.append(family)\n"
         "        except OSError:\n            pass\n",
         ["if not opened:", "    raise PermissionError('AF_UNIX only')", "raise RuntimeError(f'escaped: {opened}')"]),
        # --- locks and watches on the runtime's files, which every child shares (read-only)
        ("flock_a_shared_runtime_file", "import fcntl\n",
         ["with open(np.__file__, 'rb') as shared:", "    fcntl.flock(shared, fcntl.LOCK_EX | fcntl.LOCK_NB)"]),
        ("posix_lock_a_shared_runtime_file", "import fcntl\n",
         ["with open(np.__file__, 'rb') as shared:", "    fcntl.lockf(shared, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 0)"]),
        ("ofd_lock_a_shared_runtime_file", "import fcntl, struct\n",  # F_OFD_SETLK 37, F_RDLCK 0
         ["with open(np.__file__, 'rb') as shared:", "    fcntl.fcntl(shared, 37, struct.pack('hhqqi4x', 0, 0, 0, 1, 0))"]),
        ("inotify_watch_on_the_runtime", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n",
         ["fd = libc.inotify_init1(0)", "if fd < 0:", "    raise PermissionError('no inotify')",
          "libc.inotify_add_watch(fd, np.__file__.encode(), 0x20)"]),
        # --- what /proc and the process itself tell of the host: {host} lists the judge's paths
        ("host_paths_in_proc_and_sys_path", "import sys\nseen = [repr(sys.path), repr(dict(os.environ)), sys.executable, np.__file__]\n"
         "for name in ('cmdline', 'environ', 'maps', 'status'):\n    try:\n"
         "        seen.append(open(f'/proc/self/{name}', 'rb').read().decode(errors='replace'))\n"
         "    except OSError:\n        pass\n"
         "shown = [m for m in {host} if any(m in text for text in seen)]\n",
         ["if not shown:", "    raise PermissionError('no host path')", "raise RuntimeError(f'escaped: {shown}')"]),
        # the mount table: for each bind mount the kernel prints the bound folder's path within its
        # filesystem (/proc/<pid>/mountinfo, fourth field); a forked process has a pid of its own,
        # so covering the files of the pids there are now would not hide it
        ("host_paths_in_the_mount_table", "import sys\nseen = []\n"
         "def mount_tables(pids):\n    texts = []\n    for pid in pids:\n"
         "        for name in ('mountinfo', 'mounts', 'mountstats'):\n            try:\n"
         "                texts.append(open(f'/proc/{pid}/{name}', 'rb').read().decode(errors='replace'))\n"
         "            except OSError:\n                pass\n    return texts\n"
         "seen += mount_tables(['self', 'thread-self', '1'] + [p for p in os.listdir('/proc') if p.isdigit()])\n"
         "try:\n    seen.append(open('/proc/mounts', 'rb').read().decode(errors='replace'))\nexcept OSError:\n    pass\n"
         "r, w = os.pipe()\nif os.fork() == 0:\n    os.close(r)\n"
         "    os.write(w, '\\n'.join(mount_tables(['self', str(os.getpid())])).encode()[:1 << 16])\n    os._exit(0)\n"
         "os.close(w)\nwith os.fdopen(r, 'rb') as pipe:\n    seen.append(pipe.read().decode(errors='replace'))\nos.wait()\n"
         "shown = [m for m in {host} if any(m in text for text in seen)]\n",
         ["if not any('/proc' in text for text in seen):", "    raise RuntimeError('no mount table was read: this probe proves nothing')",
          "if not shown:", "    raise PermissionError('no host path')", "raise RuntimeError(f'escaped: {shown}')"]),
        ("editable_install_names_the_repository", "import glob, sys\nshown = []\n"
         "for folder in sys.path:\n    for path in glob.glob(folder + '/*.pth') + glob.glob(folder + '/__editable__*') + glob.glob(folder + '/*.dist-info/direct_url.json'):\n"
         "        try:\n            text = open(path, errors='replace').read()\n        except OSError:\n            continue\n"
         "        shown += [m for m in {host} if m in text]\n",
         ["if not shown:", "    raise PermissionError('no host path')", "raise RuntimeError(f'escaped: {shown}')"]),
    )
]
