"""``scenario-forge backup``: a consistent copy of a live store (SQLite online backup API)."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, shown


@click.command("backup")
@click.argument("dest", type=click.Path())
@click.option("--overwrite", is_flag=True, help="Replace DEST if it is an existing file.")
@db_option
@json_option
def backup_cmd(dest: str, overwrite: bool, db: Path, as_json: bool) -> None:
    """Copy the store to DEST (a file, or a folder for a time-stamped file) while it is in use.

    The copy is one consistent snapshot taken with SQLite's online backup API: reviewers and
    generators keep writing meanwhile. It is checked (PRAGMA integrity_check) and renamed into
    place only when complete, so an interrupted backup leaves no half file at DEST. Restore
    by copying the backup over the store while nothing uses it.

    \b
    Examples:
      scenario-forge backup forge-2026-01-31.db
      scenario-forge backup backups/            # backups/forge-20260131T120000Z.db
      scenario-forge backup nightly.db --overwrite --json
    """
    if isinstance(db, str):
        raise click.ClickException(
            f"backup: {shown(db)} is a PostgreSQL store; `backup` handles SQLite files only "
            "(use pg_dump, or `scenario-forge migrate-store` to copy it into a SQLite file)"
        )
    from scenario_forge.maintenance import backup_store

    click.echo(f"Backing up {db} ...", err=True)
    result = backup_store(db, dest, overwrite=overwrite)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(
        f"Backed up {result.scenarios} scenarios ({result.bytes / 2**20:.1f} MB) to "
        f"{result.path} in {result.seconds:.1f} s."
    )
