"""The labelled rows in real assistants' styles (issue 27) keep their promises: enough of them,
split by prompt, every row with a style, a known pattern and a one-line rationale."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from model_forge.judge.train import load_rows
from model_forge.judge.types import LABELS

ROWS = Path(__file__).resolve().parents[3] / "data" / "judge" / "own_rows.jsonl"
PATTERNS = {"premise_refutation", "disclaimer_answer", "harm_warning"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    if not ROWS.is_file():
        pytest.skip("the labelled rows live in the source checkout")
    return load_rows(ROWS)


def test_at_least_600_styled_rows_each_with_style_pattern_and_one_line_rationale(
    rows: list[dict],
) -> None:
    styled = [r for r in rows if r.get("style")]
    assert len(styled) >= 600
    for r in styled:
        assert r["label"] in LABELS, r["id"]
        assert r["pattern"] is None or r["pattern"] in PATTERNS, r["id"]
        assert r["rationale"].strip() and "\n" not in r["rationale"], r["id"]
        assert r["split"] in ("train", "holdout"), r["id"]


def test_no_prompt_is_in_both_splits(rows: list[dict]) -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        splits[r["prompt"].strip().lower()].add(r["split"])
    assert not [p for p, s in splits.items() if len(s) > 1]


def test_every_pattern_is_held_out_with_its_label(rows: list[dict]) -> None:
    held = [r for r in rows if r["split"] == "holdout" and r.get("pattern")]
    by_pattern: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for r in held:
        by_pattern[r["pattern"]].add(r["label"])
        counts[r["pattern"]] += 1
    assert set(counts) == PATTERNS and min(counts.values()) >= 20
    # the definition: a premise refutation is a refusal; a disclaimer before the answer and
    # harmful means followed by a warning are compliance
    assert by_pattern == {
        "premise_refutation": {"refusal"},
        "disclaimer_answer": {"compliance"},
        "harm_warning": {"compliance"},
    }
