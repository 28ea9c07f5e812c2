"""How many requests a server backend keeps in flight: ``--concurrency`` of every command.

``GenerateOptions.concurrency`` (``--concurrency`` of ``generate``, ``evaluate`` and ``loop``;
``JudgeOptions.concurrency`` of ``judge``) becomes the ``max_concurrency`` option of a backend
whose plug-in says it talks to a server (:attr:`BackendPlugin.concurrent
<model_forge.generation.plugins.BackendPlugin>`: ``openai:``, ``anthropic:``). Local models
take ``batch_size`` instead and never see it. An explicit backend option
(``--option max_concurrency=N``) wins.

Example:
    >>> from model_forge.generate_config import GenerateOptions
    >>> backend_options("openai:m", GenerateOptions(concurrency=16))
    {'batch_size': PerDevice(cpu=8, cuda=64), 'max_concurrency': 16}
    >>> backend_options("tiny", GenerateOptions(batch_size=4, concurrency=16))
    {'batch_size': 4}
    >>> judge_backend_options("llm:openai:m", 16), judge_backend_options("rules", 16)
    ({'max_concurrency': 16}, {})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from forge_export.errors import ForgeError

if TYPE_CHECKING:
    from model_forge.generate_config import GenerateOptions


def is_concurrent(spec: str) -> bool:
    """Whether ``spec`` names a registered backend that sends requests to a server.

    An unknown spec is ``False`` here (loading it gives the error that names it).
    """
    from forge_export import registry

    from model_forge.model_spec import resolve_model

    try:
        resolved = resolve_model(spec)
        if resolved.path is not None:
            return False
        plugin = registry.load("backend", resolved.kind)
    except ForgeError:
        return False
    return bool(getattr(plugin, "concurrent", False))


def backend_options(
    spec: Any, generate: GenerateOptions, given: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``load_backend`` options of a job: ``batch_size`` (a local backend resolves a
    per-device default on its device), ``max_concurrency`` for a server backend, then ``given``
    (explicit backend options win).

    Args:
        spec: The model spec (anything else, e.g. a loaded backend, gets only ``batch_size``).
        generate: The job's decoding settings.
        given: Backend options given by the user (``--option``).
    """
    options: dict[str, Any] = {"batch_size": generate.batch_size}
    if isinstance(spec, str) and is_concurrent(spec):
        options["max_concurrency"] = generate.concurrency
    options.update(given or {})
    return options


def judge_backend_options(judge_spec: str, concurrency: int | None) -> dict[str, Any]:
    """``{"max_concurrency": concurrency}`` when ``judge_spec`` is an LLM or guard judge on a
    server backend (``openai:M``, ``llm:openai:M``, ``guard:openai:M``), else ``{}``."""
    if concurrency is None:
        return {}
    spec = judge_spec.strip()
    for prefix in ("llm:", "guard:"):
        spec = spec.removeprefix(prefix)
    return {"max_concurrency": concurrency} if is_concurrent(spec) else {}
