"""``model-forge report``: convert an evaluation report for other tools."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("report")
def report_group() -> None:
    """Convert evaluation reports (report.json) for other tools."""


@report_group.command("to-inspect")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
def to_inspect_command(report: Path, out: Path) -> None:
    """Write REPORT (an evaluate report.json) as an inspect_ai log OUT (.json or .eval).

    Browse it with `inspect view --log-dir DIR`; `inspect_ai.log.read_eval_log(OUT)` reads it
    back with one sample per scenario, forge's verdict as the score `forge_judge` and the
    metrics accuracy, safe_rate and over_refusal. Needs the inspect extra.

    \b
    Examples:
      model-forge report to-inspect runs/eval-sft/report.json logs/eval-sft.json
    """
    from forge_export.reports import read_report

    from model_forge.inspect_log import check_inspect_log_path, write_inspect_log

    check_inspect_log_path(out)
    written = write_inspect_log(read_report(report), out, location=str(report))
    click.echo(f"inspect log: {written}")
