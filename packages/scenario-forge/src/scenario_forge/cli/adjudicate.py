"""``scenario-forge review disagreements`` and ``review settle``: a lead settles the scenarios
reviewers disagree on, from the terminal (the web app's Agreement page does the same)."""

from __future__ import annotations

from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store, short, table


@click.command("disagreements")
@click.option("--target", default="", metavar="TARGET", help="Only scenarios of this target.")
@click.option("--unsettled", is_flag=True, help="Leave out the ones a lead has settled.")
@db_option
@json_option
def disagreements_cmd(target: str, unsettled: bool, db: Path | str, as_json: bool) -> None:
    """List the scenarios whose reviewers' latest ratings differ, widest spread first.

    \b
    Examples:
      scenario-forge review disagreements --unsettled
      scenario-forge review disagreements --target harmful_code --json
    """
    from scenario_forge.review.adjudication import (
        agreement_by_target,
        disagreements,
        overlapping,
    )

    with open_store(db, create=False) as store:
        units = overlapping(store)
        items = disagreements(store, target=target, unsettled_only=unsettled, units=units)
        per_target = agreement_by_target(store, units)
    if as_json:
        echo_json(
            {
                "agreement": [vars(a) for a in per_target],
                "disagreements": [
                    {
                        "scenario_id": d.scenario_id,
                        "evaluation_target": d.evaluation_target,
                        "ratings": d.ratings,
                        "settled": None if d.settled is None else vars(d.settled),
                    }
                    for d in items
                ],
            }
        )
        return
    alpha = [
        (a.evaluation_target, "undefined" if a.alpha is None else f"{a.alpha:.3f}", a.scenarios)
        for a in per_target
    ]
    click.echo(table(alpha, ["target", "alpha", "n"]))
    if not items:
        click.echo("No disagreements.")
        return
    rows = [
        (
            d.scenario_id,
            short(d.evaluation_target, 24),
            ", ".join(f"{k} {v}" for k, v in d.ratings.items()),
            "-" if d.settled is None else f"{d.settled.rating} by {d.settled.lead}",
        )
        for d in items
    ]
    click.echo(table(rows, ["scenario", "target", "ratings", "settled"]))


@click.command("settle")
@click.argument("scenario")
@click.argument("rating", type=click.IntRange(0, 3))
@click.option("--lead", required=True, metavar="NAME", help="The lead account who settles it.")
@click.option("--note", default="", help="Why (kept with the settled rating).")
@db_option
def settle_cmd(scenario: str, rating: int, lead: str, note: str, db: Path | str) -> None:
    """Settle SCENARIO (an id or unique prefix) at RATING (0-3), as the lead account NAME.

    The settled rating replaces the mean of the reviewers' ratings in exports and in the
    loop; their ratings stay in the store and are copied into the settling (provenance).

    \b
    Examples:
      scenario-forge review settle 3f2a 2 --lead lee --note "criteria met"
    """
    from scenario_forge.review.adjudication import AdjudicationError, settle
    from scenario_forge.store_errors import StoreError
    from scenario_forge.web.auth import find_user, user_role

    with open_store(db, create=False) as store:
        name = find_user(store, lead)
        if name is None or user_role(store, name) != "lead":
            raise click.ClickException(
                f"{lead!r} is not a lead account; `scenario-forge users role NAME lead` makes one"
            )
        try:
            sid = store.resolve_id(scenario)
            settle(store, sid, rating, name, note)
        except (StoreError, AdjudicationError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Settled {sid} at {rating} (lead {name}).")
