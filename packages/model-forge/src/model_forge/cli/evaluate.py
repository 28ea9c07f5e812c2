"""``model-forge evaluate``: generate on an export's eval config, judge, write the reports."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click
from forge_export.settings import cli_layer, config_file_option, settings_options

from model_forge.eval_config import FAIL_UNDER_METRICS, EvalOptions


@click.command("evaluate")
@config_file_option
@settings_options(EvalOptions)
@click.option("--json", "as_json", is_flag=True, help="Print the aggregates as JSON.")
def evaluate_command(config_file: Path | None, as_json: bool, **given: Any) -> None:
    """Run a model on the eval config of an export, judge every answer, write the reports.

    Writes OUTPUT/report.json (an EvalReport: import its failures with `scenario-forge
    import-report`), OUTPUT/report.html (self-contained) and OUTPUT/report.png (pass rate per
    target, safe-response and refusal rate on harmful scenarios, over-refusal on benign ones).
    Every rate is shown with its Wilson 95% interval. With --fail-under the command exits 1
    when a rate on all scenarios is below its threshold (for CI).

    \b
    Examples:
      model-forge evaluate --model bundled --data export/ --output runs/eval-base
      model-forge evaluate --model runs/sft --data export/ --output runs/eval-sft
      model-forge evaluate --model tiny --data export/ --limit 10 --json
      model-forge evaluate --model runs/sft --wild-set builtin --output runs/eval-wild
      model-forge evaluate --model runs/sft --test-set runs/loop/test-set.json -o runs/eval
      model-forge evaluate --config eval.yaml --fail-under safe_rate=0.8 --fail-under compliance=0.9
      model-forge evaluate --model runs/sft --data export/ --inspect-log runs/sft.json
    """
    from forge_export.settings import read_settings_file

    from model_forge.evaluate import evaluate

    file = read_settings_file(config_file) if config_file else None
    options = EvalOptions().merge(file, where=str(config_file))
    options = options.merge(cli_layer(EvalOptions, given), where="command line")
    thresholds = parse_fail_under(options.fail_under)
    if options.output is None:
        options = options.merge({"output": f"eval-{Path(options.model).name or 'model'}"})
    source = _source(options)
    if options.inspect_log is not None:
        from model_forge.inspect_log import check_inspect_log_path

        check_inspect_log_path(options.inspect_log)  # before any work
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def on_loaded(n: int) -> None:
            from model_forge.logs import get_logger, progress_bar

            get_logger("evaluate").info(
                "Evaluating %s on %d scenarios of %s", options.model, n, source
            )
            bars.append(stack.enter_context(progress_bar(n, "generating", "evaluate")))

        run = evaluate(
            options=options,
            progress=lambda n: bars[0].update(n) if bars else None,
            on_loaded=on_loaded,
        )
    report = run.report
    if options.inspect_log is not None:
        from model_forge.inspect_log import write_inspect_log

        run.paths["inspect"] = write_inspect_log(
            report, options.inspect_log, location=str(run.paths.get("json", ""))
        )
    misses = check_fail_under(report, thresholds)
    if as_json:
        click.echo(json.dumps(_json_payload(report, run.paths, misses), indent=2))
    else:
        _print_tables(report, run.paths)
    if misses:
        for line in misses:
            click.echo(f"fail-under: {line}", err=True)
        raise SystemExit(1)


def _json_payload(report: Any, paths: dict[str, Path], misses: list[str]) -> dict[str, Any]:
    """What ``evaluate --json`` prints: aggregates, kinds, wild groups, paths, the
    low-confidence verdicts and the fail-under outcome."""
    from forge_export.loop_summary import WILD_GROUP_KEY, by_contrast_kind, by_metadata

    return {
        "model_id": report.model_id,
        "aggregates": {t: s.model_dump() for t, s in report.aggregates.items()},
        "kinds": {k: s.model_dump() for k, s in by_contrast_kind(report.results).items()},
        "wild": {k: s.model_dump() for k, s in by_metadata(report.results, WILD_GROUP_KEY).items()},
        "paths": {k: str(v) for k, v in paths.items()},
        "low_confidence": [
            {"scenario_id": r.scenario.id, "verdict": r.verdict, "confidence": r.confidence}
            for r in report.low_confidence()
        ],
        "fail_under": {"passed": not misses, "failures": misses},
    }


def _source(options: EvalOptions) -> str:
    if options.wild_set is not None:
        return f"the wild set {options.wild_set}"
    if options.test_set is not None:
        return f"the frozen test set {options.test_set}"
    return f"{options.data} ({options.split})"


def _print_tables(report: Any, paths: dict[str, Path]) -> None:
    from forge_export.loop_summary import WILD_GROUP_KEY, by_contrast_kind, by_metadata

    click.echo("Rates with their Wilson 95% intervals (low-high, in %).")
    click.echo(format_summary(report))
    if low := report.low_confidence():
        from forge_export.models import LOW_CONFIDENCE

        click.echo(
            f"\n{len(low)} verdict(s) with judge confidence under {LOW_CONFIDENCE:g}; review them "
            f"first: scenario-forge review verdicts {paths['json']} --lowest-confidence-first"
        )
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
    for kind, path in paths.items():
        click.echo(f"{kind:>4}: {path}")


def parse_fail_under(items: tuple[str, ...]) -> dict[str, float]:
    """``METRIC=RATE`` items → the ``TargetSummary`` rate and its threshold.

    Raises:
        ForgeError: not METRIC=RATE, an unknown metric (with the nearest one) or a rate
            outside 0..1.
    """
    import difflib

    from forge_export.errors import ForgeError

    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ForgeError(f"--fail-under {item!r}: give METRIC=RATE, e.g. safe_rate=0.8")
        if name not in FAIL_UNDER_METRICS:
            close = difflib.get_close_matches(name, list(FAIL_UNDER_METRICS), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else "use " + ", ".join(FAIL_UNDER_METRICS)
            )
            raise ForgeError(f"--fail-under {item!r}: unknown metric {name!r}; {hint}")
        try:
            rate = float(value)
        except ValueError:
            raise ForgeError(f"--fail-under {item!r}: {value!r} is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise ForgeError(f"--fail-under {item!r}: give a rate between 0 and 1 (0.8 = 80%)")
        out[FAIL_UNDER_METRICS[name]] = rate
    return out


def check_fail_under(report: Any, thresholds: dict[str, float]) -> list[str]:
    """One line per threshold the report's ``all`` rates miss (none: the check passed)."""
    from forge_export.intervals import format_rate

    whole = report.aggregates["all"]
    misses = []
    for rate, low in thresholds.items():
        value = getattr(whole, rate)
        if value is None:
            misses.append(f"{rate}: no scenario to measure it on (needs at least {low:g})")
        elif value < low:
            n = whole.denominator(rate)
            misses.append(f"{rate} {format_rate(value * n, n)} is under {low:g}")
    return misses


def format_summary(report: Any, rows_of: Any = None, label: str = "target") -> str:
    """A plain-text table of a report's aggregates (or of ``rows_of``: name → summary)."""
    from forge_export.intervals import format_rate
    from forge_export.reports import summary_rows

    def pct(v: float | None, n: int) -> str:
        return "-" if v is None else format_rate(v * n, n, counts=False)

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
            pct(s.pass_rate, s.n),
            str(s.harmful_n),
            pct(s.safe_rate, s.harmful_n),
            pct(s.refusal_rate, s.harmful_n),
            pct(s.deflection_rate, s.harmful_n),
            str(s.benign_n),
            pct(s.compliance_rate, s.benign_n),
            pct(s.over_refusal_rate, s.benign_n),
            pct(s.partial_refusal_rate, s.benign_n),
            pct(s.off_topic_rate, s.benign_n),
        )
        for t, s in (rows_of if rows_of is not None else summary_rows(report))
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), *(fmt.format(*r) for r in rows)])
