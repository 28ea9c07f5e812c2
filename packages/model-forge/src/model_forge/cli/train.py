"""``model-forge train``: TRL SFT / DPO / KTO on an export, LoRA or full.

Every option is generated from a :class:`model_forge.train_config.TrainOptions` field (name,
type, default and help), so a default is written once; ``--config FILE.yaml`` sets the same
fields by name, and the command line wins over the file.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click
from forge_export.settings import cli_layer, config_file_option, settings_options

from model_forge.train_config import METHOD_CONFIGS, TrainOptions


def _settings_file(path: Path | None) -> dict[str, Any] | None:
    """The settings file's mapping; an export config name given as ``--config`` is explained.

    Raises:
        ForgeError: no such file (naming ``--dataset-config`` when the value is a config name).
    """
    from forge_export.errors import ForgeError
    from forge_export.settings import read_settings_file

    if path is None:
        return None
    names = {c for cs in METHOD_CONFIGS.values() for c in cs}
    if not path.exists() and str(path) in names:
        raise ForgeError(
            f"--config takes a settings file (YAML); the export config to train on is "
            f"--dataset-config {path}"
        )
    return read_settings_file(path)


def _saved_rows(folder: Path) -> Any:
    """The dataset saved in ``folder`` (``Dataset.save_to_disk``).

    Raises:
        ForgeError: the folder holds no saved dataset.
    """
    from datasets import Dataset
    from forge_export.errors import ForgeError

    try:
        return Dataset.load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as exc:
        raise ForgeError(
            f"--rows {folder}: not a saved dataset (write one with Dataset.save_to_disk)"
        ) from exc


@click.command("train")
@click.argument("export", type=click.Path(file_okay=False, path_type=str))
@config_file_option
@settings_options(TrainOptions)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Output folder: merged model, adapter/, checkpoints/, metrics.json.",
)
@click.option(
    "--rows",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Train on these rows instead of EXPORT's train split: a folder written by "
    "datasets' Dataset.save_to_disk, in the columns of the export config trained on (the "
    "loop's later rounds under --launcher accelerate write one); EXPORT is still recorded.",
)
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json to stdout at the end.")
def train_command(
    export: str,
    config_file: Path | None,
    output: str,
    rows: Path | None,
    as_json: bool,
    **given: Any,
) -> None:
    """Fine-tune a model on an EXPORT folder with TRL.

    The merged model is written to OUTPUT (load it with `model-forge evaluate --model OUTPUT`),
    the LoRA adapter to OUTPUT/adapter, checkpoints to OUTPUT/checkpoints and the run's
    metrics to OUTPUT/metrics.json. Runs unchanged under `accelerate launch` (one model
    trained by all processes; only the main process writes and prints; docs/scale-out.md).

    \b
    Examples:
      model-forge train export/ --output runs/sft --max-steps 40
      model-forge train export/ --method dpo --model runs/sft --output runs/dpo
      model-forge train export/ --method kto --full --epochs 2 --output runs/kto
      model-forge train export/ --config train.yaml --output runs/sft
      accelerate launch --multi_gpu --num_processes 2 -m model_forge train export/ \\
          --output runs/sft
    """
    from model_forge.logs import get_logger
    from model_forge.train import train

    options = (
        TrainOptions()
        .merge(_settings_file(config_file), where=str(config_file))
        .merge(cli_layer(TrainOptions, given), where="command line")
    )
    dataset = _saved_rows(rows) if rows is not None else None
    # The Trainer prints its loss logs to stdout; stdout is kept for the result (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        result = train(export, output, options, dataset=dataset, log=get_logger("train").info)
    if not result.main_process:  # another process of `accelerate launch`: the main one reports
        return
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
