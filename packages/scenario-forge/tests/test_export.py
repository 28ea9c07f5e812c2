"""export_store and `scenario-forge export`: real parquet read back with `datasets`."""

from __future__ import annotations

import json
from pathlib import Path

from forge_export import Review
from forge_export.exporters.huggingface import ExportOptions
from scenario_forge.api import complete_with_templates, export_store, generate_scenarios
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import Taxonomy

from .conftest import Cli


def _filled(store: ScenarioStore, tax: Taxonomy) -> None:
    generate_scenarios(store, tax, None, 12, 0)
    complete_with_templates(store, tax)


def test_export_store_round_trip(store: ScenarioStore, tax: Taxonomy, tmp_path: Path) -> None:
    import datasets

    _filled(store, tax)
    seen: list[int] = []
    out = tmp_path / "out"
    summary = export_store(store, out, ExportOptions(seed=1), progress=seen.append)
    total = store.count_scenarios()
    assert sum(seen) == summary.scenarios_seen == total
    sft = datasets.load_dataset(str(out), "sft")
    assert (
        len(sft["train"]) + len(sft["test"])
        == summary.counts["sft"]["train"] + summary.counts["sft"]["test"]
    )
    rows = list(sft["train"]) + list(sft["test"])
    assert {r["scenario_id"] for r in rows} <= {s.id for s in store.iter_scenarios()}
    for r in rows[:5]:
        assert r["messages"][-1]["role"] == "assistant"
        assert r["completion_source"] == "template"
        c = store.get_completion(r["completion_id"])
        assert c is not None and c.text == r["messages"][-1]["content"]
    ev = datasets.load_dataset(str(out), "eval")
    assert len(ev["train"]) + len(ev["test"]) == total - summary.duplicates_dropped


def test_export_filters(store: ScenarioStore, tax: Taxonomy, tmp_path: Path) -> None:
    import datasets

    _filled(store, tax)
    only = export_store(store, tmp_path / "a", ExportOptions(targets=["demo_help"]))
    assert only.scenarios_seen == store.count_scenarios(target="demo_help")
    # only-validated: nothing until a reviewer accepts a completion and rates the scenario
    none = export_store(store, tmp_path / "b", ExportOptions(only_validated=True))
    assert none.counts["sft"] == {"train": 0, "test": 0}
    s = next(store.iter_scenarios(target="demo_code", expected_behavior="refuse"))
    c = store.completions_for(s.id)[0]
    store.update_completion_status(c.id, "accepted", reviewer="ana")
    store.add_review(Review(scenario_id=s.id, reviewer="ana", rating=3))
    one = export_store(store, tmp_path / "c", ExportOptions(only_validated=True, configs=["sft"]))
    assert sum(one.counts["sft"].values()) == 1
    ds = datasets.load_dataset(str(tmp_path / "c"), "sft")
    # empty splits are left out of the card's configs (datasets cannot load them)
    rows = [r for split in ds for r in ds[split]]
    assert len(rows) == 1
    row = rows[0]
    assert row["scenario_id"] == s.id and row["validated_by"] == ["ana"]


def test_export_cli(cli: Cli, tmp_path: Path) -> None:
    assert cli("generate", "-t", "demo_code", "-n", "12").exit_code == 0
    assert cli("complete").exit_code == 0
    out = tmp_path / "out"
    res = cli("export", str(out))
    assert res.exit_code == 0, res.output
    assert "config" in res.stdout and "sft" in res.stdout and "duplicates dropped" in res.stdout
    assert "Exporting" in res.stderr
    assert (out / "manifest.json").exists() and (out / "README.md").exists()
    again = cli("export", str(out))
    assert again.exit_code == 1 and "Traceback" not in again.output
    res = cli(
        "export",
        str(out),
        "--overwrite",
        "--config",
        "sft",
        "--config",
        "eval",
        "--test-size",
        "0.5",
        "--seed",
        "3",
        "--source",
        "template",
        "--json",
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert set(summary["counts"]) == {"sft", "eval"}
    assert summary["scenarios_seen"] == 12
    assert sum(summary["counts"]["sft"].values()) + summary["duplicates_dropped"] <= 12
    # nothing is rated: the rating filter leaves no row in any config, eval included
    res = cli("export", str(tmp_path / "x"), "--min-rating", "2", "--config", "sft", "--json")
    assert json.loads(res.stdout)["filtered_out"] == 12
    res = cli("export", str(tmp_path / "y"), "--min-rating", "2", "--config", "eval", "--json")
    assert json.loads(res.stdout)["filtered_out"] == 12
