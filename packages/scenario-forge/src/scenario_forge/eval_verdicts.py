"""Human verdicts on evaluation answers: reviewers confirm or overrule the judge.

A reviewer's verdict on one answer of an evaluation report (``pass``/``fail`` and, optionally,
what the answer did: ``compliance``, ``refusal``, ``partial_refusal``, ``off_topic``) is stored
with the reviewer's name and the time (table ``eval_verdicts``, store migration 4). Verdicts
are keyed by scenario id and the sha256 of the response text; the latest one counts.

* :func:`review_rows`: a JSONL-ready row per result of a report, with the judge's verdict, for
  reviewers to confirm (keep ``verdict``) or overrule (change it); ``scenario-forge
  eval-verdicts template REPORT``.
* :func:`import_eval_verdicts`: batch import of such rows (``scenario-forge eval-verdicts
  import FILE``); every line is checked before anything is written.
* :func:`record_eval_verdict` / :func:`withdraw_eval_verdict`: one verdict at a time, and its
  undo, for the interactive review (``scenario-forge review verdicts REPORT``,
  :mod:`scenario_forge.review.verdicts`).
* :func:`apply_human_verdicts`: the report with human verdicts taking precedence over the
  judge's (aggregates recomputed), for reports and for the failures the loop imports.
* :func:`human_verdicts`: the verdicts in force, e.g. for calibrating or training judges.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from forge_export.errors import ForgeError
from forge_export.models import EXPECTED_BEHAVIORS, EvalReport

from scenario_forge.store import ScenarioStore, now_iso

VERDICTS = ("pass", "fail")
LABELS = ("compliance", "refusal", "partial_refusal", "off_topic")
BEHAVIORS = EXPECTED_BEHAVIORS
REFUSED_LABELS = frozenset({"refusal", "partial_refusal"})


class EvalVerdictError(ForgeError):
    """A verdict file is unreadable or a row is invalid (the message names file and line)."""


def response_sha(response: str) -> str:
    """The key of a response text (sha256 of its UTF-8 bytes)."""
    return hashlib.sha256(response.encode("utf-8")).hexdigest()


def review_rows(report: EvalReport) -> list[dict[str, Any]]:
    """One row per result of ``report`` for reviewers: the answer and the judge's verdict.

    ``verdict`` and ``label`` start as the judge's; a reviewer keeps them to confirm or edits
    them to overrule, then the file is imported with :func:`import_eval_verdicts`.
    """
    return [
        {
            "scenario_id": r.scenario.id,
            "evaluation_target": r.scenario.evaluation_target,
            "expected_behavior": r.scenario.expected_behavior,
            "prompt": r.scenario.prompt,
            "response": r.response,
            "judge": r.judge,
            "judge_verdict": r.verdict,
            "judge_label": r.label,
            "judge_reason": r.reason,
            "judge_confidence": r.confidence,
            "verdict": r.verdict,
            "label": r.label,
            "note": "",
        }
        for r in report.results
    ]


def _check_row(rec: Any, where: str, reviewer: str | None) -> tuple[Any, ...]:
    if not isinstance(rec, dict):
        raise EvalVerdictError(f"{where}: expected a JSON object")
    for field in ("scenario_id", "prompt", "response", "expected_behavior", "verdict"):
        if not isinstance(rec.get(field), str) or (field != "response" and not rec[field]):
            raise EvalVerdictError(f"{where}: field {field!r} is missing or not text")
    verdict = rec["verdict"].strip().lower()
    if verdict not in VERDICTS:
        raise EvalVerdictError(f"{where}: verdict {rec['verdict']!r}: use 'pass' or 'fail'")
    if rec["expected_behavior"] not in BEHAVIORS:
        raise EvalVerdictError(
            f"{where}: expected_behavior {rec['expected_behavior']!r}: use {', '.join(BEHAVIORS)}"
        )
    label = rec.get("label")
    if label is not None and label not in LABELS:
        raise EvalVerdictError(f"{where}: label {label!r}: use {', '.join(LABELS)} or leave it out")
    who = rec.get("reviewer") or reviewer
    if not who:
        raise EvalVerdictError(f"{where}: no reviewer; add a 'reviewer' field or pass --reviewer")
    return (
        rec["scenario_id"],
        response_sha(rec["response"]),
        rec["prompt"],
        rec["response"],
        rec["expected_behavior"],
        rec.get("evaluation_target") or "",
        verdict,
        label,
        rec.get("judge") or "",
        rec.get("judge_verdict"),
        rec.get("judge_label"),
        str(who),
        str(rec.get("note") or ""),
    )


def import_eval_verdicts(
    store: ScenarioStore, path: str | Path, *, reviewer: str | None = None
) -> int:
    """Import human verdicts from a JSONL file (all rows or none).

    Each line: ``scenario_id``, ``prompt``, ``response``, ``expected_behavior``, ``verdict``
    (``pass``/``fail``); optional ``label``, ``evaluation_target``, ``note``, ``reviewer``
    (else ``reviewer``), ``judge``, ``judge_verdict``, ``judge_label`` (what the judge said).

    Returns:
        The number of verdicts stored.

    Raises:
        EvalVerdictError: the file is unreadable or a line is invalid (file:line: field: fix).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalVerdictError(f"{p}: cannot read ({exc})") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalVerdictError(f"{p}:{n}: not JSON ({exc.msg})") from None
        rows.append(_check_row(rec, f"{p}:{n}", reviewer))
    if not rows:
        raise EvalVerdictError(f"{p}: no verdicts in the file")
    at = now_iso()
    with store.transaction():
        store.add_eval_verdicts([(*r, at) for r in rows])
        store.audit("import", "eval_verdicts", p.name, {"rows": len(rows)})
    return len(rows)


def record_eval_verdict(store: ScenarioStore, row: dict[str, Any], reviewer: str) -> int:
    """Store one human verdict (a :func:`review_rows` row with ``verdict``/``label``/``note``
    set by the reviewer) and return its id, for :func:`withdraw_eval_verdict`.

    Raises:
        EvalVerdictError: the row is invalid (the message names the field).
    """
    values = _check_row(row, f"answer {row.get('scenario_id')}", reviewer)
    with store.transaction():
        vid = store.add_eval_verdict((*values, now_iso()))
        store.audit(
            "review",
            "eval_verdicts",
            str(vid),
            {"scenario_id": values[0], "verdict": values[6], "label": values[7]},
        )
    return vid


def withdraw_eval_verdict(store: ScenarioStore, verdict_id: int) -> bool:
    """Delete the verdict ``verdict_id`` (an undo); the one before it, if any, is in force
    again. Returns whether it existed."""
    with store.transaction():
        existed = store.delete_eval_verdict(verdict_id)
        if existed:
            store.audit("undo", "eval_verdicts", str(verdict_id))
    return existed


def human_verdicts(store: ScenarioStore) -> list[dict[str, Any]]:
    """The human verdicts in force: the latest per (scenario, response), oldest first."""
    return store.eval_verdicts_in_force()


def apply_human_verdicts(report: EvalReport, store: ScenarioStore) -> EvalReport:
    """``report`` with each result that a reviewer judged set to the human verdict.

    The result's ``verdict`` (and ``label`` and ``refused`` when the reviewer gave a label) are
    the reviewer's; ``judge`` becomes ``human:<reviewer>``; ``reason`` says who decided when,
    and what the judge had said. Aggregates are recomputed. ``report`` itself is not changed.
    """
    verdicts = {(v["scenario_id"], v["response_sha"]): v for v in human_verdicts(store)}
    data = report.model_dump(mode="json")
    for res in data["results"]:
        v = verdicts.get((res["scenario"]["id"], response_sha(res["response"])))
        if v is None:
            continue
        judge_said = f"{res['judge']} said {res['verdict']}" + (
            f"/{res['label']}" if res.get("label") else ""
        )
        res["verdict"] = v["verdict"]
        if v["label"]:
            res["label"] = v["label"]
            res["refused"] = v["label"] in REFUSED_LABELS
        res["judge"] = f"human:{v['reviewer']}"
        res["reason"] = f"human verdict by {v['reviewer']} at {v['created_at'][:19]} ({judge_said})"
        if v["note"]:
            res["reason"] += f": {v['note']}"
    return EvalReport.model_validate(data)
