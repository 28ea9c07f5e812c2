"""A PostgreSQL password never reaches output, files or errors (issue 29).

Every form a password can take in a store location — ``user:PASSWORD@``, ``?password=``,
either one through ``$SCENARIO_FORGE_DB`` — is given to the real CLI on a real PostgreSQL
store (the throwaway server trusts every connection, so any password works); then all output
and every file the commands wrote are searched for it. ``tests/test_loop.py`` does the same
for a whole loop run. The one redaction function keeps the URL readable: scheme, user,
host and port stay, the password becomes ``***``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export.redact import redact, redact_location
from scenario_forge.cli import main
from scenario_forge.pg_throwaway import create_database

PASSWORD = "Pw-0f-F0rge-XYZZY"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://forge:pw@db.example:5432/forge",
            "postgresql://forge:***@db.example:5432/forge",
        ),
        (
            "postgresql://forge:pw@/forge?host=/tmp/s&port=5",
            "postgresql://forge:***@/forge?host=/tmp/s&port=5",
        ),
        ("postgres://forge:pw@[::1]:5432/forge", "postgres://forge:***@[::1]:5432/forge"),
        ("postgresql://forge:pw@db:/forge", "postgresql://forge:***@db:/forge"),
        ("postgresql://:pw@db/forge", "postgresql://:***@db/forge"),
        ("postgresql://forge@db/forge?password=pw", "postgresql://forge@db/forge?password=***"),
        (
            "postgresql://forge@db/f?sslmode=require&password=a&x=1",
            "postgresql://forge@db/f?sslmode=require&password=***&x=1",
        ),
        (
            "postgresql://forge@db/f?PassWord=a;sslpassword=b",
            "postgresql://forge@db/f?PassWord=***;sslpassword=***",
        ),
        ("postgresql://forge@db/forge", "postgresql://forge@db/forge"),
        ("forge.db", "forge.db"),
        ("http://alice:pw@127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ],
)
def test_one_redaction_keeps_the_url_readable(url: str, shown: str) -> None:
    assert redact_location(url) == shown
    assert redact_location(shown) == shown  # redacting twice changes nothing
    assert redact(f"{url}: cannot connect") == f"{shown}: cannot connect"  # the colon stays
    assert redact(f"store {url}.") == f"store {shown}."


def _store(pg_server: str) -> str:
    return create_database(pg_server, "red_" + uuid.uuid4().hex[:10])


def _forms(url: str) -> list[tuple[str, list[str], dict[str, str]]]:
    """(label, --db arguments, environment) for each way a password can be given."""
    with_user = url.replace("postgresql://forge@", f"postgresql://forge:{PASSWORD}@")
    in_query = f"{url}&password={PASSWORD}"
    return [
        ("user-info", ["--db", with_user], {}),
        ("query", ["--db", in_query], {}),
        ("env user-info", [], {"SCENARIO_FORGE_DB": with_user}),
        ("env query", [], {"SCENARIO_FORGE_DB": in_query}),
    ]


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("form", range(4))
def test_no_command_prints_or_writes_the_password(
    pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: int
) -> None:
    monkeypatch.chdir(tmp_path)
    label, db, env = _forms(_store(pg_server))[form]
    missing = _forms(pg_server.format(db="no_such_database"))[form]
    runner = CliRunner()
    said: list[str] = []

    def run(
        *args: str, db_args: list[str] = db, env_vars: dict[str, str] = env, stdin: str = ""
    ) -> None:
        # --db goes after the subcommand's own arguments
        r = runner.invoke(main, [*args, *db_args], env=env_vars, input=stdin)
        # the transcript names the command only: its arguments hold the password
        said.append(f"$ {args[0]} -> {r.exit_code}\n{r.output}")

    run("init")
    run("init", "--json")
    run("generate", "--target", "harmful_code", "--count", "3", "--seed", "1")
    run("complete", "--source", "template")
    run("stats")
    run("stats", "--json")
    run("list")
    run("export", str(tmp_path / "out"))
    run("export", str(tmp_path / "out2"), "--target", "no_such_target")
    run("users", "add", "ana", "--password-stdin", stdin="a long passphrase\n")
    run("users", "list")
    run("review", "export-queue", str(tmp_path / "queue.jsonl"), "--reviewer", "ana")
    run("check")
    run("backup", str(tmp_path / "backup.db"))
    location = db[1] if db else env["SCENARIO_FORGE_DB"]
    run("migrate-store", location, str(tmp_path / "copy.db"), db_args=[], env_vars={})
    run("stats", db_args=missing[1], env_vars=missing[2])  # cannot connect: an error line
    run("init", db_args=missing[1], env_vars=missing[2])
    text = "\n".join(said)
    assert "-> 0" in text and "-> 1" in text, text  # both successes and errors were seen
    assert "***" in text, text  # the location is shown, masked
    assert PASSWORD not in text, (label, text)
    for path in _files(tmp_path):
        assert PASSWORD.encode() not in path.read_bytes(), path
