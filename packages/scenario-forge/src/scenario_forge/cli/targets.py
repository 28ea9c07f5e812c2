"""``scenario-forge targets``: list the evaluation targets of the taxonomy."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import (
    echo_json,
    get_taxonomy,
    json_option,
    short,
    table,
    taxonomy_option,
)


@click.command("targets")
@taxonomy_option
@click.option("--long", "long_", is_flag=True, help="Show the full descriptions.")
@json_option
def targets_cmd(taxonomy: Path | None, long_: bool, as_json: bool) -> None:
    """List the evaluation targets: name, expected behaviour, seeds, benign contrasts.

    \b
    Examples:
      scenario-forge targets
      scenario-forge targets --long
      scenario-forge targets --taxonomy team-targets.yaml --json
    """
    tax = get_taxonomy(taxonomy)
    rows = [t.summary() for t in tax]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No targets (add some with --taxonomy FILE).")
        return
    if long_:
        for r in rows:
            click.echo(
                f"{r['name']} ({r['expected_behavior']}; {r['seeds']} seeds, "
                f"{r['benign']} benign)\n  {r['description']}\n"
            )
        return
    click.echo(
        table(
            [
                (
                    r["name"],
                    r["expected_behavior"],
                    r["seeds"],
                    r["benign"],
                    short(r["description"], 60),
                )
                for r in rows
            ],
            ["target", "behaviour", "seeds", "benign", "description"],
        )
    )
