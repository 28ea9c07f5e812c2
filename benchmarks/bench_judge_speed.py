"""Judging speed: responses per second of each offline judge on 2 CPU threads.

Run: ``uv run python benchmarks/bench_judge_speed.py [--n 600]``

Items: the judge's own labelled rows (``data/judge/own_rows.jsonl``), repeated to ``--n``: a
mix of refusals, answers, off-topic answers and partial refusals. Baseline, measured in the same
run: the rule judge without embeddings (``rules:lexical``). Goals: ``rules`` >= 500/s,
``learned`` (the default) >= 100/s. The sentence model is loaded before timing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from model_forge.judge import load_judge
from model_forge.judge.embed import embed
from model_forge.judge.train import load_rows, row_item

ROWS = Path(__file__).resolve().parents[1] / "data" / "judge" / "own_rows.jsonl"
GOALS = {"rules": 500.0, "learned": 100.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = load_rows(ROWS)
    items = [row_item(rows[i % len(rows)]) for i in range(args.n)]
    embed(["warm up"])
    rates = {}
    for spec in ("rules:lexical", "rules", "learned"):
        judge = load_judge(spec)
        t0 = time.perf_counter()
        judge.judge(items)
        rates[spec] = len(items) / (time.perf_counter() - t0)
    base = rates["rules:lexical"]
    print(f"{len(items)} responses, {args.threads} threads")
    for spec, r in rates.items():
        goal = GOALS.get(spec)
        verdict = (
            ""
            if goal is None
            else (" (goal met)" if r >= goal else f" (goal {goal:.0f}/s NOT met)")
        )
        print(f"{spec:<14} {r:8.0f} responses/s  {r / base:5.2f}x rules:lexical{verdict}")


if __name__ == "__main__":
    main()
