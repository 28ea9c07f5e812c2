"""``scenario-forge stats``: counts per target, behaviour, source, status and rating."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store, table
from scenario_forge.review.adjudication import agreement_by_target
from scenario_forge.review.agreement import review_stats, review_stats_lines

if TYPE_CHECKING:
    from scenario_forge.diversity import DiversityReport


@click.command("stats")
@click.option(
    "--diversity",
    "show_diversity",
    is_flag=True,
    help="Also measure diversity: distinct-1/2/3 n-gram ratios and mean nearest-neighbour "
    "similarity per target, source and transform chain (word n-grams, no model).",
)
@click.option(
    "--max-per-target",
    type=click.IntRange(min=2),
    default=2000,
    show_default=True,
    help="With --diversity: measure at most this many scenarios per target.",
)
@db_option
@json_option
def stats_cmd(db: Path, show_diversity: bool, max_per_target: int, as_json: bool) -> None:
    """Count scenarios per target, expected behaviour and source; completions per status and
    source; reviews per rating; reviewers and their agreement (Krippendorff's alpha, overall
    and per target with its n). With --diversity, also how varied the scenarios are.

    \b
    Examples:
      scenario-forge stats
      scenario-forge stats --json | jq .by_target
      scenario-forge stats --json | jq .agreement.by_target
      scenario-forge stats --diversity
      scenario-forge stats --diversity --json | jq .diversity.by_source
    """
    div = None
    with open_store(db, create=False) as store:
        st = store.stats()
        st.update(review_stats(store))  # reviewers + agreement (scenario_forge.review)
        st["agreement"]["by_target"] = {  # the Agreement page's alpha per target, with its n
            a.evaluation_target: {
                "alpha": a.alpha,
                "n": a.scenarios,
                "ratings": a.ratings,
                "disagreements": a.disagreements,
                "settled": a.settled,
            }
            for a in agreement_by_target(store)
            if a.scenarios
        }
        if show_diversity:
            from scenario_forge.diversity import diversity

            div = diversity(store, max_per_target)
    if as_json:
        if div is not None:
            st["diversity"] = div.to_dict()
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
    if div is not None:
        _echo_diversity(div)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _echo_diversity(div: DiversityReport) -> None:
    from scenario_forge.diversity import NEAR_DUPLICATE

    click.echo("")
    click.echo(
        "diversity (word n-grams of user text; nn-sim: mean max Jaccard with another scenario "
        f"of the same target; near-dup: share with nn-sim >= {NEAR_DUPLICATE})"
    )
    head = ["n", "distinct-1", "distinct-2", "distinct-3", "nn-sim", "near-dup"]
    for title, groups in (
        ("target", div.by_target),
        ("source", div.by_source),
        ("transforms", div.by_transform),
        ("", {"all": div.all}),
    ):
        rows = [
            (
                k,
                g.n,
                _fmt(g.distinct_1),
                _fmt(g.distinct_2),
                _fmt(g.distinct_3),
                _fmt(g.nn_similarity),
                _fmt(g.near_duplicates),
            )
            for k, g in groups.items()
        ]
        click.echo("")
        click.echo(table(rows, [title, *head]))
    for t, n in div.sampled_targets.items():
        click.echo(f"note: {t}: measured the first {n} scenarios by id (--max-per-target)")
