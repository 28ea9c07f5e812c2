"""``scenario-forge eval-verdicts``: reviewers confirm or overrule the judge's verdicts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from forge_export.cli_support import ForgeGroup

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store


@click.group("eval-verdicts", cls=ForgeGroup)
def eval_verdicts_cmd() -> None:
    """Human verdicts on evaluation answers (they take precedence over the judge).

    \b
    Examples:
      scenario-forge eval-verdicts template eval-out/report.json -o review.jsonl
      # edit "verdict" (pass/fail) and "label" where you disagree, then:
      scenario-forge eval-verdicts import review.jsonl --reviewer alice
      scenario-forge eval-verdicts list --json
    """


@eval_verdicts_cmd.command("template")
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file to write, one answer per line with the judge's verdict.",
)
@click.option("--failures-only", is_flag=True, help="Only answers the judge failed.")
def template_cmd(report: Path, output: Path, failures_only: bool) -> None:
    """Write REPORT's answers with the judge's verdicts, for reviewers to confirm or overrule."""
    from forge_export.atomic_files import atomic_output
    from forge_export.reports import read_report

    from scenario_forge.eval_verdicts import review_rows

    rows = review_rows(read_report(report))
    if failures_only:
        rows = [r for r in rows if r["judge_verdict"] == "fail"]
    with atomic_output(output) as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    click.echo(f"wrote {len(rows)} answers to {output}")


@eval_verdicts_cmd.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--reviewer",
    default=lambda: os.environ.get("SCENARIO_FORGE_REVIEWER"),
    help="Reviewer name for rows without a 'reviewer' field [default: $SCENARIO_FORGE_REVIEWER].",
)
@db_option
@json_option
def import_cmd(file: Path, reviewer: str | None, db: Path, as_json: bool) -> None:
    """Store the human verdicts in FILE (JSONL); all rows or none."""
    from scenario_forge.eval_verdicts import import_eval_verdicts

    with open_store(db) as store:
        n = import_eval_verdicts(store, file, reviewer=reviewer)
    if as_json:
        echo_json({"imported": n, "file": str(file)})
    else:
        click.echo(f"imported {n} human verdicts from {file}")


@eval_verdicts_cmd.command("list")
@db_option
@json_option
def list_cmd(db: Path, as_json: bool) -> None:
    """The human verdicts in force (latest per answer), with what the judge had said."""
    from scenario_forge.eval_verdicts import human_verdicts

    with open_store(db, create=False) as store:
        rows = human_verdicts(store)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        judge = f"{r['judge'] or 'judge'}: {r['judge_verdict'] or '?'}"
        click.echo(
            f"{r['scenario_id']}  {r['verdict']:<4} {r['label'] or '':<15} by {r['reviewer']} "
            f"({judge})"
        )
    click.echo(f"{len(rows)} human verdicts")
