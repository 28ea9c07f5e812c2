"""OpenAI-compatible backend: any server speaking ``POST {base_url}/chat/completions``.

Works with OpenAI, vLLM, llama.cpp's server, Ollama, LM Studio, TGI and hosted gateways.

Outcomes, per request:

* ``200``: the reply (``choices[0].message.content``), ``usage`` token counts when the server
  reports them (else 0), ``finish_reason`` ``"length"`` when the server says so, else ``"stop"``.
* ``429`` and ``5xx``, connection errors, timeouts: retried up to ``max_retries`` times with
  exponential backoff (``backoff`` s, doubled each retry, at most ``max_backoff`` s); a
  ``Retry-After`` header (seconds or an HTTP date) is honoured instead, up to 120 s. After the
  last retry: a :class:`~forge_export.errors.ForgeError` naming the URL, the attempts and the
  last problem (or, with ``on_error="record"``, a ``Generation`` with ``finish_reason="error"``).
* ``401``/``403``: ``ForgeError`` "... check OPENAI_API_KEY", never retried.
* ``404``: ``ForgeError`` "model or URL not found: ...", never retried.
* other ``4xx``: ``ForgeError`` with the server's message, never retried.

Requests run ``max_concurrency`` at a time on threads sharing one ``httpx.Client``.

Example:
    >>> from model_forge.generation import load_backend
    >>> b = load_backend("openai:qwen2.5", base_url="http://127.0.0.1:8000/v1", api_key="x")
    >>> b.model_id, b.url
    ('qwen2.5', 'http://127.0.0.1:8000/v1/chat/completions')
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from forge_export.errors import ForgeError
from forge_export.redact import redact, strip_userinfo

from model_forge.generation.types import Generation, GenerationRequest, ProgressCallback
from model_forge.logs import get_logger

_LOG = get_logger("generation.http")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_RETRY_AFTER_S = 120.0


class _Fatal(ForgeError):
    """An error that no retry can fix (bad key, wrong URL or model, bad request)."""


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message", err) if isinstance(err, dict) else err
        text = str(msg)
    except ValueError:
        text = resp.text
    text = " ".join(text.split())
    return text[:300] or resp.reason_phrase


class OpenAIBackend:
    """Chat completions over HTTP with bounded concurrency, retries and timeouts.

    Args:
        model: The server's model name.
        base_url: Server URL ending in ``/v1`` (default ``$OPENAI_BASE_URL``, else OpenAI).
        api_key: Bearer key (default ``$OPENAI_API_KEY``; none is sent when neither is set).
        max_concurrency: Requests in flight at once.
        timeout: Seconds to wait for connect / each read.
        max_retries: Retries after the first attempt on 429, 5xx, timeouts, connection errors.
        backoff: First retry delay in seconds (doubled per retry).
        max_backoff: Longest computed delay between retries.
        on_error: ``"raise"`` (default) or ``"record"`` (a ``finish_reason="error"`` result).
        model_id: Name in results (default ``model``).
        extra_body: More JSON fields sent with every request (e.g. ``{"stop": [...]}``).
        batch_size: Accepted for symmetry with local backends and ignored.

    A subclass speaking another wire format (:mod:`model_forge.generation.anthropic_backend`)
    keeps the concurrency, retries and error handling and overrides the class attributes
    below, :meth:`_headers`, :meth:`_body` and :meth:`_parse`.
    """

    WIRE = "openai"
    """The backend's name in errors."""
    BASE_URL_ENV = "OPENAI_BASE_URL"
    API_KEY_ENV = "OPENAI_API_KEY"
    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    PATH = "/chat/completions"
    """Appended to the base URL."""
    BASE_URL_HINT = "it usually ends in /v1"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_concurrency: int | str = 4,
        timeout: float | str = 60.0,
        max_retries: int | str = 3,
        backoff: float | str = 0.5,
        max_backoff: float | str = 30.0,
        on_error: str = "raise",
        model_id: str | None = None,
        revision: str | None = None,
        extra_body: dict[str, Any] | None = None,
        batch_size: object = None,
    ) -> None:
        self.model = model
        raw_url = (base_url or os.environ.get(self.BASE_URL_ENV) or self.DEFAULT_BASE_URL).rstrip(
            "/"
        )
        # user:password@ in the URL becomes HTTP basic auth and is dropped from the URL, which
        # is printed in errors and goes into every completion's provenance (revision)
        self._auth: httpx.BasicAuth | None = None
        userinfo = urlsplit(raw_url).netloc.rpartition("@")[0] if "@" in raw_url else ""
        if userinfo:
            user, _, password = userinfo.partition(":")
            self._auth = httpx.BasicAuth(unquote(user), unquote(password))
        self.base_url = strip_userinfo(raw_url)
        self.url = f"{self.base_url}{self.PATH}"
        self.api_key = api_key if api_key is not None else os.environ.get(self.API_KEY_ENV)
        self.max_concurrency = int(max_concurrency)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        if self.max_concurrency < 1 or self.max_retries < 0 or self.timeout <= 0:
            raise ForgeError(
                f"{self.WIRE} backend: max_concurrency must be ≥ 1, max_retries ≥ 0 and timeout > 0"
            )
        if on_error not in ("raise", "record"):
            raise ForgeError(
                f"{self.WIRE} backend: on_error must be 'raise' or 'record', not {on_error!r}"
            )
        self.on_error = on_error
        self.model_id = model_id or model
        self.revision = redact(revision or urlsplit(self.base_url).netloc or self.base_url)
        self.extra_body = dict(extra_body or {})
        self._lock = threading.Lock()
        self.requests_sent = 0

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _body(self, req: GenerationRequest) -> dict[str, Any]:
        s = req.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in req.messages],
            "max_tokens": int(s.max_new_tokens),
            "temperature": float(s.temperature),
            "top_p": float(s.top_p),
        }
        if s.seed is not None:
            body["seed"] = int(s.seed)
        body.update(self.extra_body)
        return body

    def _one(self, client: httpx.Client, req: GenerationRequest) -> Generation:
        started = time.perf_counter()
        body = self._body(req)
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            wait_s: float | None = None
            try:
                with self._lock:
                    self.requests_sent += 1
                resp = client.post(self.url, json=body)
            except httpx.TimeoutException:
                last = f"timed out after {self.timeout:g} s (raise the 'timeout' option?)"
            except httpx.TransportError as exc:
                last = f"connection error: {exc or type(exc).__name__}"
            else:
                status = resp.status_code
                if status == 200:
                    return self._parse(req, resp, time.perf_counter() - started)
                if status in (401, 403):
                    raise _Fatal(
                        f"{self.url}: HTTP {status} {_server_message(resp)}: the server refused "
                        f"the API key; check {self.API_KEY_ENV} (or the api_key option)"
                    )
                if status == 404:
                    raise _Fatal(
                        f"model or URL not found: {self.url} (model {self.model!r}): "
                        f"{_server_message(resp)}; check {self.BASE_URL_ENV} "
                        f"({self.BASE_URL_HINT}) and the model name"
                    )
                if status != 429 and status < 500:
                    raise _Fatal(f"{self.url}: HTTP {status}: {_server_message(resp)}")
                last = f"HTTP {status}: {_server_message(resp)}"
                wait_s = _parse_retry_after(resp.headers.get("Retry-After"))
            if attempt == self.max_retries:
                break
            if wait_s is None:
                wait_s = min(self.max_backoff, self.backoff * (2**attempt))
            _LOG.debug(
                "%s: request %r: %s; retry %d of %d in %.2g s",
                self.url,
                req.id,
                last,
                attempt + 1,
                self.max_retries,
                min(wait_s, MAX_RETRY_AFTER_S),
            )
            time.sleep(min(wait_s, MAX_RETRY_AFTER_S))
        message = (
            f"{self.url}: gave up on request {req.id!r} after {self.max_retries + 1} "
            f"attempt(s): {last}"
        )
        if self.on_error == "record":
            return Generation(
                request_id=req.id,
                text="",
                model_id=self.model_id,
                prompt_tokens=0,
                completion_tokens=0,
                finish_reason="error",
                latency_s=time.perf_counter() - started,
                error=message,
            )
        raise ForgeError(message)

    def _parse(self, req: GenerationRequest, resp: httpx.Response, latency: float) -> Generation:
        try:
            data = resp.json()
            choice = data["choices"][0]
            text = choice.get("message", {}).get("content") or ""
            reason = "length" if choice.get("finish_reason") == "length" else "stop"
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise _Fatal(
                f"{self.url}: not a chat-completions response ({type(exc).__name__}: {exc}); "
                f"is this an OpenAI-compatible /v1 endpoint? got: {resp.text[:200]!r}"
            ) from exc
        return Generation(
            request_id=req.id,
            text=str(text).strip(),
            model_id=self.model_id,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=reason,
            latency_s=latency,
        )

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Send ``requests``, ``max_concurrency`` at a time; results in request order.

        Raises:
            ForgeError: a bad key (401/403), a wrong URL or model (404), a bad request, or a
                request that still failed after ``max_retries`` retries (unless
                ``on_error="record"``).
        """
        if not requests:
            return []
        results: list[Generation | None] = [None] * len(requests)
        timeout = httpx.Timeout(self.timeout)
        limits = httpx.Limits(max_connections=self.max_concurrency)
        with (
            httpx.Client(
                timeout=timeout, limits=limits, headers=self._headers(), auth=self._auth
            ) as client,
            ThreadPoolExecutor(max_workers=self.max_concurrency) as pool,
        ):
            futures = {pool.submit(self._one, client, r): i for i, r in enumerate(requests)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    exc = fut.exception()
                    if exc is not None:
                        for other in pending:
                            other.cancel()
                        raise exc
                    results[futures[fut]] = fut.result()
                    if progress is not None:
                        progress(1)
        return [g for g in results if g is not None]
