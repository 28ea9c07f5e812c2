"""``scenario-forge users``: accounts of the web review app (admin commands)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scenario_forge.cli._common import db_option, echo_json, json_option, open_store, table


@click.group("users")
def users_cmd() -> None:
    """Create, list and remove the accounts that sign in to `scenario-forge serve`.

    \b
    Examples:
      scenario-forge users add ana
      printf '%s\\n' "$PASS" | scenario-forge users add bob --password-stdin
      scenario-forge users add lee --role lead   # a lead settles disagreements
      scenario-forge users role ana lead
      scenario-forge users list
      scenario-forge users remove bob
      scenario-forge users unlock ana   # after failed sign-ins locked the account
    """


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


ROLE_CHOICE = click.Choice(["reviewer", "lead"])


@users_cmd.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@click.option(
    "--role",
    type=ROLE_CHOICE,
    default="reviewer",
    show_default=True,
    help="lead: may also settle the scenarios reviewers disagree on (the Agreement page).",
)
@db_option
def add_cmd(name: str, password_stdin: bool, role: str, db: Path | str) -> None:
    """Create the account NAME (asks for its password).

    Names are case-folded and Unicode-normalised (Ana, ANA and ana are one account); a name
    mixing scripts, or looking like an existing account's, is refused.

    \b
    Examples:
      scenario-forge users add ana
      scenario-forge users add lee --role lead
    """
    from scenario_forge.web.auth import AccountError, add_user

    with open_store(db, create=False) as store:
        try:
            made = add_user(store, name, _password(password_stdin), role=role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Account {made} created{' (lead)' if role == 'lead' else ''}.")


@users_cmd.command("role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@db_option
def role_cmd(name: str, role: str, db: Path | str) -> None:
    """Give the account NAME the role ROLE (reviewer or lead).

    \b
    Examples:
      scenario-forge users role ana lead
    """
    from scenario_forge.web.auth import AccountError, set_role

    with open_store(db, create=False) as store:
        try:
            stored = set_role(store, name, role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Account {stored} is now a {role}.")


@users_cmd.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@db_option
def passwd_cmd(name: str, password_stdin: bool, db: Path | str) -> None:
    """Set a new password for the account NAME (its sessions end: sign in again).

    \b
    Examples:
      scenario-forge users passwd ana
    """
    from scenario_forge.web.auth import AccountError, add_user, find_user

    with open_store(db, create=False) as store:
        stored = find_user(store, name)
        if stored is None:
            raise click.ClickException(f"no account {name!r}; create it with `users add`")
        try:
            add_user(store, stored, _password(password_stdin), replace=True)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Password of {stored} changed; every session of the account ended.")


@users_cmd.command("list")
@db_option
@json_option
def list_cmd(db: Path | str, as_json: bool) -> None:
    """List the accounts.

    \b
    Examples:
      scenario-forge users list --json
    """
    from scenario_forge.web.auth import list_roles, list_users

    with open_store(db, create=False) as store:
        rows = list_users(store)
        roles = list_roles(store)
    if as_json:
        echo_json([{"name": n, "created_at": c, "role": roles.get(n, "")} for n, c in rows])
    elif rows:
        click.echo(table([(n, roles.get(n, ""), c) for n, c in rows], ["name", "role", "created"]))
    else:
        click.echo("No accounts yet: `scenario-forge users add NAME`.")


@users_cmd.command("remove")
@click.argument("name")
@db_option
def remove_cmd(name: str, db: Path | str) -> None:
    """Remove the account NAME (its reviews stay in the store; its sessions end).

    \b
    Examples:
      scenario-forge users remove bob
    """
    from scenario_forge.web.auth import find_user, remove_user

    with open_store(db, create=False) as store:
        stored = find_user(store, name)
        if stored is None or not remove_user(store, stored):
            raise click.ClickException(f"no account {name!r}")
    click.echo(f"Account {stored} removed; its sessions ended.")


@users_cmd.command("unlock")
@click.argument("name")
@db_option
def unlock_cmd(name: str, db: Path | str) -> None:
    """Forget the failed sign-ins of the account NAME, so it can sign in again at once.

    Failed sign-ins lock an account for a growing time (up to 15 minutes after each further
    failure); someone who keeps failing on purpose can keep it locked. The locks of client
    addresses are not touched.

    \b
    Examples:
      scenario-forge users unlock ana
    """
    from scenario_forge.web.auth import find_user
    from scenario_forge.web.throttle import account_key, clear

    with open_store(db, create=False) as store:
        stored = find_user(store, name)
        if stored is None:
            raise click.ClickException(f"no account {name!r}")
        clear(store, account_key(stored))
        with store.transaction():
            store.audit("unlock", "web_user", stored)
    click.echo(f"Account {stored} unlocked.")
