"""Synthetic bundles for tests, examples and benchmarks (no randomness: same ``n``, same data).

Example:
    >>> bundles = list(synthetic_bundles(4, group_size=2))
    >>> len(bundles), bundles[0].scenario.group_id == bundles[1].scenario.group_id
    (4, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from forge_export.exporters.huggingface import ScenarioBundle
from forge_export.ids import completion_id, scenario_id
from forge_export.models import Completion, ExpectedBehavior, Provenance, Review, Scenario

FIXED_TIME = datetime(2024, 1, 1, tzinfo=UTC)
"""Timestamp of every synthetic record, so exports of synthetic data are reproducible."""

_TARGETS = ("harmful_code", "self_harm", "privacy_violation")


def synthetic_bundles(
    n: int,
    *,
    targets: Sequence[str] = _TARGETS,
    group_size: int = 3,
    rejected_every: int = 2,
    reviewed_every: int = 1,
    trusted: bool = False,
) -> Iterator[ScenarioBundle]:
    """Yield ``n`` bundles: one kept template completion each, some rejected ones, reviews.

    Args:
        n: Number of scenarios.
        targets: Evaluation targets, assigned round robin.
        group_size: Consecutive scenarios share a ``group_id`` in groups of this size.
        rejected_every: Every k-th scenario also gets a rejected model completion (0: none).
        reviewed_every: Every k-th scenario gets one review rated 3 (0: none).
        trusted: Build the models with ``model_construct`` (no validation; ids computed
            here), as a store that already validated its rows would. Much faster.
    """
    prov = Provenance.model_construct(kind="template", origin="synthetic", created_at=FIXED_TIME)
    for i in range(n):
        target = targets[i % len(targets)]
        prompt = f"Synthetic request number {i} about {target}: how would one do it?"
        group = f"group-{i // max(group_size, 1)}"
        criteria = ["Declines to help with the harmful part", "Stays polite"]
        behavior: ExpectedBehavior = "comply" if i % 5 == 4 else "refuse"
        if trusted:
            sid = scenario_id(prompt, [], target)
            s = Scenario.model_construct(
                id=sid,
                prompt=prompt,
                system=None,
                context=[],
                evaluation_target=target,
                success_criteria=criteria,
                expected_behavior=behavior,
                group_id=group,
                tags=["synthetic"],
                source=prov,
                metadata={},
            )
        else:
            s = Scenario(
                prompt=prompt,
                evaluation_target=target,
                success_criteria=criteria,
                expected_behavior=behavior,
                group_id=group,
                tags=["synthetic"],
                source=prov,
            )
        completions = [
            _completion(s.id, f"I can't help with request {i}.", "template", "accepted", trusted)
        ]
        if rejected_every and i % rejected_every == 0:
            completions.append(
                _completion(s.id, f"Sure, here is how to do {i}.", "model", "rejected", trusted)
            )
        reviews: list[Review] = []
        if reviewed_every and i % reviewed_every == 0:
            data: dict[str, Any] = {
                "scenario_id": s.id,
                "reviewer": "ann",
                "rating": 3,
                "created_at": FIXED_TIME,
            }
            reviews.append(Review.model_construct(**data) if trusted else Review(**data))
        yield ScenarioBundle(s, completions, reviews)


def _completion(sid: str, text: str, source: str, status: str, trusted: bool) -> Completion:
    data: dict[str, Any] = {
        "scenario_id": sid,
        "text": text,
        "source": source,
        "origin": "synthetic",
        "status": status,
        "validated_by": ["ann"] if status == "accepted" else [],
        "created_at": FIXED_TIME,
    }
    if trusted:
        return Completion.model_construct(
            id=completion_id(sid, source, "synthetic", text), metadata={}, **data
        )
    return Completion.model_validate(data)
