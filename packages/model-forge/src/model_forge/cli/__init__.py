"""The ``model-forge`` command line. Each command lives in its own module here."""

from __future__ import annotations

import os

import click
from forge_export.cli_support import ForgeGroup

from model_forge import __version__


@click.group(cls=ForgeGroup)
@click.version_option(__version__, prog_name="model-forge")
@click.option(
    "-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr (no progress lines)."
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also debug lines on stderr (e.g. every request retry)."
)
def main(quiet: bool = False, verbose: bool = False) -> None:
    """Generate completions, fine-tune with TRL, evaluate, and run the whole loop.

    \b
    The main job (bundled model, CPU, minutes):
      model-forge loop
    """
    from model_forge.logs import NORMAL, QUIET, VERBOSE, configure

    if quiet and verbose:
        raise click.UsageError("give --quiet or --verbose, not both")
    configure(QUIET if quiet else VERBOSE if verbose else NORMAL)
    # No usage telemetry from TRL / huggingface_hub, no hub requests: every model a command
    # loads is a local folder (or an OpenAI-compatible server, reached without the hub).
    # Set before any command imports those libraries; training forces both
    # (model_forge.offline), the other commands leave a value you set alone.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


# Commands: one module each, registered here (keep heavy imports inside the command functions).
from model_forge.cli.train import train_command  # noqa: E402

main.add_command(train_command)
from model_forge.cli.evaluate import evaluate_command  # noqa: E402

main.add_command(evaluate_command)
from model_forge.cli.compare import compare_command  # noqa: E402

main.add_command(compare_command)
from model_forge.cli.judge import judge_command  # noqa: E402

main.add_command(judge_command)
from model_forge.cli.generate import generate_command  # noqa: E402

main.add_command(generate_command)
from model_forge.cli.models import models_command  # noqa: E402

main.add_command(models_command)
from model_forge.cli.loop import loop_command  # noqa: E402

main.add_command(loop_command)
from model_forge.cli.rejudge import rejudge_command  # noqa: E402

main.add_command(rejudge_command)
from model_forge.cli.report import report_group  # noqa: E402

main.add_command(report_group)
from model_forge.cli.card import card_command  # noqa: E402

main.add_command(card_command)
