"""Measure judges against people, and train the learned head on people's labels.

Human verdicts come from the scenario store (``scenario-forge eval-verdicts import``; table
``eval_verdicts``). :func:`calibrate` re-judges every human-judged answer with each judge and
reports agreement: on the verdict (pass/fail) for every row, and on the label (compliance,
refusal, partial refusal, off topic) for rows where the reviewer gave one, and how well each
judge's confidence matches how often it agrees with people (a reliability diagram,
:mod:`model_forge.judge.confidence`).
:func:`train_from_store` refits the learned head on the project's labelled rows plus the
store's human labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model_forge.judge.types import JudgeItem

DEFAULT_ROWS = Path(__file__).resolve().parents[5] / "data" / "judge" / "own_rows.jsonl"
"""The project's own labelled rows (present in a source checkout)."""


def _items(rows: Sequence[dict[str, Any]]) -> list[JudgeItem]:
    return [
        JudgeItem(
            r["prompt"], r["response"], r["expected_behavior"], r["evaluation_target"] or None
        )
        for r in rows
    ]


def verdict_agreement(true: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, Cohen's kappa and the confusion matrix of pass/fail verdicts."""
    from model_forge.judge.train import _kappa

    n = len(true)
    return {
        "n": n,
        "accuracy": sum(a == b for a, b in zip(true, pred, strict=True)) / n if n else None,
        "kappa": _kappa(true, pred),
        "confusion": {
            t: {
                p: sum(a == t and b == p for a, b in zip(true, pred, strict=True))
                for p in ("pass", "fail")
            }
            for t in ("pass", "fail")
        },
    }


def calibrate(store: Any, judges: Sequence[str]) -> dict[str, Any]:
    """Agreement of each judge in ``judges`` (specs) with the store's human verdicts.

    Returns:
        ``{"n": rows, "labelled": rows with a human label, "judges": {name: {"spec",
        "verdict": verdict_agreement, "label": train.agreement or None, "reliability": bins of
        :func:`~model_forge.judge.confidence.reliability` (verdicts with a confidence), "ece":
        expected calibration error or None}}}``.

    Raises:
        ValueError: the store holds no human verdicts, or a judge spec is unknown.
    """
    from scenario_forge.api import human_verdicts

    from model_forge.judge import load_judge
    from model_forge.judge.confidence import expected_calibration_error, reliability
    from model_forge.judge.train import agreement

    rows = human_verdicts(store)
    if not rows:
        raise ValueError(
            "the store has no human verdicts; import some with "
            "`scenario-forge eval-verdicts import FILE`"
        )
    items = _items(rows)
    labelled = [i for i, r in enumerate(rows) if r["label"]]
    out: dict[str, Any] = {"n": len(rows), "labelled": len(labelled), "judges": {}}
    for spec in judges:
        judge = load_judge(spec)
        js = judge.judge(items)
        sure = [(j.confidence, j.verdict == r["verdict"]) for j, r in zip(js, rows, strict=True)]
        bins = reliability(
            [c for c, _ in sure if c is not None], [ok for c, ok in sure if c is not None]
        )
        out["judges"][judge.name] = {
            "reliability": bins,
            "ece": expected_calibration_error(bins),
            "spec": spec,
            "verdict": verdict_agreement([r["verdict"] for r in rows], [j.verdict for j in js]),
            "label": agreement(
                [rows[i]["label"] for i in labelled], [js[i].label for i in labelled]
            )
            if labelled
            else None,
        }
    return out


def format_calibration(result: dict[str, Any]) -> str:
    """Plain text for :func:`calibrate`'s result."""
    import textwrap

    from model_forge.judge.confidence import reliability_diagram
    from model_forge.judge.train import format_agreement

    lines = [f"{result['n']} human verdicts ({result['labelled']} with a label)"]
    for name, m in result["judges"].items():
        v = m["verdict"]
        c = v["confusion"]
        kappa = "-" if v["kappa"] is None else f"{v['kappa']:.3f}"
        lines.append(
            f"{name}: verdict accuracy {v['accuracy']:.3f}  kappa {kappa}  "
            f"(human pass: judge pass {c['pass']['pass']}, fail {c['pass']['fail']}; "
            f"human fail: judge pass {c['fail']['pass']}, fail {c['fail']['fail']})"
        )
        if m["label"]:
            lines.append(format_agreement(f"  {name} labels", m["label"]))
        if any(b["n"] for b in m["reliability"]):
            lines.append(f"  {name}: reliability of its confidence (verdicts against people)")
            lines.append(textwrap.indent(reliability_diagram(m["reliability"]), "    "))
    return "\n".join(lines)


def train_from_store(
    store: Any, output: str | Path, *, rows_path: str | Path | None = None, c: float | None = None
) -> dict[str, Any]:
    """Refit the learned head on the labelled rows' train split plus the store's human labels.

    Args:
        store: An open :class:`scenario_forge.store.ScenarioStore`.
        output: Where to write the head (``.npz``); load it with
            ``load_judge("learned", head=output)``.
        rows_path: The project's labelled rows (default: ``data/judge/own_rows.jsonl`` of the
            source checkout; skipped when absent).
        c: Inverse regularisation strength of the logistic regression (default: the shipped
            head's, :data:`model_forge.judge.train.DEFAULT_SETTINGS`).

    Returns:
        ``{"output", "own_rows", "human_rows", "classes"}``.

    Raises:
        ValueError: no training rows with labels at all.
    """
    from scenario_forge.api import human_verdicts

    from model_forge.judge.train import fit_head_on_rows, load_rows

    path = Path(rows_path) if rows_path is not None else DEFAULT_ROWS
    own = [r for r in load_rows(path) if r.get("split") == "train"] if path.is_file() else []
    human = [
        {**r, "evaluation_target": r["evaluation_target"] or None}
        for r in human_verdicts(store)
        if r["label"]
    ]
    rows = own + human
    if not rows:
        raise ValueError("no labelled rows to train on (no human labels in the store)")
    head = fit_head_on_rows(
        rows,
        c=c,
        meta=f"{len(own)} own rows + {len(human)} human-labelled rows",
    )
    head.save(output)
    return {
        "output": str(output),
        "own_rows": len(own),
        "human_rows": len(human),
        "classes": list(head.labels),
    }
