"""``scenario-forge migrate``: upgrade a store's schema on purpose (a shared PostgreSQL store)."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option


@click.command("migrate")
@db_option
@json_option
def migrate_cmd(db: Path | str, as_json: bool) -> None:
    """Upgrade the store's schema to this scenario-forge's version.

    A PostgreSQL store is shared by a team and every older scenario-forge is locked out of it
    once it is upgraded, so other commands refuse an older one and name this command. Run it
    once, when every client has the new version. It runs in one transaction: a failure
    leaves the store as it was (take a pg_dump first all the same). A SQLite file is upgraded
    by any command; here too it is copied to FILE.bak-v<N> first.

    \b
    Examples:
      scenario-forge migrate --db postgresql://forge@dbhost/forge
      scenario-forge migrate --db team/forge.db --json
    """
    from scenario_forge.store import ScenarioStore

    with ScenarioStore.open(
        db, create=False, upgrade=True, announce=lambda line: click.echo(line, err=True)
    ) as store:
        info = {
            "path": str(store.path),
            "schema_version": store.schema_version,
            "upgraded_from": store.upgraded_from,
        }
    if as_json:
        echo_json(info)
    elif store.upgraded_from is None:
        click.echo(f"Store {store.path} is already at schema version {info['schema_version']}.")
    else:
        click.echo(
            f"Store {store.path} upgraded from schema version {store.upgraded_from} to "
            f"{info['schema_version']}."
        )
