"""A throwaway PostgreSQL server for the store's tests: Debian's ``postgresql`` binaries
(installed by ``make test``), a cluster in a temporary folder, listening on a free
loopback port, stopped at the end. Tests using it skip with the reason where it cannot
be started."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a running throwaway PostgreSQL server (its database ``postgres``)."""
    pytest.importorskip("psycopg", reason="psycopg (the postgres extra) is not installed")
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL's initdb/pg_ctl not found (make test installs postgresql)")
    root = os.geteuid() == 0
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    folder = Path(tempfile.mkdtemp(prefix="personas-pg-"))
    if root:
        shutil.chown(folder, "postgres")
    data, sockets = folder / "data", folder
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = "postgres" if root else os.environ.get("USER", "postgres")
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", user],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        options = f"-p {port} -k {sockets} -h 127.0.0.1 -c fsync=on"
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", options, "-l",
                        str(folder / "log"), "-w", "start"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"a throwaway PostgreSQL server could not be started: {exc}")
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database on the throwaway server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"
