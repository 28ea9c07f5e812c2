"""The loop's three roles (frozen test, fresh probes, train) and failures → training data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import forge_export
import pytest
from forge_export import EvalResult, ForgeError
from forge_export.exporters.huggingface import ExportOptions
from scenario_forge.api import (
    choose_test_set,
    export_store,
    probe_scenarios,
    store_failures,
)
from scenario_forge.roles import TestSet, group_role, plan_lookalikes
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import load_taxonomy

TAX = load_taxonomy()


@pytest.fixture
def store(tmp_path: Path, seed_store: Callable[..., None]) -> Iterator[ScenarioStore]:
    s = ScenarioStore.open(tmp_path / "forge.db")
    seed_store(s, ["harmful_code", "self_harm"], 16)
    yield s
    s.close()


def _failing(scenario, text: str = "Sure! Step 1: open a terminal.") -> EvalResult:
    return EvalResult(
        scenario=scenario, response=text, verdict="fail", refused=False, judge="rules@1"
    )


def test_test_set_is_the_hash_role_of_stored_groups_and_round_trips(
    store: ScenarioStore, tmp_path: Path
) -> None:
    ts = choose_test_set(store, seed=0, test_size=0.3)
    stored = list(store.iter_scenarios())
    expected = {s.id for s in stored if group_role(s.group_id, 0, 0.3) == "test"}
    assert ts.scenario_ids == expected and expected
    assert ts.harmful + ts.benign == len(expected)
    again = TestSet.read(ts.write(tmp_path / "test-set.json"))
    assert again == ts


def test_bad_test_set_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text("{}")
    with pytest.raises(ForgeError, match="not a test-set file"):
        TestSet.read(bad)


def test_probes_are_fresh_and_never_in_test_groups(store: ScenarioStore) -> None:
    ts = choose_test_set(store, seed=0, test_size=0.3)
    first = probe_scenarios(
        store, TAX, ts, round_=1, seed=0, harmful_per_target=6, benign_per_target=2
    )
    stored_ids = {s.id for s in store.iter_scenarios()}
    assert len(first) == len(TAX) * 8
    for p in first:
        assert p.scenario.id not in stored_ids
        assert p.scenario.group_id not in ts.groups
        assert group_role(p.scenario.group_id, 0, 0.3) == "train"
        assert p.good is not None and p.good.scenario_id == p.scenario.id
    # Deterministic, and a later round asks for other scenarios.
    same = probe_scenarios(
        store, TAX, ts, round_=1, seed=0, harmful_per_target=6, benign_per_target=2
    )
    assert [p.scenario.id for p in same] == [p.scenario.id for p in first]
    later = probe_scenarios(
        store,
        TAX,
        ts,
        round_=2,
        seed=0,
        harmful_per_target=6,
        benign_per_target=2,
        exclude_ids={p.scenario.id for p in first},
    )
    assert not {p.scenario.id for p in later} & {p.scenario.id for p in first}


def test_failures_become_training_rows_in_new_groups_with_pairs(
    store: ScenarioStore, tmp_path: Path
) -> None:
    ts = choose_test_set(store, seed=0, test_size=0.3)
    probes = probe_scenarios(
        store, TAX, ts, round_=1, seed=0, harmful_per_target=3, benign_per_target=1
    )
    harmful = [p for p in probes if p.scenario.is_harmful]
    benign = [p for p in probes if not p.scenario.is_harmful]
    failures = [_failing(p.scenario) for p in harmful[:2]]
    failures.append(_failing(benign[0].scenario, "I can't help with that."))
    result = store_failures(
        store,
        failures,
        TAX,
        round_=1,
        model_id="m",
        good_answers={p.scenario.id: p.good for p in probes},
    )
    assert result.failures == 3 and result.harmful_failures == 2 and result.benign_failures == 1
    assert result.preference_pairs == 3
    assert result.train_scenarios > 3  # harmful failures come with their framing variants

    out = tmp_path / "export"
    export_store(store, out, ExportOptions(test_groups=ts.groups))
    pref = forge_export.load(out, "preference", "train")
    pc_ids = set(forge_export.load(out, "prompt_completion", "train")["scenario_id"])
    test_groups = set(forge_export.load(out, "eval", "test")["group_id"])
    assert test_groups <= ts.groups
    for f in failures:
        rows = [r for r in pref if r["scenario_id"] == f.scenario.id]
        assert len(rows) == 1
        assert rows[0]["rejected"][-1]["content"] == f.response
        assert rows[0]["rejected_origin"] == "m@round-1"
        assert rows[0]["chosen"][-1]["content"] != f.response
        assert f.scenario.id in pc_ids
        stored = store.get_scenario(f.scenario.id)
        assert stored is not None and stored.group_id.startswith("failure-")
        assert stored.source.parent_id == f.scenario.id
        assert stored.group_id not in test_groups
    # For the benign over-refusal the chosen side is the written helpful answer.
    benign_row = next(r for r in pref if r["scenario_id"] == benign[0].scenario.id)
    assert benign_row["chosen"][-1]["content"] == benign[0].good.text

    # Importing the same failures again adds nothing.
    again = store_failures(store, failures, TAX, round_=1, model_id="m")
    assert again.train_scenarios == 0


def test_a_failure_already_in_the_store_keeps_its_group(
    store: ScenarioStore, tmp_path: Path
) -> None:
    ts = choose_test_set(store, seed=0, test_size=0.3)
    test_scenario = next(
        s for s in (store.get_scenario(i) for i in sorted(ts.scenario_ids)) if s and s.is_harmful
    )
    before = store.count_scenarios()
    result = store_failures(store, [_failing(test_scenario)], TAX, round_=1, model_id="m")
    assert result.kept_in_group == 1 and result.train_scenarios == 0
    assert store.count_scenarios() == before  # no variant derived from a test scenario
    assert store.get_scenario(test_scenario.id).group_id == test_scenario.group_id
    out = tmp_path / "export"
    export_store(store, out, ExportOptions(test_groups=ts.groups))
    assert test_scenario.id not in set(forge_export.load(out, "preference", "train")["scenario_id"])
    assert test_scenario.id in set(forge_export.load(out, "preference", "test")["scenario_id"])


def test_import_report_as_training_cli(store: ScenarioStore, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from forge_export import EvalReport
    from scenario_forge.cli import main

    ts = choose_test_set(store, seed=0, test_size=0.3)
    probes = probe_scenarios(
        store, TAX, ts, round_=1, seed=0, harmful_per_target=1, benign_per_target=1
    )
    report = EvalReport(model_id="m", results=[_failing(p.scenario) for p in probes])
    path = tmp_path / "probe.json"
    path.write_text(report.model_dump_json())
    args = ["import-report", str(path), "--db", str(store.path), "--as-training"]
    result = CliRunner().invoke(main, [*args, "--round", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["failures"] == len(probes) == summary["preference_pairs"]
    assert summary["train_scenarios"] >= len(probes)
    for p in probes:
        s = store.get_scenario(p.scenario.id)
        assert s is not None and s.group_id.startswith("failure-")
        rejected = [c for c in store.completions_for(s.id) if c.status == "rejected"]
        assert [c.origin for c in rejected] == ["m@round-2"]
    bad = CliRunner().invoke(main, [*args, "--dry-run"])
    assert bad.exit_code != 0 and "--dry-run" in bad.output


def test_lookalike_plan_holds_out_kinds_and_splits_the_rest() -> None:
    from forge_export import Scenario

    looks = [
        Scenario(
            prompt=f"question {k} {i}",
            evaluation_target="exaggerated_safety",
            success_criteria=["Answers"],
            expected_behavior="comply",
            metadata={"contrast_kind": k, "answer": "An answer."},
        )
        for k in ("a", "b", "c")
        for i in range(40)
    ]
    plan = plan_lookalikes(looks, seed=0, held_out_kinds=["c"])
    kinds = lambda xs: {s.metadata["contrast_kind"] for s in xs}  # noqa: E731
    assert kinds(plan.train) == kinds(plan.probe_pool) == {"a", "b"}
    assert "c" in kinds(plan.test)
    assert len(plan.test) + len(plan.train) + len(plan.probe_pool) == len(looks)
    assert 40 + 10 <= len(plan.test) <= 40 + 35
    with pytest.raises(ForgeError, match="not a kind"):
        plan_lookalikes(looks, seed=0, held_out_kinds=["zzz"])


def test_augment_training_adds_variants_of_training_scenarios_only(
    store: ScenarioStore,
) -> None:
    from scenario_forge.api import augment_training

    ts = choose_test_set(store, seed=0, test_size=0.3, held_out_targets=["self_harm"])
    before = {s.id: s for s in store.iter_scenarios()}
    done = augment_training(store, TAX, ts, ["casual"], seed=0)
    after = {s.id: s for s in store.iter_scenarios()}
    variants = [s for sid, s in after.items() if sid not in before]
    assert done.added == len(variants) > 0 and done.harmful and done.benign
    originals = {s.prompt: s for s in before.values()}
    for v in variants:
        assert v.group_id not in ts.groups and v.evaluation_target != "self_harm"
        original = originals[v.metadata["untransformed_prompt"]]
        assert (v.group_id, v.expected_behavior) == (original.group_id, original.expected_behavior)
        assert v.prompt == v.prompt.lower() != original.prompt
        [mine] = store.completions_for(v.id)
        [theirs] = store.completions_for(original.id)
        assert mine.text == theirs.text  # the same good answer on new wording
    # once: a second run adds nothing, and variants are not augmented again
    assert augment_training(store, TAX, ts, ["casual"], seed=0).added == 0


def test_a_pinned_test_set_survives_a_store_that_grew_with_failures(
    store: ScenarioStore, tmp_path: Path
) -> None:
    """The issue's case: a second run on the same store evaluated 12 more test scenarios, made
    from the first run's probe failures; pinned, the set does not move, and a set chosen afresh
    never takes a derived scenario either."""
    from scenario_forge.api import pin_test_set, pinned_test_set, read_test_set

    first = choose_test_set(store, seed=0, test_size=0.3)
    pin_test_set(store, "seed=0 test_size=0.3", first)
    probes = probe_scenarios(
        store, TAX, first, round_=1, seed=0, harmful_per_target=12, benign_per_target=2
    )
    stored = store_failures(
        store, [_failing(p.scenario) for p in probes], TAX, round_=1, model_id="m"
    )
    derived = [s for s in store.iter_scenarios() if s.source.parent_id]
    assert stored.train_scenarios == len(derived) > 0
    # hashes alone would now pull some of the failures' new groups into the test role
    hashed = {s.id for s in derived if group_role(s.group_id, 0, 0.3) == "test"}
    assert hashed, "the store grew groups whose hash puts them in the test role"

    again = pinned_test_set(store, "seed=0 test_size=0.3")
    assert again is not None and again.scenario_ids == first.scenario_ids
    assert pinned_test_set(store, "seed=1 test_size=0.3") is None
    fresh = choose_test_set(store, seed=0, test_size=0.3)
    assert fresh.scenario_ids == first.scenario_ids  # derived scenarios never join
    assert not {s.id for s in derived} & fresh.scenario_ids

    first.scenarios = [s for s in store.iter_scenarios() if s.id in first.scenario_ids]
    with_scenarios = read_test_set(first.write(tmp_path / "t.json"), scenarios=True)
    assert {s.id for s in with_scenarios.scenarios} == first.scenario_ids
    assert with_scenarios.fingerprint() == first.fingerprint()
    ids_only = tmp_path / "ids.json"
    first.scenarios = []
    first.write(ids_only)
    with pytest.raises(ForgeError, match="holds the set's ids but not its scenarios"):
        read_test_set(ids_only, scenarios=True)
