"""The anthropic backend against a real local HTTP server speaking the Messages API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from forge_export.errors import ForgeError
from model_forge.cli import main
from model_forge.generation import GenerationRequest, SamplingParams, load_backend

# behaviour(n, body, headers) -> (status, payload, extra headers)
Behaviour = Callable[[int, dict[str, Any], dict[str, str]], tuple[int, Any, dict[str, str]]]


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def message(body: dict[str, Any]) -> dict[str, Any]:
    """A Messages API reply echoing the last user turn in two text blocks."""
    last = body["messages"][-1]["content"]
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": "echo: "}, {"type": "text", "text": last}],
        "stop_reason": "max_tokens" if body["max_tokens"] < 5 else "end_turn",
        "usage": {"input_tokens": len(last.split()), "output_tokens": 4},
    }


@pytest.fixture
def serve(json_server: Callable[..., Any]) -> Callable[[Behaviour], Any]:
    """``serve(behaviour)``: ``POST /v1/messages`` on 127.0.0.1 (root conftest's
    ``json_server``) answered per ``behaviour``; any other path is a 404."""

    def make(behaviour: Behaviour) -> Any:
        def handle(n: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            if path != "/v1/messages":
                return 404, _error("not_found_error", "no route"), {}
            return behaviour(n, body, headers)

        return json_server(handle, api_path="")

    return make


def _req(i: int, max_new_tokens: int = 32, system: str | None = None) -> GenerationRequest:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": f"question {i}"})
    return GenerationRequest(f"r{i}", messages, SamplingParams(max_new_tokens=max_new_tokens))


def test_wire_format_headers_and_reply(serve: Any) -> None:
    server = serve(lambda n, body, h: (200, message(body), {}))
    backend = load_backend("anthropic:claude-test", base_url=server.base_url, api_key="sk-ant")
    gens = backend.generate([_req(0, system="Be brief."), _req(1, max_new_tokens=3)])
    assert [g.text for g in gens] == ["echo: question 0", "echo: question 1"]
    assert [g.finish_reason for g in gens] == ["stop", "length"]
    assert (gens[0].prompt_tokens, gens[0].completion_tokens) == (2, 4)
    by_id = {body["messages"][-1]["content"]: (path, body, h) for path, body, h in server.requests}
    path, body, headers = by_id["question 0"]
    assert path == "/v1/messages"
    assert headers["x-api-key"] == "sk-ant" and "authorization" not in headers
    assert headers["anthropic-version"] == "2023-06-01"
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "question 0"}]
    assert body["model"] == "claude-test" and body["max_tokens"] == 32
    assert "top_p" not in body and "seed" not in body


def test_key_and_url_from_environment(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(lambda n, body, h: (200, message(body), {}))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    [gen] = load_backend("anthropic:m").generate([_req(0)])
    assert gen.text == "echo: question 0"
    assert server.requests[0][2]["x-api-key"] == "from-env"


def test_overloaded_is_retried_with_the_shared_backoff(serve: Any) -> None:
    def behaviour(n: int, body: dict[str, Any], h: dict[str, str]) -> tuple[int, Any, dict]:
        if n <= 2:
            return 529, _error("overloaded_error", "Overloaded"), {"retry-after": "0"}
        return 200, message(body), {}

    server = serve(behaviour)
    backend = load_backend("anthropic:m", base_url=server.base_url, api_key="k", backoff=0)
    [gen] = backend.generate([_req(0)])
    assert gen.text == "echo: question 0" and len(server.requests) == 3


def test_bad_key_names_anthropic_api_key_and_is_not_retried(serve: Any) -> None:
    server = serve(lambda n, b, h: (401, _error("authentication_error", "invalid x-api-key"), {}))
    backend = load_backend("anthropic:m", base_url=server.base_url, api_key="bad")
    with pytest.raises(ForgeError, match="invalid x-api-key.*check ANTHROPIC_API_KEY"):
        backend.generate([_req(0)])
    assert len(server.requests) == 1


def test_an_openai_style_reply_is_a_clear_error(serve: Any) -> None:
    server = serve(lambda n, b, h: (200, {"choices": [{"message": {"content": "x"}}]}, {}))
    backend = load_backend("anthropic:m", base_url=server.base_url, api_key="k")
    with pytest.raises(ForgeError, match="not a Messages API response"):
        backend.generate([_req(0)])


def test_generate_command_with_anthropic(serve: Any, tmp_path: Path) -> None:
    server = serve(lambda n, body, h: (200, message(body), {}))
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        json.dumps(
            {
                "prompt": "How do I boil an egg?",
                "evaluation_target": "benign",
                "success_criteria": ["Answers"],
                "expected_behavior": "comply",
            }
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    env = {"ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "k"}
    args = ["generate", "--model", "anthropic:claude-test", "--input", str(inp), "-o", str(out)]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["response"] == "echo: How do I boil an egg?"
    assert row["model_id"] == "claude-test"
