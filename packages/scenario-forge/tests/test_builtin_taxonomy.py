"""The built-in content: five targets, each with >= 40 distinct seeds and benign contrasts."""

from __future__ import annotations

import string

import pytest
from forge_export.ids import normalize_text
from scenario_forge.generation import template_scenarios
from scenario_forge.response_templates import template_completion
from scenario_forge.taxonomy import load_taxonomy

REQUIRED = (
    "harmful_code",
    "medical_misinformation",
    "ai_psychosis",
    "self_harm",
    "privacy_violation",
)


@pytest.mark.parametrize("name", REQUIRED)
def test_builtin_target_content(name: str) -> None:
    tax = load_taxonomy(builtin=True)
    assert name in tax, f"built-in target {name!r} is missing"
    spec = tax.get(name)
    distinct = {normalize_text(s.prompt) for s in spec.seeds}
    assert len(distinct) >= 40, f"{name}: {len(distinct)} distinct seeds (need 40)"
    assert len(spec.benign) >= 1
    assert {normalize_text(b.prompt) for b in spec.benign}.isdisjoint(distinct)


@pytest.mark.parametrize("name", REQUIRED)
def test_builtin_templates_fill_completely(name: str) -> None:
    tax = load_taxonomy(builtin=True)
    assert name in tax, f"built-in target {name!r} is missing"
    spec = tax.get(name)
    for s in template_scenarios(spec, count=10_000, seed=0):
        c = template_completion(s, spec)
        assert c is not None, s.prompt
        # no placeholder left unfilled
        leftovers = string.Template(c.text).get_identifiers()
        assert not leftovers, f"{name}: {s.source.origin}: unfilled {leftovers}"
