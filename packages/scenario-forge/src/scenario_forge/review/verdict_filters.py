"""Which answers of an evaluation report a reviewer sees, and in what order.

One filter for both verdict review modes: the web queue (``/verdicts``,
:mod:`scenario_forge.web.verdict_routes`) and the terminal
(``scenario-forge review verdicts``). Rows are :func:`scenario_forge.eval_verdicts.review_rows`
rows; a row's *verdict in force* is the latest human verdict on its (scenario, response)
(:func:`scenario_forge.eval_verdicts.human_verdicts`), by anyone.

Example:
    >>> f = VerdictFilter(judge_fail=True, low_confidence=True)
    >>> rows = [{"judge_verdict": "fail", "judge_confidence": 0.4, "evaluation_target": "t",
    ...          "judge_label": None, "key": ("s", "h")}]
    >>> len(f.apply(rows, in_force={}))
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from forge_export.models import LOW_CONFIDENCE

from scenario_forge.eval_verdicts import LABELS

Key = tuple[str, str]
"""(scenario id, sha256 of the response): what a human verdict is stored under."""


@dataclass(frozen=True)
class VerdictFilter:
    """Which answers to show.

    Attributes:
        unverified: Only answers without a human verdict in force (by anyone).
        judge_fail: Only answers the judge failed.
        label: Only answers the judge gave this label (``compliance``, ``refusal``, ...).
        target: Only answers of this evaluation target.
        low_confidence: Only answers whose judge confidence is known and under
            :data:`forge_export.models.LOW_CONFIDENCE`.
        reviewer: Only answers whose verdict in force is this reviewer's.
        lowest_confidence_first: Order by the judge's confidence, least sure first (answers
            without one last, in report order).
    """

    unverified: bool = False
    judge_fail: bool = False
    label: str = ""
    target: str = ""
    low_confidence: bool = False
    reviewer: str = ""
    lowest_confidence_first: bool = False

    def check(self) -> None:
        """Raise ``ValueError`` (one line) for a label that is not one of :data:`LABELS`."""
        if self.label and self.label not in LABELS:
            raise ValueError(f"label {self.label[:40]!r}: use one of {', '.join(LABELS)}")

    def keeps(self, row: Mapping[str, Any], verdict: Mapping[str, Any] | None) -> bool:
        """Whether ``row`` (with its verdict in force, or ``None``) passes the filter."""
        confidence = row.get("judge_confidence")
        return not (
            (self.unverified and verdict is not None)
            or (self.judge_fail and row.get("judge_verdict") != "fail")
            or (self.label and row.get("judge_label") != self.label)
            or (self.target and row.get("evaluation_target") != self.target)
            or (self.low_confidence and (confidence is None or confidence >= LOW_CONFIDENCE))
            or (self.reviewer and (verdict is None or verdict.get("reviewer") != self.reviewer))
        )

    def apply(
        self, rows: Sequence[dict[str, Any]], in_force: Mapping[Key, Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """The rows that pass, in the chosen order (each row carries its ``key``)."""
        kept = [r for r in rows if self.keeps(r, in_force.get(r["key"]))]
        if self.lowest_confidence_first:
            known = [r for r in kept if r.get("judge_confidence") is not None]
            unknown = [r for r in kept if r.get("judge_confidence") is None]
            kept = sorted(known, key=lambda r: float(r["judge_confidence"])) + unknown
        return kept
