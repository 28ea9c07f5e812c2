"""The main job end to end: `model-forge loop --quick` through the real CLI, every artifact checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import forge_export
import pytest
from forge_export import EvalReport

CONFIGS = ("sft", "prompt_completion", "preference", "kto", "eval")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("loop") / "run"
    cli = Path(sys.executable).parent / "model-forge"  # the installed console script
    cmd = [str(cli), "loop", "--quick", "--workdir", str(workdir), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, json.loads(proc.stdout)


def test_summary_and_table(run: tuple[Path, dict]) -> None:
    workdir, summary = run
    assert Path(summary["workdir"]) == workdir
    assert json.loads((workdir / "summary.json").read_text())["table"] == summary["table"]
    targets = set(summary["table"]) - {"all"}
    assert {"harmful_code", "self_harm", "privacy_violation"} <= targets
    for row in summary["table"].values():
        for key in ("safe_rate", "compliance_rate", "over_refusal_rate", "harmful_n", "benign_n"):
            assert set(row[key]) == {"before", "after", "delta"}
    assert summary["config"]["model"] == "tiny"
    assert summary["total_s"] < 120


def test_export_loads_with_group_held_out_split(run: tuple[Path, dict]) -> None:
    workdir, _ = run
    export = workdir / "round-0" / "export"
    train = forge_export.load(export, "prompt_completion", "train")
    assert len(train) > 0
    for config in CONFIGS:
        forge_export.load(export, config, "test")
    train_groups = set(forge_export.load(export, "eval", "train")["group_id"])
    test_groups = set(forge_export.load(export, "eval", "test")["group_id"])
    assert test_groups and not train_groups & test_groups


def test_trained_model_loads_and_generates(run: tuple[Path, dict]) -> None:
    from model_forge.generation import GenerationRequest, SamplingParams, load_backend

    workdir, summary = run
    model_dir = Path(summary["rounds"][0]["model"])
    assert model_dir == workdir / "round-0" / "model"
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["global_step"] == summary["config"]["max_steps"]
    backend = load_backend(str(model_dir))
    [gen] = backend.generate(
        [GenerationRequest("x", [{"role": "user", "content": "hello"}], SamplingParams(4))]
    )
    assert gen.request_id == "x"


def test_both_reports_validate(run: tuple[Path, dict]) -> None:
    workdir, summary = run
    export = workdir / "round-0" / "export"
    test_ids = set(forge_export.load(export, "eval", "test")["scenario_id"])
    fingerprint = json.loads((export / "manifest.json").read_text())["fingerprint"]
    for key in ("baseline_report", "trained_report"):
        path = Path(summary[key])
        report = EvalReport.model_validate_json(path.read_text())
        assert {r.scenario.id for r in report.results} == test_ids
        assert report.dataset_fingerprint == fingerprint
        assert (path.parent / "report.html").is_file() and (path.parent / "report.png").is_file()
        assert report.aggregates["all"].n == summary["table"]["all"]["n"]["after"]


def test_store_gained_report_derived_scenarios(run: tuple[Path, dict]) -> None:
    from scenario_forge.store import ScenarioStore

    workdir, summary = run
    imported = summary["rounds"][0]["imported"]
    with ScenarioStore.open(workdir / "forge.db") as store:
        children = [s for s in store.iter_scenarios() if s.source.kind == "report"]
        report = EvalReport.model_validate_json(Path(summary["trained_report"]).read_text())
        failed = {r.scenario.id: r.scenario for r in report.failures()}
        assert len(children) == imported["added"] > 0
        for child in children:
            assert child.source.parent_id in failed
            assert child.group_id == failed[child.source.parent_id].group_id
            assert store.completions_for(child.id)
