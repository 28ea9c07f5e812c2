"""Scenarios and completions from the taxonomy's benign look-alike kinds.

Every look-alike prompt (see :mod:`scenario_forge.taxonomy.lookalikes`) becomes one
``comply`` scenario, and its written answer one template completion:

* ``evaluation_target``: the prompt's ``target``, else the pseudo-target
  :data:`~scenario_forge.taxonomy.lookalikes.EXAGGERATED_SAFETY`;
* ``metadata``: ``contrast_kind`` (the kind), ``lookalike: True``, ``lookalike_index``,
  ``seed_prompt`` and ``answer`` (so a variant made by ``import-report`` keeps its answer);
* ``tags``: ``[kind, "lookalike", *prompt tags]``; ``source``: ``template`` with origin
  ``lookalike:<kind>``;
* ``group_id``: a stable hash of kind and normalised prompt, so an export never splits a
  prompt's variants between train and test.

Completions are stored ``proposed`` (like every template completion, until a reviewer
accepts them) with source ``template`` and origin ``lookalike:<kind>``.

Example:
    >>> from scenario_forge.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()
    >>> scenarios = lookalike_scenarios(tax, ["homonyms"])
    >>> scenarios[0].expected_behavior, scenarios[0].metadata["contrast_kind"]
    ('comply', 'homonyms')
    >>> lookalike_completions(scenarios[:1], tax)[0].origin
    'lookalike:homonyms'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forge_export import Completion, Provenance, Scenario
from forge_export.ids import normalize_text, scenario_id

from scenario_forge.taxonomy.lookalikes import EXAGGERATED_SAFETY, LOOKALIKE_TAG

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy import Taxonomy

__all__ = [
    "EXAGGERATED_SAFETY",
    "LookalikeCounts",
    "LookalikeResult",
    "add_lookalikes",
    "is_lookalike",
    "lookalike_completion",
    "lookalike_completions",
    "lookalike_group_id",
    "lookalike_scenarios",
]

ORIGIN_PREFIX = "lookalike:"
ANSWER_KEY = "answer"


def lookalike_group_id(kind: str, prompt: str) -> str:
    """Stable group id of one look-alike prompt: a content hash of kind and normalised prompt.

    Example:
        >>> lookalike_group_id("homonyms", "Kill  a process?") == lookalike_group_id(
        ...     "homonyms", "kill a process?")
        True
    """
    return scenario_id(prompt, [], f"{ORIGIN_PREFIX}{kind}")


def is_lookalike(scenario: Scenario) -> bool:
    """Whether ``scenario`` came from a look-alike kind (``metadata["lookalike"]`` is true)."""
    return scenario.metadata.get(LOOKALIKE_TAG) is True and isinstance(
        scenario.metadata.get("contrast_kind"), str
    )


def lookalike_scenarios(taxonomy: Taxonomy, kinds: Sequence[str] | None = None) -> list[Scenario]:
    """One ``comply`` scenario per look-alike prompt of ``kinds`` (default: every kind).

    Args:
        taxonomy: The loaded taxonomy (:attr:`Taxonomy.lookalikes`).
        kinds: Kind names; empty or ``None`` means all, in the taxonomy's order.

    Returns:
        The scenarios, kind by kind in file order; deterministic.

    Raises:
        TaxonomyError: an unknown kind.
    """
    out: list[Scenario] = []
    for spec in taxonomy.select_lookalikes(list(kinds) if kinds else None):
        for i, item in enumerate(spec.prompts):
            prompt = item.prompt.strip()
            meta: dict[str, Any] = {
                "contrast_kind": spec.kind,
                LOOKALIKE_TAG: True,
                "lookalike_index": i,
                "framing": "direct",
                "seed_prompt": prompt,
                ANSWER_KEY: item.answer.strip(),
            }
            out.append(
                Scenario(
                    prompt=prompt,
                    evaluation_target=item.evaluation_target,
                    success_criteria=spec.criteria(item),
                    expected_behavior="comply",
                    group_id=lookalike_group_id(spec.kind, prompt),
                    tags=list(dict.fromkeys([spec.kind, LOOKALIKE_TAG, *item.tags])),
                    source=Provenance(kind="template", origin=f"{ORIGIN_PREFIX}{spec.kind}"),
                    metadata=meta,
                )
            )
    return out


def _answer(scenario: Scenario, taxonomy: Taxonomy | None) -> str | None:
    answer = scenario.metadata.get(ANSWER_KEY)
    if isinstance(answer, str) and answer.strip():
        return answer.strip()
    if taxonomy is None:
        return None
    kind = taxonomy.lookalikes.get(str(scenario.metadata.get("contrast_kind")))
    if kind is None:
        return None
    seed = scenario.metadata.get("seed_prompt")
    key = normalize_text(seed if isinstance(seed, str) else scenario.prompt)
    for item in kind.prompts:
        if normalize_text(item.prompt) == key:
            return item.answer.strip()
    return None


def lookalike_completion(scenario: Scenario, taxonomy: Taxonomy | None = None) -> Completion | None:
    """The written answer of one look-alike scenario as a ``template`` completion.

    The answer comes from ``metadata["answer"]``, else from the kind's prompt with the same
    (normalised) seed prompt in ``taxonomy``. ``None`` for a scenario that is not a look-alike
    or whose answer is unknown.
    """
    if not is_lookalike(scenario):
        return None
    text = _answer(scenario, taxonomy)
    if not text:
        return None
    kind = str(scenario.metadata["contrast_kind"])
    return Completion(
        scenario_id=scenario.id,
        text=text,
        source="template",
        origin=f"{ORIGIN_PREFIX}{kind}",
        metadata={"template_key": ANSWER_KEY, "contrast_kind": kind},
    )


def lookalike_completions(
    scenarios: Sequence[Scenario], taxonomy: Taxonomy | None = None
) -> list[Completion]:
    """Template completions (status ``proposed``) with the written answers of ``scenarios``.

    Scenarios that are not look-alikes, or whose answer is unknown, are skipped.
    """
    out = []
    for s in scenarios:
        c = lookalike_completion(s, taxonomy)
        if c is not None:
            out.append(c)
    return out


@dataclass
class LookalikeCounts:
    """Per-kind counts of :func:`add_lookalikes`."""

    generated: int = 0
    added: int = 0
    duplicates: int = 0
    completions_added: int = 0


@dataclass
class LookalikeResult:
    """What :func:`add_lookalikes` did, per kind and in total."""

    per_kind: dict[str, LookalikeCounts] = field(default_factory=dict)

    def total(self, key: str) -> int:
        """The sum of one counter (``generated``, ``added``, ...) over the kinds."""
        return sum(getattr(c, key) for c in self.per_kind.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per-kind counts and totals."""
        keys = ("generated", "added", "duplicates", "completions_added")
        return {
            "per_kind": {k: {n: getattr(c, n) for n in keys} for k, c in self.per_kind.items()},
            **{n: self.total(n) for n in keys},
        }


def add_lookalikes(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    kinds: Sequence[str] | None = None,
    *,
    complete: bool = False,
) -> LookalikeResult:
    """Add look-alike scenarios (and, with ``complete``, their answers) to ``store``.

    Everything is written in one transaction. Scenarios already stored count as duplicates;
    a scenario that already has a template completion gets no second one, so a second run
    adds nothing.

    Raises:
        TaxonomyError: an unknown kind.
    """
    scenarios = lookalike_scenarios(taxonomy, kinds)
    result = LookalikeResult()
    by_kind: dict[str, list[Scenario]] = {}
    for s in scenarios:
        by_kind.setdefault(str(s.metadata["contrast_kind"]), []).append(s)
    with store.transaction():
        for kind, items in by_kind.items():
            counts = result.per_kind.setdefault(kind, LookalikeCounts())
            counts.generated = len(items)
            added = store.add_scenarios(items)
            counts.added, counts.duplicates = added.added, added.duplicates
            if complete:
                todo = [
                    s
                    for s in items
                    if not any(c.source == "template" for c in store.completions_for(s.id))
                ]
                counts.completions_added = store.add_completions(
                    lookalike_completions(todo, taxonomy)
                ).added
    return result
