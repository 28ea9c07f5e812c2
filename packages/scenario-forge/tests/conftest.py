"""Fixtures of the scenario-forge tests: a real store file, the team taxonomy, a CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import Taxonomy, load_taxonomy

DATA = Path(__file__).parent / "data"
TEAM_TAXONOMY = DATA / "team_taxonomy.yaml"


@pytest.fixture
def team_taxonomy_path() -> Path:
    return TEAM_TAXONOMY


@pytest.fixture
def tax() -> Taxonomy:
    """Only the two test targets (demo_code, demo_help), not the built-in content."""
    return load_taxonomy(TEAM_TAXONOMY, builtin=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "forge.db"


BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
"""Run a test on a SQLite store and on a PostgreSQL store (the ``store`` fixture)."""


@pytest.fixture
def store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[ScenarioStore]:
    """An open, empty store: a SQLite file, or on ``postgresql`` (indirect param) a new database."""
    backend = getattr(request, "param", "sqlite")
    location = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else db_path
    s = ScenarioStore.open(location)
    yield s
    s.close()


class Cli:
    """Runs the real CLI in-process against one store and the team taxonomy."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, taxonomy: bool = True) -> Result:
        env = {"SCENARIO_FORGE_DB": str(self.db)}
        if taxonomy:
            env["SCENARIO_FORGE_TAXONOMY"] = str(TEAM_TAXONOMY)
        return self.runner.invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def cli(db_path: Path) -> Cli:
    return Cli(db_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location on each backend: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "forge.db")
    return str(request.getfixturevalue("pg_url"))
