"""``model-forge loop``: the main job, end to end.

Its options are generated from :class:`model_forge.loop_config.LoopConfig`: each option's
name, type, default and help come from one field there, so a default is written once.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from model_forge.loop_config import QUICK, LoopConfig, cli_fields


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


def _click_type(annotation: Any, minimum: float | None) -> Any:
    hints = {
        "int": int,
        "float": float,
        "str": str,
        "bool": bool,
        "Path | None": Path,
        "str | None": str,
        "tuple[str, ...]": str,
    }
    # `from __future__ import annotations` in loop_config makes every field type a string.
    py = hints.get(str(annotation))
    if py is int:
        return click.IntRange(min=int(minimum)) if minimum is not None else click.INT
    if py is float:
        return click.FloatRange(min=minimum) if minimum is not None else click.FLOAT
    if py is Path:
        return click.Path(path_type=Path)
    return click.STRING


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add one click option per :func:`cli_fields` field (defaults stay in LoopConfig)."""
    for f in reversed(cli_fields()):
        name = "--" + f.name.replace("_", "-")
        quick = f" [--quick: {QUICK[f.name]}]" if f.name in QUICK else ""
        default = f.default if not isinstance(f.default, tuple) else ",".join(f.default)
        shown = "" if default is None else f" [default: {default}]"
        help_text = f.metadata["help"] + shown + quick
        if f.type == "bool":
            fn = click.option(
                f"{name}/--no-{f.name.replace('_', '-')}", default=None, help=help_text
            )(fn)
        else:
            kind = _click_type(f.type, f.metadata.get("min"))
            if f.name == "store":  # a file or a postgresql:// URL
                from forge_export.cli_support import STORE_LOCATION

                kind = STORE_LOCATION
            fn = click.option(name, type=kind, default=None, help=help_text)(fn)
    return fn


@click.command("loop")
@click.option(
    "--quick",
    is_flag=True,
    help="Smoke run: tiny model, few scenarios, few steps (under 2 minutes). Options given "
    "explicitly win over the --quick settings (--quick --model bundled runs the bundled model).",
)
@_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def loop_command(quick: bool, as_json: bool, **given: Any) -> None:
    """Run the main job: a model's failures become its next training data, round after round.

    \b
    Steps: store (created if absent) → template scenarios of every target and benign
    look-alikes → a frozen test set (held-out groups and look-alike kinds, never trained
    on) → the base model on it (round 0) → round 1: fine-tune → test; each later round:
    probe the model with fresh scenarios → its failures become training scenarios (good
    answer + its own failing answer as a preference pair) → fine-tune on → test.
    Ends with a table with one column per round and the paths of every report.

    \b
    Examples:
      model-forge loop                    # bundled SmolLM2-135M, LoRA, 2 rounds, CPU
      model-forge loop --quick            # tiny random model, under 2 minutes
      model-forge loop --rounds 3 --later-method dpo --workdir runs/loop
    """
    from model_forge.loop import format_rounds, run_loop

    overrides = {k: v for k, v in given.items() if v is not None}
    for f in cli_fields():  # comma-separated lists (--held-out-kinds, --probe-transforms)
        if f.type == "tuple[str, ...]" and f.name in overrides:
            overrides[f.name] = tuple(
                k.strip() for k in str(overrides[f.name]).split(",") if k.strip()
            )
    config = LoopConfig.quick_config(**overrides) if quick else LoopConfig(**overrides)

    def progress(total: int, label: str) -> Any:
        if sys.stderr.isatty():
            return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        return _LineProgress(total, label)

    # The Trainer prints its loss logs to stdout; stdout is kept for the result (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        summary = run_loop(config, log=lambda m: click.echo(m, err=True), progress=progress)
    if as_json:
        click.echo(summary.model_dump_json(indent=2))
        return
    ts = summary.test_set
    click.echo("")
    held = ", ".join(ts.held_out_targets) or "none"
    wild = f"{ts.wild_harmful} harmful, {ts.wild_benign} benign" if ts.wild else "none"
    click.echo(
        f"Each round ({config.model}, {summary.total_s:.0f}s) on the frozen test set "
        f"({ts.harmful} harmful, {ts.benign} benign, {ts.lookalikes} look-alikes; held-out "
        f"targets: {held}) and the wild set ({wild}). Cells: rate (count/n, 95% interval)."
    )
    click.echo(format_rounds(summary))
    click.echo("")
    for r in summary.rounds:
        wild_report = f"; wild set {r.wild_report}" if r.wild_report else ""
        click.echo(f"round {r.round}: model {r.model}; report {r.test_report}{wild_report}")
        if r.probe:
            p = r.probe
            click.echo(
                f"  probe before it: {p.failures} failures of {p.scenarios} "
                f"({p.harmful_failures} harmful, {p.benign_failures} benign) → "
                f"{p.train_scenarios} training scenarios, {p.preference_pairs} preference pairs"
            )
    work = Path(summary.workdir)
    click.echo(f"test set: {ts.file}")
    click.echo(f"curve: {work / 'rounds.html'} ({work / 'rounds.png'})")
    click.echo(f"store: {summary.store}")
    click.echo(f"summary: {work / 'summary.json'}")
