"""Test-session environment for every package: no hub, no real home, no user caches.

This runs before any test module imports ``datasets`` or ``transformers``, so their cache
locations and offline switches are read from here.
"""

from __future__ import annotations

import os
import tempfile

_TMP = tempfile.mkdtemp(prefix="forge-tests-")
os.environ["HF_HOME"] = os.path.join(_TMP, "hf")
os.environ["HF_DATASETS_CACHE"] = os.path.join(_TMP, "hf", "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["WANDB_DISABLED"] = "true"
os.environ.setdefault("SCENARIO_FORGE_REVIEWER", "tester")
# The converted bundled model is cached across sessions on purpose (conversion takes ~25 s);
# tests that check the conversion itself point MODEL_FORGE_CACHE at a temp folder.
os.environ.pop("SCENARIO_FORGE_DB", None)


# ---------------------------------------------------------------- a throwaway PostgreSQL server

import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server in a temp folder for this test session; yields its base URL.

    Skipped when the server binaries are missing, except in CI (``CI=true``), where that fails.
    As root (initdb refuses root) the server runs as the ``postgres`` user.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="forge-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "forge",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://forge@/{{db}}?host={root}&port={port}"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A new, empty database on the session's server: its ``postgresql://`` URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.format(db="postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.format(db=name)
