"""``scenario-forge check``: SQLite integrity and contract checks of a store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, shown


@click.command("check")
@click.option(
    "--quick",
    is_flag=True,
    help="PRAGMA quick_check instead of integrity_check, and do not validate every row "
    "against the contract (seconds instead of minutes on a million scenarios).",
)
@db_option
@json_option
@click.pass_context
def check_cmd(ctx: click.Context, quick: bool, db: Path, as_json: bool) -> None:
    """Check the store: SQLite integrity, foreign keys, schema version, every scenario,
    completion and review against the contract, completion statuses against the reviewers'
    decisions, and the review queue counts. Nothing is written; a live store can be checked.

    \b
    Exit status:
      0  the store is sound
      1  problems were found (one line each) or the file is not a store

    \b
    Examples:
      scenario-forge check
      scenario-forge check --db team.db --quick
      scenario-forge check --json | jq .problems
    """
    if isinstance(db, str):
        raise click.ClickException(
            f"check: {shown(db)} is a PostgreSQL store; `check` handles SQLite files only "
            "(use pg_dump, or `scenario-forge migrate-store` to copy it into a SQLite file)"
        )
    from scenario_forge.maintenance import check_rows, check_store

    if quick or as_json:
        report = check_store(db, quick=quick)
    else:
        with click.progressbar(length=check_rows(db), label="Checking", file=sys.stderr) as bar:
            report = check_store(db, quick=quick, progress=bar.update)
    if as_json:
        echo_json(report.to_dict())
    else:
        counts = ", ".join(f"{n} {t}" for t, n in report.counts.items())
        for line in report.problems:
            click.echo(f"problem: {line}", err=True)
        if report.problem_count > len(report.problems):
            click.echo(f"... and {report.problem_count - len(report.problems)} more", err=True)
        verdict = "OK" if report.ok else f"{report.problem_count} problem(s)"
        kind = "quick check" if quick else "full check"
        click.echo(f"{db}: {verdict} ({kind}; schema v{report.schema_version}; {counts})")
    if not report.ok:
        ctx.exit(1)
