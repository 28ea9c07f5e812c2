"""``TrainOptions``: every option of :func:`model_forge.train.train` and its default, once.

A light module (no torch, no TRL), so ``model-forge train --help`` reads the defaults from here:
the click options of :mod:`model_forge.cli.train` take their defaults from these fields
(:func:`option_default`), and ``tests/test_train_config.py`` checks the command and the table
of defaults in ``docs/model-forge.md`` against them.

Example:
    >>> TrainOptions().per_device_train_batch_size * TrainOptions().gradient_accumulation_steps
    8
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from forge_export.errors import ForgeError

Method = Literal["sft", "dpo", "kto"]

METHOD_CONFIGS: dict[str, tuple[str, ...]] = {
    "sft": ("prompt_completion", "sft"),
    "dpo": ("preference",),
    "kto": ("kto",),
}
"""Export configs each method can train on; the first is the default."""

# LoRA trains few parameters from a zero-initialised B matrix and needs a larger step than full
# fine-tuning; full fine-tuning uses TRL's own defaults.
_DEFAULT_LR: dict[tuple[str, bool], float] = {
    ("sft", True): 2e-4,
    ("dpo", True): 5e-5,
    ("kto", True): 5e-5,
    ("sft", False): 2e-5,
    ("dpo", False): 1e-6,
    ("kto", False): 1e-6,
}

LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class TrainOptions:
    """Options of :func:`train`; names follow TRL / transformers / peft config names.

    Attributes:
        method: ``sft`` (SFTTrainer), ``dpo`` (DPOTrainer) or ``kto`` (KTOTrainer).
        config: Export config to read; default ``prompt_completion`` for sft (loss on the
            completion only), ``preference`` for dpo, ``kto`` for kto.
        model: ``bundled``, ``tiny`` or a local model folder (a PEFT adapter folder is merged
            into its base first).
        lora: LoRA (peft) when true, full fine-tuning otherwise.
        lora_r: LoRA rank (peft ``r``).
        lora_alpha: LoRA scaling (peft ``lora_alpha``).
        lora_dropout: LoRA dropout (peft ``lora_dropout``).
        max_steps: Optimizer steps; ``None`` trains ``num_train_epochs`` epochs.
        num_train_epochs: Epochs when ``max_steps`` is ``None``.
        learning_rate: ``None`` picks a default per method and LoRA/full (see module source).
        per_device_train_batch_size: Rows per step and device.
        gradient_accumulation_steps: Steps accumulated before an optimizer step.
        max_length: Tokens per row; longer rows are truncated.
        benign_repeat: Each benign contrast row (``expected_behavior == "comply"``) appears this
            many times in the training set: the counterweight to over-refusal.
        seed: Seed of the trainer (shuffling, dropout, LoRA init).
        save_steps: Checkpoint every this many steps (the last step is always saved);
            ``None`` writes no checkpoints (about 3x the model's size each with the optimizer
            state; nothing to ``resume`` from then). The loop's rounds use ``None``.
        logging_steps: Log the loss every this many steps (``None``: about 10 logs per run).
        gradient_checkpointing: Trade compute for memory (off by default: small models on CPU
            are faster without it).
        resume: Continue from the last checkpoint in ``DIR/checkpoints``.
        overwrite: Replace a model already in the output folder.
    """

    method: Method = "sft"
    config: str | None = None
    model: str = "bundled"
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    max_steps: int | None = None
    num_train_epochs: float = 1.0
    learning_rate: float | None = None
    # 2 x 4 rather than 8 x 1: same rows per optimizer step, less padding, far less memory.
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 4
    max_length: int = 256
    benign_repeat: int = 1
    seed: int = 0
    save_steps: int | None = 50
    logging_steps: int | None = None
    gradient_checkpointing: bool = False
    resume: bool = False
    overwrite: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """Further keyword arguments for the TRL config (e.g. ``{"beta": 0.2}`` for DPO)."""

    def export_config(self) -> str:
        """The export config this run reads (the method's default when not given)."""
        allowed = METHOD_CONFIGS.get(self.method)
        if allowed is None:
            raise ForgeError(f"unknown method {self.method!r}; use one of sft, dpo, kto")
        config = self.config or allowed[0]
        if config not in allowed:
            raise ForgeError(
                f"method {self.method!r} cannot train on config {config!r}; "
                f"use --config {' or '.join(allowed)}"
            )
        return config

    def effective_learning_rate(self) -> float:
        """The learning rate used: the given one or the default of this method and mode."""
        if self.learning_rate is not None:
            return self.learning_rate
        return _DEFAULT_LR[(self.method, self.lora)]


def option_default(name: str) -> Any:
    """The default of :class:`TrainOptions` field ``name``.

    Raises:
        AttributeError: no such field.
    """
    return getattr(TrainOptions(), name)
