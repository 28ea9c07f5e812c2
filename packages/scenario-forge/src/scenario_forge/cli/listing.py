"""``scenario-forge list``: scenarios in the store, filtered."""

from __future__ import annotations

from pathlib import Path

import click
from forge_export.models import EXPECTED_BEHAVIORS

from scenario_forge.cli._common import (
    SOURCE_KINDS,
    db_option,
    echo_json,
    json_option,
    open_store,
    short,
    table,
    target_option,
)
from scenario_forge.terminal import visible


@click.command("list")
@target_option("Only this target (repeatable).")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCE_KINDS),
    help="Only scenarios from this source (repeatable).",
)
@click.option(
    "--expected-behavior",
    "behaviors",
    multiple=True,
    type=click.Choice(EXPECTED_BEHAVIORS),
    help="Only this expected behaviour.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show at most this many (0: all).",
)
@db_option
@json_option
def list_cmd(
    targets: tuple[str, ...],
    sources: tuple[str, ...],
    behaviors: tuple[str, ...],
    limit: int,
    db: Path,
    as_json: bool,
) -> None:
    """List scenarios (ordered by id) with their target, behaviour, source and prompt.

    \b
    Examples:
      scenario-forge list
      scenario-forge list --target harmful_code --expected-behavior comply --limit 5
      scenario-forge list --source import --limit 0 --json > scenarios.json
    """
    with open_store(db, create=False) as store:
        kw = {
            "target": list(targets) or None,
            "source": list(sources) or None,
            "expected_behavior": list(behaviors) or None,
        }
        total = store.count_scenarios(**kw)
        items = list(store.iter_scenarios(**kw, limit=limit or None))
    if as_json:
        echo_json([s.model_dump(mode="json") for s in items])
        return
    if not items:
        click.echo("No scenarios match.")
        return
    rows = [
        (
            s.id[:12],
            s.evaluation_target,
            s.expected_behavior,
            s.source.kind,
            short(visible(s.prompt), 60),
        )
        for s in items
    ]
    click.echo(table(rows, ["id", "target", "behaviour", "source", "prompt"]))
    if total > len(items):
        click.echo(f"({len(items)} of {total}; --limit 0 shows all)")
