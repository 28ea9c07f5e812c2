"""Test-session environment for every package: no hub, no real home, no user caches.

This runs before any test module imports ``datasets`` or ``transformers``, so their cache
locations and offline switches are read from here.
"""

from __future__ import annotations

import os
import tempfile

_TMP = tempfile.mkdtemp(prefix="forge-tests-")
os.environ["HF_HOME"] = os.path.join(_TMP, "hf")
os.environ["HF_DATASETS_CACHE"] = os.path.join(_TMP, "hf", "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["WANDB_DISABLED"] = "true"
os.environ.setdefault("SCENARIO_FORGE_REVIEWER", "tester")
# The converted bundled model is cached across sessions on purpose (conversion takes ~25 s);
# tests that check the conversion itself point MODEL_FORGE_CACHE at a temp folder.
os.environ.pop("SCENARIO_FORGE_DB", None)


# ---------------------------------------------------------------- a throwaway PostgreSQL server

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server in a temp folder for this test session; yields its URL template.

    Skipped when the server binaries are missing, except in CI (``CI=true``), where that fails.
    As root (initdb refuses root) the server runs as the ``postgres`` user.
    """
    from scenario_forge.pg_throwaway import available, throwaway_server

    if not available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with throwaway_server() as base:
        yield base


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A new, empty database on the session's server: its ``postgresql://`` URL."""
    from scenario_forge.pg_throwaway import create_database

    return create_database(pg_server, "t_" + uuid.uuid4().hex[:12])


# ---------------------------------------------------------------- shared test data

from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def _seed_store(store: Any, targets: Sequence[str] | None, count: int, seed: int = 0) -> None:
    from scenario_forge.api import complete_with_templates, generate_scenarios
    from scenario_forge.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    generate_scenarios(store, taxonomy, list(targets) if targets else None, count=count, seed=seed)
    complete_with_templates(store, taxonomy)


@pytest.fixture(scope="session")
def seed_store() -> Callable[..., None]:
    """``seed_store(store, targets, count, seed=0)``: template scenarios of the built-in
    taxonomy (``targets``; ``None``: every target) and their template answers, in ``store``."""
    return _seed_store


@pytest.fixture(scope="session")
def template_export(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``template_export(targets, count, test_size=, seed=0, export_seed=0)``: a new SQLite
    store seeded as :func:`seed_store` does, exported with ``forge_export``; the export folder
    (its store is ``forge.db`` beside it)."""

    def make(
        targets: Sequence[str] | None,
        count: int,
        *,
        test_size: float,
        seed: int = 0,
        export_seed: int = 0,
    ) -> Path:
        from forge_export.exporters.huggingface import ExportOptions
        from scenario_forge.api import export_store
        from scenario_forge.store import ScenarioStore

        root = tmp_path_factory.mktemp("template-export")
        with ScenarioStore.open(root / "forge.db") as store:
            _seed_store(store, targets, count, seed)
            export_store(
                store, root / "export", ExportOptions(test_size=test_size, seed=export_seed)
            )
        return root / "export"

    return make


@pytest.fixture(scope="session")
def synthetic_export_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``synthetic_export_of(n, **ExportOptions)``: an export of ``n`` synthetic bundles
    (:func:`forge_export.synthetic.synthetic_bundles`: every second one with a rejected
    completion) in a new folder."""

    def make(n: int, **options: Any) -> Path:
        from forge_export.exporters.huggingface import ExportOptions, export_dataset
        from forge_export.synthetic import synthetic_bundles

        out = tmp_path_factory.mktemp("synthetic-export") / "export"
        export_dataset(synthetic_bundles(n), out, ExportOptions(**options))
        return out

    return make


@pytest.fixture
def synthetic_export(synthetic_export_of: Callable[..., Path]) -> Path:
    """A fresh export of 12 synthetic bundles, all in ``train`` (a test may damage it)."""
    return synthetic_export_of(12, test_size=0)


# ---------------------------------------------------------------- fake JSON-over-HTTP servers

import json  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

JsonReply = tuple[int, Any, dict[str, str]]
"""What a fake server answers: HTTP status, JSON payload, extra headers."""
JsonHandler = Callable[[int, str, dict[str, Any], dict[str, str]], JsonReply]
"""``handler(n, path, body, headers)``: the ``n``-th request (from 1), its path, JSON body and
lower-cased headers -> the reply. It may block (to hold requests in flight) or sleep."""


def chat_completion(text: str, *, model: str = "m", finish_reason: str = "stop") -> dict[str, Any]:
    """A chat-completions response whose one choice says ``text``."""
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5},
    }


class JsonServer:
    """A JSON-over-HTTP server on 127.0.0.1 (a free port) in a daemon thread.

    Every POST is recorded in :attr:`requests` as ``(path, body, headers)`` before ``handler``
    answers it; a client that gave up (timeout) does not fail the server.
    """

    def __init__(self, handler: JsonHandler, api_path: str) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        lock = threading.Lock()
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                with lock:
                    requests.append((self.path, body, headers))
                    n = len(requests)
                status, payload, extra = handler(n, self.path, body, headers)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}{api_path}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received, in order."""
        return [body for _, body, _ in self.requests]

    def close(self) -> None:
        """Stop serving and free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def json_server() -> Iterator[Callable[..., JsonServer]]:
    """``json_server(handler, api_path="/v1")`` or ``json_server(chat=fn)``: a started
    :class:`JsonServer`, closed after the test.

    With ``chat=fn`` every request is answered 200 with a chat-completions response saying
    ``fn(body)`` (an OpenAI-compatible model that answers with whatever ``fn`` decides).
    """
    started: list[JsonServer] = []

    def make(
        handler: JsonHandler | None = None,
        *,
        chat: Callable[[dict[str, Any]], str] | None = None,
        api_path: str = "/v1",
    ) -> JsonServer:
        if chat is not None:

            def handler(
                n: int, path: str, body: dict[str, Any], headers: dict[str, str]
            ) -> JsonReply:
                return 200, chat_completion(chat(body), model=str(body.get("model", "m"))), {}

        assert handler is not None, "give a handler or chat="
        started.append(JsonServer(handler, api_path))
        return started[-1]

    yield make
    for server in started:
        server.close()
