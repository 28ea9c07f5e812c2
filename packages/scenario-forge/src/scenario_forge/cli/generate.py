"""``scenario-forge generate``: make scenarios from the taxonomy (or a generator plugin)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scenario_forge.cli._common import (
    build_generator,
    db_option,
    echo_json,
    generator_options,
    get_taxonomy,
    json_option,
    open_store,
    table,
    target_option,
    taxonomy_option,
)


@click.command("generate")
@target_option("Target to generate for (repeatable; default: every target).")
@click.option(
    "--count",
    "-n",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Scenarios per target (about a quarter are benign contrasts).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Fixes the choice of seeds, framings and wordings.",
)
@generator_options("template")
@db_option
@taxonomy_option
@json_option
def generate_cmd(
    targets: tuple[str, ...],
    count: int,
    seed: int,
    generator_name: str,
    model: str | None,
    options: tuple[str, ...],
    db: Path,
    taxonomy: Path | None,
    as_json: bool,
) -> None:
    """Generate scenarios and add the new ones to the store (duplicates are skipped).

    The built-in 'template' generator combines each target's seed prompts with framings
    (direct, role play, hypothetical, multi-turn escalation) and adds benign contrasts
    (expected behaviour 'comply'). Variants of one seed share a group id.

    \b
    Examples:
      scenario-forge generate --target harmful_code --count 20
      scenario-forge generate --count 100 --seed 7          # every target
      scenario-forge generate -t self_harm --generator model-forge --model tiny
    """
    from scenario_forge.api import generate_scenarios

    tax = get_taxonomy(taxonomy)
    for t in targets:
        tax.get(t)
    extra = {"taxonomy": tax} if generator_name == "template" else {}
    gen = build_generator(generator_name, model, options, **extra)
    names = list(targets) or tax.names()
    bar_ctx = click.progressbar(length=len(names), label="Generating", file=sys.stderr)
    with open_store(db) as store, bar_ctx as bar:
        result = generate_scenarios(store, tax, names, count, seed, gen, progress=bar.update)
    if as_json:
        echo_json(result.to_dict())
        return
    rows = [(t, c.generated, c.added, c.duplicates) for t, c in result.per_target.items()]
    rows.append(("total", result.generated, result.added, result.duplicates))
    click.echo(table(rows, ["target", "generated", "added", "duplicates"]))
