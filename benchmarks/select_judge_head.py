"""Choose the learned judge head's hyperparameters by grouped cross-validation on ``train``.

Run: ``uv run python benchmarks/select_judge_head.py [--seeds 1,2,3] [--quick] [--lookalikes]``
(``--table benchmarks/data/select-judge-head.txt`` applies the rule to the recorded table
instead of cross-validating again).

Only the ``train`` split of ``data/judge/own_rows.jsonl`` is read: the held-out rows are
neither loaded nor scored here. Each setting of the grid (:func:`grid`: C, the sample weight
of the rows in real assistants' styles against the earlier rows, class weighting, feature
standardisation) is cross-validated with 5 folds by prompt (no prompt in two folds), for each
of three fold assignments (seeds 1, 2, 3; seed 0 is the one the head's own calibration uses
inside every fit, so the outer and inner folds differ). Each fold's head is fitted exactly as
the shipped head is (:func:`model_forge.judge.train.fit_head`: its temperature and deflection
bar by an inner cross-validation on the fold's training rows), and its labels are those the
learned judge gives (the deflection bar, then the rules' settling of degenerate answers and
bare refusals).

The selection rule, written down before any number of this script was seen:

1. Score: the mean over the fold assignments of the cross-validated 4-label accuracy, the
   earlier rows and the styled rows weighing the same: ``(acc_earlier + acc_styled) / 2``.
2. Every setting within :data:`TIE` (0.002) of the best score is tied with it; among the tied,
   the highest cross-validated off-topic recall on the earlier rows wins, then the highest
   premise-refutation accuracy on the styled rows, then the current setting if it is among
   them, then the smallest change from it (the order of :func:`grid`).
3. A setting that makes more cross-validated harmful answers (compliance, refusal or partial
   refusal of a harmful request) safe deflections than the current setting does is not
   eligible (the deflection bar's purpose).
4. Amendment, written after the held-out run of the first choice (C = 4, styled weight 0.5),
   which showed its head calling 2 of the 283 built-in look-alike answers (benign questions
   with scary words, answered well; not held-out rows) off topic, a requirement since issue
   19 that steps 1-3 had left out: a setting is eligible only if its head, fitted on all
   train rows, calls none of the look-alike answers off topic. Settings are checked in the
   order of steps 1-3 (the tied ones in tie-break order, then the rest by score) and the
   first that passes is chosen (``--lookalikes``). Because it came after one look at the
   held-out rows, the held-out numbers of a head chosen this way are a second look, and
   are reported as such.

"The current setting" is :data:`PREVIOUS`, the shipped head's before this selection.

Whether the chosen setting is shipped is decided afterwards, once, on the held-out rows
(``benchmarks/bench_judge_styles.py``), by a rule also written before: ship it when, on all
415 held-out rows (171 earlier + 244 styled), its 4-label accuracy is at least the current
head's (396 of 415); otherwise keep the current head and report the experiment. (When the
rule picks the current setting, the current head stays and nothing is measured again.)

Features are cached under ``benchmarks/out/`` (keyed by the train rows and the head's feature
count); about 4 minutes to compute them on the shared 2-core VM, then about a minute per
setting (61 settings).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
from model_forge.judge.learned import N_FEATURES, is_harmful
from model_forge.judge.train import (
    CV_FOLDS,
    DEFAULT_SETTINGS,
    HeadSettings,
    fit_head,
    fold_of,
    load_rows,
    row_features,
    row_item,
    row_weights,
)
from model_forge.judge.types import LABELS

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "data" / "judge" / "own_rows.jsonl"
CACHE = ROOT / "benchmarks" / "out"
PATTERNS = ("premise_refutation", "disclaimer_answer", "harm_warning")
PREVIOUS = HeadSettings(c=1.0, styled_weight=1.0, class_weight="balanced", standardise=False)
"""The setting of the head shipped before this selection ("the current setting" of the rule)."""
TIE = 0.002
"""Score difference under which two settings count as tied (selection rule, step 2)."""


def grid(quick: bool = False) -> list[HeadSettings]:
    """The settings compared: the current one first, then C x styled-row weight x class
    weighting x standardisation (``quick``: raw features, balanced classes only); the current
    one is :data:`PREVIOUS`. C is searched
    on its own scale for each scaling: standardised embedding dimensions are about 20 times
    their raw size, so the same C regularises them far less."""
    styled = (0.5, 1.0, 2.0)
    cs = {False: (0.25, 0.5, 1.0, 2.0, 4.0), True: (0.003, 0.01, 0.03, 0.1, 0.3)}
    classes = ("balanced",) if quick else ("balanced", "none")
    scaling = (False,) if quick else (False, True)
    out = [PREVIOUS]
    for cw in classes:
        for std in scaling:
            for sw in styled:
                for c in cs[std]:
                    s = HeadSettings(c=c, styled_weight=sw, class_weight=cw, standardise=std)
                    if s != PREVIOUS:
                        out.append(s)
    return out


def train_features(train: list[dict[str, Any]]) -> np.ndarray:
    """The head's features of the ``train`` rows, cached by their content."""
    key = hashlib.sha256(
        json.dumps([N_FEATURES, train], sort_keys=True).encode("utf-8")
    ).hexdigest()[:16]
    path = CACHE / f"judge-train-features-{key}.npy"
    if path.is_file():
        return np.load(path)
    t = time.perf_counter()
    x = row_features(train)
    print(f"features of {len(train)} rows: {time.perf_counter() - t:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def settle_overrides(train: list[dict[str, Any]]) -> tuple[list[str | None], np.ndarray]:
    """What the learned judge does to the head's label after it (``LearnedJudge._settle``):
    the rules' label of a degenerate answer, and ``refusal`` for a ``partial_refusal`` that is
    a bare refusal."""
    from model_forge.judge.rules import bare_refusal, compute_signals, rule_label

    items = [row_item(r) for r in train]
    sigs = compute_signals(items, relevance=False)
    degenerate = [rule_label(s) if s.degenerate else None for s in sigs]
    bare = np.array([bare_refusal(it.response, s.info) for it, s in zip(items, sigs, strict=True)])
    return degenerate, bare


def cv_labels(
    x: np.ndarray,
    train: list[dict[str, Any]],
    settings: HeadSettings,
    seed: int,
    settle: tuple[list[str | None], np.ndarray],
) -> list[str]:
    """Out-of-fold labels of the ``train`` rows for one fold assignment."""
    labels = [r["label"] for r in train]
    groups = [r["prompt"] for r in train]
    harmful = np.array([is_harmful(row_item(r)) for r in train])
    weights = np.array(row_weights(train, settings))
    fold = fold_of(groups, len(train), seed=seed)
    out: list[str] = [""] * len(train)
    for k in range(CV_FOLDS):
        test = np.flatnonzero(fold == k)
        rest = np.flatnonzero(fold != k)
        head = fit_head(
            x[rest],
            [labels[i] for i in rest],
            harmful=harmful[rest].tolist(),
            groups=[groups[i] for i in rest],
            weights=weights[rest].tolist(),
            settings=settings,
        )
        pred = head.predict(x[test], harmful[test].tolist())
        for i, p in zip(test, pred, strict=True):
            out[i] = p
    degenerate, bare = settle
    for i, p in enumerate(out):
        if degenerate[i] is not None:
            out[i] = degenerate[i]  # type: ignore[assignment]
        elif p == "partial_refusal" and bare[i]:
            out[i] = "refusal"
    return out


def metrics(train: list[dict[str, Any]], pred: list[str]) -> dict[str, float]:
    """The numbers the selection rule reads, for one fold assignment's labels."""

    def acc(idx: list[int]) -> float:
        return sum(pred[i] == train[i]["label"] for i in idx) / len(idx)

    earlier = [i for i, r in enumerate(train) if not r.get("style")]
    styled = [i for i, r in enumerate(train) if r.get("style")]
    off = [i for i in earlier if train[i]["label"] == "off_topic"]
    m = {
        "earlier": acc(earlier),
        "styled": acc(styled),
        "off_recall": acc(off),
        "all": acc(list(range(len(train)))),
        "unsafe_deflections": float(
            sum(
                pred[i] == "off_topic"
                and train[i]["label"] != "off_topic"
                and is_harmful(row_item(train[i]))
                for i in range(len(train))
            )
        ),
    }
    for p in PATTERNS:
        m[p] = acc([i for i in styled if train[i].get("pattern") == p])
    m["score"] = (m["earlier"] + m["styled"]) / 2
    return m


def evaluate(
    x: np.ndarray,
    train: list[dict[str, Any]],
    settings: HeadSettings,
    seeds: list[int],
    settle: tuple[list[str | None], np.ndarray],
) -> dict[str, float]:
    """Mean of :func:`metrics` over the fold assignments ``seeds`` (plus the score's spread)."""
    runs = [metrics(train, cv_labels(x, train, settings, s, settle)) for s in seeds]
    mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    mean["score_sd"] = float(np.std([r["score"] for r in runs]))
    return mean


def ranked(results: list[tuple[HeadSettings, dict[str, float]]]) -> list[HeadSettings]:
    """The eligible settings in the order of the selection rule's steps 1-3 (module
    docstring): those tied with the best score in tie-break order, then the rest by score."""
    current = dict(results)[PREVIOUS]
    eligible = [
        (i, s, m)
        for i, (s, m) in enumerate(results)
        if m["unsafe_deflections"] <= current["unsafe_deflections"]
    ]
    best = max(m["score"] for _, _, m in eligible)
    tied = [t for t in eligible if t[2]["score"] >= best - TIE - 1e-12]
    tied.sort(
        key=lambda t: (
            -round(t[2]["off_recall"], 6),
            -round(t[2]["premise_refutation"], 6),
            t[1] != PREVIOUS,
            t[0],
        )
    )
    rest = sorted((t for t in eligible if t not in tied), key=lambda t: (-t[2]["score"], t[0]))
    return [s for _, s, _ in tied + rest]


def choose(results: list[tuple[HeadSettings, dict[str, float]]]) -> HeadSettings:
    """The setting steps 1-3 of the selection rule pick."""
    return ranked(results)[0]


def lookalike_choice(
    x: np.ndarray, train: list[dict[str, Any]], order: list[HeadSettings]
) -> HeadSettings | None:
    """Step 4 of the rule: the first setting of ``order`` whose head, fitted on all ``train``
    rows, calls none of the built-in look-alike answers off topic (None if none does)."""
    from model_forge.judge.learned import LearnedJudge
    from model_forge.judge.types import JudgeItem
    from train_judge import lookalike_rows

    look = [JudgeItem(r["prompt"], r["response"], "comply") for r in lookalike_rows()]
    for s in order:
        head = fit_head(
            x,
            [r["label"] for r in train],
            harmful=[is_harmful(row_item(r)) for r in train],
            groups=[r["prompt"] for r in train],
            weights=row_weights(train, s),
            settings=s,
        )
        n_off = sum(j.label == "off_topic" for j in LearnedJudge(head).judge(look))
        print(f"  {s}: {n_off} of {len(look)} look-alike answers called off topic", flush=True)
        if n_off == 0:
            return s
    return None


_TABLE_ROW = re.compile(
    r"^\s*([\d.]+)\s+([\d.]+)\s+(balanced|none)\s+(yes|no) \| ([\d.]+) \(([\d.]+)\) "
    r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s+([\d.]+)"
)


def read_table(path: Path) -> list[tuple[HeadSettings, dict[str, float]]]:
    """The CV table a run of this script printed (its first table, in grid order), so the
    rule can be applied again without the cross-validation (values as printed, rounded)."""
    keys = ("score", "score_sd", "earlier", "styled", "off_recall", *PATTERNS, "all")
    out: list[tuple[HeadSettings, dict[str, float]]] = []
    for line in path.read_text(encoding="utf-8").split("ranked by score")[0].splitlines():
        if m := _TABLE_ROW.match(line):
            g = m.groups()
            s = HeadSettings(float(g[0]), float(g[1]), g[2], g[3] == "yes")
            vals = dict(zip(keys, map(float, g[4:13]), strict=True))
            out.append((s, {**vals, "unsafe_deflections": float(g[13])}))
    return out


def _row(s: HeadSettings, m: dict[str, float]) -> str:
    c, sw, cw, std = astuple(s)
    return (
        f"{c:>5g} {sw:>6g} {cw:>9} {'yes' if std else 'no':>5} | {m['score']:.4f} "
        f"({m['score_sd']:.4f}) {m['earlier']:.3f} {m['styled']:.3f} {m['off_recall']:.3f} "
        + " ".join(f"{m[p]:.3f}" for p in PATTERNS)
        + f" {m['all']:.3f} {m['unsafe_deflections']:>4.1f}"
    )


def cross_validate(
    x: np.ndarray, train: list[dict[str, Any]], seeds: list[int], quick: bool
) -> list[tuple[HeadSettings, dict[str, float]]]:
    """Cross-validate every setting of :func:`grid`, printing one table row each."""
    settle = settle_overrides(train)
    print(
        f"{CV_FOLDS}-fold CV by prompt, fold assignments {seeds}; columns: C, styled weight, "
        "class weight, standardised | score (sd over assignments), 4-label accuracy earlier, "
        "styled, off-topic recall earlier, premise refutation, disclaimer + answer, harm + "
        "warning, all rows, harmful answers called deflections (mean per assignment)"
    )
    results = []
    for s in grid(quick):
        t = time.perf_counter()
        m = evaluate(x, train, s, seeds, settle)
        results.append((s, m))
        print(_row(s, m) + f"  [{time.perf_counter() - t:.0f} s]", flush=True)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3", help="fold assignments (comma separated)")
    ap.add_argument("--quick", action="store_true", help="C and the styled weight only")
    ap.add_argument("--features-only", action="store_true", help="compute and cache features")
    ap.add_argument("--table", type=Path, help="apply the rule to a printed CV table instead")
    ap.add_argument("--lookalikes", action="store_true", help="apply step 4 of the rule")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one BLAS thread: ten times faster than two on a shared 2-core box
    train = [r for r in load_rows(ROWS) if r["split"] == "train"]
    assert all(r["split"] == "train" for r in train)
    assert set(LABELS) >= {r["label"] for r in train}
    n_styled = sum(bool(r.get("style")) for r in train)
    print(f"train rows: {len(train)} ({len(train) - n_styled} earlier, {n_styled} styled)")
    x = train_features(train)
    if args.features_only:
        return 0
    if args.table:
        results = read_table(args.table)
        print(f"{len(results)} settings read from {args.table}")
    else:
        results = cross_validate(x, train, [int(s) for s in args.seeds.split(",")], args.quick)
    print("\nranked by score:")
    for s, m in sorted(results, key=lambda t: -t[1]["score"]):
        print(_row(s, m) + ("  <- current" if s == PREVIOUS else ""))
    print(f"\nchosen by steps 1-3 of the rule: {choose(results)}")
    if args.lookalikes:
        print("step 4, in the rule's order:")
        print(f"chosen by steps 1-4 of the rule: {lookalike_choice(x, train, ranked(results))}")
    print(f"current:  {PREVIOUS}\nin use (DEFAULT_SETTINGS): {DEFAULT_SETTINGS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
