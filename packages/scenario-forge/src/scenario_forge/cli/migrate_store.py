"""``scenario-forge migrate-store``: copy a store between backends (SQLite ↔ PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import STORE_LOCATION, echo_json, json_option


@click.command("migrate-store")
@click.argument("source", type=STORE_LOCATION)
@click.argument("dest", type=STORE_LOCATION)
@click.option("--force", is_flag=True, help="Delete the rows a non-empty DEST holds first.")
@json_option
def migrate_store_cmd(source: Path | str, dest: Path | str, force: bool, as_json: bool) -> None:
    """Copy the store SOURCE into DEST, each a store file or a postgresql:// URL.

    Every table is copied with its ids, in one transaction; then each table's row count and
    SHA-256 are compared on both sides, and the copy is refused if any differ. DEST is
    created (and migrated) if needed and must be empty unless --force.

    \b
    Examples:
      scenario-forge migrate-store forge.db postgresql://forge@dbhost/forge
      scenario-forge migrate-store postgresql://forge@dbhost/forge backup.db --json
    """
    from scenario_forge.store_copy import copy_store

    report = copy_store(source, dest, force=force)
    if as_json:
        echo_json(report.to_dict())
        return
    counts = ", ".join(f"{n} {t}" for t, n in report.counts.items())
    click.echo(f"Copied {report.source} to {report.dest}: {counts}; hashes match.")
