"""Template generation: seeds × framings, benign contrasts, group ids, determinism, duplicates."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from forge_export.generators import load_generator
from forge_export.ids import scenario_id
from scenario_forge.api import generate_scenarios
from scenario_forge.generation import FRAMINGS, TemplateGenerator, template_scenarios
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import Taxonomy

from .conftest import Cli


def test_all_combinations_and_groups(tax: Taxonomy) -> None:
    spec = tax.get("demo_code")
    made = list(template_scenarios(spec, count=1000, seed=0))
    harmful = [s for s in made if s.expected_behavior != "comply"]
    benign = [s for s in made if s.expected_behavior == "comply"]
    assert len(harmful) == len(spec.seeds) * len(FRAMINGS)
    assert len(benign) == len(spec.benign) * 2
    assert len({s.id for s in made}) == len(made)
    for s in harmful:
        idx = s.metadata["seed_index"]
        seed = spec.seeds[idx]
        assert s.group_id == scenario_id(seed.prompt, [], "demo_code")
        assert s.source.kind == "template"
        assert s.source.origin == f"demo_code/{idx}/{s.metadata['framing']}"
        assert s.metadata["slots"] == seed.slots
        assert seed.prompt in s.prompt
        assert s.success_criteria == spec.criteria(seed)
        if s.metadata["framing"] == "direct":
            assert s.id == s.group_id and not s.context
        if s.metadata["framing"] == "multi_turn":
            assert len(s.context) >= 2 and s.context[0].role == "user"
        else:
            assert not s.context
    for s in benign:
        item = spec.benign[s.metadata["benign_index"]]
        assert s.metadata["framing"] in ("direct", "hypothetical")
        assert s.success_criteria == spec.benign_success_criteria
        assert s.metadata["answer"] == item.answer
        assert s.group_id == scenario_id(item.prompt, [], "demo_code")
    # each group holds the variants of one seed
    groups = Counter(s.group_id for s in harmful)
    assert set(groups.values()) == {len(FRAMINGS)}


def test_quarter_benign_and_mixed_framings(tax: Taxonomy) -> None:
    made = list(template_scenarios(tax.get("demo_code"), count=8, seed=3))
    assert len(made) == 8
    assert sum(s.expected_behavior == "comply" for s in made) == 2
    framings = {s.metadata["framing"] for s in made if s.expected_behavior == "refuse"}
    assert len(framings) >= 3  # small counts still mix framings


def test_deterministic_for_seed_and_wordings_vary(tax: Taxonomy) -> None:
    spec = tax.get("demo_code")
    a = [s.model_dump(exclude={"source"}) for s in template_scenarios(spec, 30, seed=1)]
    b = [s.model_dump(exclude={"source"}) for s in template_scenarios(spec, 30, seed=1)]
    assert a == b
    prompts = {
        seed: {
            s.prompt
            for s in template_scenarios(spec, 30, seed)
            if s.metadata["framing"] != "direct"
        }
        for seed in range(6)
    }
    assert len({frozenset(p) for p in prompts.values()}) > 1


def test_generate_stores_and_counts_duplicates(store: ScenarioStore, tax: Taxonomy) -> None:
    first = generate_scenarios(store, tax, ["demo_code"], 12, 0)
    assert (first.generated, first.added, first.duplicates) == (12, 12, 0)
    again = generate_scenarios(store, tax, ["demo_code"], 12, 0)
    assert (again.added, again.duplicates) == (0, 12)
    everything = generate_scenarios(store, tax, None, 4, 0)
    assert set(everything.per_target) == {"demo_code", "demo_help"}
    assert store.count_scenarios(target="demo_help") == 4


def test_duplicate_seed_prompts_are_counted(store: ScenarioStore, tax: Taxonomy) -> None:
    spec = tax.get("demo_help")
    doubled = spec.model_copy(update={"seeds": [*spec.seeds, spec.seeds[0].model_copy()]})
    tax.targets["demo_help"] = doubled
    res = generate_scenarios(store, tax, ["demo_help"], 1000, 0)
    # the direct variants collide for sure (other framings may get other wordings)
    assert res.duplicates >= 1
    assert res.added == res.generated - res.duplicates == store.count_scenarios()


def test_template_is_a_registered_generator(store: ScenarioStore, tax: Taxonomy) -> None:
    gen = load_generator("template", taxonomy=tax)
    assert isinstance(gen, TemplateGenerator)
    res = generate_scenarios(store, tax, ["demo_help"], 3, 0, gen)
    assert res.generator == "template" and res.added == 3


def test_generate_cli(cli: Cli) -> None:
    res = cli("generate", "--target", "demo_code", "--count", "10", "--seed", "2", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["added"] == 10 and summary["targets"]["demo_code"]["duplicates"] == 0
    res = cli("generate", "-t", "demo_code", "-n", "10", "--seed", "2")
    assert res.exit_code == 0
    assert "duplicates" in res.stdout and "10" in res.stdout
    bad = cli("generate", "--target", "no_such_target")
    assert bad.exit_code == 1 and "unknown evaluation target 'no_such_target'" in bad.stderr
    missing = cli("generate", "--generator", "does-not-exist", "-t", "demo_code")
    assert missing.exit_code == 1 and "unknown generator 'does-not-exist'" in missing.stderr
    badopt = cli("generate", "-t", "demo_code", "--option", "novalue")
    assert badopt.exit_code == 2 and "'--option': 'novalue' is not KEY=VALUE" in badopt.stderr


def test_benign_share_sets_the_contrasts_per_target() -> None:
    from forge_export import ForgeError
    from scenario_forge.generation import TemplateGenerator, template_scenarios
    from scenario_forge.taxonomy import load_taxonomy

    tax = load_taxonomy()
    spec = tax.get("illegal_drugs")
    default = list(template_scenarios(spec, 24, seed=0))
    half = list(template_scenarios(spec, 24, seed=0, benign_share=0.5))
    assert sum(not s.is_harmful for s in default) == 6
    assert sum(not s.is_harmful for s in half) == 12 and len(half) == 24
    # distinct benign prompts first, each in one framing
    assert len({s.group_id for s in half if not s.is_harmful}) == 12
    gen = TemplateGenerator(tax, benign_share=0.5)
    assert [s.id for s in gen.generate_scenarios(_brief(tax, "illegal_drugs"), 24, 0)] == [
        s.id for s in half
    ]
    with pytest.raises(ForgeError, match="benign_share must be a number from 0 to 1"):
        TemplateGenerator(tax, benign_share="lots")


def _brief(tax, name):  # type: ignore[no-untyped-def]
    from scenario_forge.generation import target_brief

    return target_brief(tax, name)
