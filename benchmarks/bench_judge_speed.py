"""Judging speed: responses per second of each offline judge, batched and unbatched.

Run: ``uv run python benchmarks/bench_judge_speed.py [--n 600] [--threads 2]``

Items: the judge's own labelled rows (``data/judge/own_rows.jsonl``), repeated to ``--n``: a
mix of refusals, answers, off-topic answers and partial refusals (about 3 in 4 need the
sentence model in the rule judge, all of them in the learned judge). The sentence model is
loaded before timing and the embedding cache is cleared before each measurement.

Printed for ``rules`` and ``learned`` (the default judge):

* ``unbatched fp32``: the baseline, measured in the same run: one ``judge()`` call per
  response, float32 (how a caller that judges response by response ran before batching);
* ``batched fp32``: one call for all responses, float32;
* ``batched``: one call, with bfloat16 autocast where the CPU has it (the default);
* ``batched, prompts cached``: the same responses again with new wording but the same prompts
  (what an evaluation loop sees from its second round on).

and ``rules:lexical`` (no sentence model) for scale. Each line shows the ratio to the
unbatched baseline of the same judge, in CPU time (the machine may be shared: responses per CPU
second of this process is the steadier number; with ``--threads 1`` it is the one-core rate). Goals (issue 13, on 2 CPU cores): ``rules`` >= 500/s,
``learned`` >= 100/s.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import torch
from model_forge.judge import load_judge
from model_forge.judge.embed import clear_cache, embed, use_bfloat16
from model_forge.judge.train import load_rows, row_item

ROWS = Path(__file__).resolve().parents[1] / "data" / "judge" / "own_rows.jsonl"
GOALS = {"rules": 500.0, "learned": 100.0}


def rate(judge, items, *, one_by_one: bool = False, clear: bool = True) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Responses per wall-clock second and per CPU second of this process."""
    if clear:
        clear_cache()
    t0, c0 = time.perf_counter(), time.process_time()
    if one_by_one:
        for it in items:
            judge.judge([it])
    else:
        judge.judge(items)
    return len(items) / (time.perf_counter() - t0), len(items) / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--n-unbatched", type=int, default=150)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = load_rows(ROWS)
    items = [row_item(rows[i % len(rows)]) for i in range(args.n)]
    # the same prompts with other responses (a word in front shifts every window)
    again = [replace(it, response="Well, " + it.response) for it in items]
    embed(["warm up"])
    print(
        f"{len(items)} responses ({args.n_unbatched} unbatched), torch threads "
        f"{torch.get_num_threads()}, bfloat16 autocast available: {use_bfloat16()}"
    )
    print(f"{'':<35} {'per second':>10} {'per CPU s':>10}  ratio (CPU s)")
    lexical = rate(load_judge("rules:lexical"), items)
    print(f"{'rules:lexical':<8} {'batched':<26} {lexical[0]:10.0f} {lexical[1]:10.0f}")
    for spec in ("rules", "learned"):
        judge = load_judge(spec)
        os.environ["MODEL_FORGE_JUDGE_DTYPE"] = "float32"
        base = rate(judge, items[: args.n_unbatched], one_by_one=True)
        fp32 = rate(judge, items)
        os.environ.pop("MODEL_FORGE_JUDGE_DTYPE")
        fast = rate(judge, items)
        cached = rate(judge, again, clear=False)
        goal = GOALS[spec]
        for name, r in (
            ("unbatched fp32 (baseline)", base),
            ("batched fp32", fp32),
            ("batched", fast),
            ("batched, prompts cached", cached),
        ):
            met = ""
            if name == "batched":
                met = " goal met" if r[1] >= goal else f" goal {goal:.0f}/s not met"
            print(f"{spec:<8} {name:<26} {r[0]:10.0f} {r[1]:10.0f} {r[1] / base[1]:6.2f}x{met}")


if __name__ == "__main__":
    main()
