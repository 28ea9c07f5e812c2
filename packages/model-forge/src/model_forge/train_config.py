"""``TrainOptions``: every option of :func:`model_forge.train.train` and its default, once.

A light module (no torch, no TRL): ``model-forge train``'s options are generated from these
fields (:func:`forge_export.settings.settings_options`: name, type, default and help all come
from here), the loop composes two of them (its first and later rounds), and
``tests/test_train_config.py`` checks the docs' table of defaults against them. Names follow
TRL / transformers / peft config names; ``option`` gives the shorter command-line name.

Example:
    >>> cpu, gpu = TrainOptions().for_device("cpu"), TrainOptions().for_device("cuda")
    >>> cpu.per_device_train_batch_size, cpu.gradient_accumulation_steps
    (2, 4)
    >>> gpu.per_device_train_batch_size, gpu.gradient_accumulation_steps
    (8, 1)
    >>> TrainOptions().effective_lora_alpha()
    32
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from forge_export.errors import ForgeError
from forge_export.settings import PerDevice, Settings, setting

from model_forge.batch_config import TRAIN_ACCUMULATION, TRAIN_BATCH
from model_forge.generate_config import DEFAULT_MODEL

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

LORA_ALPHA_PER_RANK = 2
"""``lora_alpha`` when not given: this many times the rank (peft scales updates by alpha/r)."""

LOGS_PER_RUN = 10
"""Loss logs of a run when ``logging_steps`` is not given."""


@dataclass
class TrainOptions(Settings):
    """Options of :func:`train`; names follow TRL / transformers / peft config names.

    Every field's help is its documentation (``model-forge train --help`` shows it).
    """

    method: Method = setting(
        "sft",
        "TRL trainer: sft (SFTTrainer), dpo (DPOTrainer on 'preference'), kto (KTOTrainer).",
    )
    dataset_config: str | None = setting(
        None,
        "Export config to read. sft: prompt_completion (default; loss on the completion only) "
        "or sft (whole conversation); dpo: preference; kto: kto.",
        choices=tuple(dict.fromkeys(c for cs in METHOD_CONFIGS.values() for c in cs)),
    )
    model: str = setting(
        DEFAULT_MODEL,
        "bundled (SmolLM2-135M-Instruct), tiny (random test model) or a local model folder "
        "(a PEFT adapter folder is merged into its base first).",
    )
    lora: bool = setting(True, "LoRA adapter or full fine-tuning.", flag="--lora/--full")
    lora_r: int = setting(16, "LoRA rank (peft r).", minimum=1)
    lora_alpha: int | None = setting(
        None, f"LoRA alpha [default: {LORA_ALPHA_PER_RANK} x --lora-r].", minimum=1
    )
    lora_dropout: float = setting(0.05, "LoRA dropout.", minimum=0.0)
    max_steps: int | None = setting(
        None, "Optimizer steps (overrides --epochs) [default: --epochs decides].", minimum=1
    )
    num_train_epochs: float = setting(
        1.0,
        "Epochs over the train split, when --max-steps is not given.",
        option="epochs",
        minimum=0.0,
        min_open=True,
    )
    learning_rate: float | None = setting(
        None,
        "Peak learning rate [default: 2e-4 LoRA sft, 5e-5 LoRA dpo/kto, TRL's for --full].",
        minimum=0.0,
        min_open=True,
    )
    # On a CPU 2 x 4 rather than 8 x 1: same rows per optimizer step, less padding, far less
    # memory; on a GPU 8 x 1 (model_forge.batch_config).
    per_device_train_batch_size: int | PerDevice = setting(
        TRAIN_BATCH,
        "per_device_train_batch_size (rows per forward pass).",
        option="batch_size",
        minimum=1,
    )
    gradient_accumulation_steps: int | PerDevice = setting(
        TRAIN_ACCUMULATION,
        "gradient_accumulation_steps (rows per optimizer step = batch size x this).",
        option="grad_accum",
        minimum=1,
    )
    max_length: int = setting(256, "Tokens per row; longer rows are truncated.", minimum=8)
    benign_repeat: int = setting(
        1,
        "Repeat benign contrast rows (expected_behavior comply) this many times: the "
        "counterweight to over-refusal.",
        minimum=1,
    )
    seed: int = setting(0, "Trainer seed (shuffling, dropout, LoRA init).")
    save_steps: int = setting(
        50,
        "Checkpoint every N steps under OUTPUT/checkpoints (the last step is always saved); "
        "0: no checkpoints (each is about 3x the model with the optimizer state).",
        minimum=0,
    )
    logging_steps: int | None = setting(
        None, f"Log the loss every N steps [default: about {LOGS_PER_RUN} logs per run].", minimum=1
    )
    gradient_checkpointing: bool = setting(
        False, "Trade compute for memory (small models on CPU are faster without it)."
    )
    report_to: str = setting(
        "none",
        "Experiment tracking of the run's loss and learning rate through TRL's integrations: "
        "none, tensorboard (OUTPUT/tensorboard), mlflow or wandb (their own settings, e.g. "
        "MLFLOW_TRACKING_URI, WANDB_MODE).",
        choices=("none", "tensorboard", "mlflow", "wandb"),
    )
    resume: bool = setting(False, "Continue from the last checkpoint in OUTPUT/checkpoints.")
    overwrite: bool = setting(
        False,
        "Replace a model already in OUTPUT (its adapter/, checkpoints/, tensorboard/ and "
        "metrics.json are removed first).",
    )
    extra: dict[str, Any] = setting(
        {}, "Further keyword arguments for the TRL config (e.g. beta: 0.2 for DPO)."
    )

    def export_config(self) -> str:
        """The export config this run reads (the method's default when not given)."""
        allowed = METHOD_CONFIGS.get(self.method)
        if allowed is None:
            raise ForgeError(f"unknown method {self.method!r}; use one of sft, dpo, kto")
        config = self.dataset_config or allowed[0]
        if config not in allowed:
            raise ForgeError(
                f"method {self.method!r} cannot train on config {config!r}; "
                f"use --dataset-config {' or '.join(allowed)}"
            )
        return config

    def effective_learning_rate(self) -> float:
        """The learning rate used: the given one or the default of this method and mode."""
        if self.learning_rate is not None:
            return self.learning_rate
        return _DEFAULT_LR[(self.method, self.lora)]

    def effective_lora_alpha(self) -> int:
        """``lora_alpha``: the given one or :data:`LORA_ALPHA_PER_RANK` times the rank."""
        return self.lora_alpha if self.lora_alpha is not None else LORA_ALPHA_PER_RANK * self.lora_r


def option_default(name: str) -> Any:
    """The default of a :class:`TrainOptions` field or option name (``batch_size``).

    Raises:
        ForgeError: no such field.
    """
    return TrainOptions.default_of(name)
