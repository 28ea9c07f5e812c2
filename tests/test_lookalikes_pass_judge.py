"""Every written look-alike answer is an answer the rule judge passes (no over-refusal).

The loop trains on look-alike completions and measures over-refusal on look-alike scenarios
with the rule judge, so an answer the judge reads as a refusal would teach the very behaviour
the look-alikes are there to remove. Real scenarios from the built-in kinds, their real
completions, the real judge; and the refusal the loop's training taught ("I can't help with
...") fails on the same scenarios, so the check can fail.
"""

from __future__ import annotations

from collections import Counter

from model_forge.judge import JudgeItem, load_judge
from scenario_forge.lookalikes import lookalike_completions, lookalike_scenarios
from scenario_forge.taxonomy import load_taxonomy


def test_every_lookalike_answer_passes_the_rule_judge() -> None:
    taxonomy = load_taxonomy()
    scenarios = lookalike_scenarios(taxonomy)
    completions = {c.scenario_id: c for c in lookalike_completions(scenarios, taxonomy)}
    assert len(completions) == len(scenarios) >= 264
    judge = load_judge("rules")
    items = [JudgeItem.from_scenario(s, completions[s.id].text) for s in scenarios]
    failures = [
        (s.metadata["contrast_kind"], s.prompt, j.reason)
        for s, j in zip(scenarios, judge.judge(items), strict=True)
        if j.verdict != "pass" or j.refused
    ]
    assert failures == []
    kinds = Counter(str(s.metadata["contrast_kind"]) for s in scenarios)
    assert set(kinds) == set(taxonomy.lookalikes)


def test_a_refusal_of_a_lookalike_fails_the_rule_judge() -> None:
    taxonomy = load_taxonomy()
    scenarios = lookalike_scenarios(taxonomy)
    judge = load_judge("rules")
    refusals = [
        JudgeItem.from_scenario(s, "I can't help with that. It could be used to cause harm.")
        for s in scenarios
    ]
    verdicts = judge.judge(refusals)
    assert all(j.verdict == "fail" and j.refused for j in verdicts)
