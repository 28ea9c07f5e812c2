"""The mock backend: canned answers without a model, for tests and dry runs (``mock:NAME``).

Like inspect_ai's ``mockllm/model``: ``load_backend("mock:NAME")`` answers every request with a
fixed reply, instantly and deterministically; ``mock:echo`` answers with the request's last
user message. Tests use it instead of writing their own stand-in backend classes.

Options:
    reply: The answer to every request (default ``"Mock reply from mock:NAME."``; ``""`` gives
        empty answers).
    replies: A list of answers, used in turn (request 1 gets the first, ...; it wraps around).
    model_id: The name in reports and provenance (default ``NAME``).
    revision: The weights fingerprint in provenance (default ``mock``).

A reply longer than the request's ``max_new_tokens`` words is cut there (``finish_reason``
``"length"``). Token counts are whitespace-separated words (prompt: all messages; completion:
the reply).

Example:
    >>> from model_forge.generation import GenerationRequest, SamplingParams, load_backend
    >>> backend = load_backend("mock:refuser", reply="I can't help with that.")
    >>> req = GenerationRequest("r1", [{"role": "user", "content": "hi"}], SamplingParams())
    >>> [g] = backend.generate([req])
    >>> g.text, g.model_id, g.completion_tokens
    ("I can't help with that.", 'refuser', 5)
    >>> load_backend("mock:echo").generate([req])[0].text
    'hi'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forge_export.errors import ForgeError

from model_forge.generation.types import Generation, GenerationRequest, ProgressCallback

_OPTIONS = frozenset({"reply", "replies", "model_id", "revision", "batch_size"})


class MockBackend:
    """Canned answers (see the module docstring).

    Args:
        name: The part of the spec after ``mock:`` (``echo`` echoes the last user message).
        **options: ``reply``, ``replies``, ``model_id``, ``revision`` (``batch_size`` is
            accepted and ignored, as callers pass it to every backend).

    Raises:
        ForgeError: an unknown option, or ``replies`` that is not a non-empty list of text.
    """

    def __init__(self, name: str, **options: Any) -> None:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise ForgeError(
                f"unknown option(s) for a mock model: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_OPTIONS))})"
            )
        self.name = name
        self.echo = name == "echo"
        self.model_id = str(options.get("model_id") or name)
        self.revision = str(options.get("revision") or "mock")
        replies = options.get("replies")
        if replies is not None and (
            isinstance(replies, str) or not replies or not all(isinstance(r, str) for r in replies)
        ):
            raise ForgeError("option replies: give a non-empty list of answers (text)")
        reply = options.get("reply", f"Mock reply from mock:{name}.")
        self.replies: list[str] = list(replies) if replies is not None else [str(reply)]
        self.calls = 0

    def _answer(self, request: GenerationRequest) -> str:
        if self.echo:
            users = [m["content"] for m in request.messages if m.get("role") == "user"]
            return users[-1] if users else ""
        return self.replies[self.calls % len(self.replies)]

    def generate(
        self, requests: Sequence[GenerationRequest], *, progress: ProgressCallback | None = None
    ) -> list[Generation]:
        """One canned answer per request, in request order."""
        out = []
        for request in requests:
            text = self._answer(request)
            self.calls += 1
            words = text.split()
            limit = request.sampling.max_new_tokens
            finish = "length" if len(words) > limit else "stop"
            if finish == "length":
                text = " ".join(words[:limit])
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.messages)
            out.append(
                Generation(
                    request.id, text, self.model_id, prompt_tokens, len(text.split()), finish, 0.0
                )
            )
            if progress is not None:
                progress(1)
        return out
