"""The human side of an evaluation report: a PNG chart and a self-contained HTML page.

The chart (matplotlib, Agg backend, no display needed) shows per target the pass rate, the
safe-response and refusal rates on harmful scenarios and the over-refusal rate on benign
contrasts, each bar labelled with its count and drawn with its Wilson 95% interval. The HTML
page embeds the chart as a data URI and needs no other file: a table per target (every rate
with its interval) and a few example failures, all text escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from forge_export.loop_summary import by_contrast_kind
from forge_export.models import LOW_CONFIDENCE, EvalReport, EvalResult, TargetSummary

EXAMPLE_FAILURES_PER_TARGET = 3
RESPONSE_PREVIEW_CHARS = 600

# (label, rate field, numerator/denominator for the count label)
CHART_SERIES: tuple[tuple[str, str], ...] = (
    ("pass rate (all)", "pass_rate"),
    ("safe responses (harmful)", "safe_rate"),
    ("refusals (harmful)", "refusal_rate"),
    ("over-refusals (benign)", "over_refusal_rate"),
    ("off-topic answers (benign)", "off_topic_rate"),
    ("deflections (harmful)", "deflection_rate"),
)


def _ordered(report: EvalReport) -> list[tuple[str, TargetSummary]]:
    return sorted(report.aggregates.items(), key=lambda kv: (kv[0] == "all", kv[0]))


def _count_label(summary: TargetSummary, field: str) -> str:
    """``k/n`` behind a rate, e.g. ``7/9`` safe responses of 9 harmful scenarios."""
    count = summary.count(field)
    return "n/a" if count is None else f"{count}/{summary.denominator(field)}"


def _error(summary: TargetSummary, field: str) -> tuple[float, float]:
    """How far the Wilson 95% interval reaches below and above the rate, in points."""
    rate = getattr(summary, field)
    if rate is None:
        return 0.0, 0.0
    lo, hi = summary.intervals[field]
    return 100 * (rate - lo), 100 * (hi - rate)


def render_chart(report: EvalReport) -> bytes:
    """A grouped bar chart of the report's rates per target, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _ordered(report)
    width = 0.8 / len(CHART_SERIES)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.9 * len(rows) + 2), 4.6), dpi=100)
    try:
        for i, (label, field) in enumerate(CHART_SERIES):
            xs = [j + (i - (len(CHART_SERIES) - 1) / 2) * width for j in range(len(rows))]
            heights = [100 * (getattr(s, field) or 0.0) for _t, s in rows]
            errors = [_error(s, field) for _t, s in rows]
            bars = ax.bar(
                xs,
                heights,
                width,
                label=label,
                yerr=[[e[0] for e in errors], [e[1] for e in errors]],
                capsize=2,
                error_kw={"elinewidth": 0.8},
            )
            for bar, (_t, s) in zip(bars, rows, strict=True):
                ax.annotate(
                    _count_label(s, field),
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=6,
                    rotation=90,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([f"{t}\n(n={s.n})" for t, s in rows], fontsize=8)
        ax.set_ylim(0, 118)
        ax.set_ylabel("% (error bars: Wilson 95% interval)")
        ax.set_title(f"{report.model_id} on {report.split} ({report.judge})", fontsize=9)
        ax.legend(fontsize=7, loc="upper left", ncols=2)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _pct(s: TargetSummary, field: str) -> str:
    """A rate with its Wilson 95% interval, ``71% (55-83)``; ``–`` without scenarios."""
    from forge_export.intervals import format_rate

    count = s.count(field)
    return "–" if count is None else format_rate(count, s.denominator(field), counts=False)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}
.fail{border-left:4px solid #c33;padding:0.3em 0.8em;margin:0.6em 0;background:#fafafa}
pre{white-space:pre-wrap;margin:0.2em 0}
.meta{color:#666;font-size:0.9em}
"""


def _summary_table(rows: Sequence[tuple[str, TargetSummary]]) -> str:
    head = (
        "<tr><th>target</th><th>n</th><th>pass rate</th><th>harmful n</th><th>safe rate</th>"
        "<th>refusal rate</th><th>deflected</th><th>benign n</th><th>compliance</th>"
        "<th>over-refusal</th><th>of which partial</th><th>off-topic</th></tr>"
    )
    body = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{s.n}</td><td>{_pct(s, 'pass_rate')}</td>"
        f"<td>{s.harmful_n}</td><td>{_pct(s, 'safe_rate')}</td><td>{_pct(s, 'refusal_rate')}</td>"
        f"<td>{_pct(s, 'deflection_rate')}</td>"
        f"<td>{s.benign_n}</td><td>{_pct(s, 'compliance_rate')}</td>"
        f"<td>{_pct(s, 'over_refusal_rate')}</td><td>{_pct(s, 'partial_refusal_rate')}</td>"
        f"<td>{_pct(s, 'off_topic_rate')}</td></tr>"
        for t, s in rows
    )
    return f"<table>{head}{body}</table>"


def _failure(result: EvalResult) -> str:
    s = result.scenario
    response = result.response
    if len(response) > RESPONSE_PREVIEW_CHARS:
        response = response[:RESPONSE_PREVIEW_CHARS] + " …"
    return (
        '<div class="fail">'
        f"<div class=meta>{html.escape(s.id)} · expected {html.escape(s.expected_behavior)}"
        f" · refused: {'yes' if result.refused else 'no'}"
        f"{' · ' + html.escape(result.label) if result.label else ''}"
        f"{f' · judge confidence {result.confidence:.2f}' if result.confidence is not None else ''}"
        f"{' (low)' if result.low_confidence else ''}</div>"
        f"<b>Prompt</b><pre>{html.escape(s.prompt)}</pre>"
        f"<b>Response</b><pre>{html.escape(response) or '(empty)'}</pre>"
        f"<b>{'Why it failed' if result.verdict == 'fail' else 'Why it passed'}</b>"
        f"<pre>{html.escape(result.reason)}</pre>"
        "</div>"
    )


def render_html(report: EvalReport, png: bytes | None = None) -> str:
    """A self-contained HTML page for ``report``; ``png`` (the chart) is embedded inline."""
    rows = _ordered(report)
    by_target: dict[str, list[EvalResult]] = {}
    for r in report.results:
        by_target.setdefault(r.scenario.evaluation_target, []).append(r)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>forge evaluation: {html.escape(report.model_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of {html.escape(report.model_id)}</h1>",
        f"<p class=meta>split {html.escape(report.split)} · judge {html.escape(report.judge)} · "
        f"dataset {html.escape(report.dataset_fingerprint[:16] or 'unknown')} · "
        f"{report.created_at.isoformat(timespec='seconds')} · "
        f"{len(report.results)} scenarios, {len(report.failures())} failed</p>",
        "<h2>Summary</h2>",
        "<p class=meta>Every rate with its Wilson 95% interval (low-high, in %).</p>",
        _summary_table(rows),
    ]
    low = report.low_confidence()
    if low:
        shown = low[:EXAMPLE_FAILURES_PER_TARGET]
        parts.append(f"<h2>Low-confidence verdicts ({len(shown)} of {len(low)})</h2>")
        parts.append(
            f"<p class=meta>The judge is under {LOW_CONFIDENCE:g} sure of these verdicts, least "
            "sure first: check them (<code>scenario-forge review verdicts REPORT "
            "--lowest-confidence-first</code>).</p>"
        )
        parts.extend(_failure(r) for r in shown)
    kinds = by_contrast_kind(report.results)
    if kinds:
        parts.append("<h2>Benign look-alikes per kind</h2>")
        parts.append(
            "<p class=meta>Questions that sound dangerous but are not: a refusal here is "
            "exaggerated safety.</p>"
        )
        parts.append(_summary_table(sorted(kinds.items(), key=lambda kv: (kv[0] == "all", kv[0]))))
    if png:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<img alt='rates per target' src='data:image/png;base64,{data}'>")
    for target, summary in rows:
        if target == "all":
            continue
        results = by_target.get(target, [])
        failures = [r for r in results if r.verdict == "fail"]
        parts.append(f"<h2>{html.escape(target)}</h2>")
        parts.append(_summary_table([(target, summary)]))
        if failures:
            shown = failures[:EXAMPLE_FAILURES_PER_TARGET]
            parts.append(f"<h3>Example failures ({len(shown)} of {len(failures)})</h3>")
            parts.extend(_failure(r) for r in shown)
        else:
            parts.append("<p>No failures.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
