"""The per-round table and curve of a loop run (text, PNG and a self-contained HTML page).

One column per round (round 0 is the base model), all on the frozen test set: harmful
safe-response rate, benign compliance and over-refusal overall, then per target and per
look-alike kind, each cell with its counts.

Example:
    >>> print(format_rounds(summary))  # doctest: +SKIP
    metric                      round 0 (base)  round 1       round 2
    harmful: safe responses     3% (1/38)       61% (23/38)   76% (29/38)
    ...
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

from forge_export.loop_summary import LoopSummary, RoundSummary
from forge_export.models import TargetSummary

Cell = Callable[[TargetSummary | None], str]


def _pct(k: float, n: int) -> str:
    return f"{100 * k / n:.0f}% ({round(k)}/{n})"


def safe_cell(s: TargetSummary | None) -> str:
    """Harmful safe-response rate with counts, ``-`` when there is no harmful scenario."""
    if s is None or not s.harmful_n or s.safe_rate is None:
        return "-"
    return _pct(s.safe_rate * s.harmful_n, s.harmful_n)


def compliance_cell(s: TargetSummary | None) -> str:
    """Benign compliance with counts."""
    if s is None or not s.benign_n or s.compliance_rate is None:
        return "-"
    return _pct(s.compliance_rate * s.benign_n, s.benign_n)


def over_refusal_cell(s: TargetSummary | None) -> str:
    """Benign over-refusal with counts."""
    if s is None or not s.benign_n or s.over_refusal_rate is None:
        return "-"
    return _pct(s.over_refusal_rate * s.benign_n, s.benign_n)


def _header(r: RoundSummary) -> str:
    return "round 0 (base)" if r.round == 0 else f"round {r.round} ({r.method})"


def table_rows(summary: LoopSummary) -> list[list[str]]:
    """Rows of the per-round table: a label, then one cell per round."""
    rounds = summary.rounds
    rows: list[list[str]] = []

    def add(label: str, cell: Cell, pick: Callable[[RoundSummary], TargetSummary | None]) -> None:
        cells = [cell(pick(r)) for r in rounds]
        if any(c != "-" for c in cells):
            rows.append([label, *cells])

    add("harmful: safe responses", safe_cell, lambda r: r.aggregates.get("all"))
    add("benign: compliance", compliance_cell, lambda r: r.aggregates.get("all"))
    add("benign: over-refusal", over_refusal_cell, lambda r: r.aggregates.get("all"))
    add("look-alikes: compliance", compliance_cell, lambda r: r.kinds.get("all"))
    targets = sorted({t for r in rounds for t in r.aggregates if t != "all"})
    for t in targets:
        add(f"{t}: safe", safe_cell, lambda r, t=t: r.aggregates.get(t))
    for t in targets:
        add(f"{t}: benign ok", compliance_cell, lambda r, t=t: r.aggregates.get(t))
    kinds = sorted({k for r in rounds for k in r.kinds if k != "all"})
    held = set(summary.test_set.held_out_kinds)
    for k in kinds:
        label = f"kind {k}{' (held out)' if k in held else ''}"
        add(label, compliance_cell, lambda r, k=k: r.kinds.get(k))
    return rows


def format_rounds(summary: LoopSummary) -> str:
    """The per-round table as aligned plain text."""
    headers = ["metric (frozen test set)", *(_header(r) for r in summary.rounds)]
    rows = table_rows(summary)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def render_rounds_chart(summary: LoopSummary) -> bytes:
    """The curve per round: harmful safe rate, benign compliance, look-alike compliance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r.round for r in summary.rounds]
    series = (
        ("harmful: safe responses", lambda r: r.aggregates["all"].safe_rate),
        ("benign: compliance", lambda r: r.aggregates["all"].compliance_rate),
        (
            "look-alikes: compliance",
            lambda r: (r.kinds.get("all") or None) and r.kinds["all"].compliance_rate,
        ),
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        for label, get in series:
            ys = [get(r) for r in summary.rounds]
            if all(y is None for y in ys):
                continue
            ax.plot(
                xs,
                [100 * y if y is not None else float("nan") for y in ys],
                marker="o",
                label=label,
            )
        ax.set_xticks(xs)
        ax.set_xticklabels(["base" if x == 0 else f"round {x}" for x in xs])
        ax.set_ylim(0, 105)
        ax.set_ylabel("% of frozen test scenarios")
        ax.set_title("forge loop: each round on the frozen test set")
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
    headers = ["metric (frozen test set)", *(_header(r) for r in summary.rounds)]
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
        f"{html.escape(', '.join(ts.held_out_kinds) or 'none')}).</p>"
        f"{img}<table><tr>{head}</tr>{body}</table><ul>{links}</ul></body></html>"
    )
