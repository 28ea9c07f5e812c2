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

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server in a temp folder for this test session; yields its URL template.

    Skipped when the server binaries are missing, except in CI (``CI=true``), where that fails.
    As root (initdb refuses root) the server runs as the ``postgres`` user.
    """
    from scenario_forge.pg_throwaway import available, throwaway_server

    if not available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with throwaway_server() as base:
        yield base


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A new, empty database on the session's server: its ``postgresql://`` URL."""
    from scenario_forge.pg_throwaway import create_database

    return create_database(pg_server, "t_" + uuid.uuid4().hex[:12])
