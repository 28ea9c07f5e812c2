"""Template completions: each target's response templates filled with the seed's slots.

Templates use :class:`string.Template` syntax (``$slot`` / ``${slot}``) and are filled with
``safe_substitute`` only — never ``str.format``, which would evaluate ``{0.__class__}``-style
fields in user-controlled text. Substituted values are not expanded again, so slot values and
scenario text containing ``$x``, ``{{`` or ``{0.__class__}`` come through literally.

Slots come from the scenario's ``metadata["slots"]`` (filled by generation from the seed),
then from the seed with the same prompt in the taxonomy, then from the target's
``slot_defaults``. Benign contrasts (``expected_behavior: comply``) get their seed's
``answer`` instead of a template.

Completions are stored ``proposed`` with source ``template`` and origin
``<target>:<template key>`` (``<target>:answer`` for benign contrasts).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from forge_export import Completion, Scenario
from forge_export.ids import normalize_text

from scenario_forge.taxonomy.models import TargetSpec

if TYPE_CHECKING:
    from scenario_forge.taxonomy import Taxonomy

ANSWER_KEY = "answer"


def fill_template(template: str, slots: Mapping[str, str]) -> str:
    """Fill ``template`` with ``slots`` by ``string.Template.safe_substitute``.

    Unknown placeholders stay as written; nothing in ``slots`` is interpreted.

    Example:
        >>> fill_template("I can't help with ${harmful_intent}.", {"harmful_intent": "{0.__class__}"})
        "I can't help with {0.__class__}."
    """
    return string.Template(template).safe_substitute(dict(slots))


def _seed_lookup(spec: TargetSpec, prompt: str) -> dict[str, Any]:
    key = normalize_text(prompt)
    for seed in spec.seeds:
        if normalize_text(seed.prompt) == key:
            return {"slots": seed.slots, "template_key": spec.template_key(seed)}
    return {}


def _benign_answer(spec: TargetSpec, prompt: str) -> str | None:
    key = normalize_text(prompt)
    for item in spec.benign:
        if normalize_text(item.prompt) == key:
            return item.answer
    return None


def slots_for(scenario: Scenario, spec: TargetSpec) -> dict[str, str]:
    """The slot values for a scenario: metadata, else the matching seed, else defaults."""
    meta_slots = scenario.metadata.get("slots")
    if not isinstance(meta_slots, dict):
        seed_prompt = scenario.metadata.get("seed_prompt")
        found = _seed_lookup(spec, seed_prompt if isinstance(seed_prompt, str) else scenario.prompt)
        meta_slots = found.get("slots", {})
    slots = dict(spec.slot_defaults)
    slots.update({str(k): v for k, v in meta_slots.items() if isinstance(v, str) and v})
    return slots


def template_key_for(scenario: Scenario, spec: TargetSpec) -> str:
    """Which response template completes a harmful scenario."""
    key = scenario.metadata.get("template_key")
    if isinstance(key, str) and key in spec.response_templates:
        return key
    for candidate in (scenario.expected_behavior, spec.expected_behavior):
        if candidate in spec.response_templates:
            return candidate
    return next(iter(spec.response_templates))


def template_completion(scenario: Scenario, spec: TargetSpec) -> Completion | None:
    """The template completion of one scenario, or ``None`` if there is none to give.

    ``None`` is returned for a benign contrast without a known answer (e.g. an imported one).
    """
    if scenario.expected_behavior == "comply":
        answer = scenario.metadata.get(ANSWER_KEY)
        if not isinstance(answer, str) or not answer.strip():
            seed_prompt = scenario.metadata.get("seed_prompt")
            answer = _benign_answer(
                spec, seed_prompt if isinstance(seed_prompt, str) else scenario.prompt
            )
        if not answer:
            return None
        return Completion(
            scenario_id=scenario.id,
            text=answer.strip(),
            source="template",
            origin=f"{spec.name}:{ANSWER_KEY}",
            metadata={"template_key": ANSWER_KEY},
        )
    key = template_key_for(scenario, spec)
    text = fill_template(spec.response_templates[key], slots_for(scenario, spec)).strip()
    return Completion(
        scenario_id=scenario.id,
        text=text,
        source="template",
        origin=f"{spec.name}:{key}",
        metadata={"template_key": key},
    )


def good_answer(scenario: Scenario, taxonomy: Taxonomy) -> Completion | None:
    """The answer a scenario is completed with: a look-alike's written answer, else its
    target's template completion (a benign contrast's ``answer``, a harmful seed's template).

    Returns ``None`` for a target the taxonomy lacks or a benign prompt with no known answer.
    """
    from scenario_forge.lookalikes import is_lookalike, lookalike_completion

    if is_lookalike(scenario):
        return lookalike_completion(scenario, taxonomy)
    if scenario.evaluation_target in taxonomy:
        return template_completion(scenario, taxonomy.get(scenario.evaluation_target))
    return None
