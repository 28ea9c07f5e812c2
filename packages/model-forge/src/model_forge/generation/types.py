"""The types of the completion-generation API: requests, results and the ``Backend`` protocol.

Backends import these from here, and :mod:`model_forge.generation.api` (``load_backend``)
imports the backends, so no module of the package imports one that imports it back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from model_forge.generate_config import GenerateOptions

_DEFAULTS = GenerateOptions()

FinishReason = str
"""``"stop"`` (the model ended its turn), ``"length"`` (``max_new_tokens`` hit) or ``"error"``."""

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class SamplingParams:
    """How to decode (the defaults are :class:`~model_forge.generate_config.GenerateOptions`').

    Attributes:
        max_new_tokens: Most tokens to generate per request.
        temperature: 0 means greedy (deterministic); above 0 samples.
        top_p: Nucleus sampling mass (only used when sampling).
        seed: Seed for sampling (``None``: not reseeded).
    """

    max_new_tokens: int = _DEFAULTS.max_new_tokens
    temperature: float = _DEFAULTS.temperature
    top_p: float = _DEFAULTS.top_p
    seed: int | None = _DEFAULTS.seed

    @classmethod
    def from_options(cls, options: GenerateOptions) -> SamplingParams:
        """The per-request decoding of a job's :class:`GenerateOptions`."""
        return cls(
            max_new_tokens=options.max_new_tokens,
            temperature=options.temperature,
            top_p=options.top_p,
            seed=options.seed,
        )

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


def model_revision(backend: Backend) -> str:
    """The backend's ``revision`` attribute, or ``"unknown"`` when it has none."""
    return str(getattr(backend, "revision", "") or "unknown")
