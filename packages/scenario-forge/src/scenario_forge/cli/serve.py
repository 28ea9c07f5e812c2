"""``scenario-forge serve``: the web review app over the store."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path

import click

from scenario_forge.cli._common import db_option

SECRET_ENV = "SCENARIO_FORGE_SECRET"


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), bound before the URL is
    printed, so the URL names the port it really got."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)  # connections wait in the backlog until the server accepts them
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


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
@click.option(
    "--session-hours",
    default=12.0,
    show_default=True,
    type=click.FloatRange(min=0.01, max=24 * 30),
    help="A session ends this long after sign-in, used or not.",
)
@click.option(
    "--idle-minutes",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="A session ends after this long without a request.",
)
@db_option
def serve_cmd(
    host: str,
    port: int,
    overlap: int,
    lease_minutes: float,
    reports: tuple[Path, ...],
    https_only: bool,
    session_hours: float,
    idle_minutes: float,
    db: Path | str,
) -> None:
    """Serve the review app in the browser: sign in, rate, accept/edit/reject, undo.

    Reviewers need accounts (`scenario-forge users add NAME`). Sessions are signed with
    $SCENARIO_FORGE_SECRET when set (at least 32 random bytes: make one with
    `python -c 'import secrets; print(secrets.token_urlsafe(32))'`; sessions then survive a
    restart), else with a random key per start. A session ends at sign-out, when the
    account's password changes or the account goes, after --idle-minutes without use and
    --session-hours after sign-in. Failed sign-ins lock the account and the address for a
    growing time; sign-ins, failures and sign-outs are printed on stderr. It listens on
    127.0.0.1 unless --host says otherwise; on another address put it behind HTTPS and use
    --https-only. --port 0 takes a free port (the printed URL names it).

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
    from scenario_forge.web.sessions import SessionLimits

    app = create_app(
        db,
        settings=Settings(overlap=overlap, lease_minutes=lease_minutes),
        secret_key=os.environ.get(SECRET_ENV) or None,
        https_only=https_only,
        reports=[read_report(r) for r in reports],
        limits=SessionLimits(max_age_s=session_hours * 3600, idle_s=idle_minutes * 60),
    )
    if not _loopback(host):
        click.echo(
            f"warning: listening on {host}, not only this machine; serve it over HTTPS "
            "(a TLS proxy) and pass --https-only",
            err=True,
        )
    events = logging.StreamHandler(sys.stderr)
    events.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    web_log = logging.getLogger("scenario_forge.web")
    web_log.addHandler(events)
    web_log.setLevel(logging.INFO)
    sock = _bind(host, port)
    click.echo(f"Review at {_url(host, sock.getsockname()[1])} (Ctrl-C stops)", err=True)
    config = uvicorn.Config(app, log_level="warning", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
