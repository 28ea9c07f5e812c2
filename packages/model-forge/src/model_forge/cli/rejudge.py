"""``model-forge rejudge``: judge a report's (or a whole loop run's) saved answers again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from forge_export.settings import help_text

from model_forge.eval_config import DEFAULT_JUDGE, JUDGE_HELP
from model_forge.logs import get_logger

if TYPE_CHECKING:
    from model_forge.judge import Judge


@click.command("rejudge")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--judge", default=DEFAULT_JUDGE, show_default=True, help=help_text(JUDGE_HELP))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the new reports (report.json/html/png; for a loop run one folder per "
    "round and report, plus summary.json and rounds.html). The source is never changed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new aggregates as JSON.")
def rejudge_command(source: Path, judge: str, output: Path, as_json: bool) -> None:
    """Judge the saved answers of SOURCE again with --judge; nothing is generated.

    SOURCE is an evaluation report (report.json of `evaluate` or of a loop round) or a loop
    run's summary.json. A report's answers get new verdicts in OUTPUT/report.json; a run's
    test and wild reports of every round are judged again and its per-round table rebuilt in
    OUTPUT/summary.json (training, probes and timings stay those of the run). Use it to read
    runs judged at different times under one judge, or to see what a new judge changes.

    \b
    Examples:
      model-forge rejudge runs/eval-sft/report.json --judge rules -o runs/eval-sft-rules
      model-forge rejudge runs/loop/summary.json --judge default -o runs/loop-rejudged
    """
    from forge_export.errors import ForgeError

    from model_forge.evaluate import resolve_judge

    if output.resolve() == source.parent.resolve():
        raise ForgeError(f"--output {output}: that is the source's folder; name a new folder")
    data = _read_json(source)
    loaded = resolve_judge(judge)
    if isinstance(data, dict) and "rounds" in data:
        _rejudge_run(source, loaded, output, as_json)
    else:
        _rejudge_report(source, loaded, output, as_json)


def _read_json(path: Path) -> object:
    from forge_export.errors import ForgeError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ForgeError(f"{path}: not a JSON report or loop summary ({exc})") from exc


def _rejudge_report(source: Path, judge: Judge, output: Path, as_json: bool) -> None:
    from forge_export.reports import read_report

    from model_forge.cli.evaluate import _print_tables
    from model_forge.evaluate import write_report
    from model_forge.rejudge import rejudge_report

    old = read_report(source)
    get_logger("rejudge").info(
        "Judging %d answers of %s again with %s", len(old.results), source, judge.name
    )
    new = rejudge_report(old, judge)
    paths = write_report(new, output)
    if as_json:
        payload = {
            "judge": new.judge,
            "rejudged_from": new.metadata.get("rejudged_from"),
            "aggregates": {t: s.model_dump() for t, s in new.aggregates.items()},
            "paths": {k: str(v) for k, v in paths.items()},
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_tables(new, paths)


def _rejudge_run(source: Path, judge: Judge, output: Path, as_json: bool) -> None:
    from forge_export.atomic_files import atomic_output
    from forge_export.errors import ForgeError, describe_validation_error
    from forge_export.loop_summary import LoopSummary
    from pydantic import ValidationError

    from model_forge.loop_table import format_rounds, render_rounds_chart, render_rounds_html
    from model_forge.rejudge import rejudge_run

    try:
        summary = LoopSummary.model_validate_json(source.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise describe_validation_error(exc, f"{source}: loop summary") from exc
    if not summary.rounds:
        raise ForgeError(f"{source}: the summary has no rounds")
    new = rejudge_run(summary, judge, output, say=get_logger("rejudge").info)
    png = render_rounds_chart(new)
    with atomic_output(output / "rounds.png", "wb") as fh:
        fh.write(png)
    with atomic_output(output / "rounds.html", "w") as fh:
        fh.write(render_rounds_html(new, png))
    with atomic_output(output / "summary.json", "w") as fh:
        fh.write(new.model_dump_json(indent=2))
    if as_json:
        click.echo(new.model_dump_json(indent=2))
    else:
        click.echo(f"Answers of {source} judged again with {judge.name}:")
        click.echo(format_rounds(new))
        click.echo(f"summary: {output / 'summary.json'}")
