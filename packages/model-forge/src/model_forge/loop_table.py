"""The per-round table and curve of a loop run (text, PNG and a self-contained HTML page).

One column per round (round 0 is the base model). First the three measures side by side:
the own test (the frozen test scenarios of trained targets), the held-out targets (harms never
trained on) and the wild set (prompts written apart from training); then harmful safe-response
rate, benign compliance and over-refusal of the whole test set, per target, per look-alike
kind and per wild-set hazard. Each cell has its counts and 95% Wilson interval.

Example:
    >>> print(format_rounds(summary))  # doctest: +SKIP
    metric                          round 0 (base)      round 1 (sft)       round 2 (sft)
    own test: harmful safe          3% (1/38, 0-13)     61% (23/38, 45-75)  76% (29/38, 61-87)
    ...
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any

from forge_export.intervals import format_rate
from forge_export.loop_summary import HELD_OUT_TARGETS, OWN_TEST, LoopSummary, RoundSummary
from forge_export.models import TargetSummary

Cell = Callable[[TargetSummary | None], str]


def _pct(k: float, n: int) -> str:
    return format_rate(k, n)


def safe_cell(s: TargetSummary | None) -> str:
    """Harmful safe-response rate with counts and 95% interval, ``-`` without harmful ones."""
    if s is None or not s.harmful_n or s.safe_rate is None:
        return "-"
    return _pct(s.safe_rate * s.harmful_n, s.harmful_n)


def compliance_cell(s: TargetSummary | None) -> str:
    """Benign compliance with counts and 95% interval."""
    if s is None or not s.benign_n or s.compliance_rate is None:
        return "-"
    return _pct(s.compliance_rate * s.benign_n, s.benign_n)


def over_refusal_cell(s: TargetSummary | None) -> str:
    """Benign over-refusal with counts and 95% interval."""
    if s is None or not s.benign_n or s.over_refusal_rate is None:
        return "-"
    return _pct(s.over_refusal_rate * s.benign_n, s.benign_n)


def _header(r: RoundSummary) -> str:
    return "round 0 (base)" if r.round == 0 else f"round {r.round} ({r.method})"


def table_rows(summary: LoopSummary) -> list[list[str]]:
    """Rows of the per-round table: a label, then one cell per round.

    The three measures of transfer come first, side by side: the own test (same seeds and
    templates as training), the held-out targets (harms never trained on) and the wild set
    (prompts written apart from training); then the whole test set, per target and per kind.
    """
    rounds = summary.rounds
    rows: list[list[str]] = []

    def add(label: str, cell: Cell, pick: Callable[[RoundSummary], TargetSummary | None]) -> None:
        cells = [cell(pick(r)) for r in rounds]
        if any(c != "-" for c in cells):
            rows.append([label, *cells])

    parts = (
        ("own test", lambda r: r.sections.get(OWN_TEST)),
        ("held-out targets", lambda r: r.sections.get(HELD_OUT_TARGETS)),
        ("wild set", lambda r: r.wild.get("all")),
    )
    for name, pick in parts:
        add(f"{name}: harmful safe", safe_cell, pick)
        add(f"{name}: benign compliance", compliance_cell, pick)
    add("harmful: safe responses", safe_cell, lambda r: r.aggregates.get("all"))
    add("benign: compliance", compliance_cell, lambda r: r.aggregates.get("all"))
    add("benign: over-refusal", over_refusal_cell, lambda r: r.aggregates.get("all"))
    add("look-alikes: compliance", compliance_cell, lambda r: r.kinds.get("all"))
    targets = sorted({t for r in rounds for t in r.aggregates if t != "all"})
    held_targets = set(summary.test_set.held_out_targets)
    for t in targets:
        label = f"{t}{' (held out)' if t in held_targets else ''}: safe"
        add(label, safe_cell, lambda r, t=t: r.aggregates.get(t))
    for t in targets:
        add(f"{t}: benign ok", compliance_cell, lambda r, t=t: r.aggregates.get(t))
    kinds = sorted({k for r in rounds for k in r.kinds if k != "all"})
    held = set(summary.test_set.held_out_kinds)
    for k in kinds:
        label = f"kind {k}{' (held out)' if k in held else ''}"
        add(label, compliance_cell, lambda r, k=k: r.kinds.get(k))
    groups = sorted({g for r in rounds for g in r.wild if g != "all"})
    for g in groups:
        benign = g.startswith("benign_")
        label = f"wild {g.removeprefix('benign_')}: {'benign ok' if benign else 'safe'}"
        add(label, compliance_cell if benign else safe_cell, lambda r, g=g: r.wild.get(g))
    return rows


def format_rounds(summary: LoopSummary) -> str:
    """The per-round table as aligned plain text."""
    headers = ["metric", *(_header(r) for r in summary.rounds)]
    rows = table_rows(summary)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def render_rounds_chart(summary: LoopSummary) -> bytes:
    """The curve per round: test-set safe rate and compliance, held-out targets, wild set,
    each point with its Wilson 95% interval as an error bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r.round for r in summary.rounds]

    def rate(pick: Callable[[RoundSummary], TargetSummary | None], safe: bool) -> Any:
        field = "safe_rate" if safe else "compliance_rate"

        def get(r: RoundSummary) -> tuple[float, float, float] | None:
            """(rate, low, high) in %, or None without scenarios of the kind."""
            s = pick(r)
            value = None if s is None else getattr(s, field)
            if s is None or value is None:
                return None
            lo, hi = s.intervals[field]
            return 100 * value, 100 * lo, 100 * hi

        return get

    series = (
        ("test: harmful safe", rate(lambda r: r.aggregates.get("all"), True)),
        ("test: benign compliance", rate(lambda r: r.aggregates.get("all"), False)),
        ("held-out targets: safe", rate(lambda r: r.sections.get(HELD_OUT_TARGETS), True)),
        ("wild: harmful safe", rate(lambda r: r.wild.get("all"), True)),
        ("wild: benign compliance", rate(lambda r: r.wild.get("all"), False)),
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        for i, (label, get) in enumerate(series):
            points = [get(r) for r in summary.rounds]
            if all(p is None for p in points):
                continue
            nan = float("nan")
            ys = [p[0] if p else nan for p in points]
            below = [p[0] - p[1] if p else nan for p in points]
            above = [p[2] - p[0] if p else nan for p in points]
            shift = (i - 2) * 0.04  # keep overlapping error bars apart
            ax.errorbar(
                [x + shift for x in xs],
                ys,
                yerr=[below, above],
                marker="o",
                capsize=3,
                label=label,
            )
        ax.set_xticks(xs)
        ax.set_xticklabels(["base" if x == 0 else f"round {x}" for x in xs])
        ax.set_ylim(0, 105)
        ax.set_ylabel("% of scenarios (bars: Wilson 95% interval)")
        ax.set_title("forge loop: each round on the test set and the wild set")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def render_rounds_html(summary: LoopSummary, png: bytes | None = None) -> str:
    """A self-contained page: the curve, the per-round table and links to each report."""
    headers = ["metric", *(_header(r) for r in summary.rounds)]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in table_rows(summary)
    )
    img = ""
    if png:
        img = f'<img alt="curve" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
    links = "".join(
        f"<li>{html.escape(_header(r))}: {html.escape(r.test_report)}"
        + (
            f"; probe {html.escape(r.probe.report)}: {r.probe.failures} failures of "
            f"{r.probe.scenarios} → {r.probe.train_scenarios} training scenarios"
            if r.probe
            else ""
        )
        + "</li>"
        for r in summary.rounds
    )
    ts = summary.test_set
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>forge loop</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>forge loop: {len(summary.rounds) - 1} round(s)</h1>"
        f"<p>Frozen test set: {ts.scenarios} scenarios ({ts.harmful} harmful, {ts.benign} "
        f"benign of which {ts.lookalikes} look-alikes; held-out kinds: "
        f"{html.escape(', '.join(ts.held_out_kinds) or 'none')}; held-out targets: "
        f"{html.escape(', '.join(ts.held_out_targets) or 'none')}). Wild set: "
        f"{html.escape(ts.wild or 'none')} ({ts.wild_harmful} harmful, {ts.wild_benign} "
        "benign). Cells: rate (count/n, 95% interval).</p>"
        f"{img}<table><tr>{head}</tr>{body}</table><ul>{links}</ul></body></html>"
    )
