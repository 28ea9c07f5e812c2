"""``scenario-forge show``: one scenario with its completions and reviews."""

from __future__ import annotations

from pathlib import Path

import click
from forge_export import aggregate_rating

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store
from scenario_forge.terminal import visible


@click.command("show")
@click.argument("scenario_id")
@db_option
@json_option
def show_cmd(scenario_id: str, db: Path, as_json: bool) -> None:
    """Show a scenario, its completions and its reviews. A unique id prefix is enough.

    \b
    Examples:
      scenario-forge show 3f2a9c
      scenario-forge show 3f2a9c41d0e5b7a8c2f1 --json
    """
    with open_store(db, create=False) as store:
        sid = store.resolve_id(scenario_id)
        s = store.get_scenario(sid)
        assert s is not None
        comps = store.completions_for(sid)
        revs = store.reviews_for(sid)
    if as_json:
        echo_json(
            {
                "scenario": s.model_dump(mode="json"),
                "completions": [c.model_dump(mode="json") for c in comps],
                "reviews": [r.model_dump(mode="json") for r in revs],
                "rating": aggregate_rating(revs),
            }
        )
        return
    _say(f"id:        {s.id}")
    _say(f"target:    {s.evaluation_target}")
    _say(f"expected:  {s.expected_behavior}")
    _say(f"group:     {s.group_id}")
    _say(f"source:    {s.source.kind} {s.source.origin}".rstrip())
    if s.tags:
        _say(f"tags:      {', '.join(s.tags)}")
    _say("criteria:")
    for criterion in s.success_criteria:
        _say(f"  - {criterion}")
    if s.system:
        _say(f"\n[system]\n{s.system}")
    for t in s.context:
        _say(f"\n[{t.role}]\n{t.content}")
    _say(f"\n[user]\n{s.prompt}\n")
    _say(f"completions ({len(comps)}):")
    for c in comps:
        who = f" by {', '.join(c.validated_by)}" if c.validated_by else ""
        _say(f"  {c.id[:12]}  {c.source}  {c.status}{who}  ({c.origin})")
        for line in c.text.splitlines() or [""]:
            _say(f"      {line}")
    rating = aggregate_rating(revs)
    shown = "unreviewed" if rating is None else f"{rating:.2f}"
    _say(f"reviews ({len(revs)}; rating {shown}):")
    for r in revs:
        note = f" — {r.note}" if r.note else ""
        _say(f"  {r.created_at:%Y-%m-%d %H:%M}  {r.reviewer}: {r.rating}{note}")


def _say(text: str) -> None:
    click.echo(visible(text))  # scenario text may hold terminal escapes: shown, not run
