"""Every built-in template completion is an answer the rule judge passes.

The loop trains on template completions and scores the trained model with the rule judge, so
a template the judge fails would teach the model to fail. Real scenarios from the built-in
taxonomy, real templates, the real judge.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from model_forge.judge import JudgeItem, load_judge
from scenario_forge.api import complete_with_templates, generate_scenarios
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import load_taxonomy


def test_every_builtin_template_completion_passes_the_rule_judge(tmp_path: Path) -> None:
    store = ScenarioStore.open(tmp_path / "forge.db")
    taxonomy = load_taxonomy()
    generate_scenarios(store, taxonomy, None, count=60, seed=0)
    complete_with_templates(store, taxonomy)
    judge = load_judge("rules")
    seen: Counter[tuple[str, str]] = Counter()
    failures = []
    for scenario in store.iter_scenarios():
        for completion in store.completions_for(scenario.id):
            [j] = judge.judge([JudgeItem.from_scenario(scenario, completion.text)])
            seen[(scenario.evaluation_target, scenario.expected_behavior)] += 1
            if j.verdict != "pass":
                failures.append((scenario.id, j.reason, completion.text[:300]))
    store.close()
    assert failures == []
    # every built-in target, harmful and benign, was checked
    assert {t for t, _ in seen} == set(taxonomy.names()) and len(seen) > 5
    assert {b for _, b in seen} >= {"comply", "refuse", "safe_complete"}
