"""End to end: fresh store → generate (every built-in target) → complete → export → TRL SFT.

Real CLI calls, real SQLite, real parquet read back with ``datasets``, and one real
``SFTTrainer`` step on the tiny random Llama (``model_forge.tiny_model.build_tiny``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner
from scenario_forge.cli import main
from scenario_forge.taxonomy import load_taxonomy


def test_pipeline_to_sft_step(tmp_path: Path) -> None:
    import datasets
    import torch
    from model_forge.tiny_model import build_tiny
    from trl import SFTConfig, SFTTrainer

    db = tmp_path / "forge.db"
    out = tmp_path / "export"
    runner = CliRunner()
    env = {"SCENARIO_FORGE_DB": str(db)}

    def run(*args: str) -> str:
        res = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    builtin = load_taxonomy(builtin=True).names()
    assert builtin, "no built-in targets"
    run("init")
    gen = json.loads(run("generate", "--count", "16", "--seed", "0", "--json"))
    assert set(gen["targets"]) == set(builtin)
    assert gen["added"] == 16 * len(builtin)
    done = json.loads(run("complete", "--source", "template", "--json"))
    assert done["added"] == gen["added"] and done["skipped"] == 0
    summary = json.loads(run("export", str(out), "--seed", "0", "--json"))
    assert summary["scenarios_seen"] == gen["added"]

    sft = datasets.load_dataset(str(out), "sft")
    train = sft["train"]
    assert len(train) == summary["counts"]["sft"]["train"] > 0
    assert set(train["evaluation_target"]) == set(builtin)
    assert any(b == "comply" for b in train["expected_behavior"])
    first = train[0]["messages"]
    assert first[-1]["role"] == "assistant" and first[-2]["role"] == "user"

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model, tok = build_tiny()
        args = SFTConfig(
            output_dir=str(tmp_path / "ckpt"),
            max_steps=2,
            per_device_train_batch_size=4,
            learning_rate=1e-3,
            max_length=256,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            bf16=False,
            dataloader_pin_memory=False,
            disable_tqdm=True,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=train.select(range(min(16, len(train)))).select_columns(["messages"]),
            processing_class=tok,
        )
        result = trainer.train()
    finally:
        torch.set_num_threads(threads)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses and all(math.isfinite(x) for x in losses)
    assert math.isfinite(result.training_loss)
