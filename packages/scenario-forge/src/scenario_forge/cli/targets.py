"""``scenario-forge targets``: list the evaluation targets and look-alike kinds of the taxonomy."""

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


def _per_target(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {n}" for t, n in counts.items())


@click.command("targets")
@taxonomy_option
@click.option("--long", "long_", is_flag=True, help="Show the full descriptions.")
@click.option(
    "--lookalikes",
    is_flag=True,
    help="List only the benign look-alike kinds: prompts per kind and per target.",
)
@json_option
def targets_cmd(taxonomy: Path | None, long_: bool, lookalikes: bool, as_json: bool) -> None:
    """List the evaluation targets (name, expected behaviour, seeds, benign contrasts) and the
    benign look-alike kinds (kind, prompts, the targets they share words with).

    --json prints the targets as a list; with --lookalikes, the look-alike kinds as a list.

    \b
    Examples:
      scenario-forge targets
      scenario-forge targets --long
      scenario-forge targets --lookalikes --json
      scenario-forge targets --taxonomy team-targets.yaml --json
    """
    tax = get_taxonomy(taxonomy)
    kinds = [k.summary() for k in tax.lookalikes.values()]
    if lookalikes:
        if as_json:
            echo_json(kinds)
        elif not kinds:
            click.echo("No look-alike kinds (add a 'lookalikes:' list with --taxonomy FILE).")
        else:
            _print_kinds(kinds, long_)
        return
    rows = [t.summary() for t in tax]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No targets (add some with --taxonomy FILE).")
    elif long_:
        for r in rows:
            click.echo(
                f"{r['name']} ({r['expected_behavior']}; {r['seeds']} seeds, "
                f"{r['benign']} benign)\n  {r['description']}\n"
            )
    else:
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
    if kinds:
        click.echo("")
        _print_kinds(kinds, long_)


def _print_kinds(kinds: list[dict[str, object]], long_: bool) -> None:
    total = sum(int(str(k["prompts"])) for k in kinds)
    click.echo(f"Look-alike kinds (benign, expected behaviour comply): {total} prompts")
    if long_:
        for k in kinds:
            per = k["targets"]
            assert isinstance(per, dict)
            click.echo(
                f"{k['kind']} ({k['prompts']} prompts: {_per_target(per)})\n  {k['description']}\n"
            )
        return
    click.echo(
        table(
            [(k["kind"], k["prompts"], short(str(k["description"]), 60)) for k in kinds],
            ["kind", "prompts", "description"],
        )
    )
