"""Schema upgrades are announced and backed up first (SQLite); on a shared PostgreSQL store only
``scenario-forge migrate`` upgrades, every other command refuses in one line naming it.

An older store is made by the real code with only its first migrations (the previous release's
schema), filled, and then opened by the current code.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Scenario
from scenario_forge import migrations, pg_migrations
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore
from scenario_forge.store_errors import StoreError

LATEST = migrations.latest_version()
OLD = LATEST - 1


def _old_store(location: str | Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store at schema version OLD with two scenarios."""
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:OLD])
        m.setattr(pg_migrations, "PG_MIGRATIONS", pg_migrations.PG_MIGRATIONS[:OLD])
        with ScenarioStore.open(location) as store:
            assert store.schema_version == OLD
            store.add_scenarios(
                Scenario(
                    prompt=f"Old prompt {i}", evaluation_target="demo_code", success_criteria=["x"]
                )
                for i in range(2)
            )


def _pg_version(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM forge_schema").fetchone()
        assert row is not None
        return int(row[0])


def test_a_sqlite_upgrade_is_announced_after_a_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "forge.db"
    _old_store(db, monkeypatch)
    r = CliRunner().invoke(main, ["stats", "--db", str(db)])
    assert r.exit_code == 0, r.output
    backup = tmp_path / f"forge.db.bak-v{OLD}"
    (line,) = [x for x in r.stderr.splitlines() if "schema version" in x]
    assert f"Upgrading store {db} from schema version {OLD} to {LATEST}" in line
    assert str(backup) in line
    assert r.output.index("Upgrading") < r.output.index("2 scenarios")  # before anything else
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == OLD
    assert conn.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0] == 2
    conn.close()
    again = CliRunner().invoke(main, ["stats", "--db", str(db)])
    assert again.exit_code == 0 and "Upgrading" not in again.output


def test_migrate_upgrades_a_sqlite_store_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "forge.db"
    _old_store(db, monkeypatch)
    r = CliRunner().invoke(main, ["migrate", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert f"from schema version {OLD} to {LATEST}" in r.output
    assert (tmp_path / f"forge.db.bak-v{OLD}").exists()
    r = CliRunner().invoke(main, ["migrate", "--db", str(db)])
    assert r.exit_code == 0 and f"already at schema version {LATEST}" in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["init"],
        ["list"],
        ["users", "list"],
        ["export", "out"],
    ],
)
def test_other_commands_refuse_an_older_postgresql_store(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _old_store(pg_url, monkeypatch)
    r = CliRunner().invoke(main, [*args, "--db", pg_url])
    assert r.exit_code == 1 and "Traceback" not in r.output
    (line,) = r.stderr.strip().splitlines()
    assert f"schema version {OLD}" in line and "scenario-forge migrate" in line
    assert _pg_version(pg_url) == OLD
    with pytest.raises(StoreError, match="scenario-forge migrate"):
        ScenarioStore.open(pg_url)
    assert not (tmp_path / "out").exists()


def test_serve_refuses_an_older_postgresql_store(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_store(pg_url, monkeypatch)
    cli = Path(sys.executable).parent / "scenario-forge"
    # a server that started anyway would run until killed: the timeout only stops a hang
    proc = subprocess.run(
        [str(cli), "serve", "--port", "0", "--db", pg_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "scenario-forge migrate" in proc.stderr.strip().splitlines()[-1]
    assert _pg_version(pg_url) == OLD


def test_migrate_upgrades_a_postgresql_store(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _old_store(pg_url, monkeypatch)
    r = CliRunner().invoke(main, ["migrate", "--db", pg_url])
    assert r.exit_code == 0, r.output
    assert f"from schema version {OLD} to {LATEST}" in r.output
    assert _pg_version(pg_url) == LATEST
    r = CliRunner().invoke(main, ["stats", "--db", pg_url])
    assert r.exit_code == 0 and "2 scenarios" in r.output
    with ScenarioStore.open(pg_url) as store:
        entry = store.audit_entries(entity="store")[-1]
        assert entry["action"] == "migrate" and entry["details"] == {"from": OLD, "to": LATEST}


def test_a_new_postgresql_store_needs_no_migrate(pg_url: str) -> None:
    r = CliRunner().invoke(main, ["init", "--db", pg_url])
    assert r.exit_code == 0 and f"schema version {LATEST}" in r.output
    assert _pg_version(pg_url) == LATEST
