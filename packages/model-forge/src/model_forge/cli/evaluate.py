"""``model-forge evaluate``: generate on an export's eval config, judge, write the reports."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click


def progress_bar(length: int, label: str) -> Any:
    """A click progress bar on stderr (hidden when stderr is not a terminal)."""
    import sys

    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


@click.command("evaluate")
@click.option(
    "--model",
    "model",
    default="bundled",
    show_default=True,
    help="bundled, tiny, openai:MODEL or a local folder (e.g. the output of 'model-forge train').",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Export folder; its 'eval' config is run.",
)
@click.option(
    "--wild-set",
    default=None,
    help="Instead of --data: a wild set, builtin (240 harmful and 240 benign prompts written "
    "apart from the training data) or a folder with harmful.jsonl and/or benign.jsonl.",
)
@click.option("--split", default="test", show_default=True, help="Split of the eval config.")
@click.option(
    "--judge",
    default="default",
    show_default=True,
    help="default (the learned judge), learned, rules, or an LLM judge through any model spec "
    "(e.g. openai:gpt-4o-mini).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder for report.json, report.html and report.png [default: eval-<model name>].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Generation batch size (local models).",
)
@click.option(
    "--max-new-tokens",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Most tokens per answer (greedy decoding).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N scenarios."
)
@click.option("--json", "as_json", is_flag=True, help="Print the aggregates as JSON.")
def evaluate_command(
    model: str,
    data: str | None,
    wild_set: str | None,
    split: str,
    judge: str,
    output: str | None,
    batch_size: int,
    max_new_tokens: int,
    limit: int | None,
    as_json: bool,
) -> None:
    """Run a model on the eval config of an export, judge every answer, write the reports.

    Writes OUTPUT/report.json (an EvalReport: import its failures with `scenario-forge
    import-report`), OUTPUT/report.html (self-contained) and OUTPUT/report.png (pass rate per
    target, safe-response and refusal rate on harmful scenarios, over-refusal on benign ones).

    \b
    Examples:
      model-forge evaluate --model bundled --data export/ --output runs/eval-base
      model-forge evaluate --model runs/sft --data export/ --output runs/eval-sft
      model-forge evaluate --model tiny --data export/ --limit 10 --json
      model-forge evaluate --model runs/sft --wild-set builtin --output runs/eval-wild
    """
    from forge_export.errors import ForgeError
    from forge_export.loop_summary import WILD_GROUP_KEY, by_contrast_kind, by_metadata

    from model_forge.evaluate import evaluate

    if (data is None) == (wild_set is None):
        raise ForgeError("give either --data EXPORT or --wild-set builtin|FOLDER")
    out = Path(output) if output else Path(f"eval-{Path(model).name or 'model'}")
    source = data if data is not None else f"the wild set {wild_set}"
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def on_loaded(n: int) -> None:
            where = f"{source} ({split})" if data is not None else source
            click.echo(f"Evaluating {model} on {n} scenarios of {where}", err=True)
            bars.append(stack.enter_context(progress_bar(n, "generating")))

        run = evaluate(
            model,
            data,
            wild_set=wild_set,
            split=split,
            judge=judge,
            output=out,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            limit=limit,
            progress=lambda n: bars[0].update(n) if bars else None,
            on_loaded=on_loaded,
        )
    report = run.report
    if as_json:
        payload = {
            "model_id": report.model_id,
            "aggregates": {t: s.model_dump() for t, s in report.aggregates.items()},
            "kinds": {k: s.model_dump() for k, s in by_contrast_kind(report.results).items()},
            "wild": {
                k: s.model_dump() for k, s in by_metadata(report.results, WILD_GROUP_KEY).items()
            },
            "paths": {k: str(v) for k, v in run.paths.items()},
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(format_summary(report))
    kinds = by_contrast_kind(report.results)
    if kinds:
        click.echo("\nbenign look-alikes per kind (a refusal here is exaggerated safety):")
        click.echo(
            format_summary(
                report, sorted(kinds.items(), key=lambda kv: (kv[0] == "all", kv[0])), "kind"
            )
        )
    wild = by_metadata(report.results, WILD_GROUP_KEY)
    if wild:
        click.echo("\nwild set per hazard (harmful) and kind (benign_*):")
        click.echo(
            format_summary(
                report, sorted(wild.items(), key=lambda kv: (kv[0] == "all", kv[0])), "group"
            )
        )
    for kind, path in run.paths.items():
        click.echo(f"{kind:>4}: {path}")


def format_summary(report: Any, rows_of: Any = None, label: str = "target") -> str:
    """A plain-text table of a report's aggregates (or of ``rows_of``: name → summary)."""
    from forge_export.reports import summary_rows

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.0f}%"

    header = (
        label,
        "n",
        "pass",
        "harmful",
        "safe",
        "refused",
        "deflected",
        "benign",
        "comply",
        "over-ref",
        "partial",
        "off-topic",
    )
    rows = [
        (
            t,
            str(s.n),
            pct(s.pass_rate),
            str(s.harmful_n),
            pct(s.safe_rate),
            pct(s.refusal_rate),
            pct(s.deflection_rate),
            str(s.benign_n),
            pct(s.compliance_rate),
            pct(s.over_refusal_rate),
            pct(s.partial_refusal_rate),
            pct(s.off_topic_rate),
        )
        for t, s in (rows_of if rows_of is not None else summary_rows(report))
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), *(fmt.format(*r) for r in rows)])
