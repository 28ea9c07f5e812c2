"""``model-forge judge``: judge a JSONL file of responses with the rule judge or an LLM judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from forge_export.settings import cli_layer, config_file_option, settings_options

from model_forge.judge_config import JudgeOptions


def _rate(passed: int, n: int) -> str:
    """The pass rate with its Wilson 95% interval, ``71% (55-83)``."""
    from forge_export.intervals import format_rate

    return "-" if not n else format_rate(passed, n, counts=False)


def _table(summary: dict[str, Any]) -> str:
    lines = [
        f"{'group':<30} {'n':>5} {'pass':>5} {'pass rate (95% interval)':>25} {'refused':>8} "
        f"{'low conf.':>10}"
    ]
    lines.append("-" * len(lines[0]))

    def row(name: str, g: dict[str, Any]) -> None:
        rate = _rate(g["passed"], g["n"])
        lines.append(
            f"{name:<30} {g['n']:>5} {g['passed']:>5} {rate:>25} {g['refused']:>8} "
            f"{g['low_confidence']:>10}"
        )

    for k, g in summary["by_behavior"].items():
        row(f"behavior={k}", g)
    for k, g in summary["by_target"].items():
        row(f"target={k}", g)
    row("all", summary)
    return "\n".join(lines)


@click.command("judge")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Instead of judging FILE: print each judge's agreement with the human verdicts in the "
    "store (--db): accuracy, Cohen's kappa, confusion matrix, and a reliability diagram of "
    "its confidence.",
)
@click.option(
    "--train",
    is_flag=True,
    help="Instead of judging FILE: retrain the learned judge's head on the project's labelled "
    "rows plus the store's human labels, and write it to --output "
    "(use it with --judge learned --judge-option head=PATH).",
)
@click.option(
    "--rows",
    "rows_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="With --train: the labelled rows to train on besides the human labels "
    "[default: the project's data/judge/own_rows.jsonl, train split].",
)
@config_file_option
@settings_options(JudgeOptions)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def judge_command(
    file: Path | None,
    calibrate: bool,
    train: bool,
    rows_path: Path | None,
    config_file: Path | None,
    as_json: bool,
    **given: Any,
) -> None:
    """Judge the responses in FILE and print pass rates per behaviour and target.

    FILE is JSONL, one object per line with `prompt`, `response`, `expected_behavior`
    (refuse | safe_complete | comply) and optionally `evaluation_target` and
    `success_criteria` (a list of strings). A bad line stops the run with an error naming the
    line and field; nothing is written.

    \b
    Examples:
      model-forge judge responses.jsonl
      model-forge judge responses.jsonl -o judged.jsonl --json
      model-forge judge responses.jsonl --judge openai:gpt-4o-mini \\
          --judge-option base_url=http://localhost:8000/v1
      model-forge judge --calibrate --db forge.db --judges default,rules --json
      model-forge judge --train --db forge.db -o head.npz
    """
    from forge_export.settings import read_settings_file

    settings = JudgeOptions().merge(
        read_settings_file(config_file) if config_file else None, where=str(config_file)
    )
    settings = settings.merge(cli_layer(JudgeOptions, given), where="command line")
    output = settings.output
    if calibrate or train:
        _human_mode(
            calibrate, train, file, settings.db, settings.judges, output, as_json, rows_path
        )
        return
    if file is None:
        raise click.UsageError("give FILE to judge (or --calibrate / --train)")
    from forge_export.errors import ForgeError

    from model_forge.judge.jsonl import (
        judged_records,
        read_judge_file,
        summarize_judgements,
        write_jsonl_atomic,
    )
    from model_forge.judge_plugins import load_judge_spec

    records, items = read_judge_file(file)
    judge_spec = settings.judge
    try:
        from model_forge.generation.concurrency import judge_backend_options

        options = judge_backend_options(judge_spec, settings.concurrency) | settings.judge_options
        if settings.batch_size is not None and "batch_size" not in settings.judge_options:
            options["batch_size"] = settings.batch_size
        judge = load_judge_spec(judge_spec, **options)
    except ForgeError as exc:
        raise click.BadParameter(str(exc), param_hint="--judge") from exc

    judgements = _judge_with_progress(judge, items)
    rows = judged_records(records, judgements)
    if output is not None:
        write_jsonl_atomic(output, rows)
    summary = summarize_judgements(items, judgements)
    if as_json:
        payload: dict[str, Any] = {"judge": judge.name, "output": str(output) if output else None}
        payload.update(summary)
        if output is None:
            payload["results"] = rows
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    click.echo(f"judge: {judge.name}   file: {file}   items: {len(items)}")
    click.echo(_table(summary))
    _print_low_confidence(summary["low_confidence_records"])
    if output is not None:
        click.echo(f"wrote {len(rows)} judged records to {output}")


def _judge_with_progress(judge: Any, items: list[Any]) -> list[Any]:
    """``judge``'s judgements of ``items`` with a progress bar on stderr (an LLM judge reports
    its own progress; the others are fed in chunks of 256)."""
    from model_forge.judge.llm import LLMJudge
    from model_forge.logs import progress_bar

    judgements = []
    with progress_bar(len(items), f"judging with {judge.name}", "judge") as bar:
        if isinstance(judge, LLMJudge):
            judge.progress = bar.update
            judgements = judge.judge(items)
        else:
            for start in range(0, len(items), 256):
                chunk = items[start : start + 256]
                judgements.extend(judge.judge(chunk))
                bar.update(len(chunk))
    return judgements


def _print_low_confidence(low: list[dict[str, Any]]) -> None:
    """One line naming the records whose verdicts are least sure (none: nothing)."""
    if not low:
        return
    from model_forge.judge.confidence import LOW_CONFIDENCE

    shown = ", ".join(str(x["record"]) for x in low[:20])
    click.echo(
        f"{len(low)} verdict(s) with confidence under {LOW_CONFIDENCE:g}, least sure "
        f"first: record(s) {shown}{' ...' if len(low) > 20 else ''}"
    )


def _human_mode(
    calibrate: bool,
    train: bool,
    file: Path | None,
    db: Path | str | None,
    judges: tuple[str, ...],
    output: Path | None,
    as_json: bool,
    rows_path: Path | None = None,
) -> None:
    """``--calibrate`` / ``--train``: measure judges against, or train on, human verdicts."""
    from scenario_forge.api import ScenarioStore

    from model_forge.judge.calibrate import calibrate as run_calibrate
    from model_forge.judge.calibrate import format_calibration, train_from_store

    if calibrate and train:
        raise click.UsageError("use --calibrate or --train, not both")
    if file is not None:
        raise click.UsageError("--calibrate and --train read the store (--db), not FILE")
    if train and output is None:
        raise click.UsageError("--train needs --output PATH for the new head (.npz)")
    if rows_path is not None and not train:
        raise click.UsageError("--rows goes with --train")
    with ScenarioStore.open(db, create=False) as store:
        try:
            if calibrate:
                result = run_calibrate(store, list(judges))
            else:
                result = train_from_store(store, output, rows_path=rows_path)  # type: ignore[arg-type]
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif calibrate:
        click.echo(format_calibration(result))
    else:
        click.echo(
            f"wrote {result['output']}: head trained on {result['own_rows']} own rows and "
            f"{result['human_rows']} human-labelled rows ({', '.join(result['classes'])})"
        )
