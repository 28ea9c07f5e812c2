"""URL user-info and API keys never reach the store, an export or the terminal (issue 17).

A real chat-completions server on 127.0.0.1 answers ``scenario-forge complete --source model``
and ``model-forge generate`` given ``base_url=http://alice:PASSWORD@127.0.0.1:PORT/v1`` and an
API key; then the store file, every file and every parquet value of the export, and all output
are searched for the secrets.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class ChatServer:
    """Answers every chat-completions request (or fails with ``status``); keeps the headers."""

    def __init__(self, status: int = 200) -> None:
        self.auth: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                json.loads(self.rfile.read(length))
                server.auth.append(self.headers.get("Authorization", ""))
                body = (
                    {
                        "choices": [
                            {
                                "message": {"content": "I can't help with that."},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 5},
                    }
                    if status == 200
                    else {"error": {"message": "overloaded"}}
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def secret_url(self) -> str:
        return f"http://alice:{PASSWORD}@127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer()
    yield s
    s.close()


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


def test_secrets_reach_neither_store_nor_export_nor_output(
    tmp_path: Path, server: ChatServer
) -> None:
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
            f"base_url={server.secret_url}",
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
    assert server.auth and set(server.auth) == {expected}

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
            f"base_url={server.secret_url}",
            "--option",
            f"api_key={API_KEY}",
        ],
    )
    assert res.exit_code == 0, res.output
    _assert_clean(res.output + replies.read_text(), "generate's output")


def test_error_lines_carry_no_secret(tmp_path: Path) -> None:
    failing = ChatServer(status=500)
    try:
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
                f"base_url={failing.secret_url}",
                "--option",
                f"api_key={API_KEY}",
                "--option",
                "max_retries=0",
                "--db",
                str(db),
            ],
        )
    finally:
        failing.close()
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
