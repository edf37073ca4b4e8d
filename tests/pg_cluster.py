"""A throwaway PostgreSQL cluster on 127.0.0.1 for the gradebook tests (Debian's postgresql package).

initdb and pg_ctl come from /usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so
as root the cluster belongs to the unprivileged ``postgres`` (or ``nobody``) user. Missing
binaries make the tests skip with the reason (CI installs them, so there they run).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as(user, argv, **kwargs):
    return subprocess.run(argv, user=user, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@contextmanager
def cluster():
    """Start a cluster; yield a function that makes a fresh database and returns its URL."""
    binaries = postgres_bin()
    user = None
    if os.geteuid() == 0:
        user = next((name for name in ("postgres", "nobody") if _exists(name)), None)
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))
    data, port = folder / "data", _free_port()
    if user is not None:
        os.chown(folder, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    try:
        _run_as(user, [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "dlgrade", "-E", "UTF8"],
                cwd=folder)
        _run_as(user, [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
                       "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], cwd=folder)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {getattr(error, 'stderr', error)}") from None
    try:
        import psycopg

        def new_database() -> str:
            name = f"g_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(f"host=127.0.0.1 port={port} user=dlgrade dbname=postgres", autocommit=True) as c:
                c.execute(f"CREATE DATABASE {name}")
            return f"postgresql://dlgrade@127.0.0.1:{port}/{name}"

        yield new_database
    finally:
        subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user=user,
                       capture_output=True, timeout=60, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False
