"""Batch review: export a claimed queue as JSONL, fill it in anywhere, import the answers.

``export_queue`` claims up to ``limit`` scenarios for a reviewer (with a long lease, so nobody
else gets them meanwhile) and writes one JSON object per line::

    {"scenario_id": "...", "reviewer": "ana", "rating": null, "note": "",
     "ideal_response": null, "decisions": {},
     "scenario": {...}, "completions": [{"id": "...", "source": "template", ...}],
     "lease_expires_at": "..."}

The file is its own answer sheet: fill in ``rating`` (0-3), optionally ``note``,
``ideal_response`` (ratings 2-3) and ``decisions`` (completion id → ``accept``/``reject``), and
give it to ``import_answers``. Rows whose ``rating`` is still ``null`` are left unanswered.
Every row is checked on its own; errors name the line and the field; the good rows are
written together in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import ContractError, ForgeError
from forge_export.atomic_files import atomic_output
from forge_export.jsonl import parse_json_lines

from scenario_forge.review.claims import BATCH_LEASE_MINUTES, QueueFilter, ReviewQueue
from scenario_forge.review.decisions import (
    DECISIONS,
    Answer,
    AnswerError,
    apply_answer,
    check_reviewer,
    clean_text,
    validate_answer,
)

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

ANSWER_FIELDS = ("scenario_id", "reviewer", "rating", "note", "ideal_response", "decisions")
INFO_FIELDS = ("scenario", "completions", "lease_expires_at")
"""Fields ``export_queue`` writes for the reader; ``import_answers`` ignores them."""


@dataclass
class RowError:
    """One refused row of an answers file."""

    line: int
    message: str


@dataclass
class ImportAnswersResult:
    """What :func:`import_answers` did.

    Attributes:
        path: The file read.
        rows: Non-blank lines.
        applied: Answers written (or, in a dry run, that would be).
        unanswered: Rows whose rating is still ``null``.
        errors: Refused rows with their line numbers.
        dry_run: Nothing was written.
    """

    path: Path
    rows: int = 0
    applied: int = 0
    unanswered: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    created: int = 0
    decisions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "path": str(self.path),
            "rows": self.rows,
            "applied": self.applied,
            "unanswered": self.unanswered,
            "rejected": len(self.errors),
            "responses_written": self.created,
            "decisions": self.decisions,
            "dry_run": self.dry_run,
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }


def queue_row(store: ScenarioStore, queue: ReviewQueue, scenario_id: str) -> dict[str, Any]:
    """The JSONL row of one claimed scenario."""
    scenario = store.get_scenario(scenario_id)
    if scenario is None:  # pragma: no cover - deleted between claim and export
        raise ForgeError(f"scenario {scenario_id} vanished during the export; run it again")
    completions = [
        {
            "id": c.id,
            "source": c.source,
            "origin": c.origin,
            "status": c.status,
            "validated_by": list(c.validated_by),
            "text": c.text,
        }
        for c in store.completions_for(scenario_id)
        if not (c.source == "human" and c.origin == queue.reviewer)
    ]
    return {
        "scenario_id": scenario_id,
        "reviewer": queue.reviewer,
        "rating": None,
        "note": "",
        "ideal_response": None,
        "decisions": {},
        "scenario": scenario.model_dump(mode="json"),
        "completions": completions,
        "lease_expires_at": queue.expires_at(scenario_id),
    }


def export_queue(
    store: ScenarioStore,
    out: str | Path,
    reviewer: str,
    *,
    limit: int = 100,
    filt: QueueFilter | None = None,
    lease_minutes: float = BATCH_LEASE_MINUTES,
) -> int:
    """Claim up to ``limit`` scenarios for ``reviewer`` and write them to ``out`` as JSONL.

    The reviewer's live claims come first, so exporting again re-exports unfinished work.
    The file appears only when complete; if writing fails the claims are given back.

    Returns:
        Rows written.

    Raises:
        ForgeError: bad reviewer/limit, or ``out`` cannot be written.
    """
    reviewer = check_reviewer(reviewer)
    if limit < 1:
        raise ForgeError(f"limit: {limit} must be at least 1")
    out = Path(out)
    if out.is_dir():
        raise ForgeError(f"{out}: is a folder; give a file name such as queue.jsonl")
    queue = ReviewQueue(store, reviewer, filt, lease_minutes)
    ids = queue.claim_many(limit)
    try:
        with atomic_output(out) as f:
            for sid in ids:
                f.write(json.dumps(queue_row(store, queue, sid), ensure_ascii=False) + "\n")
    except BaseException:
        queue.release(ids)
        raise
    return len(ids)


def _row_answer(data: Any, where: str) -> Answer | None:
    """An :class:`Answer` from one parsed row (``None``: rating left ``null``)."""
    if not isinstance(data, dict):
        raise ContractError(f"expected a JSON object, got {type(data).__name__}", where=where)
    unknown = sorted(set(data) - set(ANSWER_FIELDS) - set(INFO_FIELDS))
    if unknown:
        raise ContractError(
            f"unknown field (allowed: {', '.join(ANSWER_FIELDS)})", where=where, field=unknown[0]
        )
    for key in ("scenario_id", "reviewer", "rating"):
        if key not in data:
            hint = " (0-3, or null to leave the row unanswered)" if key == "rating" else ""
            raise ContractError(f"missing; add it{hint}", where=where, field=key)
    sid = data["scenario_id"]
    if not isinstance(sid, str) or not sid.strip():
        raise ContractError("give the scenario id as text", where=where, field="scenario_id")
    reviewer = data["reviewer"]
    if not isinstance(reviewer, str):
        raise ContractError("give the reviewer's name as text", where=where, field="reviewer")
    try:
        reviewer = check_reviewer(reviewer)
    except AnswerError as exc:
        raise ContractError(str(exc).split(": ", 1)[-1], where=where, field="reviewer") from exc
    rating = data["rating"]
    if rating is None:
        return None
    if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 3:
        raise ContractError(
            f"{rating!r} is not 0, 1, 2 or 3 (or null to leave the row unanswered)",
            where=where,
            field="rating",
        )
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise ContractError("give the note as text", where=where, field="note")
    ideal = data.get("ideal_response")
    if ideal is not None:
        if not isinstance(ideal, str):
            raise ContractError("give the response as text", where=where, field="ideal_response")
        if not clean_text(ideal):
            ideal = None
    decisions = data.get("decisions") or {}
    if not isinstance(decisions, dict):
        raise ContractError(
            'give an object {"<completion id>": "accept" | "reject"}',
            where=where,
            field="decisions",
        )
    for cid, d in decisions.items():
        if d not in DECISIONS:
            raise ContractError(
                f"{d!r} is not accept or reject", where=where, field=f"decisions.{cid}"
            )
    return Answer(
        scenario_id=sid.strip(),
        reviewer=reviewer,
        rating=rating,
        note=clean_text(note),
        ideal_response=ideal,
        decisions=dict(decisions),
    )


def _field_of(message: str) -> str | None:
    head = message.split(":", 1)[0]
    return head if head and " " not in head else None


def import_answers(
    store: ScenarioStore, path: str | Path, *, dry_run: bool = False
) -> ImportAnswersResult:
    """Read answers (one JSON object per line), check each row, store the good ones.

    Args:
        store: The store.
        path: The JSONL file (e.g. a filled-in ``export-queue`` file).
        dry_run: Check every row; write nothing.

    Returns:
        Counts and the refused rows with their line numbers.

    Raises:
        ForgeError: the file cannot be read at all.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError as exc:
        raise ForgeError(f"{path}: is a folder; give the answers file (.jsonl)") from exc
    except OSError as exc:
        raise ForgeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if b"\0" in raw[:8192]:
        raise ForgeError(f"{path}: a binary file, not JSONL answers")
    result = ImportAnswersResult(path=path, dry_run=dry_run)
    with store.transaction():
        seen: dict[tuple[str, str], int] = {}
        good: list[Answer] = []
        for line in parse_json_lines(raw.split(b"\n"), str(path)):
            number, where = line.number, line.where
            result.rows += 1
            try:
                if line.data is None:
                    raise ContractError(str(line.error), where=where)
                data = line.data
                answer = _row_answer(data, where)
                if answer is None:
                    result.unanswered += 1
                    continue
                key = (answer.scenario_id, answer.reviewer)
                if key in seen:
                    raise ContractError(
                        f"{answer.reviewer} already answered scenario {answer.scenario_id} on "
                        f"line {seen[key]}; keep one of the two rows",
                        where=where,
                    )
                try:
                    validate_answer(store, answer)
                except AnswerError as exc:
                    msg = str(exc)
                    fld = _field_of(msg)
                    if fld:
                        msg = msg.split(": ", 1)[1]
                    raise ContractError(msg, where=where, field=fld) from exc
                seen[key] = number
                good.append(answer)
            except ContractError as exc:
                result.errors.append(RowError(number, str(exc)))
        result.applied = len(good)
        if not dry_run:
            for answer in good:
                applied = apply_answer(store, answer)
                result.created += len(applied.created)
                result.decisions += len(applied.decided)
        else:
            result.decisions = sum(len(a.decisions) for a in good)
            result.created = sum(a.ideal_response is not None for a in good)
    return result
