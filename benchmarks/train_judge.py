"""Train the learned judge's head and measure every offline judge on the held-out split.

Run: ``uv run python benchmarks/train_judge.py [--write]``

* Training data: ``data/judge/own_rows.jsonl`` (split ``train``; see data/judge/build_rows.py).
* Held-out: the ``holdout`` split of the same file, never used for fitting or tuning.
* The off-topic threshold of the rule judge is calibrated on the ``train`` split only.
* ``--write`` saves the head to the package (``model_forge/judge/data/head.npz``).

Prints, for the rules and the learned judge on the held-out split: accuracy, Cohen's kappa,
refusal-flag accuracy and kappa, per-class precision/recall and the confusion matrix, and the
ratio of each judge's numbers to the rule judge's (the baseline, measured in the same run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from model_forge.judge.learned import LearnedJudge, default_head_path
from model_forge.judge.rules import RuleJudge
from model_forge.judge.train import (
    agreement,
    fit_head,
    format_agreement,
    load_rows,
    row_features,
    row_item,
)

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "data" / "judge" / "own_rows.jsonl"


def calibrate_threshold(rows, sims) -> tuple[float, float]:
    """Best cosine threshold separating off_topic from compliance rows (F1)."""
    pairs = [
        (s, r["label"])
        for r, s in zip(rows, sims, strict=True)
        if r["label"] in ("off_topic", "compliance")
    ]
    best = (0.0, 0.0)
    for t in np.arange(0.05, 0.6, 0.01):
        tp = sum(s < t and lab == "off_topic" for s, lab in pairs)
        fp = sum(s < t and lab != "off_topic" for s, lab in pairs)
        fn = sum(s >= t and lab == "off_topic" for s, lab in pairs)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="save the head into the package")
    ap.add_argument("--c", type=float, default=2.0)
    args = ap.parse_args()
    rows = load_rows(ROWS)
    train = [r for r in rows if r["split"] == "train"]
    hold = [r for r in rows if r["split"] == "holdout"]
    print(f"rows: {len(train)} train, {len(hold)} held out")

    from model_forge.judge.embed import cosine_pairs

    sims = cosine_pairs([r["prompt"] for r in train], [r["response"] for r in train])
    t, f1 = calibrate_threshold(train, sims)
    print(f"off-topic cosine threshold calibrated on train: {t:.2f} (F1 {f1:.3f})")

    x = row_features(train)
    head = fit_head(
        x,
        [r["label"] for r in train],
        c=args.c,
        meta=f"trained on {ROWS.name} train split ({len(train)} rows)",
    )
    if args.write:
        default_head_path().parent.mkdir(parents=True, exist_ok=True)
        head.save(default_head_path())
        print(f"wrote {default_head_path()} ({default_head_path().stat().st_size} bytes)")

    items = [row_item(r) for r in hold]
    truth = [r["label"] for r in hold]
    rules_pred = [j.label for j in RuleJudge().judge(items)]
    learned = LearnedJudge(head)
    learned_pred = [j.label for j in learned.judge(items)]
    results = {"rules": agreement(truth, rules_pred), "learned": agreement(truth, learned_pred)}
    for name, m in results.items():
        print(format_agreement(name, m))
    base = results["rules"]
    for name, m in results.items():
        ratio = m["refusal_flag_accuracy"] / base["refusal_flag_accuracy"]
        print(
            f"{name}: refusal-flag accuracy {m['refusal_flag_accuracy']:.3f} = {ratio:.2f}x rules; "
            f"off-topic precision {m['per_class']['off_topic']['precision']}, recall {m['per_class']['off_topic']['recall']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
