"""Anthropic backend: the Messages API (``POST {base_url}/v1/messages``) as ``anthropic:MODEL``.

A thin adapter over the OpenAI-compatible backend's HTTP machinery
(:class:`~model_forge.generation.openai_backend.OpenAIBackend`: one ``httpx`` client,
``max_concurrency`` requests in flight, the same retries, back-off, ``Retry-After`` handling,
timeouts and error messages); only the wire format differs:

* headers ``x-api-key`` (``$ANTHROPIC_API_KEY`` or ``api_key``) and ``anthropic-version``
  (``2023-06-01``, option ``anthropic_version``);
* the chat's system messages become the top-level ``system`` text, the other turns
  ``messages``; ``max_tokens`` is required; ``top_p`` is sent only below 1; the Messages API
  has no seed;
* the reply is the concatenated ``text`` content blocks; ``stop_reason`` ``max_tokens`` is
  ``finish_reason="length"``; ``usage.input_tokens`` / ``output_tokens`` are the token counts;
* ``529 overloaded`` is retried like any 5xx.

Example:
    >>> from model_forge.generation import load_backend
    >>> b = load_backend("anthropic:claude-haiku-4-5", base_url="http://127.0.0.1:9/", api_key="k")
    >>> b.url
    'http://127.0.0.1:9/v1/messages'
"""

from __future__ import annotations

from typing import Any

import httpx

from model_forge.generation.openai_backend import OpenAIBackend, _Fatal
from model_forge.generation.types import Generation, GenerationRequest

ANTHROPIC_VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent unless the ``anthropic_version`` option says otherwise."""


class AnthropicBackend(OpenAIBackend):
    """Messages API over HTTP with bounded concurrency, retries and timeouts.

    Args:
        model: The model name (``claude-...``).
        anthropic_version: The ``anthropic-version`` header.
        **options: As :class:`OpenAIBackend` (``base_url`` defaults to
            ``$ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``; ``api_key`` to
            ``$ANTHROPIC_API_KEY``; ``max_concurrency``, ``timeout``, ``max_retries``,
            ``backoff``, ``max_backoff``, ``on_error``, ``extra_body`` ...).
    """

    WIRE = "anthropic"
    BASE_URL_ENV = "ANTHROPIC_BASE_URL"
    API_KEY_ENV = "ANTHROPIC_API_KEY"
    DEFAULT_BASE_URL = "https://api.anthropic.com"
    PATH = "/v1/messages"
    BASE_URL_HINT = "the server's root, without /v1"

    def __init__(
        self, model: str, *, anthropic_version: str = ANTHROPIC_VERSION, **options: Any
    ) -> None:
        self.anthropic_version = anthropic_version
        super().__init__(model, **options)

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "anthropic-version": self.anthropic_version,
        }
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def _body(self, req: GenerationRequest) -> dict[str, Any]:
        s = req.sampling
        system = "\n\n".join(m["content"] for m in req.messages if m["role"] == "system")
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(s.max_new_tokens),
            "messages": [
                {"role": m["role"], "content": m["content"]}
                for m in req.messages
                if m["role"] != "system"
            ],
            "temperature": float(s.temperature),
        }
        if system:
            body["system"] = system
        if s.top_p < 1.0:
            body["top_p"] = float(s.top_p)
        body.update(self.extra_body)
        return body

    def _parse(self, req: GenerationRequest, resp: httpx.Response, latency: float) -> Generation:
        try:
            data = resp.json()
            blocks = data["content"]
            text = "".join(
                str(b.get("text") or "") for b in blocks if b.get("type", "text") == "text"
            )
            reason = "length" if data.get("stop_reason") == "max_tokens" else "stop"
            usage = data.get("usage") or {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Fatal(
                f"{self.url}: not a Messages API response ({type(exc).__name__}: {exc}); "
                f"is this an Anthropic-compatible endpoint? got: {resp.text[:200]!r}"
            ) from exc
        return Generation(
            request_id=req.id,
            text=text.strip(),
            model_id=self.model_id,
            prompt_tokens=int(usage.get("input_tokens") or 0),
            completion_tokens=int(usage.get("output_tokens") or 0),
            finish_reason=reason,
            latency_s=latency,
        )
