"""``model-forge loop``: the main job, end to end.

Its options are generated from :class:`model_forge.loop_config.LoopConfig`: each option's
name, type, default and help come from one field (or alias) there, so a default is written
once; ``--config FILE`` takes the same keys, and the command line wins over the file.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from forge_export.settings import cli_layer, config_file_option, settings_options

from model_forge.logs import NoProgress, get_logger, shows_progress
from model_forge.loop_config import OPTION_ORDER, QUICK, LoopConfig

if TYPE_CHECKING:
    from forge_export.loop_summary import LoopSummary


class _LineProgress:
    """Progress as ``label: k/n`` log lines (click's bar shows nothing off a terminal)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.log = get_logger("loop")

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        self.done += n
        self.log.info("%s: %d/%d", self.label, self.done, self.total)


@click.command("loop")
@click.option(
    "--quick",
    is_flag=True,
    help="Smoke run: tiny model, few scenarios, few steps (docs/quickstart.md: its time and "
    "what its figures mean). Options given "
    "explicitly win over the --quick settings (--quick --model bundled runs the bundled model).",
)
@config_file_option
@settings_options(LoopConfig, only=list(OPTION_ORDER), notes=QUICK)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in --workdir after its last completed stage (its run.yaml gives "
    "the settings).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Start again in a --workdir that holds a run: its files (and its own store) are "
    "removed first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def loop_command(
    quick: bool,
    config_file: Path | None,
    resume: bool,
    overwrite: bool,
    as_json: bool,
    **given: Any,
) -> None:
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
      model-forge loop                    # bundled SmolLM2-135M, full fine-tuning, 2 rounds, CPU
      model-forge loop --quick            # tiny random model, a smoke run
      model-forge loop --rounds 3 --later-method dpo --workdir runs/loop
      model-forge loop --config runs/loop/summary.json --workdir runs/again   # repeat a run
      model-forge loop --workdir runs/loop --resume      # continue a killed run
    """
    from forge_export.settings import read_settings_file

    from model_forge.loop import run_loop

    command_line = cli_layer(LoopConfig, given)
    if resume:
        config = _resumed_config(command_line, config_file, quick)
    else:
        file = read_settings_file(config_file) if config_file else None
        config = LoopConfig.resolve(
            file=file, command_line=command_line, file_name=str(config_file), quick=quick
        )

    def progress(total: int, label: str) -> Any:
        if not shows_progress("loop"):
            return NoProgress()
        if sys.stderr.isatty():
            return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        return _LineProgress(total, label)

    # The Trainer prints its loss logs to stdout; stdout is kept for the result (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        summary = run_loop(
            config,
            log=get_logger("loop").info,
            progress=progress,
            resume=resume,
            overwrite=overwrite,
        )
    if as_json:
        click.echo(summary.model_dump_json(indent=2))
        return
    _print_summary(summary, config.model)


def _print_summary(summary: LoopSummary, model: str) -> None:
    """The loop's result for a reader: the test set, the per-round table, every report."""
    from model_forge.loop import format_rounds

    ts = summary.test_set
    click.echo("")
    held = ", ".join(ts.held_out_targets) or "none"
    wild = f"{ts.wild_harmful} harmful, {ts.wild_benign} benign" if ts.wild else "none"
    click.echo(
        f"Each round ({model}, {summary.total_s:.0f}s) on the frozen test set "
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
    click.echo(f"summary: {work / 'summary.json'} (settings: {work / 'run.yaml'})")


def _resumed_config(
    command_line: dict[str, Any], config_file: Path | None, quick: bool
) -> LoopConfig:
    """The settings of the run to resume (its ``run.yaml``); a different setting is refused.

    Raises:
        ForgeError: no --workdir, no run.yaml there, or a setting that differs from the run's.
    """
    from forge_export.errors import ForgeError
    from forge_export.redact import redact_location
    from forge_export.settings import read_settings_file

    workdir = command_line.get("workdir")
    if workdir is None:
        raise ForgeError("--resume needs the --workdir of the run to continue")
    saved = Path(workdir) / "run.yaml"
    if not saved.is_file():
        raise ForgeError(f"{saved}: no run to resume here (drop --resume to start one)")
    config = LoopConfig().merge(read_settings_file(saved), where=str(saved))
    file = read_settings_file(config_file) if config_file else {}
    asked = LoopConfig.resolve(
        file=file, command_line=command_line, file_name=str(config_file), quick=quick
    )
    saved_store = config.store or ""
    if "***" in saved_store:
        # run.yaml keeps the store without its password: the same URL must come again
        if asked.store is None or redact_location(asked.store) != saved_store:
            raise ForgeError(
                f"{saved}: the run's store {saved_store} has a password that run.yaml does "
                "not keep: pass the same --store URL again (with its password) to resume"
            )
        config = config.merge({"store": asked.store})
    checked = {"workdir", "store"} if "***" in saved_store else {"workdir"}
    for key in sorted((set(command_line) | set(file)) - checked):
        path = LoopConfig.ALIASES[key].paths[0] if key in LoopConfig.ALIASES else key
        if config.get(path) != asked.get(path):
            raise ForgeError(
                f"--resume continues the run as it was set up; {key} differs "
                f"({asked.get(path)!r}; the run has {config.get(path)!r}): drop it, or start "
                "a new run"
            )
    return config
