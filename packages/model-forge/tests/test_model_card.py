"""`model-forge card`: the card records data, judge and table; the push goes to a model repo.

The model folder holds a real `metrics.json` and a real `report.json` (the contract types,
written as `train` and `evaluate` write them). As in tests/test_hub_push.py no test talks to the
Hub: the upload calls go to a recording client passed through `api=`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from forge_export import EvalReport, EvalResult, Provenance, Scenario
from forge_export.errors import ForgeError
from forge_export.train_metrics import LossPoint, TrainMetrics
from model_forge.cli import main
from model_forge.model_card import push_model


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))


@pytest.fixture
def model_dir(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "sft"
    (folder / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (folder / "checkpoints" / "checkpoint-2" / "optimizer.pt").write_bytes(b"x" * 10)
    (folder / "tensorboard").mkdir()
    (folder / "tensorboard" / "events.out").write_bytes(b"e")
    (folder / "adapter").mkdir()
    (folder / "adapter" / "adapter_config.json").write_text("{}")
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "model.safetensors").write_bytes(b"w" * 100)
    TrainMetrics(
        method="sft",
        config="prompt_completion",
        model="bundled",
        base_model="/cache/smollm2",
        export="/data/export-7",
        dataset_fingerprint="abc123def456",
        rows=40,
        train_rows=52,
        global_step=12,
        train_loss=1.2345,
        train_seconds=30.0,
        loss_history=[LossPoint(step=12, loss=1.2)],
        options={"learning_rate": 2e-4},
        device="cpu",
        bf16=False,
        adapter=str(folder / "adapter"),
    ).write(folder)
    results = []
    for i, (behavior, verdict) in enumerate(
        [("refuse", "pass"), ("refuse", "pass"), ("refuse", "fail"), ("comply", "pass")]
    ):
        s = Scenario(
            prompt=f"question {i}",
            evaluation_target="weapons" if behavior == "refuse" else "benign",
            success_criteria=["ok"],
            expected_behavior=behavior,
            source=Provenance(kind="human", origin="t"),
        )
        results.append(
            EvalResult(scenario=s, response="r", verdict=verdict, refused=False, judge="learned@6")
        )
    report = EvalReport(
        model_id="sft", judge="learned@6", dataset_fingerprint="fp9", results=results
    )
    report_path = tmp_path / "eval-sft" / "report.json"
    report_path.parent.mkdir()
    report_path.write_text(report.model_dump_json())
    return folder, report_path


def test_card_records_data_judge_and_table(model_dir: tuple[Path, Path]) -> None:
    folder, report = model_dir
    result = CliRunner().invoke(main, ["card", str(folder), "--report", str(report)])
    assert result.exit_code == 0, result.output
    card = (folder / "README.md").read_text()
    header = card.split("---")[1]
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in header
    assert "library_name: transformers" in header and "- lora" in header
    assert "config `prompt_completion`, fingerprint `abc123def456`" in card
    assert "40 exported, 52 trained on" in card and "steps: 12, mean loss 1.2345" in card
    assert "Judge `learned@6`" in card and "data fingerprint `fp9`" in card
    # all: 3 harmful, 2 safe -> 67%; 1 benign, complied -> 100%
    all_row = next(line for line in card.splitlines() if line.startswith("| all |"))
    assert all_row.startswith("| all | 4 | 67% (") and "| 100% (" in all_row
    assert any(line.startswith("| weapons | 3 | 67% (") for line in card.splitlines())


def test_dry_run_lists_the_model_files_not_checkpoints(model_dir: tuple[Path, Path]) -> None:
    folder, report = model_dir
    args = ["card", str(folder), "--report", str(report), "--push-to-hub", "me/sft"]
    result = CliRunner().invoke(main, [*args, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output[result.output.index("{") :])
    files = {f["path"]: f["bytes"] for f in plan["files"]}
    assert set(files) == {
        "README.md",
        "config.json",
        "model.safetensors",
        "metrics.json",
        "adapter/adapter_config.json",
    }
    assert files["model.safetensors"] == 100
    assert plan["private"] is True and plan["repo_type"] == "model"


def test_push_without_a_token_is_one_line(model_dir: tuple[Path, Path]) -> None:
    folder, _ = model_dir
    result = CliRunner().invoke(main, ["card", str(folder), "--push-to-hub", "me/sft"])
    assert result.exit_code == 1
    assert "Error: no HuggingFace token" in result.output and "Traceback" not in result.output


def test_push_makes_one_model_repo_commit(
    model_dir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, report = model_dir
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    calls: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def create_repo(self, repo_id: str, **kw: Any) -> str:
            calls.append(("create_repo", {"repo_id": repo_id, **kw}))
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, **kw: Any) -> str:
            calls.append(("upload_folder", kw))
            return "https://huggingface.co/me/sft/commit/1"

    CliRunner().invoke(main, ["card", str(folder), "--report", str(report)])
    plan = push_model(folder, "me/sft", api=Recorder())
    assert [c[0] for c in calls] == ["create_repo", "upload_folder"]
    assert calls[0][1] == {
        "repo_id": "me/sft",
        "repo_type": "model",
        "private": True,
        "exist_ok": True,
    }
    assert calls[1][1]["repo_type"] == "model"
    assert set(calls[1][1]["ignore_patterns"]) == {"checkpoints/*", "tensorboard/*"}
    assert plan.commit_url.endswith("/commit/1")


def test_not_a_train_output_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["card", str(tmp_path)])
    assert result.exit_code == 1 and "no metrics.json" in result.output
    with pytest.raises(ForgeError, match="no README.md"):
        push_model(tmp_path, "me/x", api=object())
