"""``scenario-forge serve``: the web review app over the store."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from scenario_forge.cli._common import db_option

SECRET_ENV = "SCENARIO_FORGE_SECRET"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--overlap",
    default=1,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Hand each scenario to this many different reviewers (agreement needs 2+).",
)
@click.option(
    "--lease",
    "lease_minutes",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Minutes a reviewer keeps a scenario without answering before it goes back.",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An evaluation report (model-forge evaluate's report.json) whose answers reviewers "
    "confirm or overrule on /verdicts; repeatable.",
)
@click.option(
    "--https-only",
    is_flag=True,
    help="Send the session cookie over HTTPS only (behind a TLS proxy).",
)
@db_option
def serve_cmd(
    host: str,
    port: int,
    overlap: int,
    lease_minutes: float,
    reports: tuple[Path, ...],
    https_only: bool,
    db: Path | str,
) -> None:
    """Serve the review app in the browser: sign in, rate, accept/edit/reject, undo.

    Reviewers need accounts (`scenario-forge users add NAME`). Sessions are signed with
    $SCENARIO_FORGE_SECRET when set (keep it secret; sessions then survive a restart),
    else with a random key per start. It listens on 127.0.0.1 unless --host says otherwise;
    on another address put it behind HTTPS and use --https-only.

    \b
    Examples:
      scenario-forge serve
      scenario-forge serve --db postgresql://forge@dbhost/forge --overlap 2
      scenario-forge serve --host 0.0.0.0 --port 8080 --https-only
      scenario-forge serve --report eval-out/report.json    # + judge verdicts to review
    """
    import uvicorn
    from forge_export.reports import read_report

    from scenario_forge.web.app import create_app
    from scenario_forge.web.reviewing import Settings

    app = create_app(
        db,
        settings=Settings(overlap=overlap, lease_minutes=lease_minutes),
        secret_key=os.environ.get(SECRET_ENV) or None,
        https_only=https_only,
        reports=[read_report(r) for r in reports],
    )
    if not _loopback(host):
        click.echo(
            f"warning: listening on {host}, not only this machine; serve it over HTTPS "
            "(a TLS proxy) and pass --https-only",
            err=True,
        )
    click.echo(f"Review at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
