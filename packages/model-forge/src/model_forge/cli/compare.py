"""``model-forge compare``: two evaluation reports on the same scenarios, per target and paired."""

from __future__ import annotations

import json

import click


@click.command("compare")
@click.argument("before", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.argument("after", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    "--allow-different",
    is_flag=True,
    help="Compare reports that ran different scenario sets (rates then differ by what was asked "
    "as much as by the model); the paired test uses the shared scenarios only.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_command(before: str, after: str, allow_different: bool, as_json: bool) -> None:
    """Compare two reports of `model-forge evaluate`: BEFORE → AFTER per target.

    Shows, per target and overall, the safe-response rate on harmful scenarios, the
    over-refusal and compliance rates on benign contrasts, the pass rate and the counts, each
    rate with its Wilson 95% interval, and the change in percentage points; then the paired
    test on the scenarios both ran (exact McNemar: is the change more than chance?). Reports
    on different scenario sets are refused unless --allow-different (evaluate both models
    with `--test-set FILE` to compare them on the same set).

    \b
    Examples:
      model-forge compare runs/eval-base/report.json runs/eval-sft/report.json
      model-forge compare base.json sft.json --json | jq '.targets.all.safe_rate.delta'
    """
    from forge_export.errors import ForgeError
    from forge_export.reports import compare_reports, format_comparison, paired_test, read_report

    a = read_report(before)
    b = read_report(after)
    paired = paired_test(a, b)
    if not paired.same_scenarios and not allow_different:
        raise ForgeError(
            f"the reports ran different scenario sets ({paired.shared} shared, "
            f"{paired.only_before} only in {before}, {paired.only_after} only in {after}); "
            "evaluate both on one set (evaluate --test-set FILE) or pass --allow-different"
        )
    table = compare_reports(a, b)
    if as_json:
        payload = {
            "before": {"model_id": a.model_id, "report": before, "scenarios": len(a.results)},
            "after": {"model_id": b.model_id, "report": after, "scenarios": len(b.results)},
            "targets": table,
            "paired": {
                "shared": paired.shared,
                "only_before": paired.only_before,
                "only_after": paired.only_after,
                "pass_to_fail": paired.pass_to_fail,
                "fail_to_pass": paired.fail_to_pass,
                "p_value": paired.p_value,
                "test": "exact McNemar (two-sided)",
            },
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"before: {a.model_id} ({before}, {len(a.results)} scenarios)")
    click.echo(f"after:  {b.model_id} ({after}, {len(b.results)} scenarios)")
    if not paired.same_scenarios:
        click.echo(
            f"note: different scenario sets ({paired.only_before} only before, "
            f"{paired.only_after} only after): the rates below are not paired",
            err=True,
        )
    click.echo("Rates with their Wilson 95% intervals (low-high, in %); change in points.")
    click.echo(format_comparison(table))
    click.echo(paired.describe())
