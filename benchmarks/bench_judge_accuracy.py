"""Accuracy of the rule judge on the hand-labelled set, per split and expected behaviour.

Usage (from the repository root)::

    uv run python benchmarks/bench_judge_accuracy.py            # both splits
    uv run python benchmarks/bench_judge_accuracy.py --split dev --errors

Prints verdict accuracy, precision / recall / F1 of the ``fail`` verdict (the judge's job is to
catch failures) and refusal-flag accuracy, for each split and each expected behaviour. The
``holdout`` third of the set is for the final number only: tune rules on ``dev``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from model_forge.judge import JudgeItem, load_judge

DATA = Path(__file__).resolve().parents[1] / "packages/model-forge/tests/data/judge_labelled.jsonl"


def load_rows(path: Path) -> list[dict]:
    """Read the labelled JSONL set."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def metrics(rows: list[dict], preds: list) -> dict[str, float]:
    """Accuracy, fail-precision/recall/F1 and refusal accuracy of ``preds`` against ``rows``."""
    n = len(rows)
    correct = sum(r["label"] == p.verdict for r, p in zip(rows, preds, strict=True))
    tp = sum(r["label"] == "fail" and p.verdict == "fail" for r, p in zip(rows, preds, strict=True))
    fp = sum(r["label"] == "pass" and p.verdict == "fail" for r, p in zip(rows, preds, strict=True))
    fn = sum(r["label"] == "fail" and p.verdict == "pass" for r, p in zip(rows, preds, strict=True))
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
    ref = sum(r["refused"] == p.refused for r, p in zip(rows, preds, strict=True))
    return {
        "n": n,
        "accuracy": correct / n if n else float("nan"),
        "fail_precision": prec,
        "fail_recall": rec,
        "fail_f1": f1,
        "refusal_accuracy": ref / n if n else float("nan"),
    }


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "holdout", "all"], default="all")
    ap.add_argument("--errors", action="store_true", help="list the misjudged items")
    ap.add_argument("--judge", default="rules", help="judge spec (default: rules)")
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()

    rows = load_rows(args.data)
    judge = load_judge(args.judge)
    items = [
        JudgeItem(
            r["prompt"],
            r["response"],
            r["expected_behavior"],
            r.get("evaluation_target"),
            r.get("success_criteria", ()),
        )
        for r in rows
    ]
    t0 = time.perf_counter()
    preds = judge.judge(items)
    dt = time.perf_counter() - t0
    splits = ["dev", "holdout"] if args.split == "all" else [args.split]
    print(f"judge {judge.name}: {len(rows)} labelled items, {dt * 1000 / len(rows):.2f} ms/item")
    header = f"{'split':8} {'behavior':14} {'n':>4} {'acc':>6} {'fail_P':>7} {'fail_R':>7} {'fail_F1':>7} {'refusal':>8}"
    print(header)
    print("-" * len(header))
    for split in splits:
        idx = [i for i, r in enumerate(rows) if r["split"] == split]
        for beh in ["refuse", "safe_complete", "comply", "all"]:
            sel = [i for i in idx if beh == "all" or rows[i]["expected_behavior"] == beh]
            m = metrics([rows[i] for i in sel], [preds[i] for i in sel])
            print(
                f"{split:8} {beh:14} {m['n']:>4} {m['accuracy']:>6.3f} {m['fail_precision']:>7.3f} "
                f"{m['fail_recall']:>7.3f} {m['fail_f1']:>7.3f} {m['refusal_accuracy']:>8.3f}"
            )
    if args.errors:
        print()
        for r, p in zip(rows, preds, strict=True):
            if r["split"] not in splits:
                continue
            if r["label"] != p.verdict or r["refused"] != p.refused:
                print(
                    f"{r['id']} [{r['evaluation_target']}/{r['expected_behavior']}] "
                    f"label={r['label']}/{r['refused']} got={p.verdict}/{p.refused}: {p.reason}\n"
                    f"    {r['response'][:160]!r}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
