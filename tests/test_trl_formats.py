"""Every training config of an export trains as is with TRL on the tiny model (CPU).

The export is read with plain ``datasets.load_dataset(folder, config)``, as a user would,
and handed to the trainer unchanged: ``sft`` and ``prompt_completion`` to ``SFTTrainer``,
``preference`` to ``DPOTrainer`` and ``kto`` to ``KTOTrainer``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

trl = pytest.importorskip("trl")  # imported once per module (slow import)
torch = pytest.importorskip("torch")

COMMON: dict[str, Any] = {
    "max_steps": 2,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 1,
    "learning_rate": 1e-3,
    "max_length": 128,
    "use_cpu": True,
    "bf16": False,
    "report_to": "none",
    "dataloader_pin_memory": False,
    "save_strategy": "no",
    "logging_steps": 1,
    "disable_tqdm": True,
    "seed": 0,
}


@pytest.fixture(scope="module")
def export(synthetic_export_of: Callable[..., Path]) -> Path:
    # 16 scenarios, every second one with a rejected completion: 8 preference pairs,
    # kto with 16 desirable and 8 undesirable rows
    return synthetic_export_of(16, test_size=0)


def _train(
    trainer_cls: Any, config_cls: Any, dataset: Any, tmp_path: Path, *, with_ref: bool = False
) -> None:
    from model_forge.tiny_model import build_tiny

    torch.set_num_threads(1)
    model, tok = build_tiny(seed=0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = config_cls(output_dir=str(tmp_path / "run"), **COMMON)
    # DPO/KTO need a frozen reference; an in-memory model has no hub id to reload it from
    extra = {"ref_model": build_tiny(seed=0)[0]} if with_ref else {}
    trainer = trainer_cls(
        model=model, args=args, train_dataset=dataset, processing_class=tok, **extra
    )
    result = trainer.train()
    assert trainer.state.global_step >= 2
    assert math.isfinite(result.training_loss), result
    changed = [n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])]
    assert changed, "no weight changed"


def _load(export: Path, config: str) -> Any:
    import datasets

    return datasets.load_dataset(str(export), config, split="train")


@pytest.mark.parametrize("config", ["sft", "prompt_completion"])
def test_sft_trainer(export: Path, tmp_path: Path, config: str) -> None:
    ds = _load(export, config)
    assert len(ds) == 16
    _train(trl.SFTTrainer, trl.SFTConfig, ds, tmp_path)


def test_dpo_trainer_on_preference(export: Path, tmp_path: Path) -> None:
    ds = _load(export, "preference")
    assert len(ds) == 8
    _train(trl.DPOTrainer, trl.DPOConfig, ds, tmp_path, with_ref=True)


def test_kto_trainer_on_kto(export: Path, tmp_path: Path) -> None:
    ds = _load(export, "kto")
    assert sum(ds["label"]) == 16 and len(ds) - sum(ds["label"]) == 8
    _train(trl.KTOTrainer, trl.KTOConfig, ds, tmp_path, with_ref=True)
