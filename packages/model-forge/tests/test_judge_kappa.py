"""Cohen's kappa of the judge metrics comes from scikit-learn; it equals the textbook formula."""

from __future__ import annotations

from collections import Counter

import pytest
from model_forge.judge.train import _kappa, agreement


def textbook_kappa(true: list[object], pred: list[object]) -> float:
    """(p_o - p_e) / (1 - p_e), from the observed agreement and the marginals."""
    n = len(true)
    po = sum(t == p for t, p in zip(true, pred, strict=True)) / n
    ct, cp = Counter(true), Counter(pred)
    pe = sum(ct[c] * cp[c] for c in set(ct) | set(cp)) / (n * n)
    return (po - pe) / (1 - pe)


CASES = [
    (["pass", "fail", "pass", "pass"], ["pass", "fail", "fail", "pass"]),
    (
        ["compliance", "refusal", "partial_refusal", "off_topic", "refusal", "compliance"],
        ["compliance", "refusal", "refusal", "off_topic", "compliance", "compliance"],
    ),
    ([True, False, True, False, True], [False, True, False, True, False]),  # full disagreement
    ([True, True, False, False], [True, True, False, False]),  # full agreement
]


@pytest.mark.parametrize(("true", "pred"), CASES)
def test_kappa_equals_the_textbook_formula(true: list[object], pred: list[object]) -> None:
    assert _kappa(true, pred) == pytest.approx(textbook_kappa(true, pred))


def test_edge_cases_and_known_values() -> None:
    assert _kappa([], []) is None
    assert _kappa(["pass"] * 3, ["pass"] * 3) == 1.0  # one label everywhere: chance is 1
    # p_o = 3/4, p_e = (3*2 + 1*2)/16 = 1/2 -> kappa = 0.5
    assert _kappa(CASES[0][0], CASES[0][1]) == pytest.approx(0.5)
    m = agreement(["refusal", "compliance"], ["refusal", "compliance"])
    assert m["kappa"] == pytest.approx(1.0) and m["refusal_flag_kappa"] == pytest.approx(1.0)
