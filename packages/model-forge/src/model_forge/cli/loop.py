"""``model-forge loop``: the main job, end to end."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click


class _LineProgress:
    """Progress as ``label: k/n`` lines, for logs (click's bar shows nothing off a terminal)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        self.done += n
        click.echo(f"{self.label}: {self.done}/{self.total}", err=True)


@click.command("loop")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario store to use (created if absent) [default: WORKDIR/forge.db].",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where everything is written [default: ./forge-runs/<timestamp>].",
)
@click.option(
    "--model",
    default=None,
    help="bundled, tiny or a local model folder [default: bundled; tiny with --quick].",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Smoke run: tiny model, few scenarios, few steps (under 2 minutes).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Extra rounds after the first (re-export, train on, evaluate, import).",
)
@click.option(
    "--count-per-target",
    type=click.IntRange(min=1),
    default=None,
    help="Template scenarios per target, a quarter benign [default: 48; 8 with --quick].",
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    default=None,
    help="Training steps per round [default: 40; 4 with --quick].",
)
@click.option(
    "--benign-repeat",
    type=click.IntRange(min=1),
    default=None,
    help="Repeat benign contrast rows in training [default: 2].",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Peak learning rate [default: 1e-3, measured on the bundled model; see README].",
)
@click.option(
    "--lora-r",
    type=click.IntRange(min=1),
    default=None,
    help="LoRA rank (alpha = 2 x rank) [default: 16].",
)
@click.option(
    "--generator",
    default=None,
    help="Also add model completions from this registered generator (e.g. model-forge); "
    "ones the rule judge fails are stored as rejected.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of generation, split, training and import.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def loop_command(
    store: Path | None,
    workdir: Path | None,
    model: str | None,
    quick: bool,
    rounds: int,
    count_per_target: int | None,
    max_steps: int | None,
    benign_repeat: int | None,
    learning_rate: float | None,
    lora_r: int | None,
    generator: str | None,
    seed: int,
    as_json: bool,
) -> None:
    """Run the main job: scenarios → training data → fine-tune → evaluate → new scenarios.

    \b
    Steps: store (created if absent) → built-in scenarios for every target → template
    completions → export with held-out scenario groups as the test split → baseline
    evaluation → LoRA fine-tune → evaluation → failures imported back into the store.
    Ends with a before/after table per target and the report paths.

    \b
    Examples:
      model-forge loop                      # bundled SmolLM2-135M, LoRA, ~15 min on 2 CPU cores
      model-forge loop --quick              # tiny random model, under 2 minutes
      model-forge loop --rounds 1 --workdir runs/loop --store forge.db
    """
    from model_forge.loop import LoopConfig, format_table, run_loop

    given: dict[str, Any] = {
        "store": store,
        "workdir": workdir,
        "model": model,
        "rounds": rounds,
        "count_per_target": count_per_target,
        "max_steps": max_steps,
        "benign_repeat": benign_repeat,
        "learning_rate": learning_rate,
        "lora_r": lora_r,
        "generator": generator,
        "seed": seed,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    config = LoopConfig.quick_config(**overrides) if quick else LoopConfig(**overrides)

    def progress(total: int, label: str) -> Any:
        if sys.stderr.isatty():
            return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        return _LineProgress(total, label)

    # The Trainer prints its loss logs to stdout; stdout is kept for the result (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        summary = run_loop(config, log=lambda m: click.echo(m, err=True), progress=progress)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    click.echo("")
    click.echo(
        f"Before → after on held-out scenario groups ({config.model if not quick else 'tiny'}"
        f", {summary['total_s']:.0f}s):"
    )
    click.echo(format_table(summary["table"]))
    first = summary["rounds"][0]
    click.echo("")
    click.echo(f"baseline report: {summary['baseline_report']}")
    for r in summary["rounds"]:
        click.echo(f"round {r['round']} model: {r['model']}")
        click.echo(f"round {r['round']} report: {r['trained_report']} ({r['trained_html']})")
        imp = r["imported"]
        click.echo(
            f"round {r['round']} import: {imp['failures']} failures → {imp['added']} new scenarios"
        )
    click.echo(f"export: {first['export']}")
    click.echo(f"store: {summary['store']}")
    click.echo(f"summary: {Path(summary['workdir']) / 'summary.json'}")
