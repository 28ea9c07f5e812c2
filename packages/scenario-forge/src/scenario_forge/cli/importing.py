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
    type=click.Choice(["jsonl", "csv", "yaml", "inspect", "harmbench"]),
    default=None,
    help="File format (default: from the extension). inspect: inspect_ai JSONL samples; "
    "harmbench: HarmBench/AdvBench CSV with a Behavior/goal column.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=SOURCE",
    help="inspect/harmbench: map a scenario field to a column (harmbench) or to target / "
    "metadata.KEY (inspect); empty SOURCE turns the field off. Repeatable.",
)
@click.option(
    "--category-target",
    "category_targets",
    multiple=True,
    metavar="CATEGORY=TARGET",
    help="harmbench: evaluation target for rows of this category (repeatable).",
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
    mapping: tuple[str, ...],
    category_targets: tuple[str, ...],
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
      scenario-forge import samples.jsonl --format inspect --target self_harm
      scenario-forge import harmbench_behaviors_text_all.csv --format harmbench \\
          --category-target cybercrime_intrusion=harmful_code --target harmful_code
      scenario-forge import harmful_behaviors.csv --format harmbench --target harmful_code

    \b
    Field mappings of inspect and harmbench: docs/bring-your-own-scenarios.md.
    """
    from scenario_forge.formats import parse_mapping
    from scenario_forge.importer import import_file

    fields = parse_mapping(mapping)
    categories = parse_mapping(
        category_targets, "--category-target", "cybercrime_intrusion=harmful_code"
    )
    if (fields or categories) and fmt not in ("inspect", "harmbench"):
        raise click.UsageError("--map and --category-target need --format inspect or harmbench")
    tax = get_taxonomy(taxonomy)
    for name in categories.values():
        tax.get(name)  # an unknown target fails here, naming the known ones
    with open_store(db) as store:
        result = import_file(
            store,
            file,
            tax,
            fmt=fmt,
            default_target=target,
            dry_run=dry_run,
            mapping=fields,
            category_targets=categories,
        )
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
