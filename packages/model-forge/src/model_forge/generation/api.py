"""The completion-generation API: requests, results, the ``Backend`` protocol, ``load_backend``.

Every backend turns a batch of chat requests into one :class:`Generation` each, in request
order. Callers never care which backend runs: a local transformers checkpoint, any
OpenAI-compatible server, the bundled SmolLM2-135M-Instruct or the tiny random test model.

Example:
    >>> from model_forge.generation import GenerationRequest, SamplingParams, load_backend
    >>> backend = load_backend("tiny")
    >>> [g] = backend.generate([GenerationRequest("r1", [{"role": "user", "content": "hi"}],
    ...                                           SamplingParams(max_new_tokens=4))])
    >>> g.request_id, g.model_id, g.completion_tokens <= 4
    ('r1', 'forge/tiny-random-llama', True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from forge_export.errors import ForgeError

from model_forge.model_spec import MODEL_SPECS, resolve_model

FinishReason = str
"""``"stop"`` (the model ended its turn), ``"length"`` (``max_new_tokens`` hit) or ``"error"``."""

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class SamplingParams:
    """How to decode.

    Attributes:
        max_new_tokens: Most tokens to generate per request.
        temperature: 0 means greedy (deterministic); above 0 samples.
        top_p: Nucleus sampling mass (only used when sampling).
        seed: Seed for sampling (``None``: not reseeded).
    """

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        """True when decoding is greedy (``temperature`` 0)."""
        return self.temperature <= 0.0


@dataclass(frozen=True)
class GenerationRequest:
    """One chat to answer.

    Attributes:
        id: The caller's id, echoed back as ``Generation.request_id``.
        messages: Chat messages ``{"role": ..., "content": ...}``, e.g. ``Scenario.messages()``.
        sampling: Decoding parameters.
    """

    id: str
    messages: list[dict[str, str]]
    sampling: SamplingParams = field(default_factory=SamplingParams)


@dataclass(frozen=True)
class Generation:
    """The answer to one :class:`GenerationRequest`.

    Attributes:
        request_id: The request's ``id``.
        text: The generated reply (special tokens removed).
        model_id: The backend's ``model_id``.
        prompt_tokens: Tokens of the rendered prompt.
        completion_tokens: Tokens generated (up to and including the end-of-turn token).
        finish_reason: ``"stop"``, ``"length"`` or ``"error"``.
        latency_s: Seconds the request took (for batched backends: its batch's wall time).
        error: For ``finish_reason == "error"``: what went wrong.
    """

    request_id: str
    text: str
    model_id: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason
    latency_s: float
    error: str | None = None


@runtime_checkable
class Backend(Protocol):
    """Something that answers chat requests.

    Attributes:
        model_id: Names the model in reports and completion provenance.
    """

    model_id: str

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Answer ``requests``; the result has the same order as ``requests``.

        Args:
            requests: The chats to answer.
            progress: Called with ``n`` each time ``n`` more requests are done.
        """
        ...


BACKENDS: dict[str, str] = MODEL_SPECS
"""The model specs :func:`load_backend` understands (:data:`model_forge.model_spec.MODEL_SPECS`)."""


def model_revision(backend: Backend) -> str:
    """The backend's ``revision`` attribute, or ``"unknown"`` when it has none."""
    return str(getattr(backend, "revision", "") or "unknown")


def load_backend(spec: str, **options: Any) -> Backend:
    """Build the backend named by ``spec``.

    Args:
        spec: ``"bundled"``, ``"tiny"``, ``"openai:MODEL"`` or a local folder (a transformers
            checkpoint, or a PEFT adapter whose ``adapter_config.json`` names its base).
        **options: Backend options. Local models: ``batch_size`` (8), ``device``
            (``"auto"``: CUDA when available), ``dtype``, ``prune_finished`` (True),
            ``merge_adapter`` (True), ``model_id``, ``revision``; ``tiny`` also ``init_std``.
            OpenAI: ``base_url``, ``api_key``,
            ``max_concurrency`` (4), ``timeout`` (60 s), ``max_retries`` (3), ``backoff``
            (0.5 s, doubled per retry), ``on_error`` (``"raise"`` or ``"record"``).

    Raises:
        ForgeError: unknown spec, missing folder, unknown option.
    """
    try:
        return _load_backend(spec, **options)
    except ForgeError:
        raise
    except (TypeError, ValueError, RuntimeError) as exc:  # e.g. device=quantum, an unknown key
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items() if k != "api_key")
        raise ForgeError(
            f"model {spec!r}: a backend option has a bad value ({exc}); options given: "
            f"{shown or 'none'}; see `model-forge generate --help`"
        ) from None


def _load_backend(spec: str, **options: Any) -> Backend:
    resolved = resolve_model(spec)
    if resolved.kind == "openai":
        from model_forge.generation.openai_backend import OpenAIBackend

        return OpenAIBackend(str(resolved.name), **options)
    from model_forge.generation.transformers_backend import TransformersBackend

    if resolved.kind == "tiny":
        return TransformersBackend.tiny(**options)
    if resolved.kind == "bundled":
        return TransformersBackend.bundled(**options)
    return TransformersBackend.from_path(resolved.path or Path(spec), **options)
