"""Reviewer statistics: per-reviewer counts and agreement on overlapping ratings.

Agreement is Krippendorff's alpha at the ordinal level (ratings 0-3), computed by the
``krippendorff`` package over the scenarios rated by at least two reviewers (each reviewer's
latest rating counts). alpha = 1 is perfect agreement, 0 is chance level; below about 0.67
the ratings are usually considered too unreliable to draw conclusions from.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

RATING_VALUES = (0, 1, 2, 3)


def _latest_ratings(store: ScenarioStore) -> dict[str, dict[str, int]]:
    """Scenario → reviewer → latest rating (streamed in scenario order)."""
    out: dict[str, dict[str, int]] = {}
    for sid, reviewer, rating in store.iter_ratings():
        out.setdefault(sid, {})[reviewer] = rating
    return out


def krippendorff_alpha(units: list[list[int]]) -> float | None:
    """Ordinal Krippendorff's alpha of ``units`` (each: the ratings one scenario got).

    Returns:
        ``None`` when undefined: fewer than one unit with two ratings, or a single value
        used throughout (no variation to agree on).
    """
    pairable = [u for u in units if len(u) >= 2]
    if not pairable or len({v for u in pairable for v in u}) < 2:
        return None
    import krippendorff
    import numpy as np

    counts = np.zeros((len(pairable), len(RATING_VALUES)), dtype=float)
    for i, unit in enumerate(pairable):
        for v in unit:
            counts[i, RATING_VALUES.index(v)] += 1
    alpha = krippendorff.alpha(
        value_counts=counts, value_domain=list(RATING_VALUES), level_of_measurement="ordinal"
    )
    return float(alpha)


def _new_counts() -> dict[str, Any]:
    return {
        "reviews": 0,
        "rating_sum": 0,
        "ratings": Counter(),
        "accepted": 0,
        "rejected": 0,
        "written": 0,
    }


def _rating_counts(
    latest: dict[str, dict[str, int]], per: dict[str, dict[str, Any]]
) -> tuple[list[list[int]], int, int]:
    """Count each reviewer's ratings into ``per``; the overlapping units, pairs, equal pairs."""
    units: list[list[int]] = []
    pairs = same = 0
    for by_reviewer in latest.values():
        for reviewer, rating in by_reviewer.items():
            p = per.setdefault(reviewer, _new_counts())
            p["reviews"] += 1
            p["rating_sum"] += rating
            p["ratings"][str(rating)] += 1
        values = list(by_reviewer.values())
        if len(values) >= 2:
            units.append(values)
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    pairs += 1
                    same += values[i] == values[j]
    return units, pairs, same


def _completion_counts(store: ScenarioStore, per: dict[str, dict[str, Any]]) -> None:
    """Count each reviewer's completion decisions and written completions into ``per``."""
    for decisions in store.iter_review_decisions():
        for reviewer, decision in decisions.items():
            key = "accepted" if decision == "accept" else "rejected"
            per.setdefault(reviewer, _new_counts())[key] += 1
    for origin, n in store.human_completion_counts().items():
        if origin in per:
            per[origin]["written"] = n


def _agreement(units: list[list[int]], pairs: int, same: int) -> dict[str, Any]:
    alpha = krippendorff_alpha(units)
    if not units:
        note = "no scenario has ratings from two reviewers (review with --overlap 2 or more)"
    elif alpha is None:
        note = "every overlapping rating has the same value: alpha is undefined"
    else:
        note = "Krippendorff's alpha, ordinal, over the latest rating of each reviewer"
    return {
        "scenarios_with_overlap": len(units),
        "ratings_compared": sum(len(u) for u in units),
        "exact_pair_agreement": round(same / pairs, 4) if pairs else None,
        "krippendorff_alpha_ordinal": None if alpha is None else round(alpha, 4),
        "note": note,
    }


def review_stats(store: ScenarioStore) -> dict[str, Any]:
    """Per-reviewer counts and agreement, for ``scenario-forge stats``.

    Returns:
        ``reviewers``: name → ``reviews`` (scenarios rated), ``mean_rating``, ``ratings``
        (per value), ``accepted`` / ``rejected`` (completion decisions), ``written`` (human
        completions); ``agreement``: ``scenarios_with_overlap``, ``ratings_compared``,
        ``exact_pair_agreement`` (share of reviewer pairs giving the same rating),
        ``krippendorff_alpha_ordinal`` (``None`` when undefined) and ``note``.
    """
    per: dict[str, dict[str, Any]] = {}
    units, pairs, same = _rating_counts(_latest_ratings(store), per)
    _completion_counts(store, per)
    reviewers = {
        name: {
            "reviews": p["reviews"],
            "mean_rating": round(p["rating_sum"] / p["reviews"], 3) if p["reviews"] else None,
            "ratings": {k: p["ratings"][k] for k in sorted(p["ratings"])},
            "accepted": p["accepted"],
            "rejected": p["rejected"],
            "written": p["written"],
        }
        for name, p in sorted(per.items())
    }
    return {"reviewers": reviewers, "agreement": _agreement(units, pairs, same)}


def review_stats_lines(stats: dict[str, Any]) -> list[str]:
    """Text lines for ``scenario-forge stats``: a per-reviewer table, the agreement and, when
    ``stats["agreement"]["by_target"]`` is there (target -> ``alpha``, ``n``, ``ratings``,
    ``disagreements``, ``settled``), a table of alpha per target with its n."""
    from scenario_forge.terminal import table

    reviewers = stats.get("reviewers") or {}
    agreement = stats.get("agreement") or {}
    if not reviewers:
        return []
    rows = [
        (
            name,
            r["reviews"],
            "-" if r["mean_rating"] is None else f"{r['mean_rating']:.2f}",
            r["accepted"],
            r["rejected"],
            r["written"],
        )
        for name, r in reviewers.items()
    ]
    lines = [
        "",
        table(rows, ["reviewer", "reviews", "mean rating", "accepted", "rejected", "written"]),
        "",
    ]
    alpha = agreement.get("krippendorff_alpha_ordinal")
    exact = agreement.get("exact_pair_agreement")
    lines.append(
        f"Agreement: {agreement.get('scenarios_with_overlap', 0)} scenarios rated by 2+ "
        f"reviewers; Krippendorff's alpha (ordinal) "
        f"{'undefined' if alpha is None else f'{alpha:.3f}'}; exact pair agreement "
        f"{'-' if exact is None else f'{exact:.0%}'} ({agreement.get('note', '')})"
    )
    per_target = agreement.get("by_target") or {}
    if per_target:
        rows = [
            (
                target,
                "undefined" if a["alpha"] is None else f"{a['alpha']:.3f}",
                a["n"],
                a["ratings"],
                a["disagreements"],
                a["settled"],
            )
            for target, a in per_target.items()
        ]
        head = ["target", "alpha", "n", "ratings", "disagreements", "settled"]
        lines += ["", table(rows, head)]
    return lines
