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


@pytest.fixture
def store(db_path: Path) -> Iterator[ScenarioStore]:
    s = ScenarioStore.open(db_path)
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
