"""The review flow of the web app, on the same queue and answers as the terminal flow.

What the terminal keeps in a :class:`~scenario_forge.review.flow.ReviewSession` (skipped
scenarios, the answers to undo, the scenario shown again after an undo, counts) lives here in
the signed session cookie, so any request of the reviewer can continue her session. Claims,
answers and undo are :class:`~scenario_forge.review.claims.ReviewQueue`,
:func:`~scenario_forge.review.decisions.apply_answer` and
:func:`~scenario_forge.review.decisions.undo_answer`, unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from forge_export import Completion, Scenario

from scenario_forge.review.claims import QueueFilter, ReviewQueue
from scenario_forge.review.decisions import (
    Answer,
    AnswerError,
    AppliedAnswer,
    apply_answer,
    clean_text,
    undo_answer,
)
from scenario_forge.review.flow import RATINGS
from scenario_forge.store import ScenarioStore
from scenario_forge.terminal import visible

MAX_SKIPPED = 50
MAX_HISTORY = 20
MAX_TEXT = 20_000
CHOICES = ("leave", "accept", "reject", "edit")


class CountCache:
    """Queue counts shared by all requests for a few seconds (progress need not be exact).

    Counting what is still waiting reads a whole index range; on a large store that would be
    most of a page's time if every page counted anew.
    """

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._values: dict[Any, tuple[float, int]] = {}

    def get(self, key: Any, compute: Callable[[], int]) -> int:
        """The cached count for ``key``, recomputed when older than the TTL."""
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        value = compute()
        self._values[key] = (now, value)
        return value


@dataclass(frozen=True)
class Settings:
    """How the server hands out work (``scenario-forge serve`` options)."""

    overlap: int = 1
    lease_minutes: float = 30.0


def asked_completions(completions: list[Completion], reviewer: str) -> list[Completion]:
    """The completions a reviewer decides on: all but the responses she wrote herself."""
    return [c for c in completions if not (c.source == "human" and c.origin == reviewer)]


def answer_from_form(
    scenario: Scenario, completions: list[Completion], reviewer: str, form: Mapping[str, str]
) -> Answer:
    """Turn the review form into an :class:`Answer`, with the terminal flow's rules.

    A rating of 0-1 keeps only the note. With 2-3, each completion is left, accepted, rejected
    or edited (an unchanged edit counts as an acceptance); when none is accepted or edited an
    ideal response is required.

    Raises:
        AnswerError: naming the form field and the fix.
    """
    raw = form.get("rating", "").strip()
    if raw not in ("0", "1", "2", "3"):
        raise AnswerError("rating: choose 0, 1, 2 or 3")
    rating = int(raw)
    for key, value in form.items():
        if len(value) > MAX_TEXT:
            raise AnswerError(f"{key}: at most {MAX_TEXT} characters")
    answer = Answer(scenario.id, reviewer, rating, note=clean_text(form.get("note", "")))
    if rating < 2:
        return answer
    for c in asked_completions(completions, reviewer):
        choice = form.get(f"decision_{c.id}", "leave") or "leave"
        if choice not in CHOICES:
            raise AnswerError(f"decision_{c.id}: {choice[:20]!r} is not one of {CHOICES}")
        if choice in ("accept", "reject"):
            answer.decisions[c.id] = choice  # type: ignore[assignment]
        elif choice == "edit":
            edited = clean_text(form.get(f"edit_{c.id}", ""))
            if not edited:
                raise AnswerError(f"edit_{c.id}: the edited response is empty")
            # the form shows control characters as escapes (visible): unchanged either way
            if edited in (clean_text(c.text), clean_text(visible(c.text))):
                answer.decisions[c.id] = "accept"
            else:
                answer.edits[c.id] = edited
    ideal = clean_text(form.get("ideal_response", ""))
    if ideal:
        answer.ideal_response = ideal
    elif not answer.edits and "accept" not in answer.decisions.values():
        raise AnswerError(
            f"ideal_response: a rating of {rating} ({RATINGS[rating]}) needs a good response: "
            "accept or edit a completion, or write the ideal response"
        )
    return answer


class WebReview:
    """One request's view of a reviewer's session.

    Args:
        store: The store (its ``actor`` is the signed-in reviewer).
        reviewer: The signed-in reviewer.
        session: The signed session cookie's data (changed in place).
        settings: The server's overlap and lease.
    """

    def __init__(
        self,
        store: ScenarioStore,
        reviewer: str,
        session: MutableMapping[str, Any],
        settings: Settings,
        counts: CountCache | None = None,
    ) -> None:
        self.counts = counts or CountCache(ttl_s=0)
        self.store = store
        self.reviewer = reviewer
        self.session = session
        self.settings = settings
        self.queue = ReviewQueue(
            store,
            reviewer,
            QueueFilter(targets=tuple(self.targets), overlap=settings.overlap),
            lease_minutes=settings.lease_minutes,
        )

    @property
    def targets(self) -> list[str]:
        """The reviewer's target filter (empty: all)."""
        return [str(t) for t in self.session.get("targets", [])]

    def _list(self, key: str) -> list[Any]:
        value = self.session.get(key)
        return list(value) if isinstance(value, list) else []

    def current(self) -> str | None:
        """The scenario to show: the one brought back by undo, else the next claim."""
        pending = self.session.get("pending")
        if isinstance(pending, str) and self.queue.expires_at(pending) is not None:
            return pending
        self.session.pop("pending", None)
        return self.queue.claim_next(exclude=self._list("skipped"))

    def may_answer(self, scenario_id: str) -> bool:
        """Whether she holds the claim, or the scenario is still free for her (lease expired)."""
        if self.queue.expires_at(scenario_id) is not None:
            return True
        taken = self.store.times_taken(scenario_id)
        return taken is not None and taken < self.settings.overlap

    def answer(self, answer: Answer) -> AppliedAnswer:
        """Save an answer (one transaction) and remember it for undo."""
        applied = apply_answer(self.store, answer)
        history = self._list("history")[-(MAX_HISTORY - 1) :]
        self.session["history"] = [*history, applied.audit_id]
        self.session["answered"] = int(self.session.get("answered", 0)) + 1
        self.session.pop("pending", None)
        return applied

    def skip(self, scenario_id: str) -> None:
        """Give the claim back; the scenario is not shown again in this session."""
        self.queue.release(scenario_id)
        skipped = self._list("skipped")
        if scenario_id not in skipped:
            skipped = [*skipped, scenario_id][-MAX_SKIPPED:]
        self.session["skipped"] = skipped
        self.session["skipped_count"] = int(self.session.get("skipped_count", 0)) + 1
        if self.session.get("pending") == scenario_id:
            self.session.pop("pending")

    def undo(self) -> str | None:
        """Undo her last answer of this session; returns its scenario (shown next) or None."""
        history = self._list("history")
        while history:
            audit_id = int(history.pop())
            applied = self._applied(audit_id)
            if applied is None:
                continue
            # one transaction: nobody can claim the scenario between the undo and her claim
            with self.store.transaction():
                undo_answer(self.store, applied)
                self.queue.claim(applied.scenario_id)
            self.session["history"] = history
            self.session["answered"] = max(0, int(self.session.get("answered", 0)) - 1)
            self.session["undone"] = int(self.session.get("undone", 0)) + 1
            self.session["pending"] = applied.scenario_id
            return applied.scenario_id
        self.session["history"] = []
        return None

    def _applied(self, audit_id: int) -> AppliedAnswer | None:
        """Her answer recorded in audit entry ``audit_id``, if it is hers and still stored."""
        entry = self.store.review_answer_entry(audit_id)
        if entry is None:
            return None
        scenario_id, d = entry
        if d.get("reviewer") != self.reviewer:
            return None
        if not self.store.has_review(int(d["review_id"]), self.reviewer):  # already undone
            return None
        return AppliedAnswer(
            scenario_id=scenario_id,
            reviewer=self.reviewer,
            rating=int(d["rating"]),
            review_id=int(d["review_id"]),
            created=list(d.get("created", [])),
            decided=dict(d.get("decisions", {})),
            audit_id=audit_id,
        )

    def progress(self, scenario: Scenario | None) -> dict[str, Any]:
        """Counts for the page: this session, her totals, and what is left."""
        mine = self.store.count_reviews_by(self.reviewer)
        out: dict[str, Any] = {
            "answered": int(self.session.get("answered", 0)),
            "skipped": int(self.session.get("skipped_count", 0)),
            "undone": int(self.session.get("undone", 0)),
            "mine": int(mine),
            "waiting": self.counts.get(tuple(self.targets), self.queue.waiting),
            "can_undo": bool(self._list("history")),
        }
        if scenario is not None:
            target = scenario.evaluation_target
            out["target"] = target
            out["target_waiting"] = self.counts.get(
                (tuple(self.targets), target), lambda: self.queue.waiting(target)
            )
            out["target_mine"] = self.store.count_reviews_by(self.reviewer, target)
        return out
