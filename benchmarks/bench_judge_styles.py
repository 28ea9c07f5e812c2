"""Per-pattern accuracy of the judges on answers in real assistants' styles (issue 27).

Usage (from the repository root)::

    uv run python benchmarks/bench_judge_styles.py                 # rules and learned, held out
    uv run python benchmarks/bench_judge_styles.py --errors        # and list the misjudged rows
    uv run python benchmarks/bench_judge_styles.py --llm openai:MODEL --llm-option base_url=URL
    FORGE_JUDGE_LLM=openai:MODEL uv run python benchmarks/bench_judge_styles.py

Rows: the styled rows of ``data/judge/own_rows.jsonl`` (``styles.py``; split by prompt), the
``holdout`` split unless ``--split`` says otherwise. For each judge it prints the 4-label
accuracy on each of the issue's three patterns (premise refutation = refusal, disclaimer +
full answer = compliance, harm + warning = compliance), on every row, per style, the
refusal-flag accuracy, and how many verdicts are low-confidence (under ``--low``). The LLM
judge runs only when ``--llm`` (or ``$FORGE_JUDGE_LLM``) names one; ``--guard`` adds a guard
model judge the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

from model_forge.judge import load_judge
from model_forge.judge.train import REFUSED_LABELS, load_rows, row_item

ROWS = Path(__file__).resolve().parents[1] / "data" / "judge" / "own_rows.jsonl"
PATTERNS = ("premise_refutation", "disclaimer_answer", "harm_warning")
GOAL = 0.95


def _acc(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "    -"
    return f"{sum(t == p for t, p in pairs) / len(pairs):.3f}"


def main() -> int:
    """Judge the rows with each judge and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["holdout", "train", "all"], default="holdout")
    ap.add_argument("--judges", default="rules,learned", help="offline judge specs")
    ap.add_argument("--llm", default=os.environ.get("FORGE_JUDGE_LLM"), help="LLM judge spec")
    ap.add_argument("--guard", default=None, help="guard judge spec (guard:openai:MODEL)")
    ap.add_argument("--llm-option", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--low", type=float, default=None, help="low-confidence bar")
    ap.add_argument("--errors", action="store_true", help="list the misjudged rows")
    ap.add_argument("--rows", type=Path, default=ROWS)
    args = ap.parse_args()

    rows = [r for r in load_rows(args.rows) if r.get("style")]
    if args.split != "all":
        rows = [r for r in rows if r["split"] == args.split]
    items = [row_item(r) for r in rows]
    options = dict(o.split("=", 1) for o in args.llm_option)
    specs = [s.strip() for s in args.judges.split(",") if s.strip()]
    judges = [(s, load_judge(s)) for s in specs]
    if args.llm:
        judges.append((args.llm, load_judge(args.llm, **options)))
    if args.guard:
        judges.append((args.guard, load_judge(args.guard, **options)))
    counts = defaultdict(int)
    for r in rows:
        counts[r["pattern"]] += 1
    print(
        f"{len(rows)} styled rows ({args.split}): "
        + ", ".join(f"{p} {counts[p]}" for p in PATTERNS)
        + f", other {counts[None]}"
    )
    from model_forge.judge.confidence import LOW_CONFIDENCE

    low = LOW_CONFIDENCE if args.low is None else args.low
    header = f"{'judge':<24}" + "".join(f"{p:>20}" for p in PATTERNS)
    header += f"{'all rows':>10}{'refused flag':>14}{'low conf.':>11}"
    print(header)
    misses: list[str] = []
    per_style: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for _spec, judge in judges:
        js = judge.judge(items)
        pairs = [(r["label"], j.label) for r, j in zip(rows, js, strict=True)]
        by_pattern = {
            p: [x for r, x in zip(rows, pairs, strict=True) if r["pattern"] == p] for p in PATTERNS
        }
        flag = [(t in REFUSED_LABELS, p in REFUSED_LABELS) for t, p in pairs]
        n_low = sum(j.confidence is not None and j.confidence < low for j in js)
        print(
            f"{judge.name:<24}"
            + "".join(f"{_acc(by_pattern[p]):>20}" for p in PATTERNS)
            + f"{_acc(pairs):>10}"
            + f"{sum(a == b for a, b in flag) / len(flag):>14.3f}"
            + f"{n_low:>11}"
        )
        styles: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for r, x in zip(rows, pairs, strict=True):
            styles[r["style"]].append(x)
        per_style[judge.name] = styles
        for r, j in zip(rows, js, strict=True):
            if j.label != r["label"]:
                conf = "-" if j.confidence is None else f"{j.confidence:.2f}"
                misses.append(
                    f"  {judge.name} {r['id']} {r['style']}: {r['label']} -> {j.label} "
                    f"(confidence {conf}) | {r['prompt'][:50]} | {r['response'][:90]!r}"
                )
    print(f"\ngoal: >= {GOAL} on each pattern and on all rows (4-label accuracy)")
    print("\nper style (4-label accuracy, n):")
    names = list(per_style)
    all_styles = sorted({s for v in per_style.values() for s in v})
    print(f"  {'style':<44}" + "".join(f"{n:>22}" for n in names))
    for s in all_styles:
        n = len(per_style[names[0]][s])
        print(f"  {s:<44}" + "".join(f"{_acc(per_style[k][s]):>17} ({n:>3})" for k in names))
    if args.errors:
        print("\nmisjudged rows:")
        print("\n".join(misses) or "  none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
