"""``scenario-forge import``: scenarios from a JSONL, CSV or YAML file."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import (
    db_option,
    echo_json,
    get_taxonomy,
    json_option,
    open_store,
    taxonomy_option,
)

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_SOME_REJECTED = 2


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "yaml"]),
    default=None,
    help="File format (default: from the extension).",
)
@click.option(
    "--target",
    "-t",
    "target",
    default=None,
    metavar="TARGET",
    help="Evaluation target for rows that do not name one.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and count; store nothing.")
@db_option
@taxonomy_option
@json_option
@click.pass_context
def import_cmd(
    ctx: click.Context,
    file: Path,
    fmt: str | None,
    target: str | None,
    dry_run: bool,
    db: Path,
    taxonomy: Path | None,
    as_json: bool,
) -> None:
    """Import scenarios from FILE (JSONL, CSV or YAML). Every bad row is reported with its
    line; the good rows are stored together in one transaction. Importing the same file
    again adds nothing (ids are content hashes).

    \b
    CSV columns (header row; only 'prompt' is required):
      prompt, evaluation_target, success_criteria, expected_behavior, system, tags, group_id
      success_criteria and tags: separated by '|' or a JSON list.
    Missing criteria and behaviour come from the target in the taxonomy.

    \b
    Exit status:
      0  every row imported (or already in the store)
      1  nothing imported: the file is unreadable, not UTF-8, binary or not the format
      2  some rows were rejected (listed on stderr); the good ones were imported

    \b
    Examples:
      scenario-forge import red-team.jsonl
      scenario-forge import prompts.csv --target harmful_code --dry-run
      scenario-forge import scenarios.yaml --json
    """
    from scenario_forge.importer import import_file

    tax = get_taxonomy(taxonomy)
    with open_store(db) as store:
        result = import_file(store, file, tax, fmt=fmt, default_target=target, dry_run=dry_run)
    if as_json:
        echo_json(result.to_dict())
    else:
        for err in result.errors:
            click.echo(f"rejected: {err.message}", err=True)
        verb = "Would import" if dry_run else "Imported"
        click.echo(
            f"{verb} {result.added} scenarios from {file} ({result.rows} rows: "
            f"{result.duplicates} already stored, {result.rejected} rejected)."
        )
    if result.errors:
        ctx.exit(EXIT_SOME_REJECTED)
