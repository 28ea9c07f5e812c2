"""``model-forge train``: TRL SFT / DPO / KTO on an export, LoRA or full.

Every option's default is the default of its :class:`model_forge.train_config.TrainOptions`
field (:data:`OPTION_FIELDS` maps option to field), so a default is written once;
``tests/test_train_config.py`` checks the command and the docs table against the dataclass.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import click

from model_forge.train_config import METHOD_CONFIGS, option_default

OPTION_FIELDS: dict[str, str] = {
    "method": "method",
    "config": "config",
    "model": "model",
    "lora": "lora",
    "lora_r": "lora_r",
    "lora_alpha": "lora_alpha",
    "max_steps": "max_steps",
    "epochs": "num_train_epochs",
    "learning_rate": "learning_rate",
    "batch_size": "per_device_train_batch_size",
    "grad_accum": "gradient_accumulation_steps",
    "max_length": "max_length",
    "benign_repeat": "benign_repeat",
    "save_steps": "save_steps",
    "seed": "seed",
    "resume": "resume",
    "overwrite": "overwrite",
}
"""``model-forge train`` option (click parameter name) → :class:`TrainOptions` field."""


_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "method",
        "--method",
        {
            "type": click.Choice(list(METHOD_CONFIGS)),
            "help": "TRL trainer: sft (SFTTrainer), dpo (DPOTrainer on 'preference'), kto "
            "(KTOTrainer).",
        },
    ),
    (
        "config",
        "--config",
        {
            "type": click.Choice(
                list(dict.fromkeys(c for cs in METHOD_CONFIGS.values() for c in cs))
            ),
            "help": "Export config to read. sft: prompt_completion (default; loss on the "
            "completion only) or sft (whole conversation); dpo: preference; kto: kto.",
        },
    ),
    (
        "model",
        "--model",
        {
            "help": "bundled (SmolLM2-135M-Instruct), tiny (random test model) or a local model folder."
        },
    ),
    ("lora", "--lora/--full", {"help": "LoRA adapter or full fine-tuning."}),
    ("lora_r", "--lora-r", {"type": click.IntRange(min=1), "help": "LoRA rank."}),
    ("lora_alpha", "--lora-alpha", {"type": click.IntRange(min=1), "help": "LoRA alpha."}),
    ("max_steps", "--max-steps", {"type": int, "help": "Optimizer steps (overrides --epochs)."}),
    (
        "epochs",
        "--epochs",
        {
            "type": click.FloatRange(min=0, min_open=True),
            "help": "Epochs over the train split, when --max-steps is not given.",
        },
    ),
    (
        "learning_rate",
        "--learning-rate",
        {
            "type": click.FloatRange(min=0, min_open=True),
            "help": "Peak learning rate [default: 2e-4 LoRA sft, 5e-5 LoRA dpo/kto, TRL's for "
            "--full].",
        },
    ),
    (
        "batch_size",
        "--batch-size",
        {
            "type": click.IntRange(min=1),
            "help": "per_device_train_batch_size (rows per forward pass).",
        },
    ),
    (
        "grad_accum",
        "--grad-accum",
        {
            "type": click.IntRange(min=1),
            "help": "gradient_accumulation_steps (rows per optimizer step = batch size x this).",
        },
    ),
    (
        "max_length",
        "--max-length",
        {"type": click.IntRange(min=8), "help": "Tokens per row; longer rows are truncated."},
    ),
    (
        "benign_repeat",
        "--benign-repeat",
        {
            "type": click.IntRange(min=1),
            "help": "Repeat benign contrast rows (expected_behavior comply) this many times.",
        },
    ),
    (
        "save_steps",
        "--save-steps",
        {
            "type": click.IntRange(min=1),
            "help": "Checkpoint every N steps (under OUTPUT/checkpoints).",
        },
    ),
    ("seed", "--seed", {"type": int, "help": "Trainer seed."}),
    (
        "resume",
        "--resume",
        {"is_flag": True, "help": "Continue from the last checkpoint in OUTPUT/checkpoints."},
    ),
    ("overwrite", "--overwrite", {"is_flag": True, "help": "Replace a model already in OUTPUT."}),
)
"""(parameter name, option, click keywords) of every option that sets a TrainOptions field."""


def _train_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the :data:`_OPTIONS`, each defaulting to its TrainOptions field."""
    for name, decl, kwargs in reversed(_OPTIONS):
        default = option_default(OPTION_FIELDS[name])
        shown = default is not None and not kwargs.get("is_flag", False)
        fn = click.option(decl, name, default=default, show_default=shown, **kwargs)(fn)
    return fn


@click.command("train")
@click.argument("export", type=click.Path(file_okay=False, path_type=str))
@_train_options
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Output folder: merged model, adapter/, checkpoints/, metrics.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json to stdout at the end.")
def train_command(export: str, output: str, as_json: bool, **given: Any) -> None:
    """Fine-tune a model on an EXPORT folder with TRL.

    The merged model is written to OUTPUT (load it with `model-forge evaluate --model OUTPUT`),
    the LoRA adapter to OUTPUT/adapter, checkpoints to OUTPUT/checkpoints and the run's
    metrics to OUTPUT/metrics.json. Runs unchanged under `accelerate launch`.

    \b
    Examples:
      model-forge train export/ --output runs/sft --max-steps 40
      model-forge train export/ --method dpo --model runs/sft --output runs/dpo
      model-forge train export/ --method kto --full --epochs 2 --output runs/kto
      accelerate launch --no_python model-forge train export/ --output runs/sft
    """
    from model_forge.train import TrainOptions, train

    options = TrainOptions(**{OPTION_FIELDS[k]: v for k, v in given.items()})
    # The Trainer prints its loss logs to stdout; stdout is kept for the result (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        result = train(export, output, options, log=lambda msg: click.echo(msg, err=True))
    if as_json:
        click.echo(result.metrics.model_dump_json(indent=2))
    else:
        m = result.metrics
        click.echo(
            f"Trained {m.global_step} steps ({m.method} on {m.config}, "
            f"{m.train_rows} rows), final loss {m.train_loss:.4f} in {m.train_seconds}s"
        )
        click.echo(f"Model: {result.output}")
        if result.adapter:
            click.echo(f"Adapter: {result.adapter}")
        click.echo(f"Metrics: {result.output / 'metrics.json'}")
