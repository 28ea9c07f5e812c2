"""The judges model-forge registers (entry-point group ``forge_export.judges``): an adapter.

Each registered judge is a :class:`JudgePlugin` whose ``build`` calls the judge package's own
loader (:func:`model_forge.judge.load_judge`), so the judges themselves are untouched and the
registry is the one place that names them: ``--judge`` help, the errors for an unknown judge
and ``forge-export plugins`` all list what is registered. A spec that is no registered judge
but a model spec (a registered backend such as ``openai:MODEL``, or a model folder) is an LLM
judge through that model, as before.

A new judge is one module plus one line in its package's ``pyproject.toml``::

    [project.entry-points."forge_export.judges"]
    strict = "my_package.strict_judge:PLUGIN"   # PLUGIN = JudgePlugin("strict", ..., build)

Example:
    >>> load_judge_spec("rules").name
    'rules@6'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import registry
from forge_export.errors import ForgeError

if TYPE_CHECKING:
    from model_forge.judge.types import Judge


@dataclass(frozen=True)
class JudgePlugin:
    """A judge as the registry knows it.

    Attributes:
        spec: How a command line names it (``rules``, ``llm:MODEL``).
        description: One line for listings.
        build: ``build(spec, **options)``: the judge for the whole spec as given.
        offline: Whether it needs no server.
    """

    spec: str
    description: str
    build: Callable[..., Judge]
    offline: bool = True


def _judge_package(spec: str, **options: Any) -> Judge:
    from model_forge.judge import load_judge

    try:
        return load_judge(spec, **options)
    except ValueError as exc:
        raise ForgeError(f"judge {spec!r}: {exc}") from None


DEFAULT = JudgePlugin(
    "default", "the best offline judge measured (now the learned judge)", _judge_package
)
LEARNED = JudgePlugin(
    "learned",
    "a classifier head over wheel-shipped sentence embeddings, with the rules for leaks "
    "(option head=PATH)",
    _judge_package,
)
RULES = JudgePlugin(
    "rules",
    "regular expressions plus an embedding relevance check (rules:lexical: without it)",
    _judge_package,
)
LLM = JudgePlugin(
    "llm:MODEL",
    "a model asked for a JSON verdict, through any backend (a model spec alone works too: "
    "openai:MODEL, bundled, a folder)",
    _judge_package,
    offline=False,
)
GUARD = JudgePlugin(
    "guard:MODEL",
    "a safety classifier (Llama Guard, ShieldGemma, WildGuard formats) behind an "
    "OpenAI-compatible server, with a base judge for everything but harm (options format=, base=)",
    _judge_package,
    offline=False,
)


def _name(spec: str) -> str:
    """The registry name of a judge spec (``rules@6`` and ``rules:lexical`` are ``rules``)."""
    return registry.split_spec(spec)[0].split("@")[0]


def _is_model_spec(spec: str) -> bool:
    name = registry.split_spec(spec)[0]
    return registry.entry("backend", name) is not None or Path(spec).expanduser().is_dir()


def check_judge_spec(spec: str) -> None:
    """Refuse a spec that names no registered judge and no model, before any work is done.

    Raises:
        ForgeError: one line with the nearest registered judge and every one.
    """
    spec = spec.strip()
    if registry.entry("judge", _name(spec)) is None and not (spec and _is_model_spec(spec)):
        raise registry.not_found("judge", spec, also="or a model spec such as openai:MODEL")


def load_judge_spec(spec: str, **options: Any) -> Judge:
    """The judge a spec names, through the registry.

    Raises:
        ForgeError: a spec that is neither a registered judge nor a model spec (one line: the
            nearest registered judge and every one), or the judge's own error.
    """
    spec = spec.strip()
    name = _name(spec)
    if registry.entry("judge", name) is not None:
        plugin: JudgePlugin = registry.load("judge", name)
        return plugin.build(spec, **options)
    if spec and _is_model_spec(spec):
        llm: JudgePlugin = registry.load("judge", "llm")
        return llm.build(spec, **options)
    raise registry.not_found("judge", spec, also="or a model spec such as openai:MODEL")


def judges_help() -> str:
    """The ``--judge`` help: every registered judge, then the LLM judge's model specs."""
    specs = [registry.load("judge", name).spec for name in registry.names("judge")]
    listed = ", ".join(specs[:-1]) + " or " + specs[-1] if len(specs) > 1 else "".join(specs)
    return (
        f"A registered judge: {listed} (default: the best offline judge measured, now the "
        "learned one); a model spec alone (openai:MODEL, a model folder) is an LLM judge "
        "through that model; see docs/judge.md."
    )
