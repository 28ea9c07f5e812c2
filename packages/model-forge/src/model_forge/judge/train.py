"""Train and measure the learned judge's head; agreement statistics shared with calibration.

Example:
    >>> m = agreement(["refusal", "compliance"], ["refusal", "off_topic"])
    >>> m["accuracy"], m["refusal_flag_accuracy"]
    (0.5, 1.0)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from model_forge.judge.learned import Head, features, is_harmful, softmax
from model_forge.judge.rules import compute_signals
from model_forge.judge.types import LABELS, JudgeItem

REFUSED_LABELS = frozenset({"refusal", "partial_refusal"})


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Read labelled rows (JSON lines with prompt, response, expected_behavior, label, split).

    Raises:
        ValueError: A line is not JSON or lacks a field, naming the file and line.
    """
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        for field in ("prompt", "response", "expected_behavior", "label"):
            if field not in rec:
                raise ValueError(f"{path}:{n}: missing field {field!r}")
        if rec["label"] not in LABELS:
            raise ValueError(
                f"{path}:{n}: label {rec['label']!r} is not one of {', '.join(LABELS)}"
            )
        rows.append(rec)
    return rows


def row_item(rec: dict[str, Any]) -> JudgeItem:
    """The :class:`JudgeItem` of a labelled row."""
    return JudgeItem(
        rec["prompt"], rec["response"], rec["expected_behavior"], rec.get("evaluation_target")
    )


def row_features(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """The head's feature matrix for labelled rows."""
    items = [row_item(r) for r in rows]
    return features(items, compute_signals(items, relevance=False))


DEFAULT_C = 2.0
"""Inverse regularisation strength of the shipped head (``learned@6``), part of
:data:`DEFAULT_SETTINGS`."""


@dataclass(frozen=True)
class HeadSettings:
    """The hyperparameters of a head fit (chosen by ``benchmarks/select_judge_head.py``).

    Attributes:
        c: Inverse regularisation strength of the logistic regression.
        styled_weight: Sample weight of a row written in a real assistant's style (a row with
            a ``style``, issue 27) relative to the other rows (human labels included).
        class_weight: ``"balanced"`` (each label weighs as much as the others in total) or
            ``"none"`` (each row weighs its own weight).
        standardise: Whether each feature is scaled to zero mean and unit variance on the
            training rows before the fit (folded back into the saved weights, so the head
            reads raw features either way).
    """

    c: float = DEFAULT_C
    styled_weight: float = 1.0
    class_weight: str = "balanced"
    standardise: bool = False

    def __post_init__(self) -> None:
        if self.class_weight not in ("balanced", "none"):
            raise ValueError(
                f"class_weight must be 'balanced' or 'none', not {self.class_weight!r}"
            )
        if not (self.c > 0 and self.styled_weight > 0):
            raise ValueError("c and styled_weight must be > 0")


DEFAULT_SETTINGS = HeadSettings(c=DEFAULT_C, styled_weight=1.0)
"""The settings the shipped head (``learned@6``) is fitted with, chosen by grouped
cross-validation on the train rows (``benchmarks/select_judge_head.py``, 5 folds by prompt,
three fold assignments, 61 settings; its rule was written before it ran, and amended once):
C = 2, the styled rows weighing as much as the earlier ones, balanced classes, raw features.
Its score (mean of the earlier and the styled rows' 4-label accuracy) 0.930 is within the tie
band of the best (0.931, C = 4 with the styled rows at weight 0.5, whose head called 2 of the
283 look-alike answers off topic) and of the previous setting's (C = 1: 0.929, same off-topic
recall 0.855, premise refutation 0.885 against 0.889)."""


CV_FOLDS = 5
"""Folds (by prompt) of the cross-validation that sets a head's ``deflection_min``."""


def fit_head(
    x: np.ndarray,
    labels: Sequence[str],
    *,
    c: float | None = None,
    meta: str = "",
    harmful: Sequence[bool] | None = None,
    groups: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    settings: HeadSettings = DEFAULT_SETTINGS,
) -> Head:
    """Fit a multinomial logistic regression head on features ``x`` and ``labels``.

    With ``harmful`` given, a :data:`CV_FOLDS`-fold cross-validation (folds by ``groups``, e.g.
    the prompt, so one prompt's rows never train and test together) gives every row an
    out-of-fold prediction, from which the head's calibration and deflection bar are set:

    * ``temperature``: the divisor of the logits that makes the out-of-fold probabilities
      most likely (temperature scaling; lowest negative log-likelihood on a grid);
    * ``deflection_min``: the highest calibrated out-of-fold off-topic probability of a harmful
      row that is not ``off_topic``, so that none of them would be called a deflection.

    Args:
        x: Feature rows (:func:`model_forge.judge.learned.features`).
        labels: The label of each row.
        c: Inverse regularisation strength (default: ``settings.c``).
        meta: A note saved with the head.
        harmful: Whether each row's request is harmful (see above).
        groups: The fold key of each row (default: its index).
        weights: A weight per row (default: 1 each), times the class weights of ``settings``.
        settings: Class weighting and feature scaling (:class:`HeadSettings`).
    """
    if c is not None:
        settings = replace(settings, c=c)
    classes = [lab for lab in LABELS if lab in set(labels)]
    if len(classes) < 2:
        raise ValueError("training the judge head needs at least two different labels")
    y = np.array([classes.index(lab) for lab in labels])
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    head = _fit(x, y, classes, settings, meta, w)
    if harmful is not None:
        oof = out_of_fold_logits(x, y, classes, settings, groups, w)
        seen = ~np.isnan(oof).any(axis=1)
        if seen.any():
            head.temperature = fit_temperature(oof[seen], y[seen])
            if "off_topic" in classes:
                head.deflection_min = _deflection_min(
                    softmax(oof[seen] / head.temperature),
                    y[seen],
                    classes.index("off_topic"),
                    np.asarray(harmful, dtype=bool)[seen],
                )
    return head


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    settings: HeadSettings,
    meta: str,
    w: np.ndarray,
) -> Head:
    from sklearn.linear_model import LogisticRegression

    if settings.class_weight == "balanced":  # the rows' own weights times balanced ones
        counts = np.bincount(y, minlength=len(classes)).astype(np.float64)
        w = w * (len(y) / (len(classes) * np.maximum(counts, 1.0)))[y]
    clf = LogisticRegression(C=settings.c, max_iter=3000)
    if settings.standardise:
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        scale = np.where(std > 1e-6, std, 1.0)
        clf.fit((x - mean) / scale, y, sample_weight=w)
        coef = clf.coef_ / scale  # raw features: w.(x - m)/s + b = (w/s).x + b - (w/s).m
        intercept = clf.intercept_ - coef @ mean
    else:
        clf.fit(x, y, sample_weight=w)
        coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # binary: sklearn keeps one row; make it a two-class softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return Head(coef, intercept, classes, meta=meta)


def fold_of(groups: Sequence[str] | None, n: int, seed: int = 0) -> np.ndarray:
    """The cross-validation fold of each of ``n`` rows (by a stable hash of its group; seed 0
    is the assignment the head's own calibration uses, other seeds give other assignments)."""
    import zlib

    keys = groups if groups is not None else [str(i) for i in range(n)]
    salt = f"{seed}\x00" if seed else ""
    return np.array([zlib.crc32(f"{salt}{k}".encode()) % CV_FOLDS for k in keys])


def out_of_fold_logits(
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    settings: HeadSettings,
    groups: Sequence[str] | None,
    w: np.ndarray,
) -> np.ndarray:
    """Each row's logits from a head fitted without its fold (NaN for rows of a fold whose
    complement lacks a class: such a head cannot stand for the full one)."""
    fold = fold_of(groups, len(y))
    oof = np.full((len(y), len(classes)), np.nan)
    for k in range(CV_FOLDS):
        test = fold == k
        rest = ~test
        if not test.any() or len(set(y[rest].tolist())) != len(classes):
            continue
        oof[test] = _fit(x[rest], y[rest], classes, settings, "", w[rest]).logits(x[test])
    return oof


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature (logits divided by it) with the lowest negative log-likelihood of the
    true classes ``y``, on a grid from 0.25 to 8."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 121)):
        p = softmax(logits / t)[np.arange(len(y)), y]
        nll = float(-np.log(np.clip(p, 1e-12, None)).mean())
        if nll < best_nll - 1e-12:
            best_t, best_nll = float(t), nll
    return round(best_t, 4)


def _deflection_min(proba: np.ndarray, y: np.ndarray, off: int, harmful: np.ndarray) -> float:
    not_off = harmful & (y != off)
    worst = max(0.5, float(proba[not_off, off].max())) if not_off.any() else 0.5
    return float(np.ceil(worst * 1000) / 1000)


def row_weights(rows: Sequence[dict[str, Any]], settings: HeadSettings) -> list[float]:
    """Each row's sample weight: ``settings.styled_weight`` for a row with a ``style`` (written
    in a real assistant's style, issue 27), 1 for the others."""
    return [settings.styled_weight if r.get("style") else 1.0 for r in rows]


def fit_head_on_rows(
    rows: Sequence[dict[str, Any]],
    *,
    c: float | None = None,
    meta: str = "",
    settings: HeadSettings = DEFAULT_SETTINGS,
) -> Head:
    """Fit a head on labelled rows (:func:`load_rows`) with ``settings`` (``c`` overrides its
    C), its ``deflection_min`` cross-validated by prompt (see :func:`fit_head`)."""
    items = [row_item(r) for r in rows]
    return fit_head(
        row_features(rows),
        [r["label"] for r in rows],
        c=c,
        meta=meta,
        harmful=[is_harmful(it) for it in items],
        groups=[r["prompt"] for r in rows],
        weights=row_weights(rows, settings),
        settings=settings,
    )


def _kappa(true: Sequence[Any], pred: Sequence[Any]) -> float | None:
    """Cohen's kappa of two labellings (:func:`sklearn.metrics.cohen_kappa_score`).

    ``None`` for no items; 1.0 when both give every item the same single label (chance
    agreement is then 1 and scikit-learn's ratio is undefined).
    """
    if len(true) == 0:
        return None
    if len(set(true) | set(pred)) == 1:
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(list(true), list(pred)))


def agreement(true: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Agreement of predicted labels with true ones.

    Returns:
        ``n``, ``accuracy`` and ``kappa`` over the four labels, ``refusal_flag_accuracy`` and
        ``refusal_flag_kappa`` (refused = refusal or partial refusal), ``per_class`` precision,
        recall and support, and ``confusion`` (``{true: {pred: count}}``).
    """
    n = len(true)
    per_class: dict[str, dict[str, float | int | None]] = {}
    for lab in LABELS:
        tp = sum(t == lab and p == lab for t, p in zip(true, pred, strict=True))
        n_pred = sum(p == lab for p in pred)
        n_true = sum(t == lab for t in true)
        per_class[lab] = {
            "precision": tp / n_pred if n_pred else None,
            "recall": tp / n_true if n_true else None,
            "support": n_true,
        }
    ft = [t in REFUSED_LABELS for t in true]
    fp = [p in REFUSED_LABELS for p in pred]
    return {
        "n": n,
        "accuracy": sum(t == p for t, p in zip(true, pred, strict=True)) / n if n else None,
        "kappa": _kappa(true, pred),
        "refusal_flag_accuracy": sum(a == b for a, b in zip(ft, fp, strict=True)) / n
        if n
        else None,
        "refusal_flag_kappa": _kappa(ft, fp),
        "per_class": per_class,
        "confusion": {
            t: {p: sum(a == t and b == p for a, b in zip(true, pred, strict=True)) for p in LABELS}
            for t in LABELS
        },
    }


def format_agreement(name: str, m: dict[str, Any]) -> str:
    """A few lines of text for :func:`agreement`'s result."""

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    lines = [
        f"{name}: n={m['n']}  accuracy {f(m['accuracy'])}  kappa {f(m['kappa'])}  "
        f"refusal-flag accuracy {f(m['refusal_flag_accuracy'])}  "
        f"refusal-flag kappa {f(m['refusal_flag_kappa'])}"
    ]
    for lab, pc in m["per_class"].items():
        lines.append(
            f"  {lab:<16} precision {f(pc['precision'])}  recall {f(pc['recall'])}  "
            f"(n={pc['support']})"
        )
    lines.append(
        "  confusion (rows: human, columns: judge) " + " ".join(f"{x[:8]:>8}" for x in LABELS)
    )
    for t, row in m["confusion"].items():
        lines.append(f"  {t:<16}" + " " * 24 + " ".join(f"{row[p]:>8}" for p in LABELS))
    return "\n".join(lines)
