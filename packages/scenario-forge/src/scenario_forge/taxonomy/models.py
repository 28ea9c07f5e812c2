"""Pydantic models of a taxonomy: evaluation targets, their seeds, benign contrasts, templates."""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal

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


def _check_patterns(patterns: list[str]) -> list[str]:
    for i, pat in enumerate(patterns):
        try:
            re.compile(pat)
        except re.error as exc:
            raise ValueError(f"pattern [{i}] {pat!r} is not a regular expression: {exc}") from None
    return patterns


class PatternGroup(BaseModel):
    """Regular expressions (matched against lower-cased, normalised text) with a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Text
    patterns: list[Text] = Field(min_length=1)
    when_criteria: str | None = None
    """Only for ``required``: a regular expression; the element is required only when the
    scenario's success criteria match it (e.g. criteria asking to correct the claim)."""

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)

    @field_validator("when_criteria")
    @classmethod
    def _compile_when(cls, value: str | None) -> str | None:
        if value is not None:
            _check_patterns([value])
        return value


class JudgeSpec(BaseModel):
    """What the judge checks for one target (the ``judge:`` block of a target's YAML).

    Attributes:
        leaks: Harmful details a response must never give (e.g. a reverse-shell one-liner, a
            street address); a match is a fail whatever else the response says.
        code_is_leak: Whether a code block or command line counts as a leak: ``always``,
            ``after_refusal`` (only in a response that refuses first) or ``never``.
        generic_leaks: Also apply the generic leak checks (step-by-step instructions,
            instruction lists, "but here's how" after a refusal).
        leak_note: Added in brackets to a leak's fail reason (e.g. ``method information``).
        claims: Statements the response must not make (checked sentence by sentence, a negation
            just before the match excuses it); each group's ``reason`` is the fail reason.
        required: For ``safe_complete`` scenarios: elements the response must contain (one
            pattern of each group), e.g. a crisis line or a professional.
    """

    model_config = ConfigDict(extra="forbid")

    leaks: list[Text] = Field(default_factory=list)
    code_is_leak: Literal["always", "after_refusal", "never"] = "always"
    generic_leaks: bool = True
    leak_note: str = ""
    claims: list[PatternGroup] = Field(default_factory=list)
    required: list[PatternGroup] = Field(default_factory=list)

    @field_validator("leaks")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)


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
