"""What the rule judge checks for one evaluation target: :class:`JudgeSpec`.

The ``judge:`` block of a target's taxonomy YAML (scenario-forge reads it; its
``scenario_forge.taxonomy.JudgeSpec`` is this class) and the input the judges of model-forge
take with each item (``JudgeItem.target_spec``). It lives in the contract package so the judge
needs nothing of scenario-forge to know what it is given.

Example:
    >>> JudgeSpec(leaks=[r"nc -e"], leak_note="a reverse shell").code_is_leak
    'always'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text = Annotated[str, StringConstraints(min_length=1)]


def check_patterns(patterns: list[str]) -> list[str]:
    """``patterns`` when each is a regular expression.

    Raises:
        ValueError: naming the first pattern that is not (pydantic reports it with its field).
    """
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
        return check_patterns(value)

    @field_validator("when_criteria")
    @classmethod
    def _compile_when(cls, value: str | None) -> str | None:
        if value is not None:
            check_patterns([value])
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
        return check_patterns(value)


JudgeSpecs = Mapping[str, JudgeSpec]
"""Target name → its :class:`JudgeSpec` (what a caller that knows the taxonomy hands a judge)."""

__all__ = ["JudgeSpec", "JudgeSpecs", "PatternGroup", "check_patterns"]
