"""Claims with a lease: who is reviewing which scenario right now.

A scenario is handed to a reviewer by inserting a row in ``review_claims`` inside one
``BEGIN IMMEDIATE`` transaction that also picks the scenario, so two processes can never
claim the same free slot. ``review_state`` (migration 2) keeps, per scenario, the number of
distinct reviewers and of live claims (``taken`` = both), maintained by triggers; the next-item
query reads one index range of it, so it stays fast with a million scenarios.

Rules:

* without overlap (``overlap=1``) a scenario is handed out only while nobody reviewed or
  claims it;
* with ``overlap=N`` it is handed to up to ``N`` different reviewers (reviews + live claims
  < N), never twice to the same reviewer;
* a reviewer's own live claims come back first (resume after a crash or a quit);
* an expired claim is deleted by the next claim transaction, so its scenario comes back.

Example:
    >>> queue = ReviewQueue(store, "ana", QueueFilter(targets=("harmful_code",)))  # doctest: +SKIP
    >>> sid = queue.claim_next()                                                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from forge_export import ForgeError

from scenario_forge.store_review import QueueKey, QueueSlice

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

DEFAULT_LEASE_MINUTES = 30.0
"""How long a claim of the interactive flow lives without activity."""

BATCH_LEASE_MINUTES = 24 * 60.0
"""How long a claim made by ``review export-queue`` lives (a day of offline work)."""


def timestamp(dt: datetime | None = None) -> str:
    """A fixed-width UTC ISO 8601 text (microseconds always present), so text order = time order."""
    dt = dt or datetime.now(UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class QueueFilter:
    """Which scenarios a reviewer is handed.

    Attributes:
        targets: Evaluation targets to keep (empty: all).
        sources: Scenario provenance kinds to keep (empty: all).
        unreviewed: Only scenarios nobody has rated yet.
        overlap: Hand each scenario to up to this many different reviewers.
    """

    targets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    unreviewed: bool = False
    overlap: int = 1

    def __post_init__(self) -> None:
        if self.overlap < 1:
            raise ForgeError(f"overlap: {self.overlap} must be at least 1")


class ReviewQueue:
    """Hands scenarios to one reviewer with a lease.

    Args:
        store: The open store (its connection and write lock are used).
        reviewer: The reviewer's name.
        filt: Which scenarios to hand out.
        lease_minutes: Lifetime of a claim; renewed on every activity.
    """

    def __init__(
        self,
        store: ScenarioStore,
        reviewer: str,
        filt: QueueFilter | None = None,
        lease_minutes: float = DEFAULT_LEASE_MINUTES,
    ) -> None:
        if lease_minutes <= 0:
            raise ForgeError(f"lease: {lease_minutes} minutes must be more than 0")
        self.store = store
        self.reviewer = reviewer
        self.filter = filt or QueueFilter()
        self.lease = timedelta(minutes=lease_minutes)
        # (key column, key value, taken) -> the highest rid of a partly taken bucket known to
        # hold nothing for this reviewer below it (see _free)
        self._cursors: dict[tuple[str, str, int], int] = {}

    # ------------------------------------------------------------------ claiming

    @property
    def slice(self) -> QueueSlice:
        """The part of the queue this reviewer's filter reads (for the store's queries)."""
        f = self.filter
        return QueueSlice(self.reviewer, f.targets, f.sources, f.unreviewed)

    def claim_next(self, exclude: Collection[str] = ()) -> str | None:
        """Claim the next scenario for this reviewer, atomically; ``None`` if none is left.

        The reviewer's own live claims (matching the filter) come first, oldest first.

        Args:
            exclude: Scenario ids not to hand out (e.g. skipped in this session).
        """
        # PostgreSQL: no store-wide lock; the picked review_state row is locked instead
        with self.store.transaction(shared=True):
            now = datetime.now(UTC)
            self.store.delete_expired_claims(timestamp(now))
            sid = self.store.oldest_own_claim(self.slice, exclude)
            if sid is not None:
                self._renew(sid, now)
                return sid
            sid = self._free(exclude)
            if sid is None:
                return None
            self.store.insert_claim(sid, self.reviewer, timestamp(now), timestamp(now + self.lease))
            return sid

    def claim_many(self, limit: int) -> list[str]:
        """Claim up to ``limit`` scenarios in one transaction (batch review)."""
        got: list[str] = []
        with self.store.transaction():
            while len(got) < limit:
                sid = self.claim_next(exclude=got)
                if sid is None:
                    break
                got.append(sid)
        return got

    def claim(self, scenario_id: str) -> None:
        """Claim (or renew) one given scenario for this reviewer, whatever the queue says.

        Used after an undo, to show the undone scenario again.
        """
        with self.store.transaction():
            now = datetime.now(UTC)
            if not self._renew(scenario_id, now):
                self.store.insert_claim(
                    scenario_id, self.reviewer, timestamp(now), timestamp(now + self.lease)
                )

    def renew(self, scenario_id: str) -> bool:
        """Push this reviewer's claim on ``scenario_id`` a full lease into the future.

        Returns:
            False when the claim is gone (it expired and was cleaned up).
        """
        with self.store.transaction():
            return self._renew(scenario_id, datetime.now(UTC))

    def release(self, scenario_ids: str | Sequence[str]) -> int:
        """Give claims back (skip, quit). Returns how many were released."""
        ids = [scenario_ids] if isinstance(scenario_ids, str) else list(scenario_ids)
        if not ids:
            return 0
        with self.store.transaction():
            return sum(self.store.release_claim(sid, self.reviewer) for sid in ids)

    # ------------------------------------------------------------------ progress

    def waiting(self, target: str | None = None) -> int:
        """Scenarios (matching the filter, or of ``target``) still free to hand out.

        Free means fewer than ``overlap`` reviewers plus live claims; it is read from the
        ``review_state`` indexes, so it stays cheap on large stores.
        """
        part = self.slice
        if target:
            part = QueueSlice(self.reviewer, (target,), part.sources, part.unreviewed)
        return self.store.count_waiting(part, self.filter.overlap)

    def claimed_by_me(self) -> list[str]:
        """Scenario ids this reviewer holds a live claim on, oldest first."""
        return self.store.live_claims(self.reviewer, timestamp())

    def expires_at(self, scenario_id: str) -> str | None:
        """When this reviewer's claim on ``scenario_id`` expires (``None``: no claim)."""
        return self.store.claim_expiry(scenario_id, self.reviewer)

    # ------------------------------------------------------------------ picking

    def _renew(self, sid: str, now: datetime) -> bool:
        return self.store.renew_claim(sid, self.reviewer, timestamp(now + self.lease))

    def _free(self, exclude: Collection[str]) -> str | None:
        """The next free scenario: fullest slot bucket first, then oldest first.

        One query per (target, taken) pair, each an equality prefix of an index, so every
        query reads the index in order and stops at the first row that fits.

        With ``overlap`` > 1 the partly taken buckets start with every scenario this reviewer
        rated herself (she rated them oldest first), which each query would walk past again.
        The queue remembers, per bucket, the rid below which it found nothing for her and
        starts there next time. Rows that enter a bucket below that point later (someone else
        rates an old scenario) are not lost: when the remembered scan finds nothing, the
        queue scans once more from the start before saying the queue is empty.
        """
        sid = self._scan(exclude)
        if sid is None and self._cursors:
            self._cursors.clear()
            sid = self._scan(exclude)
        if sid is None and self.store.is_postgres:
            # SKIP LOCKED passed over rows other transactions held: wait for them, look again
            sid = self._scan(exclude, wait=True)
        return sid

    def _keys(self) -> list[QueueKey]:
        """The indexed equality prefix of each next-item query: a target, a source, or none."""
        f = self.filter
        if f.targets:
            return [("evaluation_target", t) for t in f.targets]
        if f.sources:
            return [("source_kind", k) for k in f.sources]
        return [None]

    def _scan(self, exclude: Collection[str], wait: bool = False) -> str | None:
        # Fill partly reviewed scenarios first, so overlapping ratings complete early.
        part = self.slice
        for taken in range(self.filter.overlap - 1, -1, -1):
            for key in self._keys():
                bucket = ("", "", taken) if key is None else (*key, taken)
                after = self._cursors.get(bucket, 0) if taken > 0 else 0
                found = self.store.next_in_bucket(
                    part, key, taken, after, exclude, lock="wait" if wait else "skip_locked"
                )
                if found is not None:
                    if taken > 0:
                        self._cursors[bucket] = found[1] - 1  # this one is claimed next
                    return found[0]
                if taken > 0:  # nothing for her in the whole bucket, as of now
                    last = self.store.bucket_last_rid(key, taken)
                    self._cursors[bucket] = max(after, last)
        return None


def explain_next(queue: ReviewQueue) -> list[str]:
    """The query plan of the next-item query (for tests and ``--debug`` style checks)."""
    return queue.store.explain_next_in_bucket(queue.slice, queue._keys()[0])
