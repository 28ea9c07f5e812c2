"""``model-forge train``: TRL SFT / DPO / KTO on an export, LoRA or full.

Every option's default is the default of its :class:`model_forge.train_config.TrainOptions`
field (:data:`OPTION_FIELDS` maps option to field), so a default is written once;
``tests/test_train_config.py`` checks the command and the docs table against the dataclass.
"""

from __future__ import annotations

import contextlib
import sys
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


def _default(option: str) -> Any:
    return option_default(OPTION_FIELDS[option])


@click.command("train")
@click.argument("export", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--method",
    type=click.Choice(list(METHOD_CONFIGS)),
    default=_default("method"),
    show_default=True,
    help="TRL trainer: sft (SFTTrainer), dpo (DPOTrainer on 'preference'), kto (KTOTrainer).",
)
@click.option(
    "--config",
    "config",
    type=click.Choice(list(dict.fromkeys(c for cs in METHOD_CONFIGS.values() for c in cs))),
    default=_default("config"),
    help="Export config to read. sft: prompt_completion (default; loss on the completion only) "
    "or sft (whole conversation); dpo: preference; kto: kto.",
)
@click.option(
    "--model",
    default=_default("model"),
    show_default=True,
    help="bundled (SmolLM2-135M-Instruct), tiny (random test model) or a local model folder.",
)
@click.option(
    "--lora/--full",
    default=_default("lora"),
    show_default=True,
    help="LoRA adapter or full fine-tuning.",
)
@click.option(
    "--lora-r",
    type=click.IntRange(min=1),
    default=_default("lora_r"),
    show_default=True,
    help="LoRA rank.",
)
@click.option(
    "--lora-alpha",
    type=click.IntRange(min=1),
    default=_default("lora_alpha"),
    show_default=True,
    help="LoRA alpha.",
)
@click.option(
    "--max-steps",
    type=int,
    default=_default("max_steps"),
    help="Optimizer steps (overrides --epochs).",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=_default("epochs"),
    show_default=True,
    help="Epochs over the train split, when --max-steps is not given.",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=_default("learning_rate"),
    help="Peak learning rate [default: 2e-4 LoRA sft, 5e-5 LoRA dpo/kto, TRL's for --full].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=_default("batch_size"),
    show_default=True,
    help="per_device_train_batch_size (rows per forward pass).",
)
@click.option(
    "--grad-accum",
    type=click.IntRange(min=1),
    default=_default("grad_accum"),
    show_default=True,
    help="gradient_accumulation_steps (rows per optimizer step = batch size x this).",
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=_default("max_length"),
    show_default=True,
    help="Tokens per row; longer rows are truncated.",
)
@click.option(
    "--benign-repeat",
    type=click.IntRange(min=1),
    default=_default("benign_repeat"),
    show_default=True,
    help="Repeat benign contrast rows (expected_behavior comply) this many times.",
)
@click.option(
    "--save-steps",
    type=click.IntRange(min=1),
    default=_default("save_steps"),
    show_default=True,
    help="Checkpoint every N steps (under OUTPUT/checkpoints).",
)
@click.option("--seed", type=int, default=_default("seed"), show_default=True, help="Trainer seed.")
@click.option(
    "--resume",
    is_flag=True,
    default=_default("resume"),
    help="Continue from the last checkpoint in OUTPUT/checkpoints.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    default=_default("overwrite"),
    help="Replace a model already in OUTPUT.",
)
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
