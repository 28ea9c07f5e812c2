"""The plugin surface: generators of scenarios and completions, found by entry point.

scenario-forge never imports model-forge. Packages register generators in the entry-point
group ``forge_export.generators``; scenario-forge looks them up by name::

    [project.entry-points."forge_export.generators"]
    model-forge = "model_forge.generator:ModelForgeGenerator"

The entry point names a factory (usually a class) called with keyword options
(``model=...`` and any ``--option key=value`` from the command line). The object it returns
implements :class:`Generator`. A generator may implement only one of the two methods and
raise :class:`NotImplementedError` from the other.

A generator that writes prompts with a model may also judge them: with a
``screen_scenarios`` method (:class:`ScenarioScreen`) it returns one :class:`ScreenVerdict`
per scenario, and scenario-forge drops and counts the rejected ones before anything is stored
(``generate --mode attack``). Screening by meaning needs a model (sentence embeddings), which
belongs to the plugin's package, not to scenario-forge; the verdicts are plain data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from forge_export import registry
from forge_export.models import Completion, Scenario

ENTRY_POINT_GROUP = registry.KINDS["generator"].group


@dataclass(frozen=True)
class TargetBrief:
    """What a scenario generator needs to know about an evaluation target.

    Attributes:
        name: The target slug, e.g. ``harmful_code``.
        description: One paragraph on what the target tests.
        success_criteria: Default criteria for new scenarios of the target.
        examples: Existing scenarios to imitate (seeds, benign contrasts included).
    """

    name: str
    description: str
    success_criteria: Sequence[str]
    examples: Sequence[Scenario] = field(default_factory=tuple)


@runtime_checkable
class Generator(Protocol):
    """A source of scenarios and/or proposed completions."""

    name: str

    def generate_scenarios(self, target: TargetBrief, count: int, seed: int) -> Iterator[Scenario]:
        """Yield up to ``count`` new scenarios for ``target`` (deterministic for ``seed``)."""
        ...

    def complete(self, scenarios: Sequence[Scenario]) -> Iterator[Completion]:
        """Yield one proposed completion per scenario it can answer."""
        ...


SCREEN_REASONS = ("off_target", "not_harmful")
"""The reasons a :class:`ScenarioScreen` may give: ``off_target`` (not about the target or not
close to the prompts it was written from) and ``not_harmful`` (asks for nothing harmful)."""


@dataclass(frozen=True)
class ScreenVerdict:
    """A screen's decision on one model-written scenario.

    Attributes:
        reason: ``None`` when the scenario is kept, else one of :data:`SCREEN_REASONS`.
        detail: Why, with the numbers, e.g. ``relevance to the target 0.12 < 0.20``.
        scores: The scores the decision read (name → value), kept with a kept scenario.

    Example:
        >>> ScreenVerdict("off_target", "relevance to the target 0.12 < 0.20").kept
        False
    """

    reason: str | None = None
    detail: str = ""
    scores: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in SCREEN_REASONS:
            raise ValueError(f"screen reason {self.reason!r}: use one of {SCREEN_REASONS}")

    @property
    def kept(self) -> bool:
        """Whether the scenario passes the screen."""
        return self.reason is None


@runtime_checkable
class ScenarioScreen(Protocol):
    """A generator that also screens the scenarios it wrote (optional, next to
    :class:`Generator`)."""

    def screen_scenarios(
        self, target: TargetBrief, scenarios: Sequence[Scenario]
    ) -> list[ScreenVerdict]:
        """One verdict per scenario of ``target``, in order."""
        ...


class GeneratorNotFound(registry.PluginNotFound):
    """No generator of that name is installed."""


def available_generators() -> dict[str, str]:
    """Installed generators: name → ``module:attr`` of the factory (from the registry)."""
    found = {name: registry.entry("generator", name) for name in registry.names("generator")}
    return {name: ep.value for name, ep in found.items() if ep is not None}


def load_generator(name: str, **options: Any) -> Generator:
    """Build the generator registered under ``name`` with keyword ``options``.

    Raises:
        GeneratorNotFound: naming the nearest registered generator and listing them all.
    """
    if registry.entry("generator", name) is None:
        error = registry.not_found("generator", name)
        raise GeneratorNotFound(
            f"{error}; packages register them in the entry-point group {ENTRY_POINT_GROUP!r}"
        )
    factory = registry.load("generator", name)
    gen: Generator = factory(**options)
    return gen
