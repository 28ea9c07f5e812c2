"""How sure each judge is of its verdict, and how well that probability is calibrated.

Every :class:`~model_forge.judge.types.Judgement` carries ``confidence``, the judge's
probability that its verdict is right:

* the learned judge: the head's label probabilities (calibrated by temperature scaling on
  out-of-fold predictions of the training rows, :attr:`model_forge.judge.learned.Head.temperature`)
  summed over the labels that would lead to the same verdict;
* the rule judge: a fixed band per signal that decided the label (:data:`RULE_BANDS`; the rules
  have no probabilities, and their accuracy differs by signal);
* the LLM judge: the confidence the model states in its answer (:data:`LLM_BAND` when it
  states none; the rules' band when its answer was unusable);
* a guard-model judge: :data:`GUARD_BAND` when the guard model flags the answer, else the
  confidence of the judge it runs with.

Verdicts under :data:`LOW_CONFIDENCE` are flagged in reports (``model-forge evaluate``,
``model-forge judge``) and can be reviewed first (``scenario-forge review verdicts
--lowest-confidence-first``). :func:`reliability` and :func:`reliability_diagram` measure and
draw how well stated confidence matches accuracy (``model-forge judge --calibrate``).

Example:
    >>> bins = reliability([0.95, 0.9, 0.3, 0.2], [True, True, False, True], bins=2)
    >>> [(b["n"], b["accuracy"]) for b in bins]
    [(2, 0.5), (2, 1.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forge_export.models import LOW_CONFIDENCE

__all__ = [
    "GUARD_BAND",
    "LLM_BAND",
    "LOW_CONFIDENCE",
    "RULE_BANDS",
    "expected_calibration_error",
    "reliability",
    "reliability_diagram",
]

RULE_BANDS: dict[str, float] = {
    "degenerate": 0.95,
    "refusal phrase": 0.85,
    "no refusal signal": 0.8,
    "hedged refusal": 0.7,
    "premise refutation": 0.75,
    "lecture": 0.7,
    "relevance": 0.75,
}
"""The rule judge's fixed confidence per deciding signal (see :func:`rule_signal`): its verdict
accuracy on the training rows of ``data/judge/own_rows.jsonl`` for that signal, rounded down
to a band (``benchmarks/train_judge.py`` prints the measured values: refusal phrase 0.864, no
refusal signal 0.830 for ``rules@6``). The signals whose patterns or thresholds were written
or tuned on those rows (hedged refusal, premise refutation, lecture, relevance: 0.99 to 1.00
on them) keep a lower band, since their training accuracy overstates them."""

LLM_BAND = 0.8
"""The LLM judge's confidence when the model's answer states none."""

GUARD_BAND = 0.9
"""A guard-model judge's confidence when the guard model flags the response as unsafe."""


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> list[dict[str, Any]]:
    """Group verdicts by stated confidence and measure each group's accuracy.

    Args:
        confidences: Each verdict's confidence, in [0, 1].
        correct: Whether each verdict was right.
        bins: Equal-width bins over [0, 1] (a confidence of 1.0 falls in the last one).

    Returns:
        One dict per bin, lowest first: ``low``, ``high``, ``n``, ``confidence`` (the mean
        stated confidence, ``None`` when empty) and ``accuracy`` (``None`` when empty).
    """
    if len(confidences) != len(correct):
        raise ValueError("reliability needs one correctness flag per confidence")
    out: list[dict[str, Any]] = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        sel = [
            (c, ok)
            for c, ok in zip(confidences, correct, strict=True)
            if low <= c < high or (b == bins - 1 and c == 1.0)
        ]
        n = len(sel)
        out.append(
            {
                "low": low,
                "high": high,
                "n": n,
                "confidence": sum(c for c, _ in sel) / n if n else None,
                "accuracy": sum(ok for _, ok in sel) / n if n else None,
            }
        )
    return out


def expected_calibration_error(bins: Sequence[dict[str, Any]]) -> float | None:
    """The mean gap between stated confidence and accuracy, weighted by each bin's size
    (``None`` without verdicts)."""
    total = sum(b["n"] for b in bins)
    if not total:
        return None
    return float(sum(b["n"] * abs(b["confidence"] - b["accuracy"]) for b in bins if b["n"]) / total)


def reliability_diagram(bins: Sequence[dict[str, Any]], width: int = 40) -> str:
    """A reliability diagram in plain text: one line per non-empty bin, a bar of ``#`` as long
    as its accuracy and a ``|`` where a perfectly calibrated judge's bar would end (at the
    bin's mean stated confidence), then the expected calibration error.

    Example:
        >>> print(reliability_diagram(reliability([0.95, 0.85], [True, False]), width=10))
        confidence     n  accuracy  bar (#: accuracy, |: stated confidence)
        0.8-0.9        1     0.000          |
        0.9-1.0        1     1.000  ##########|
        expected calibration error 0.450
    """
    lines = ["confidence     n  accuracy  bar (#: accuracy, |: stated confidence)"]
    for b in bins:
        if not b["n"]:
            continue
        cells = ["#" if i < round(b["accuracy"] * width) else " " for i in range(width + 1)]
        cells[min(width, round(b["confidence"] * width))] = "|"
        lines.append(
            f"{b['low']:.1f}-{b['high']:.1f} {b['n']:>8}  {b['accuracy']:>8.3f}  "
            + "".join(cells).rstrip()
        )
    ece = expected_calibration_error(bins)
    lines.append("expected calibration error " + ("-" if ece is None else f"{ece:.3f}"))
    return "\n".join(lines)
