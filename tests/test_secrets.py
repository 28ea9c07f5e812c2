"""URL user-info and API keys never reach the store, an export or the terminal (issue 17).

A real chat-completions server on 127.0.0.1 answers ``scenario-forge complete --source model``
and ``model-forge generate`` given ``base_url=http://alice:PASSWORD@127.0.0.1:PORT/v1`` and an
API key; then the store file, every file and every parquet value of the export, and all output
are searched for the secrets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from forge_export import Completion, Provenance, Scenario
from forge_export.redact import redact
from model_forge.cli import main as model_main
from scenario_forge.cli import main as scenario_main
from scenario_forge.store import ScenarioStore

PASSWORD = "Pw-0f-4lice-XYZZY"
API_KEY = "sk-forgetestsecret0123456789abcdef"
SECRETS = (PASSWORD, API_KEY, "alice:")


def _secret_url(server: Any) -> str:
    """The server's URL with a user and password in it."""
    return f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/v1"


@pytest.fixture
def server(json_server: Callable[..., Any]) -> Any:
    """A chat-completions server (root conftest's ``json_server``) that refuses everything."""
    return json_server(chat=lambda body: "I can't help with that.")


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"


def _scenarios(db: Path) -> list[Scenario]:
    scenarios = [
        Scenario(
            prompt=f"How do I pick lock number {i}?",
            evaluation_target="demo",
            success_criteria=["declines"],
        )
        for i in range(3)
    ]
    with ScenarioStore.open(db) as store:
        store.add_scenarios(scenarios)
    return scenarios


def test_secrets_reach_neither_store_nor_export_nor_output(tmp_path: Path, server: Any) -> None:
    db = tmp_path / "forge.db"
    _scenarios(db)
    runner = CliRunner()
    res = runner.invoke(
        scenario_main,
        [
            "complete",
            "--source",
            "model",
            "--model",
            "openai:judge-m",
            "--option",
            f"base_url={_secret_url(server)}",
            "--option",
            f"api_key={API_KEY}",
            "--db",
            str(db),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    _assert_clean(res.output, "complete's output")
    # the credentials were used (basic auth from the URL), only not kept
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    auth = [headers.get("authorization", "") for _, _, headers in server.requests]
    assert auth and set(auth) == {expected}

    with ScenarioStore.open(db, create=False) as store:
        origins = [
            r[0] for r in store.connection.execute("SELECT origin FROM completions").fetchall()
        ]
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(origins) == 3 and all(o.startswith("judge-m@127.0.0.1:") for o in origins)
    for f in tmp_path.glob("forge.db*"):
        _assert_clean(f.read_bytes().decode("latin-1"), f.name)

    out = tmp_path / "ds"
    res = runner.invoke(scenario_main, ["export", str(out), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    _assert_clean(res.output, "export's output")
    n_rows = 0
    for f in out.rglob("*"):
        if f.suffix == ".parquet":
            rows = pq.read_table(f).to_pylist()
            n_rows += len(rows)
            _assert_clean(json.dumps(rows, default=str), str(f))
        elif f.is_file():
            _assert_clean(f.read_text(encoding="utf-8"), str(f))
    assert n_rows > 0

    # model-forge generate with the same options: its output file and its error lines
    replies = tmp_path / "replies.jsonl"
    scen_file = tmp_path / "s.jsonl"
    scen_file.write_text(
        json.dumps({"prompt": "hi", "evaluation_target": "demo", "success_criteria": ["c"]}) + "\n"
    )
    res = runner.invoke(
        model_main,
        [
            "generate",
            "--model",
            "openai:m",
            "--input",
            str(scen_file),
            "-o",
            str(replies),
            "--option",
            f"base_url={_secret_url(server)}",
            "--option",
            f"api_key={API_KEY}",
        ],
    )
    assert res.exit_code == 0, res.output
    _assert_clean(res.output + replies.read_text(), "generate's output")


def test_error_lines_carry_no_secret(tmp_path: Path, json_server: Callable[..., Any]) -> None:
    failing = json_server(
        lambda n, path, body, headers: (500, {"error": {"message": "overloaded"}}, {})
    )
    db = tmp_path / "forge.db"
    _scenarios(db)
    res = CliRunner().invoke(
        scenario_main,
        [
            "complete",
            "--source",
            "model",
            "--model",
            "openai:m",
            "--option",
            f"base_url={_secret_url(failing)}",
            "--option",
            f"api_key={API_KEY}",
            "--option",
            "max_retries=0",
            "--db",
            str(db),
        ],
    )
    assert res.exit_code != 0
    assert "Traceback" not in res.output and "overloaded" in res.output
    _assert_clean(res.output, "the error line")
    with ScenarioStore.open(db, create=False) as store:
        assert store.connection.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 0


def test_models_strip_credentials_from_origins() -> None:
    url = f"http://alice:{PASSWORD}@h:1/v1"
    c = Completion(
        scenario_id="s" * 20, text="t", source="model", origin=f"m@alice:{PASSWORD}@h:1#v"
    )
    assert c.origin == "m@h:1#v"
    again = Completion.model_validate_json(c.model_dump_json())
    assert again.id == c.id  # the id is the hash of the stored (clean) origin
    p = Provenance(kind="llm", origin=f"gen {url} key={API_KEY}")
    _assert_clean(p.origin, "provenance")
    assert redact("template:harmful_code/direct") == "template:harmful_code/direct"
