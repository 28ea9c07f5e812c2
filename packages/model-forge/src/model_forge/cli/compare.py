"""``model-forge compare``: per-target deltas between two evaluation reports."""

from __future__ import annotations

import json

import click


@click.command("compare")
@click.argument("before", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.argument("after", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def compare_command(before: str, after: str, as_json: bool) -> None:
    """Compare two reports of `model-forge evaluate`: BEFORE → AFTER per target.

    Shows, per target and overall, the safe-response rate on harmful scenarios, the
    over-refusal and compliance rates on benign contrasts, the pass rate and the counts, with
    the change in percentage points.

    \b
    Examples:
      model-forge compare runs/eval-base/report.json runs/eval-sft/report.json
      model-forge compare base.json sft.json --json | jq '.all.safe_rate.delta'
    """
    from forge_export.reports import compare_reports, format_comparison, read_report

    a = read_report(before)
    b = read_report(after)
    table = compare_reports(a, b)
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    click.echo(f"before: {a.model_id} ({before})")
    click.echo(f"after:  {b.model_id} ({after})")
    if a.dataset_fingerprint != b.dataset_fingerprint:
        click.echo("note: the reports were run on different datasets", err=True)
    click.echo(format_comparison(table))
