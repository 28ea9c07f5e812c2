"""``scenario-forge generate``: make scenarios from the taxonomy (or a generator plugin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scenario_forge.cli._common import (
    build_generator,
    db_option,
    echo_json,
    generator_options,
    get_taxonomy,
    json_option,
    open_store,
    short,
    table,
    target_option,
    taxonomy_option,
)

if TYPE_CHECKING:
    from scenario_forge.api import GenerateResult
    from scenario_forge.taxonomy import Taxonomy


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
@click.option(
    "--lookalikes",
    is_flag=True,
    help="Add the taxonomy's benign look-alike prompts (one 'comply' scenario each, all of "
    "them; --count and --seed do not apply) instead of generating from targets.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="With --lookalikes: only this look-alike kind (repeatable; implies --lookalikes).",
)
@click.option(
    "--complete",
    is_flag=True,
    help="With --lookalikes: also store each prompt's written answer as a proposed "
    "template completion (the same as running 'complete --source template' afterwards).",
)
@click.option(
    "--transform",
    "transforms",
    multiple=True,
    metavar="NAME[:ARG]",
    help="Apply an attack transform to every generated scenario, harmful and benign "
    "(repeatable, applied in order), e.g. --transform base64 --transform crescendo:4. "
    "'scenario-forge transforms' lists them; see docs/transforms.md.",
)
@click.option(
    "--mode",
    type=click.Choice(["scenarios", "attack"]),
    default="scenarios",
    show_default=True,
    help="With a model generator: 'attack' asks the model for new attack prompts (few-shot "
    "from the target's seeds and --from-report), screened for near copies, topic and harmful "
    "intent; every rejected prompt is listed with its reason.",
)
@click.option(
    "--from-report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --mode attack: an evaluation report (model-forge evaluate's report.json); its "
    "failures and near misses are shown to the attacker model.",
)
@click.option(
    "--max-similarity",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.8,
    show_default=True,
    help="With --mode attack: drop prompts at least this similar (word n-gram Jaccard) to a "
    "stored scenario of the target.",
)
@generator_options("template")
@db_option
@taxonomy_option
@json_option
def generate_cmd(
    targets: tuple[str, ...],
    count: int,
    seed: int,
    lookalikes: bool,
    kinds: tuple[str, ...],
    complete: bool,
    transforms: tuple[str, ...],
    mode: str,
    from_report: Path | None,
    max_similarity: float,
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

    With --lookalikes, adds the taxonomy's benign look-alike prompts instead: prompts that
    sound dangerous but should be answered (homonyms, figurative language, safe contexts ...),
    one 'comply' scenario each, tagged with their kind (metadata 'contrast_kind').

    \b
    Examples:
      scenario-forge generate --target harmful_code --count 20
      scenario-forge generate --count 100 --seed 7          # every target
      scenario-forge generate -t self_harm --generator model-forge --model tiny
      scenario-forge generate --lookalikes --complete       # every look-alike kind
      scenario-forge generate --lookalikes --kind homonyms --kind definitions
      scenario-forge generate -t harmful_code --transform base64 --transform crescendo:4
      scenario-forge generate -t harmful_code --generator model-forge --mode attack \\
          --model openai:my-model --from-report round-1/probe/report.json
    """
    from scenario_forge.api import generate_scenarios

    tax = get_taxonomy(taxonomy)
    _check_combination(
        lookalikes or bool(kinds), complete, transforms, mode, from_report, generator_name
    )
    if lookalikes or kinds:
        _lookalikes(tax, kinds, complete, targets, generator_name, db, as_json)
        return
    for t in targets:
        tax.get(t)
    extra: dict[str, Any] = {"taxonomy": tax} if generator_name == "template" else {}
    if mode == "attack":
        extra["mode"] = "attack"
        extra["taxonomy"] = tax  # what the generator's own screen judges attacks against
        if from_report is not None:
            extra["from_report"] = str(from_report)
    gen = build_generator(generator_name, model, options, **extra)
    names = list(targets) or tax.names()
    bar_ctx = click.progressbar(length=len(names), label="Generating", file=sys.stderr)
    with open_store(db) as store, bar_ctx as bar:
        result = generate_scenarios(
            store,
            tax,
            names,
            count,
            seed,
            gen,
            progress=bar.update,
            transforms=transforms,
            screen=max_similarity if mode == "attack" else None,
        )
    if as_json:
        echo_json(result.to_dict())
    elif mode == "attack":
        _attack_table(result)
    else:
        rows = [(t, c.generated, c.added, c.duplicates) for t, c in result.per_target.items()]
        rows.append(("total", result.generated, result.added, result.duplicates))
        click.echo(table(rows, ["target", "generated", "added", "duplicates"]))


def _check_combination(
    lookalikes: bool,
    complete: bool,
    transforms: tuple[str, ...],
    mode: str,
    from_report: Path | None,
    generator_name: str,
) -> None:
    """Refuse options that do not go together (before any work), one line each."""
    from scenario_forge.transforms import load_chain

    if complete and not lookalikes:
        raise click.UsageError(
            "--complete goes with --lookalikes; for generated scenarios run "
            "'scenario-forge complete --source template'"
        )
    load_chain(transforms)  # an unknown transform or bad argument fails before any work
    if transforms and lookalikes:
        raise click.UsageError("--transform applies to generated scenarios; drop --lookalikes")
    if from_report is not None and mode != "attack":
        raise click.UsageError("--from-report goes with --mode attack")
    if mode == "attack" and generator_name == "template":
        raise click.UsageError(
            "--mode attack needs a model generator: add --generator model-forge --model SPEC"
        )
    if mode == "attack" and lookalikes:
        raise click.UsageError("--mode attack writes new prompts; drop --lookalikes")


def _attack_table(result: GenerateResult) -> None:
    """The attack run's table, then per target what was rejected and why, one line each."""
    from scenario_forge.screening import REASONS, Rejection, rejection_summary
    from scenario_forge.terminal import visible

    cols = (
        "generated",
        "screened_unreadable",
        "screened_similar",
        "screened_off_target",
        "screened_not_harmful",
    )
    per = result.per_target
    rows = [(t, *(getattr(c, k) for k in cols), c.added, c.duplicates) for t, c in per.items()]
    total = (sum(getattr(c, k) for c in per.values()) for k in cols)
    rows.append(("total", *total, result.added, result.duplicates))
    heads = ["target", "generated", "unreadable", "near copies", "off target", "not harmful"]
    click.echo(table(rows, [*heads, "added", "duplicates"]))
    for t, c in per.items():
        rejected = [Rejection(**r) for r in c.rejected]
        if not rejected:
            continue
        click.echo(f"{t}: {rejection_summary(rejected)}")
        for r in rejected:
            click.echo(f"  {REASONS[r.reason]:<21}  {r.detail:<44}  {visible(short(r.prompt))}")
    if not result.added:
        click.echo("nothing stored: every prompt was screened out or already stored")


def _lookalikes(
    tax: Taxonomy,
    kinds: tuple[str, ...],
    complete: bool,
    targets: tuple[str, ...],
    generator_name: str,
    db: Path,
    as_json: bool,
) -> None:
    from scenario_forge.lookalikes import add_lookalikes

    if targets:
        raise click.UsageError("--lookalikes takes --kind KIND, not --target")
    if generator_name != "template":
        raise click.UsageError("--lookalikes adds the taxonomy's prompts; drop --generator")
    tax.select_lookalikes(list(kinds))  # an unknown kind fails here, naming the known ones
    if not tax.lookalikes:
        raise click.UsageError(
            "the taxonomy has no look-alike kinds (add a 'lookalikes:' list with --taxonomy FILE)"
        )
    with open_store(db) as store:
        result = add_lookalikes(store, tax, list(kinds), complete=complete)
    if as_json:
        echo_json(result.to_dict())
        return
    rows: list[tuple[object, ...]] = [
        (k, c.generated, c.added, c.duplicates, c.completions_added)
        for k, c in result.per_kind.items()
    ]
    rows.append(
        (
            "total",
            result.total("generated"),
            result.total("added"),
            result.total("duplicates"),
            result.total("completions_added"),
        )
    )
    click.echo(table(rows, ["kind", "generated", "added", "duplicates", "completions"]))
