"""A throwaway PostgreSQL server in a temporary folder, for tests and benchmarks.

It needs the server binaries (``initdb``, ``pg_ctl``; Debian's ``postgresql`` package puts
them in ``/usr/lib/postgresql/<version>/bin``). As root (``initdb`` refuses root) the server
runs as the ``postgres`` user. It listens on a Unix socket in the folder only, with fsync off:
fast, and gone when the block ends.

Example:
    >>> with throwaway_server() as base:  # doctest: +SKIP
    ...     url = create_database(base, "t1")   # postgresql://forge@/t1?host=/tmp/...
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_binary(name: str) -> str | None:
    """Path of a PostgreSQL server program, or ``None`` when it is not installed."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def available() -> bool:
    """Whether the server binaries are installed."""
    return bool(pg_binary("initdb") and pg_binary("pg_ctl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_server(max_connections: int = 200) -> Iterator[str]:
    """Start a server; yields its URL template ``postgresql://forge@/{db}?host=...&port=...``.

    Raises:
        RuntimeError: the binaries are missing (see :func:`available`).
        subprocess.CalledProcessError: ``initdb`` or ``pg_ctl`` failed.
    """
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="forge-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "forge", "-E", "UTF8"]
            + ["--locale=C", "--no-sync"],
            check=True,
            capture_output=True,
        )
        opts = (
            f"-k {root} -p {port} -c listen_addresses='' -c fsync=off "
            f"-c max_connections={max_connections}"
        )
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql://forge@/{{db}}?host={root}&port={port}"
        finally:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(base: str, name: str) -> str:
    """Create database ``name`` on the server of :func:`throwaway_server`; returns its URL."""
    import psycopg

    with psycopg.connect(base.format(db="postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.format(db=name)
