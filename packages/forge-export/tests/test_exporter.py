"""The HuggingFace exporter: layout, loading with datasets, filters, splits, safety of `out`."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import datasets
import pytest
from forge_export import Completion, ForgeError, Review, Scenario, load
from forge_export.exporters.huggingface import (
    CONFIGS,
    ExportOptions,
    ScenarioBundle,
    export_dataset,
)
from forge_export.ids import normalize_text
from forge_export.reader import validate_export
from forge_export.synthetic import synthetic_bundles


def _load_all(out: Path, config: str) -> list[dict[str, object]]:
    ds = datasets.load_dataset(str(out), config)
    return [row for split in ds for row in ds[split]]


def test_load_dataset_offline_every_config_rows_equal_input(tmp_path: Path) -> None:
    bundles = list(synthetic_bundles(60))
    out = tmp_path / "ds"
    summary = export_dataset(bundles, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*CONFIGS, "README.md", "manifest.json"])
    assert summary.scenarios_seen == summary.scenarios_exported == 60
    by_id = {b.scenario.id: b for b in bundles}
    for config in CONFIGS:
        rows = _load_all(out, config)
        assert len(rows) == sum(summary.counts[config].values()) > 0, config
        assert {r["scenario_id"] for r in rows} <= set(by_id)
    sft = _load_all(out, "sft")
    assert {r["scenario_id"] for r in sft} == set(by_id)
    for r in sft:
        b = by_id[r["scenario_id"]]
        kept = next(c for c in b.completions if c.status != "rejected")
        assert r["messages"] == [
            *b.scenario.messages(),
            {"role": "assistant", "content": kept.text},
        ]
        assert r["completion_id"] == kept.id
    evals = _load_all(out, "eval")
    assert sorted(r["id"] for r in evals) == sorted(by_id)
    for r in evals:
        assert r["input"] == by_id[r["id"]].scenario.messages()
        assert Scenario.model_validate_json(r["scenario"]) == by_id[r["id"]].scenario
    pref = _load_all(out, "preference")
    assert len(pref) == 30  # every second scenario has a rejected completion
    kto = _load_all(out, "kto")
    assert sum(r["label"] for r in kto) == 60 and sum(not r["label"] for r in kto) == 30
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fingerprint"] == summary.fingerprint
    assert set(manifest["files"]) == {
        f"{c}/{s}.parquet" for c in CONFIGS for s in ("train", "test")
    } | {"README.md"}
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n") and "license:" in card and "task_categories:" in card
    assert validate_export(out) == []


def test_empty_splits_exist_with_schema_and_load_reads_them(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    summary = export_dataset(
        synthetic_bundles(5, rejected_every=0), out, ExportOptions(test_size=0)
    )
    assert summary.counts["preference"] == {"train": 0, "test": 0}
    ds = load(out, "preference", "test")
    assert len(ds) == 0 and "chosen" in ds.column_names
    assert len(load(out, "sft", "train")) == 5
    assert len(datasets.load_dataset(str(out), "sft", split="train")) == 5


def test_existing_out_is_never_clobbered_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ForgeError, match="already exists"):
        export_dataset(synthetic_bundles(3), out)
    assert (out / "keep.txt").read_text() == "mine"

    # overwrite replaces only a forge export or an empty folder (issue 17)
    with pytest.raises(ForgeError, match="holds no forge export manifest"):
        export_dataset(synthetic_bundles(3), out, ExportOptions(overwrite=True))
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()

    def failing() -> object:
        yield from synthetic_bundles(3)
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        export_dataset(failing(), out, ExportOptions(overwrite=True))  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"] and not any(out.iterdir())
    export_dataset(synthetic_bundles(3), out, ExportOptions(overwrite=True))
    assert (out / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_stale_temp_folders_are_cleaned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / ".ds.forge-tmp-999999999-abcd"
    live = tmp_path / f".ds.forge-tmp-{os.getpid()}-beef"
    dead.mkdir()
    live.mkdir()
    export_dataset(synthetic_bundles(2), tmp_path / "ds")
    assert not dead.exists() and live.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ExportOptions(configs=("sft", "nope")), "unknown config 'nope'"),
        (ExportOptions(test_size=1.5), "test_size"),
        (ExportOptions(batch_size=0), "batch_size"),
        (ExportOptions(min_rating=5), "min_rating"),
        (ExportOptions(sources=("robot",)), "unknown source 'robot'"),
    ],
)
def test_bad_options_are_refused_before_writing(
    tmp_path: Path, options: ExportOptions, message: str
) -> None:
    with pytest.raises(ForgeError, match=message):
        export_dataset(synthetic_bundles(2), tmp_path / "ds", options)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("swap", "message"),
    [
        ("completions", r"field 'completions.scenario_id': completion \w+ belongs to scenario"),
        ("reviews", r"field 'reviews.scenario_id': review by bob belongs to scenario"),
        ("completion_type", r"field 'completions': expected a Completion, got str"),
        ("review_type", r"field 'reviews': expected a Review, got int"),
    ],
)
def test_a_bundle_member_of_another_scenario_or_type_is_a_contract_error(
    tmp_path: Path, swap: str, message: str
) -> None:
    a, b = list(synthetic_bundles(2, group_size=1))
    a_review = Review(scenario_id=a.scenario.id, reviewer="ann", rating=2)
    b_review = Review(scenario_id=b.scenario.id, reviewer="bob", rating=2)
    bad = {
        "completions": ScenarioBundle(a.scenario, list(b.completions)),
        "reviews": ScenarioBundle(a.scenario, list(a.completions), [a_review, b_review]),
        "completion_type": ScenarioBundle(a.scenario, ["not a completion"]),  # type: ignore[list-item]
        "review_type": ScenarioBundle(a.scenario, [], [a_review, 3]),  # type: ignore[list-item]
    }[swap]
    with pytest.raises(ForgeError, match=message):
        export_dataset([b, bad], tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []


# --- filters -------------------------------------------------------------------------------


def _filter_bundles() -> list[ScenarioBundle]:
    """Scenarios with known completions: counts below are worked out by hand."""
    out = []
    spec = [
        # target, rating(s), completions (source, status, validated_by)
        ("harmful_code", [3], [("human", "proposed", []), ("model", "rejected", [])]),
        ("harmful_code", [1], [("template", "accepted", ["ann"])]),
        ("harmful_code", [], [("template", "proposed", []), ("model", "proposed", [])]),
        ("self_harm", [2, 3], [("model", "accepted", ["bob"]), ("template", "rejected", [])]),
        ("self_harm", [2], [("template", "proposed", [])]),
    ]
    for i, (target, ratings, comps) in enumerate(spec):
        s = Scenario(prompt=f"prompt {i}", evaluation_target=target, success_criteria=["c"])
        cs = [
            Completion(
                scenario_id=s.id, text=f"{src} {i} {st}", source=src, status=st, validated_by=v
            )
            for src, st, v in comps
        ]
        rs = [Review(scenario_id=s.id, reviewer=f"r{k}", rating=r) for k, r in enumerate(ratings)]
        out.append(ScenarioBundle(s, cs, rs))
    return out


def _counts(tmp_path: Path, name: str, **kw: object) -> dict[str, int]:
    summary = export_dataset(_filter_bundles(), tmp_path / name, ExportOptions(test_size=0, **kw))
    return {c: summary.counts[c]["train"] for c in summary.counts} | {
        "filtered_out": summary.filtered_out
    }


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        # kept: s0 human, s1 template, s2 template+model, s3 model, s4 template = 6
        ({}, {"sft": 6, "prompt_completion": 6, "preference": 2, "kto": 8, "eval": 5}),
        # human-validated (human, or accepted with validators) and rating >= 2: s0 human, s3 model
        # rejected stay (kto false, preference) for scenarios passing the rating: s0, s3;
        # eval: the scenarios passing the rating, s0, s3, s4
        (
            {"only_validated": True},
            {"sft": 2, "prompt_completion": 2, "preference": 2, "kto": 4, "eval": 3},
        ),
        # rating >= 2: s0 (3), s3 (2.5), s4 (2); s1 (1) and s2 (unreviewed) excluded
        (
            {"min_rating": 2},
            {"sft": 3, "prompt_completion": 3, "preference": 2, "kto": 5, "eval": 3},
        ),
        # sources template only: kept s1, s2, s4; rejected template of s3 -> kto false only
        (
            {"sources": ["template"]},
            {"sft": 3, "prompt_completion": 3, "preference": 0, "kto": 4, "eval": 5},
        ),
        # targets: self_harm only -> s3 (1 kept, 1 rejected), s4 (1 kept)
        (
            {"targets": ["self_harm"]},
            {"sft": 2, "prompt_completion": 2, "preference": 1, "kto": 3, "eval": 2},
        ),
    ],
)
def test_filters_produce_exactly_the_expected_rows(
    tmp_path: Path, kw: dict[str, object], expected: dict[str, int]
) -> None:
    counts = _counts(tmp_path, "ds", **kw)
    assert {c: counts[c] for c in CONFIGS} == expected
    rows = _load_all(tmp_path / "ds", "sft")
    assert len(rows) == expected["sft"]
    if "only_validated" in kw:
        assert {r["completion_source"] for r in rows} == {"human", "model"}
    if "sources" in kw:
        assert {r["completion_source"] for r in rows} == {"template"}


def test_filtered_out_counts_scenarios_without_rows(tmp_path: Path) -> None:
    # 3 scenarios of another target; with min_rating 3 only s0 has rows, and no eval config
    counts = _counts(tmp_path, "ds", targets=["self_harm"], configs=("sft",))
    assert counts == {"sft": 2, "filtered_out": 3}
    counts = _counts(tmp_path, "ds2", min_rating=3, configs=("sft", "kto"))
    assert counts == {"sft": 1, "kto": 2, "filtered_out": 4}
    assert sorted(p.name for p in (tmp_path / "ds2").iterdir()) == [
        "README.md",
        "kto",
        "manifest.json",
        "sft",
    ]


# --- splits and duplicates -----------------------------------------------------------------


def test_group_purity_and_no_duplicate_prompt_with_adversarial_data(tmp_path: Path) -> None:
    bundles = []
    for g in range(40):
        for v in range(6):  # many variants per group
            s = Scenario(
                prompt=f"Group {g} variant {v}: how do I do it?",
                evaluation_target="harmful_code",
                success_criteria=["Declines"],
                group_id=f"g{g}",
            )
            bundles.append(
                ScenarioBundle(s, [Completion(scenario_id=s.id, text="No.", source="human")])
            )
        # near-duplicate of another group's prompt: case, white space, unicode width
        other = (g + 7) % 40
        for j, text in enumerate(
            [
                f"GROUP {other} VARIANT 0:  how do i do it?",
                f"  group {other} variant 1:\thow do I do it? ",
            ]
        ):
            s = Scenario(
                prompt=text,
                evaluation_target="self_harm",
                success_criteria=["Declines"],
                group_id=f"dup{g}-{j}",
            )
            bundles.append(
                ScenarioBundle(s, [Completion(scenario_id=s.id, text="No.", source="human")])
            )
    out = tmp_path / "ds"
    summary = export_dataset(bundles, out, ExportOptions(test_size=0.5, seed=3))
    assert summary.scenarios_seen == 40 * 8
    for config in ("sft", "eval"):
        ds = datasets.load_dataset(str(out), config)
        groups = {s: set(ds[s]["group_id"]) for s in ds}
        assert groups["train"] and groups["test"]
        assert not groups["train"] & groups["test"], "a group straddles splits"
        prompts = [
            normalize_text(row["prompt"] if config == "eval" else row["messages"][-2]["content"])
            for s in ds
            for row in ds[s]
        ]
        assert len(prompts) == len(set(prompts)), "a normalised prompt is exported twice"
    # groups 0..6's variants come before their duplicates; 7..39's duplicates come first
    assert summary.duplicates_dropped == 80
    assert summary.scenarios_exported == 240


def test_split_assignment_does_not_move_when_scenarios_are_added(tmp_path: Path) -> None:
    few = export_dataset(synthetic_bundles(30), tmp_path / "a", ExportOptions(configs=("eval",)))
    many = export_dataset(synthetic_bundles(90), tmp_path / "b", ExportOptions(configs=("eval",)))
    assert few.counts["eval"]["test"] <= many.counts["eval"]["test"]
    a = datasets.load_dataset(str(tmp_path / "a"), "eval")
    b = datasets.load_dataset(str(tmp_path / "b"), "eval")
    for split in a:
        assert set(a[split]["id"]) <= set(b[split]["id"])


def test_reexport_to_the_same_path_is_not_shadowed_by_the_datasets_cache(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    export_dataset(synthetic_bundles(4), out, ExportOptions(test_size=0))
    assert len(datasets.load_dataset(str(out), "sft", split="train")) == 4
    export_dataset(synthetic_bundles(7), out, ExportOptions(test_size=0, overwrite=True))
    assert len(datasets.load_dataset(str(out), "sft", split="train")) == 7


def test_a_settled_rating_and_its_lead_are_in_every_row_of_the_scenario(tmp_path: Path) -> None:
    settled, plain = (
        Scenario(prompt=f"Scenario {i}", evaluation_target="t", success_criteria=["c"])
        for i in range(2)
    )
    bundles = []
    for s in (settled, plain):
        good = Completion(scenario_id=s.id, text="Good.", source="human")
        bad = Completion(scenario_id=s.id, text="Bad.", source="model", status="rejected")
        reviews = [
            Review(scenario_id=s.id, reviewer="ana", rating=0),
            Review(scenario_id=s.id, reviewer="bob", rating=3),
        ]
        bundles.append(ScenarioBundle(s, [good, bad], reviews))
    # a lead settled the first at 3; the mean of the reviews (1.5) stands for the second
    bundles[0] = dataclasses.replace(bundles[0], settled_rating=3.0, settled_by="lee")
    out = tmp_path / "ds"
    export_dataset(bundles, out, ExportOptions(test_size=0))
    for config in ("sft", "prompt_completion", "preference", "kto"):
        rows = _load_all(out, config)
        got = {(r["scenario_id"], r["rating"], r["settled_by"], r["reviewers"]) for r in rows}
        assert got == {(settled.id, 3.0, "lee", 2), (plain.id, 1.5, None, 2)}, config
    assert validate_export(out) == []
    assert set(load(out, "sft", "train")["settled_by"]) == {"lee", None}
