"""Agreement per target, the scenarios reviewers disagree on, and a lead's settled rating.

A scenario is *in disagreement* when two or more reviewers rated it and their latest ratings
differ. A lead (an account with the role ``lead``, ``scenario-forge users add --role lead``)
settles it with one rating (:func:`settle`); the settled rating is what exports and the loop
use in place of the mean (``ScenarioBundle.settled_rating``), while the reviewers' ratings
stay in ``reviews`` and are copied into the adjudication row (provenance). Settling again
replaces the settled rating (the latest one is in force).

Example:
    >>> [a.evaluation_target for a in agreement_by_target(store)]  # doctest: +SKIP
    ['harmful_code', 'self_harm']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forge_export.errors import ForgeError

from scenario_forge.review.agreement import krippendorff_alpha

if TYPE_CHECKING:
    from scenario_forge.store import RatedScenario, ScenarioStore, Settlement


class AdjudicationError(ForgeError):
    """A settling that cannot be stored (the message says why, in one line)."""


@dataclass(frozen=True)
class TargetAgreement:
    """Agreement on one evaluation target (or ``all``).

    Attributes:
        evaluation_target: The target.
        scenarios: Scenarios rated by two or more reviewers (the alpha's n).
        ratings: Ratings compared.
        disagreements: Of those scenarios, how many have differing ratings.
        settled: Of the disagreements, how many a lead settled.
        alpha: Krippendorff's alpha, ordinal (``None`` when undefined).
    """

    evaluation_target: str
    scenarios: int
    ratings: int
    disagreements: int
    settled: int
    alpha: float | None


@dataclass(frozen=True)
class Disagreement:
    """A scenario whose reviewers' latest ratings differ, and its settled rating if any."""

    scenario_id: str
    evaluation_target: str
    ratings: dict[str, int]
    notes: dict[str, str]
    settled: Settlement | None

    @property
    def spread(self) -> int:
        """Highest minus lowest rating."""
        return max(self.ratings.values()) - min(self.ratings.values())


def overlapping(store: ScenarioStore) -> list[RatedScenario]:
    """The scenarios rated by two or more reviewers (each reviewer's latest rating)."""
    return [u for u in store.latest_ratings() if len(u.ratings) >= 2]


def _agreement(target: str, units: list[RatedScenario], settled: set[str]) -> TargetAgreement:
    split = [u for u in units if len(set(u.ratings.values())) > 1]
    alpha = krippendorff_alpha([list(u.ratings.values()) for u in units])
    return TargetAgreement(
        evaluation_target=target,
        scenarios=len(units),
        ratings=sum(len(u.ratings) for u in units),
        disagreements=len(split),
        settled=sum(1 for u in split if u.scenario_id in settled),
        alpha=None if alpha is None else round(alpha, 4),
    )


def agreement_by_target(
    store: ScenarioStore, units: list[RatedScenario] | None = None
) -> list[TargetAgreement]:
    """Alpha with its n per target, by target name, then ``all`` (every target together).

    ``units``: :func:`overlapping`'s result when the caller has it (one pass over reviews).
    """
    units = overlapping(store) if units is None else units
    settled = set(store.adjudications([u.scenario_id for u in units]))
    by: dict[str, list[RatedScenario]] = {}
    for u in units:
        by.setdefault(u.evaluation_target, []).append(u)
    rows = [_agreement(t, by[t], settled) for t in sorted(by)]
    return [*rows, _agreement("all", units, settled)]


def disagreements(
    store: ScenarioStore,
    *,
    target: str = "",
    unsettled_only: bool = False,
    units: list[RatedScenario] | None = None,
) -> list[Disagreement]:
    """The scenarios whose reviewers disagree, widest spread first (then by id).

    Args:
        store: The store.
        target: Only this evaluation target ("" for all).
        unsettled_only: Leave out the ones a lead settled.
        units: :func:`overlapping`'s result when the caller has it.
    """
    units = [
        u
        for u in (overlapping(store) if units is None else units)
        if len(set(u.ratings.values())) > 1 and (not target or u.evaluation_target == target)
    ]
    settled = store.adjudications([u.scenario_id for u in units])
    out = [
        Disagreement(
            u.scenario_id, u.evaluation_target, u.ratings, u.notes, settled.get(u.scenario_id)
        )
        for u in units
        if not (unsettled_only and u.scenario_id in settled)
    ]
    return sorted(out, key=lambda d: (-d.spread, d.scenario_id))


def settle(store: ScenarioStore, scenario_id: str, rating: int, lead: str, note: str = "") -> int:
    """Store ``lead``'s settled ``rating`` of a scenario two or more reviewers rated.

    The caller checks that ``lead`` is a lead. Returns the adjudication's id.

    Raises:
        AdjudicationError: a rating outside 0-3, or a scenario without two reviewers' ratings.
    """
    if rating not in (0, 1, 2, 3):
        raise AdjudicationError(f"rating {rating!r}: use 0, 1, 2 or 3")
    latest = {r.reviewer: r.rating for r in store.reviews_for(scenario_id)}  # oldest first
    if len(latest) < 2:
        raise AdjudicationError(
            f"scenario {scenario_id[:40]!r} has no ratings from two reviewers: nothing to settle"
        )
    return store.add_adjudication(scenario_id, rating, lead, note, latest)
