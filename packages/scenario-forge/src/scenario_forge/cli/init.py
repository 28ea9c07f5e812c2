"""``scenario-forge init``: create the store."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store


@click.command("init")
@db_option
@json_option
def init_cmd(db: Path, as_json: bool) -> None:
    """Create the scenario store (a SQLite file or a PostgreSQL database), or upgrade an existing one.

    Running it again is harmless: an up-to-date store is left as it is, an older SQLite file
    is backed up (forge.db.bak-v<N>) and upgraded, saying so on stderr. An older PostgreSQL
    store is shared by a team: `scenario-forge migrate` upgrades it, on purpose.

    \b
    Examples:
      scenario-forge init
      scenario-forge init --db team/forge.db
      scenario-forge init --db postgresql://forge@dbhost/forge
      SCENARIO_FORGE_DB=team/forge.db scenario-forge init --json
    """
    with open_store(db) as store:
        existed = not store.created_now
        info = {
            "path": str(store.path),
            "schema_version": store.schema_version,
            "created": not existed,
        }
    if as_json:
        echo_json(info)
    elif existed:
        click.echo(f"Store {store.path} is ready (schema version {info['schema_version']}).")
    else:
        click.echo(f"Created store {store.path} (schema version {info['schema_version']}).")
