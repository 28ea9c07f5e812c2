"""``scenario-forge transforms``: list the installed attack transforms."""

from __future__ import annotations

import click

from scenario_forge.cli._common import echo_json, json_option, table


@click.command("transforms")
@json_option
def transforms_cmd(as_json: bool) -> None:
    """List the attack transforms 'generate --transform' can apply (built-in and plugins).

    \b
    Examples:
      scenario-forge transforms
      scenario-forge generate -t harmful_code --transform rot13 --transform crescendo:4
    """
    from scenario_forge.transforms import describe_transforms

    rows = describe_transforms()
    if as_json:
        echo_json([{"name": n, "argument": a, "description": d} for n, a, d in rows])
        return
    click.echo(table(rows, ["transform", "argument", "what it does"]))
