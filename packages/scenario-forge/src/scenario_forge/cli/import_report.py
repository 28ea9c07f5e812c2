"""``scenario-forge import-report``: failures of an evaluation report become new scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from scenario_forge.cli._common import (
    db_option,
    echo_json,
    get_taxonomy,
    json_option,
    open_store,
    shown,
    table,
    target_option,
    taxonomy_option,
)

if TYPE_CHECKING:
    from forge_export import EvalReport

    from scenario_forge.taxonomy import Taxonomy


@click.command("import-report")
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Picks the framing wordings.")
@target_option("Only failures of this target (repeatable).")
@click.option("--dry-run", is_flag=True, help="Count what would be added; write nothing.")
@click.option(
    "--as-training",
    is_flag=True,
    help="Failures become TRAINING scenarios in new groups, each with a good answer and the "
    "model's failing answer as a rejected completion (a preference pair). For reports on probe "
    "or training data; never on a test report you keep measuring on.",
)
@click.option(
    "--round",
    "round_",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --as-training: the round of the model that failed (recorded in provenance).",
)
@db_option
@taxonomy_option
@json_option
def import_report_cmd(
    report: Path,
    seed: int,
    targets: tuple[str, ...],
    dry_run: bool,
    as_training: bool,
    round_: int,
    db: Path,
    taxonomy: Path | None,
    as_json: bool,
) -> None:
    """Turn the failures in REPORT (from `model-forge evaluate`) into new scenarios.

    Each failed scenario is varied through the framings it was not asked in (direct, role
    play, hypothetical, multi-turn; benign contrasts: direct and a casual rewording). The new
    scenarios keep the failed one's group (held-out groups stay held out), record
    source kind 'report' with the failed scenario as parent and the report file + model as
    origin, and get a proposed template completion. Importing the same report twice adds
    nothing.

    \b
    Examples:
      scenario-forge import-report runs/eval-sft/report.json
      scenario-forge import-report report.json --dry-run --json
      scenario-forge import-report report.json --target self_harm --seed 1
      scenario-forge import-report runs/probe/report.json --as-training --round 1
    """
    from forge_export.reports import read_report

    from scenario_forge.report_import import import_report
    from scenario_forge.taxonomy.lookalikes import EXAGGERATED_SAFETY

    if as_training and dry_run:
        raise click.UsageError("--as-training writes training data; drop --dry-run")
    parsed = read_report(report)
    tax = get_taxonomy(taxonomy)
    unknown: dict[str, int] = {}
    for failed in parsed.failures():
        t = failed.scenario.evaluation_target
        if (not targets or t in targets) and t not in tax and t != EXAGGERATED_SAFETY:
            unknown[t] = unknown.get(t, 0) + 1
    if unknown:  # the same rule as `import`: a target must be in the taxonomy
        name, n = sorted(unknown.items())[0]
        known = ", ".join(tax.names()) or "none"
        raise click.ClickException(
            f"{report}: {n} failure(s) of target {name!r}, which is not in the taxonomy "
            f"(known: {known}); add it with --taxonomy FILE, or pick targets with --target"
        )
    if as_training:
        _as_training(parsed, report, tax, db, seed, round_, targets, as_json)
        return
    store = open_store(db)
    try:
        result = import_report(
            store, parsed, tax, seed, source=str(report), dry_run=dry_run, targets=targets or None
        )
    finally:
        store.close()
    if as_json:
        echo_json(result.to_dict())
        return
    verb = "would add" if dry_run else "added"
    rows = [
        ("results", result.results),
        ("failures", result.failures),
        ("variants", result.proposed),
        (f"scenarios {verb}", result.added),
        ("already in store", result.duplicates),
        (f"completions {verb}", result.completions_added),
    ]
    rows += [(f"skipped: {k}", v) for k, v in result.skipped.items()]
    click.echo(f"{report} ({result.model_id}) → {shown(db)}")
    click.echo(table(rows, ["", "count"]))


def _as_training(
    parsed: EvalReport,
    report: Path,
    tax: Taxonomy,
    db: Path,
    seed: int,
    round_: int,
    targets: tuple[str, ...],
    as_json: bool,
) -> None:
    from scenario_forge.failure_training import store_failures

    failures = [
        f for f in parsed.failures() if not targets or f.scenario.evaluation_target in targets
    ]
    store = open_store(db)
    try:
        result = store_failures(
            store,
            failures,
            tax,
            round_=round_,
            model_id=parsed.model_id,
            seed=seed,
            origin=f"report:{report}",
        )
    finally:
        store.close()
    if as_json:
        echo_json({k: v for k, v in vars(result).items()})
        return
    rows = [
        ("failures", result.failures),
        ("training scenarios added", result.train_scenarios),
        ("good answers (SFT rows)", result.sft_completions),
        ("rejected answers (preference pairs)", result.preference_pairs),
    ]
    rows += [(f"skipped: {k}", v) for k, v in result.skipped.items()]
    click.echo(
        f"{report} ({result.failures} failures of {parsed.model_id}) → {shown(db)}, as training"
    )
    click.echo(table(rows, ["", "count"]))
