"""``scenario-forge stats``: counts per target, behaviour, source, status and rating."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store, table
from scenario_forge.review.agreement import review_stats, review_stats_lines


@click.command("stats")
@db_option
@json_option
def stats_cmd(db: Path, as_json: bool) -> None:
    """Count scenarios per target, expected behaviour and source; completions per status and
    source; reviews per rating.

    \b
    Examples:
      scenario-forge stats
      scenario-forge stats --json | jq .by_target
    """
    with open_store(db, create=False) as store:
        st = store.stats()
        st.update(review_stats(store))  # reviewers + agreement (scenario_forge.review)
    if as_json:
        echo_json(st)
        return
    click.echo(
        f"{st['path']}: {st['scenarios']} scenarios, {st['completions']} completions, "
        f"{st['reviews']} reviews (schema v{st['schema_version']})"
    )
    for key, title in (
        ("by_target", "target"),
        ("by_expected_behavior", "expected behaviour"),
        ("by_source", "scenario source"),
        ("completions_by_status", "completion status"),
        ("completions_by_source", "completion source"),
        ("scenarios_by_rating", "scenario rating"),
    ):
        if st[key]:
            click.echo("")
            click.echo(table(sorted(st[key].items()), [title, "count"]))
    for line in review_stats_lines(st):
        click.echo(line)
