"""``scenario-forge complete``: add template or model completions to scenarios."""

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
    target_option,
    taxonomy_option,
)


@click.command("complete")
@click.option(
    "--source",
    type=click.Choice(["template", "model"]),
    default="template",
    show_default=True,
    help="template: fill the target's response templates; "
    "model: ask a generator (a trusted model).",
)
@target_option("Only scenarios of this target (repeatable).")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Template source: replace existing proposed template completions "
    "(accepted or rejected ones are kept).",
)
@generator_options("model-forge", prefix="Model source: ")
@db_option
@taxonomy_option
@json_option
def complete_cmd(
    source: str,
    targets: tuple[str, ...],
    overwrite: bool,
    generator_name: str,
    model: str | None,
    options: tuple[str, ...],
    db: Path,
    taxonomy: Path | None,
    as_json: bool,
) -> None:
    """Add completions (stored 'proposed', until a reviewer accepts them).

    Template completions: the target's refusal / safe-completion template filled with the
    seed's slots; benign contrasts get their seed's answer. Scenarios that already have a
    template completion are skipped unless --overwrite.

    \b
    Examples:
      scenario-forge complete --source template
      scenario-forge complete --source template --target self_harm --overwrite
      scenario-forge complete --source model --generator model-forge --model tiny
    """
    from scenario_forge.api import complete_with_generator, template_completions

    with open_store(db) as store:
        total = store.count_scenarios(target=list(targets) or None)
        with click.progressbar(length=total, label="Completing", file=sys.stderr) as bar:
            if source == "template":
                tax = get_taxonomy(taxonomy)
                result = template_completions(
                    store, tax, overwrite, targets=list(targets) or None, progress=bar.update
                ).to_dict()
            else:
                gen = build_generator(generator_name, model, options)
                added = complete_with_generator(
                    store, gen, targets=list(targets) or None, progress=bar.update
                )
                result = {"added": added, "generator": generator_name}
    if as_json:
        echo_json(result)
        return
    msg = f"Added {result['added']} {source} completions"
    if result.get("replaced"):
        msg += f", replaced {result['replaced']}"
    if result.get("kept"):
        msg += f"; {result['kept']} scenarios already had one (use --overwrite to replace)"
    click.echo(msg + ".")
    for reason, n in result.get("skipped_reasons", {}).items():
        click.echo(f"Skipped {n}: {reason}.")
