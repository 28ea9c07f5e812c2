"""One reviewer's answer to one scenario, written in one transaction, and its undo.

An answer is a rating (0-3) with an optional note, an optional ideal response (a new
``human`` completion, status ``accepted``, ``validated_by=[reviewer]``, origin = the reviewer),
and decisions on the scenario's existing completions:

* ``accept``: status ``accepted``, the reviewer added to ``validated_by``;
* ``reject``: status ``rejected``, the reviewer recorded in the completion's metadata;
* ``edit``: the edited text becomes a new ``human`` completion (accepted, ``edited_from`` the
  original) and the original is **rejected** by this reviewer, so the pair feeds the
  ``preference`` and ``kto`` configs (the reviewer judged the original not good enough as is).

Each reviewer's decision is kept per completion in ``metadata["review"]["decisions"]``
(reviewer → ``accept``/``reject``) together with the state before any review
(``metadata["review"]["before"]``); status and ``validated_by`` are derived from them:
a rejection by any reviewer wins (conservative: one "no" keeps an answer out of training),
otherwise an acceptance makes it ``accepted``. That makes undo exact even when several
reviewers decided on the same completion: undo removes only the undoing reviewer's decision.

Every answer is recorded in the audit log (``review_answer``; undo: ``review_undo``), next to
the store's own ``add`` entries for the review and the completions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from forge_export import Completion, ForgeError, Review

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

Decision = Literal["accept", "reject"]
DECISIONS: tuple[str, ...] = ("accept", "reject")
MAX_REVIEWER_LEN = 100


class AnswerError(ForgeError):
    """An answer that cannot be stored (unknown scenario or completion, bad rating, ...)."""


def check_reviewer(name: str) -> str:
    """The reviewer name, stripped; raises :class:`AnswerError` when unusable."""
    if not isinstance(name, str) or not name.strip():
        raise AnswerError("reviewer: give a name (e.g. --reviewer ana)")
    name = name.strip()
    if len(name) > MAX_REVIEWER_LEN or any(not c.isprintable() for c in name):
        raise AnswerError(
            f"reviewer: {name[:40]!r} must be printable text of at most {MAX_REVIEWER_LEN} "
            "characters"
        )
    return name


def clean_text(text: str) -> str:
    """A response as typed: control characters (but tabs and newlines), trailing spaces of each
    line and blank edge lines removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


@dataclass
class Answer:
    """What one reviewer decided about one scenario.

    Attributes:
        scenario_id: The scenario.
        reviewer: Who answered.
        rating: 0 unusable, 1 poor, 2 good, 3 excellent.
        note: Free text kept with the review.
        ideal_response: A response written by the reviewer (ratings 2-3 only).
        decisions: Completion id → ``accept`` or ``reject``.
        edits: Completion id → edited text (a new human completion; the original rejected).
    """

    scenario_id: str
    reviewer: str
    rating: int
    note: str = ""
    ideal_response: str | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    edits: dict[str, str] = field(default_factory=dict)


@dataclass
class AppliedAnswer:
    """What :func:`apply_answer` wrote, enough to undo it exactly.

    Attributes:
        scenario_id: The scenario.
        reviewer: Who answered.
        review_id: Row id of the review.
        created: Ids of the human completions this answer created.
        decided: Completion id → the decision recorded (edited originals appear as reject).
        audit_id: Row id of the ``review_answer`` audit entry.
    """

    scenario_id: str
    reviewer: str
    rating: int
    review_id: int
    created: list[str]
    decided: dict[str, str]
    audit_id: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "scenario_id": self.scenario_id,
            "reviewer": self.reviewer,
            "rating": self.rating,
            "review_id": self.review_id,
            "created": list(self.created),
            "decided": dict(self.decided),
            "audit_id": self.audit_id,
        }


def _human(sid: str, reviewer: str, text: str, meta: Mapping[str, Any]) -> Completion:
    return Completion(
        scenario_id=sid,
        text=text,
        source="human",
        origin=reviewer,
        status="accepted",
        validated_by=[reviewer],
        metadata=dict(meta),
    )


def validate_answer(store: ScenarioStore, answer: Answer) -> None:
    """Check an answer against the store without writing.

    Raises:
        AnswerError: naming the field and the fix.
    """
    check_reviewer(answer.reviewer)
    if isinstance(answer.rating, bool) or not isinstance(answer.rating, int):
        raise AnswerError(f"rating: {answer.rating!r} is not a whole number 0-3")
    if not 0 <= answer.rating <= 3:
        raise AnswerError(f"rating: {answer.rating} is not 0, 1, 2 or 3")
    if not store.has_scenario(answer.scenario_id):
        raise AnswerError(f"scenario_id: no scenario {answer.scenario_id!r} in {store.path}")
    if already_reviewed(store, answer.scenario_id, answer.reviewer):
        raise AnswerError(
            f"scenario {answer.scenario_id} is already reviewed by {answer.reviewer}; "
            "a reviewer rates a scenario once (undo the earlier answer to change it)"
        )
    if answer.ideal_response is not None:
        if answer.rating < 2:
            raise AnswerError(
                f"ideal_response: kept only for ratings 2-3 (rating is {answer.rating}); "
                "remove it or raise the rating"
            )
        if not clean_text(answer.ideal_response):
            raise AnswerError("ideal_response: empty; write the response or leave the field out")
    ids = set(answer.decisions) | set(answer.edits)
    for cid in sorted(ids - store.completion_ids_of(answer.scenario_id, ids)):
        raise AnswerError(
            f"decisions: {cid!r} is not a completion of scenario {answer.scenario_id}"
        )
    for cid, d in answer.decisions.items():
        if d not in DECISIONS:
            raise AnswerError(f"decisions.{cid}: {d!r} is not accept or reject")
    for cid, text in answer.edits.items():
        if not clean_text(text):
            raise AnswerError(f"edits.{cid}: the edited text is empty")


def already_reviewed(store: ScenarioStore, scenario_id: str, reviewer: str) -> bool:
    """Whether ``reviewer`` has a review of ``scenario_id``."""
    return store.has_review_by(reviewer, scenario_id)


def apply_answer(store: ScenarioStore, answer: Answer) -> AppliedAnswer:
    """Write one answer in one transaction (joined if the caller holds one) and audit it.

    The reviewer's claim on the scenario is released in the same transaction.

    Raises:
        AnswerError: the answer does not fit the store (nothing is written).
    """
    reviewer = check_reviewer(answer.reviewer)
    with store.transaction():
        validate_answer(store, answer)
        sid = answer.scenario_id
        review_id = store.add_review(
            Review(scenario_id=sid, reviewer=reviewer, rating=answer.rating, note=answer.note)
        )
        created: list[str] = []
        decided: dict[str, str] = {}
        new: list[Completion] = []
        if answer.ideal_response is not None:
            new.append(
                _human(sid, reviewer, clean_text(answer.ideal_response), {"review_id": review_id})
            )
        edit_ids: dict[str, str] = {}
        for cid, text in answer.edits.items():
            c = _human(
                sid, reviewer, clean_text(text), {"review_id": review_id, "edited_from": cid}
            )
            new.append(c)
            edit_ids[cid] = c.id
            decided[cid] = "reject"
        for c in new:
            if store.add_completions([c]).added:
                created.append(c.id)
        for cid, d in answer.decisions.items():
            if cid not in decided:
                decided[cid] = d
        for cid, dec in decided.items():
            set_decision(store, cid, reviewer, dec)
        store.release_claim(sid, reviewer)
        store.audit(
            "review_answer",
            "scenario",
            sid,
            {
                "reviewer": reviewer,
                "rating": answer.rating,
                "review_id": review_id,
                "created": created,
                "decisions": decided,
                "edits": edit_ids,
            },
        )
        audit_id = store.last_audit_id()
    return AppliedAnswer(sid, reviewer, answer.rating, review_id, created, decided, audit_id)


def undo_answer(store: ScenarioStore, applied: AppliedAnswer) -> None:
    """Revert exactly what :func:`apply_answer` wrote, in one transaction, and audit the undo.

    Only this reviewer's decisions are removed; another reviewer's decision on the same
    completion stays. Human completions this answer created are deleted.
    """
    with store.transaction():
        store.delete_review(applied.review_id, applied.reviewer)
        store.audit(
            "delete", "review", str(applied.review_id), {"scenario_id": applied.scenario_id}
        )
        for cid in applied.decided:
            set_decision(store, cid, applied.reviewer, None)
        store.delete_completions(applied.created)
        store.audit(
            "review_undo",
            "scenario",
            applied.scenario_id,
            {"reviewer": applied.reviewer, "undoes": applied.audit_id, **applied.to_dict()},
        )


def set_decision(
    store: ScenarioStore, completion_id: str, reviewer: str, decision: str | None
) -> None:
    """Record (or with ``None`` remove) one reviewer's decision and re-derive the status.

    Call inside a store transaction.
    """
    fields = store.completion_review_fields(completion_id)
    if fields is None:
        return
    status, validated, meta = fields
    review = meta.get("review")
    if not isinstance(review, dict):
        review = {"before": {"status": status, "validated_by": validated}, "decisions": {}}
    decisions: dict[str, str] = dict(review.get("decisions") or {})
    if decision is None:
        decisions.pop(reviewer, None)
    else:
        decisions.pop(reviewer, None)  # re-insert last: the dict keeps decision order
        decisions[reviewer] = decision
    before = review.get("before") or {"status": status, "validated_by": validated}
    if decisions:
        review = {"before": before, "decisions": decisions}
        meta["review"] = review
        rejecters = [r for r, d in decisions.items() if d == "reject"]
        acceptors = [r for r, d in decisions.items() if d == "accept"]
        new_validated = [v for v in before["validated_by"] if v not in rejecters]
        new_validated += [a for a in acceptors if a not in new_validated]
        new_status = "rejected" if rejecters else "accepted"
    else:
        meta.pop("review", None)
        new_validated = list(before["validated_by"])
        new_status = before["status"]
    store.set_completion_review_fields(completion_id, new_status, new_validated, meta)


def decisions_of(completion: Completion) -> dict[str, str]:
    """Reviewer → decision recorded on a completion by the review flow."""
    review = completion.metadata.get("review")
    if isinstance(review, dict) and isinstance(review.get("decisions"), dict):
        return {str(k): str(v) for k, v in review["decisions"].items()}
    return {}


__all__ = [
    "DECISIONS",
    "Answer",
    "AnswerError",
    "AppliedAnswer",
    "Decision",
    "already_reviewed",
    "apply_answer",
    "check_reviewer",
    "clean_text",
    "decisions_of",
    "set_decision",
    "undo_answer",
    "validate_answer",
]
