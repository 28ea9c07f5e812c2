"""The openai backend against a real local HTTP server speaking the chat-completions protocol."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from forge_export.errors import ForgeError
from model_forge.generation import GenerationRequest, SamplingParams, load_backend
from model_forge.generation.openai_backend import OpenAIBackend

# behaviour(n, body, headers) -> (status, payload, extra headers, sleep seconds)
Behaviour = Callable[[int, dict[str, Any], dict[str, str]], tuple[int, Any, dict[str, str], float]]


def reply(body: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """A chat-completions response echoing the last user message."""
    last = body["messages"][-1]["content"]
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text or f"echo: {last}"},
                "finish_reason": "length" if body.get("max_tokens", 99) < 5 else "stop",
            }
        ],
        "usage": {"prompt_tokens": len(last.split()), "completion_tokens": 3},
    }


def reqs(n: int, max_new_tokens: int = 16) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            f"r{i}",
            [{"role": "user", "content": f"question {i}"}],
            SamplingParams(max_new_tokens=max_new_tokens),
        )
        for i in range(n)
    ]


@pytest.fixture
def server_factory(json_server: Callable[..., Any]) -> Callable[[Behaviour], Any]:
    """``server_factory(behaviour)``: a local chat-completions server (root conftest's
    ``json_server``) answering per ``behaviour``, after its sleep."""

    def make(behaviour: Behaviour) -> Any:
        def handle(n: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            status, payload, extra, sleep = behaviour(n, body, headers)
            if sleep:
                time.sleep(sleep)
            return status, payload, extra

        return json_server(handle)

    return make


def test_success_in_order_with_usage_and_auth(server_factory: Any) -> None:
    server = server_factory(lambda n, body, h: (200, reply(body), {}, 0.01 * (n % 3)))
    backend = load_backend(
        "openai:my-model", base_url=server.base_url, api_key="sk-test", max_concurrency=3
    )
    done: list[int] = []
    gens = backend.generate(reqs(7), progress=done.append)
    assert [g.request_id for g in gens] == [f"r{i}" for i in range(7)]
    assert [g.text for g in gens] == [f"echo: question {i}" for i in range(7)]
    assert all(g.model_id == "my-model" and g.finish_reason == "stop" for g in gens)
    assert gens[0].prompt_tokens == 2 and gens[0].completion_tokens == 3
    assert sum(done) == 7
    assert len(server.requests) == 7
    path, body, headers = server.requests[0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "my-model" and body["max_tokens"] == 16 and body["temperature"] == 0
    assert headers["authorization"] == "Bearer sk-test"


def test_base_url_and_key_from_environment(server_factory: Any, monkeypatch: Any) -> None:
    server = server_factory(lambda n, body, h: (200, reply(body), {}, 0))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    [g] = load_backend("openai:m").generate(reqs(1, max_new_tokens=2))
    assert g.finish_reason == "length"
    assert server.requests[0][2]["authorization"] == "Bearer sk-env"


def test_429_then_success_is_retried_honouring_retry_after(server_factory: Any) -> None:
    def behaviour(
        n: int, body: dict[str, Any], h: dict[str, str]
    ) -> tuple[int, Any, dict[str, str], float]:
        if n == 1:
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}, 0
        return 200, reply(body), {}, 0

    server = server_factory(behaviour)
    backend = OpenAIBackend("m", base_url=server.base_url, api_key="k", backoff=0.01)
    started = time.perf_counter()
    [g] = backend.generate(reqs(1))
    elapsed = time.perf_counter() - started
    assert g.text == "echo: question 0"
    assert len(server.requests) == 2
    assert elapsed >= 0.9, "Retry-After: 1 was not honoured"


def test_500_every_time_gives_up_after_max_retries(server_factory: Any) -> None:
    server = server_factory(lambda n, b, h: (500, {"error": {"message": "boom"}}, {}, 0))
    backend = OpenAIBackend("m", base_url=server.base_url, api_key="k", max_retries=2, backoff=0.01)
    with pytest.raises(ForgeError) as info:
        backend.generate(reqs(1))
    msg = str(info.value)
    assert "gave up" in msg and "3 attempt(s)" in msg and "HTTP 500" in msg and "boom" in msg
    assert len(server.requests) == 3


def test_500_recorded_as_error_when_asked(server_factory: Any) -> None:
    server = server_factory(
        lambda n, b, h: (
            (503, {"error": "down"}, {}, 0)
            if "1" in b["messages"][-1]["content"]
            else (200, reply(b), {}, 0)
        )
    )
    backend = OpenAIBackend(
        "m", base_url=server.base_url, max_retries=1, backoff=0.01, on_error="record"
    )
    gens = backend.generate(reqs(3))
    assert [g.finish_reason for g in gens] == ["stop", "error", "stop"]
    assert gens[1].text == "" and "HTTP 503" in (gens[1].error or "")
    assert len(server.requests) == 4  # two good ones, the bad one twice


def test_timeout_is_a_clear_error(server_factory: Any) -> None:
    server = server_factory(lambda n, b, h: (200, reply(b), {}, 1.5))
    backend = OpenAIBackend("m", base_url=server.base_url, timeout=0.3, max_retries=1, backoff=0.01)
    started = time.perf_counter()
    with pytest.raises(ForgeError, match=r"timed out after 0.3 s") as info:
        backend.generate(reqs(1))
    assert "2 attempt(s)" in str(info.value)
    # waiting for even one of the slow server's replies would take 1.5 s
    assert time.perf_counter() - started < 1.5
    assert len(server.requests) == 2


def test_401_is_a_clear_error_and_not_retried(server_factory: Any) -> None:
    server = server_factory(
        lambda n, b, h: (401, {"error": {"message": "Incorrect API key provided"}}, {}, 0)
    )
    backend = OpenAIBackend("m", base_url=server.base_url, api_key="bad", backoff=0.01)
    with pytest.raises(ForgeError, match="check OPENAI_API_KEY") as info:
        backend.generate(reqs(1))
    assert "Incorrect API key" in str(info.value)
    assert len(server.requests) == 1


def test_404_names_model_and_url(server_factory: Any) -> None:
    server = server_factory(lambda n, b, h: (404, {"error": {"message": "no such model"}}, {}, 0))
    backend = OpenAIBackend("nope", base_url=server.base_url, backoff=0.01)
    with pytest.raises(ForgeError, match=r"model or URL not found: .*/v1/chat/completions"):
        backend.generate(reqs(1))
    assert len(server.requests) == 1


def test_connection_refused_is_retried_then_clear(server_factory: Any) -> None:
    server = server_factory(lambda n, b, h: (200, reply(b), {}, 0))
    url = server.base_url
    server.close()  # nothing listens there any more
    backend = OpenAIBackend("m", base_url=url, max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(ForgeError, match="connection error") as info:
        backend.generate(reqs(1))
    assert "2 attempt(s)" in str(info.value)
    assert backend.requests_sent == 2


def test_concurrency_is_bounded(server_factory: Any) -> None:
    active = [0, 0]  # now, peak
    lock = threading.Lock()

    def behaviour(
        n: int, body: dict[str, Any], h: dict[str, str]
    ) -> tuple[int, Any, dict[str, str], float]:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return 200, reply(body), {}, 0

    server = server_factory(behaviour)
    backend = OpenAIBackend("m", base_url=server.base_url, max_concurrency=2)
    gens = backend.generate(reqs(6))
    assert len(gens) == 6 and len(server.requests) == 6
    assert active[1] == 2
