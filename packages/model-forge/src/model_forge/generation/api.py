"""The completion-generation API: ``load_backend`` and the types it returns (from ``types``).

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

from pathlib import Path
from typing import Any

from forge_export.errors import ForgeError

from model_forge.generation.types import Backend
from model_forge.model_spec import model_specs, resolve_model


def backends() -> dict[str, str]:
    """The model specs :func:`load_backend` understands, with a description each (the
    registered backends and a folder: :func:`model_forge.model_spec.model_specs`)."""
    return model_specs()


def load_backend(spec: str, **options: Any) -> Backend:
    """Build the backend named by ``spec``.

    Args:
        spec: A registered backend (``"bundled"``, ``"tiny"``, ``"openai:MODEL"``,
            ``"mock:NAME"``: :func:`backends`) or a local folder (a transformers
            checkpoint, or a PEFT adapter whose ``adapter_config.json`` names its base).
        **options: Backend options. Local models: ``batch_size`` (8 on a CPU, 64 on a GPU),
            ``device`` (``"auto"``: CUDA when available), ``dtype``, ``prune_finished``
            (True), ``check_every`` (1 on a CPU, 8 on a GPU), ``merge_adapter`` (True),
            ``model_id``, ``revision``; ``tiny`` also ``init_std``. ``vllm:MODEL``: see
            :mod:`model_forge.generation.vllm_backend`.
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
    if resolved.path is None:  # a registered backend: its plug-in builds it
        from forge_export import registry

        backend: Backend = registry.load("backend", resolved.kind).build(resolved.name, **options)
        return backend
    from model_forge.generation.transformers_backend import TransformersBackend

    return TransformersBackend.from_path(resolved.path or Path(spec), **options)
