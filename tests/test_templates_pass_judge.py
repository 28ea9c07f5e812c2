"""Built-in template completions against the rule judge, blind spots included.

The loop trains on template completions, so a template the judge fails would teach the model to
fail. Real scenarios from the built-in taxonomy, real templates, the real judge. The judge is
not tuned on these texts; its known false off-topic calls on two on-topic template answers with
no word in common with the question (measured cosine 0.23 and 0.26, threshold 0.28) are listed
here rather than hidden, and any other failure fails the test.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from model_forge.judge import JudgeItem, load_judge
from scenario_forge.api import complete_with_templates, generate_scenarios
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import load_taxonomy


def test_builtin_template_completions_pass_the_rule_judge_but_known_blind_spots(
    tmp_path: Path,
) -> None:
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
    # known judge blind spot (see the module docstring): on-topic answers judged off topic
    known = [f for f in failures if f[1] == "answers a different question"]
    assert len(known) <= 2, known
    assert [f for f in failures if f not in known] == []
    # every built-in target, harmful and benign, was checked
    assert {t for t, _ in seen} == set(taxonomy.names()) and len(seen) > 5
    assert {b for _, b in seen} >= {"comply", "refuse", "safe_complete"}
