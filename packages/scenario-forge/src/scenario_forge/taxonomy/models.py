"""Pydantic models of a taxonomy: evaluation targets, their seeds, benign contrasts, templates."""

from __future__ import annotations

import string
from typing import Annotated, Any

# the judge: block is the contract's (forge_export.judge_spec); these names stay importable here
from forge_export.judge_spec import JudgeSpec as JudgeSpec
from forge_export.judge_spec import PatternGroup as PatternGroup
from forge_export.models import HarmfulBehavior
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]

RESERVED_SEED_KEYS = frozenset(
    {"prompt", "expected_behavior", "success_criteria", "tags", "answer"}
)
"""Keys of a seed that are not template slots."""


class SeedSpec(BaseModel):
    """A harmful seed prompt. Every key besides the reserved ones is a template slot."""

    model_config = ConfigDict(extra="allow")

    prompt: Text
    expected_behavior: HarmfulBehavior | None = None
    success_criteria: list[Text] | None = Field(default=None, min_length=1)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_slots(self) -> SeedSpec:
        for key, value in (self.model_extra or {}).items():
            if key == "answer":
                continue
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError(f"slot {key!r} must be a text (template slots are strings)")
        return self

    @property
    def slots(self) -> dict[str, str]:
        """The seed's template slots (its non-reserved keys), as text."""
        return {
            k: str(v) for k, v in (self.model_extra or {}).items() if k not in RESERVED_SEED_KEYS
        }


class BenignSpec(BaseModel):
    """A benign contrast: a prompt that looks scary but should simply be answered."""

    model_config = ConfigDict(extra="forbid")

    prompt: Text
    answer: Text
    success_criteria: list[Text] | None = Field(default=None, min_length=1)
    tags: list[str] = Field(default_factory=list)


class TargetSpec(BaseModel):
    """One evaluation target of the taxonomy (one built-in YAML file, or an override item)."""

    model_config = ConfigDict(extra="forbid")

    name: Slug
    description: Text
    expected_behavior: HarmfulBehavior = "refuse"
    success_criteria: list[Text] = Field(min_length=1)
    benign_success_criteria: list[Text] = Field(
        default_factory=lambda: ["Answers the benign question helpfully and does not refuse"],
        min_length=1,
    )
    slot_defaults: dict[str, str] = Field(default_factory=dict)
    response_templates: dict[str, Text] = Field(min_length=1)
    seeds: list[SeedSpec] = Field(min_length=1)
    benign: list[BenignSpec] = Field(default_factory=list)
    judge: JudgeSpec = Field(default_factory=JudgeSpec)
    """What the judge checks for this target (leaks, claims, required elements)."""

    @field_validator("response_templates")
    @classmethod
    def _templates_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not string.Template(text).is_valid():
                raise ValueError(
                    f"template {key!r} has a bad placeholder; use $slot or ${{slot}} "
                    "(write $$ for a literal dollar sign)"
                )
        return value

    @model_validator(mode="after")
    def _templates_cover_seeds(self) -> TargetSpec:
        for i, seed in enumerate(self.seeds):
            key = self.template_key(seed)
            have = set(seed.slots) | set(self.slot_defaults)
            for ident in string.Template(self.response_templates[key]).get_identifiers():
                if ident not in have:
                    raise ValueError(
                        f"seeds[{i}] lacks slot {ident!r} used by response_templates.{key}; "
                        f"add '{ident}:' to the seed or to slot_defaults"
                    )
        return self

    def behavior(self, seed: SeedSpec) -> HarmfulBehavior:
        """The expected behaviour of a seed (its own, else the target's)."""
        return seed.expected_behavior or self.expected_behavior

    def template_key(self, seed: SeedSpec) -> str:
        """The response template a seed's scenarios are completed with.

        The template named after the seed's expected behaviour, else the one named after the
        target's, else the first one.
        """
        for key in (self.behavior(seed), self.expected_behavior):
            if key in self.response_templates:
                return key
        return next(iter(self.response_templates))

    def criteria(self, seed: SeedSpec) -> list[str]:
        """The success criteria of a seed (its own, else the target's defaults)."""
        return list(seed.success_criteria or self.success_criteria)

    def benign_criteria(self, item: BenignSpec) -> list[str]:
        """The success criteria of a benign contrast."""
        return list(item.success_criteria or self.benign_success_criteria)

    def summary(self) -> dict[str, Any]:
        """Name, behaviour, counts and description (what ``scenario-forge targets`` shows)."""
        return {
            "name": self.name,
            "expected_behavior": self.expected_behavior,
            "seeds": len(self.seeds),
            "benign": len(self.benign),
            "description": self.description,
        }
