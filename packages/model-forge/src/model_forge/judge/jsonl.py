"""Reading judge input files (JSONL), writing judged files atomically, and summarising verdicts."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forge_export.atomic_files import atomic_output
from forge_export.errors import ContractError
from forge_export.jsonl import read_json_lines

from model_forge.judge.types import EXPECTED_BEHAVIORS, JudgeItem, Judgement

REQUIRED_FIELDS = ("prompt", "response", "expected_behavior")
OUTPUT_FIELDS = ("verdict", "refused", "label", "reason", "judge", "confidence")


def _item_from_record(rec: Any, where: str) -> JudgeItem:
    if not isinstance(rec, dict):
        raise ContractError(
            f"expected a JSON object, got {type(rec).__name__}; write one object per line",
            where=where,
        )
    for field in REQUIRED_FIELDS:
        if field not in rec:
            raise ContractError("missing (add it)", where=where, field=field)
    for field in ("prompt", "response"):
        if not isinstance(rec[field], str):
            raise ContractError(
                f"must be a string, got {type(rec[field]).__name__}", where=where, field=field
            )
    if not rec["prompt"].strip():
        raise ContractError(
            "is empty (give the prompt the model answered)", where=where, field="prompt"
        )
    beh = rec["expected_behavior"]
    if beh not in EXPECTED_BEHAVIORS:
        raise ContractError(
            f"{beh!r} is not one of {', '.join(EXPECTED_BEHAVIORS)}",
            where=where,
            field="expected_behavior",
        )
    target = rec.get("evaluation_target")
    if target is not None and not isinstance(target, str):
        raise ContractError(
            f"must be a string or null, got {type(target).__name__}",
            where=where,
            field="evaluation_target",
        )
    crit = rec.get("success_criteria", [])
    if crit is None:
        crit = []
    if isinstance(crit, str):
        crit = [c.strip() for c in crit.splitlines() if c.strip()]
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise ContractError(
            "must be a list of strings (or one string, one criterion per line)",
            where=where,
            field="success_criteria",
        )
    return JudgeItem(rec["prompt"], rec["response"], beh, target or None, tuple(crit))


def read_judge_file(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[JudgeItem]]:
    """Read and validate a judge input file (JSONL; blank lines are skipped).

    Each line is an object with ``prompt``, ``response``, ``expected_behavior`` and optionally
    ``evaluation_target`` and ``success_criteria``; other fields are kept as they are.

    Args:
        path: The JSONL file.

    Returns:
        The records (as read) and their :class:`JudgeItem` s, in file order.

    Raises:
        ContractError: A bad line (named with its number and field; the message counts the other
            bad lines), or a file without any record.
    """
    p = Path(path)
    records: list[dict[str, Any]] = []
    items: list[JudgeItem] = []
    errors: list[ContractError] = []
    for line in read_json_lines(p):
        if line.data is None:
            errors.append(ContractError(str(line.error), where=line.where))
            continue
        try:
            items.append(_item_from_record(line.data, line.where))
            records.append(line.data)
        except ContractError as exc:
            errors.append(exc)
    if errors:
        first = errors[0]
        more = ""
        if len(errors) > 1:
            others = ", ".join(str(e.where).rsplit(":", 1)[-1] for e in errors[1:6])
            more = f" (and {len(errors) - 1} more bad line(s): {others}{', ...' if len(errors) > 6 else ''})"
        raise ContractError(f"{first.message}{more}", where=first.where, field=first.field)
    if not items:
        raise ContractError(
            "no records; expected JSON lines with prompt, response, expected_behavior",
            where=str(p),
        )
    return records, items


def judged_records(
    records: Sequence[dict[str, Any]], judgements: Sequence[Judgement]
) -> list[dict[str, Any]]:
    """The input records with ``verdict``, ``refused``, ``label``, ``reason``, ``judge`` and
    ``confidence`` added."""
    out = []
    for rec, j in zip(records, judgements, strict=True):
        row = dict(rec)
        row.update(
            verdict=j.verdict,
            refused=j.refused,
            label=j.label,
            reason=j.reason,
            judge=j.judge,
            confidence=j.confidence,
        )
        out.append(row)
    return out


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSONL to a temporary file next to ``path``, then rename it into place.

    A failure leaves no partial file behind.
    """
    target = Path(path)
    with atomic_output(target) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return target


def summarize_judgements(
    items: Sequence[JudgeItem], judgements: Sequence[Judgement]
) -> dict[str, Any]:
    """Pass and refusal counts overall, per expected behaviour and per evaluation target.

    Returns:
        ``{"n", "passed", "pass_rate", "refused", "refusal_rate", "low_confidence",
        "by_behavior": {...}, "by_target": {...}, "low_confidence_records": [...]}``; each group
        has ``n``, ``passed``, ``pass_rate``, ``refused``, ``refusal_rate`` and
        ``low_confidence`` (how many verdicts are under
        :data:`~model_forge.judge.confidence.LOW_CONFIDENCE`); ``low_confidence_records`` lists
        those verdicts' record numbers (1-based, in input order) with their confidence, least
        sure first.
    """
    from model_forge.judge.confidence import LOW_CONFIDENCE

    def low(j: Judgement) -> bool:
        return j.confidence is not None and j.confidence < LOW_CONFIDENCE

    def group(pairs: list[tuple[JudgeItem, Judgement]]) -> dict[str, Any]:
        n = len(pairs)
        passed = sum(j.verdict == "pass" for _, j in pairs)
        refused = sum(j.refused for _, j in pairs)
        return {
            "n": n,
            "passed": passed,
            "pass_rate": passed / n if n else None,
            "refused": refused,
            "refusal_rate": refused / n if n else None,
            "low_confidence": sum(low(j) for _, j in pairs),
        }

    pairs = list(zip(items, judgements, strict=True))
    by_beh: dict[str, list[tuple[JudgeItem, Judgement]]] = {}
    by_target: dict[str, list[tuple[JudgeItem, Judgement]]] = {}
    for it, j in pairs:
        by_beh.setdefault(it.expected_behavior, []).append((it, j))
        by_target.setdefault(it.evaluation_target or "(none)", []).append((it, j))
    return {
        **group(pairs),
        "by_behavior": {k: group(by_beh[k]) for k in EXPECTED_BEHAVIORS if k in by_beh},
        "by_target": {k: group(v) for k, v in sorted(by_target.items())},
        "low_confidence_records": sorted(
            (
                {"record": i + 1, "verdict": j.verdict, "confidence": j.confidence}
                for i, j in enumerate(judgements)
                if low(j)
            ),
            key=lambda x: float(x["confidence"]),
        ),
    }
