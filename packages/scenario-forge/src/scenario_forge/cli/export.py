"""``scenario-forge export``: write the store as a HuggingFace dataset folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scenario_forge.cli._common import (
    db_option,
    echo_json,
    json_option,
    open_store,
    table,
    target_option,
)

if TYPE_CHECKING:
    from forge_export.exporters.huggingface import ExportOptions, ExportSummary

    from scenario_forge.store import ScenarioStore

CONFIG_NAMES = ("sft", "prompt_completion", "preference", "kto", "eval")


@click.command("export")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--config",
    "configs",
    multiple=True,
    type=click.Choice(CONFIG_NAMES),
    help="Config to write (repeatable; default: all).",
)
@target_option("Only scenarios of this target (repeatable).")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["human", "template", "model"]),
    help="Only completions from this source (repeatable).",
)
@click.option(
    "--min-rating",
    type=click.FloatRange(0, 3),
    default=None,
    help="Only scenarios whose mean rating is at least this (unreviewed excluded).",
)
@click.option(
    "--only-validated",
    is_flag=True,
    help="Only human-validated completions (implies --min-rating 2 unless given).",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Share of seed groups in the test split.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace OUT if it is a forge export (or an empty folder); anything else is refused.",
)
@click.option(
    "--push-to-hub",
    "push_repo",
    default=None,
    metavar="OWNER/NAME",
    help="Then upload OUT to this HuggingFace dataset repository (needs a write token).",
)
@click.option(
    "--private/--public",
    default=True,
    show_default=True,
    help="With --push-to-hub: visibility of the repository if it is created.",
)
@db_option
@json_option
def export_cmd(
    out: Path,
    configs: tuple[str, ...],
    targets: tuple[str, ...],
    sources: tuple[str, ...],
    min_rating: float | None,
    only_validated: bool,
    test_size: float,
    seed: int,
    overwrite: bool,
    push_repo: str | None,
    private: bool,
    db: Path,
    as_json: bool,
) -> None:
    """Export scenarios, completions and reviews to OUT, a dataset folder that
    datasets.load_dataset(OUT, CONFIG) and TRL read as is.

    Configs: sft, prompt_completion, preference, kto, eval; each with a train and a test
    split (seed groups never straddle splits; duplicate prompts are dropped).

    \b
    Examples:
      scenario-forge export out/
      scenario-forge export out/ --config sft --config eval --target harmful_code
      scenario-forge export out/ --only-validated --overwrite --json
      scenario-forge export out/ --push-to-hub my-org/safety-sft   # private dataset repo
    """
    from scenario_forge.api import export_store

    options = _export_options(
        configs, targets, sources, min_rating, only_validated, test_size, seed, overwrite
    )
    if push_repo:
        from forge_export.hub import preflight

        preflight(push_repo)  # no token / offline / bad id: refuse before exporting
    with open_store(db, create=False) as store, store.snapshot():
        _check_targets(store, targets)
        total = store.count_scenarios(target=list(targets) or None)
        with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
            summary = export_store(store, out, options, progress=bar.update)
    pushed = None
    if push_repo:
        from forge_export.hub import push_export

        pushed = push_export(summary.path, push_repo, private=private)
    if as_json:
        echo_json({**_summary_json(summary), "pushed": pushed.to_dict() if pushed else None})
        return
    _print_summary(summary)
    if pushed:
        click.echo(f"pushed to {pushed.url} ({'private' if pushed.private else 'public'})")


def _export_options(
    configs: tuple[str, ...],
    targets: tuple[str, ...],
    sources: tuple[str, ...],
    min_rating: float | None,
    only_validated: bool,
    test_size: float,
    seed: int,
    overwrite: bool,
) -> ExportOptions:
    """The exporter's options from the command's."""
    from forge_export.exporters.huggingface import ExportOptions

    kwargs: dict[str, object] = {
        "only_validated": only_validated,
        "min_rating": min_rating,
        "sources": list(sources) or None,
        "targets": list(targets) or None,
        "test_size": test_size,
        "seed": seed,
        "overwrite": overwrite,
    }
    if configs:
        kwargs["configs"] = list(dict.fromkeys(configs))
    return ExportOptions(**kwargs)  # type: ignore[arg-type]


def _check_targets(store: ScenarioStore, targets: tuple[str, ...]) -> None:
    """Refuse a ``--target`` no stored scenario has (a typo would export nothing)."""
    if not targets:
        return
    present = store.targets()
    missing = [t for t in dict.fromkeys(targets) if t not in present]
    if missing:
        raise click.ClickException(
            f"--target {missing[0]!r}: no scenario in {store.path} has this target (targets "
            f"there: {', '.join(sorted(present)) or 'none'}); check the spelling"
        )


def _summary_json(summary: ExportSummary) -> dict[str, object]:
    return {
        "path": str(summary.path),
        "counts": summary.counts,
        "scenarios_seen": summary.scenarios_seen,
        "scenarios_exported": summary.scenarios_exported,
        "duplicates_dropped": summary.duplicates_dropped,
        "filtered_out": summary.filtered_out,
        "fingerprint": summary.fingerprint,
    }


def _print_summary(summary: ExportSummary) -> None:
    rows = [
        (config, split, n)
        for config, splits in summary.counts.items()
        for split, n in splits.items()
    ]
    click.echo(table(rows, ["config", "split", "rows"]))
    click.echo("")
    click.echo(
        f"{summary.scenarios_exported} of {summary.scenarios_seen} scenarios exported to "
        f"{summary.path}; duplicates dropped: {summary.duplicates_dropped}; "
        f"filtered out: {summary.filtered_out}"
    )
