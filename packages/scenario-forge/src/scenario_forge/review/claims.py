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
from typing import TYPE_CHECKING, Any

from forge_export import ForgeError

if TYPE_CHECKING:
    import sqlite3

    from scenario_forge.store import ScenarioStore

CLEANUP_LOCK_KEY = 0x5F0F0F02
"""PostgreSQL: one claim transaction at a time deletes expired claims (the others skip it)."""

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

    def claim_next(self, exclude: Collection[str] = ()) -> str | None:
        """Claim the next scenario for this reviewer, atomically; ``None`` if none is left.

        The reviewer's own live claims (matching the filter) come first, oldest first.

        Args:
            exclude: Scenario ids not to hand out (e.g. skipped in this session).
        """
        # PostgreSQL: no store-wide lock; the picked review_state row is locked instead
        with self.store.transaction(shared=True) as conn:
            now = datetime.now(UTC)
            if (
                not self.store.is_postgres
                or conn.execute(
                    "SELECT pg_try_advisory_xact_lock(?)", (CLEANUP_LOCK_KEY,)
                ).fetchone()[0]
            ):
                conn.execute("DELETE FROM review_claims WHERE expires_at <= ?", (timestamp(now),))
            sid = self._own_claim(conn, exclude)
            if sid is not None:
                self._renew(conn, sid, now)
                return sid
            sid = self._free(conn, exclude)
            if sid is None:
                return None
            conn.execute(
                "INSERT INTO review_claims (scenario_id, reviewer, claimed_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (sid, self.reviewer, timestamp(now), timestamp(now + self.lease)),
            )
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
        with self.store.transaction() as conn:
            now = datetime.now(UTC)
            if not self._renew(conn, scenario_id, now):
                conn.execute(
                    "INSERT INTO review_claims (scenario_id, reviewer, claimed_at, expires_at) "
                    "VALUES (?, ?, ?, ?)",
                    (scenario_id, self.reviewer, timestamp(now), timestamp(now + self.lease)),
                )

    def renew(self, scenario_id: str) -> bool:
        """Push this reviewer's claim on ``scenario_id`` a full lease into the future.

        Returns:
            False when the claim is gone (it expired and was cleaned up).
        """
        with self.store.transaction() as conn:
            return self._renew(conn, scenario_id, datetime.now(UTC))

    def release(self, scenario_ids: str | Sequence[str]) -> int:
        """Give claims back (skip, quit). Returns how many were released."""
        ids = [scenario_ids] if isinstance(scenario_ids, str) else list(scenario_ids)
        if not ids:
            return 0
        with self.store.transaction() as conn:
            n = 0
            for sid in ids:
                n += conn.execute(
                    "DELETE FROM review_claims WHERE scenario_id = ? AND reviewer = ?",
                    (sid, self.reviewer),
                ).rowcount
            return n

    # ------------------------------------------------------------------ progress

    def waiting(self, target: str | None = None) -> int:
        """Scenarios (matching the filter, or of ``target``) still free to hand out.

        Free means fewer than ``overlap`` reviewers plus live claims; it is read from the
        ``review_state`` indexes, so it stays cheap on large stores.
        """
        f = self.filter
        targets = (target,) if target else f.targets
        if targets:
            key, values = "evaluation_target", targets
        elif f.sources:
            key, values = "source_kind", f.sources
        else:
            key, values = "", ()
        residual = ""
        params: list[Any] = []
        if targets and f.sources:
            residual += f" AND source_kind IN ({','.join('?' * len(f.sources))})"
            params.extend(f.sources)
        if f.unreviewed:
            residual += " AND reviewers = 0"
        conn = self.store.connection
        if not key:
            sql = f"SELECT COUNT(*) FROM review_state WHERE taken < ?{residual}"
            return int(conn.execute(sql, [f.overlap, *params]).fetchone()[0])
        total = 0
        for value in values:
            sql = f"SELECT COUNT(*) FROM review_state WHERE {key} = ? AND taken < ?{residual}"
            total += int(conn.execute(sql, [value, f.overlap, *params]).fetchone()[0])
        return total

    def claimed_by_me(self) -> list[str]:
        """Scenario ids this reviewer holds a live claim on, oldest first."""
        rows = self.store.connection.execute(
            "SELECT scenario_id FROM review_claims WHERE reviewer = ? AND expires_at > ? "
            "ORDER BY claimed_at",
            (self.reviewer, timestamp()),
        )
        return [r[0] for r in rows]

    def expires_at(self, scenario_id: str) -> str | None:
        """When this reviewer's claim on ``scenario_id`` expires (``None``: no claim)."""
        row = self.store.connection.execute(
            "SELECT expires_at FROM review_claims WHERE scenario_id = ? AND reviewer = ?",
            (scenario_id, self.reviewer),
        ).fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ SQL

    def _renew(self, conn: sqlite3.Connection, sid: str, now: datetime) -> bool:
        cur = conn.execute(
            "UPDATE review_claims SET expires_at = ? WHERE scenario_id = ? AND reviewer = ?",
            (timestamp(now + self.lease), sid, self.reviewer),
        )
        return cur.rowcount > 0

    def _filter_sql(
        self, targets: Sequence[str | None] | None = None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        ts = [t for t in (targets or ()) if t] or list(self.filter.targets)
        if ts:
            clauses.append(f"s.evaluation_target IN ({','.join('?' * len(ts))})")
            params.extend(ts)
        if self.filter.sources:
            clauses.append(f"s.source_kind IN ({','.join('?' * len(self.filter.sources))})")
            params.extend(self.filter.sources)
        if self.filter.unreviewed:
            clauses.append("s.reviewers = 0")
        return clauses, params

    def _own_claim(self, conn: sqlite3.Connection, exclude: Collection[str]) -> str | None:
        clauses, params = self._filter_sql()
        if exclude:
            clauses.append(f"c.scenario_id NOT IN ({','.join('?' * len(exclude))})")
            params.extend(exclude)
        extra = "".join(f" AND {c}" for c in clauses)
        row = conn.execute(
            "SELECT c.scenario_id FROM review_claims c "
            "JOIN review_state s ON s.scenario_id = c.scenario_id "
            f"WHERE c.reviewer = ?{extra} ORDER BY c.claimed_at LIMIT 1",
            [self.reviewer, *params],
        ).fetchone()
        return None if row is None else str(row[0])

    def _free(self, conn: sqlite3.Connection, exclude: Collection[str]) -> str | None:
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
        sid = self._scan(conn, exclude)
        if sid is None and self._cursors:
            self._cursors.clear()
            sid = self._scan(conn, exclude)
        if sid is None and self.store.is_postgres:
            # SKIP LOCKED passed over rows other transactions held: wait for them, look again
            sid = self._scan(conn, exclude, wait=True)
        return sid

    def _keys(self) -> list[tuple[str, str] | None]:
        """The indexed equality prefix of each next-item query: a target, a source, or none."""
        f = self.filter
        if f.targets:
            return [("evaluation_target", t) for t in f.targets]
        if f.sources:
            return [("source_kind", k) for k in f.sources]
        return [None]

    def _tail(self, exclude: Collection[str]) -> tuple[list[str], list[Any]]:
        """The conditions every next-item query checks on the rows its index range yields."""
        f = self.filter
        tail: list[str] = [
            "NOT EXISTS (SELECT 1 FROM reviews r WHERE r.reviewer = ? "
            "AND r.scenario_id = s.scenario_id)",
            "NOT EXISTS (SELECT 1 FROM review_claims c WHERE c.scenario_id = s.scenario_id "
            "AND c.reviewer = ?)",
        ]
        tail_params: list[Any] = [self.reviewer, self.reviewer]
        if f.targets and f.sources:
            tail.append(f"s.source_kind IN ({','.join('?' * len(f.sources))})")
            tail_params.extend(f.sources)
        if f.unreviewed:
            tail.append("s.reviewers = 0")
        if exclude:
            tail.append(f"s.scenario_id NOT IN ({','.join('?' * len(exclude))})")
            tail_params.extend(exclude)
        return tail, tail_params

    def _scan(
        self, conn: sqlite3.Connection, exclude: Collection[str], wait: bool = False
    ) -> str | None:
        # Fill partly reviewed scenarios first, so overlapping ratings complete early.
        buckets = range(self.filter.overlap - 1, -1, -1)
        keys = self._keys()
        tail, tail_params = self._tail(exclude)
        for taken in buckets:
            for key in keys:
                head, params = _bucket(key, taken)
                bucket = ("", "", taken) if key is None else (*key, taken)
                after = self._cursors.get(bucket, 0) if taken > 0 else 0
                sql = _next_sql(head, tail)
                if self.store.is_postgres:
                    sql += " FOR UPDATE OF s" if wait else " FOR UPDATE OF s SKIP LOCKED"
                row = conn.execute(sql, [*params, after, *tail_params]).fetchone()
                if row is not None:
                    if taken > 0:
                        self._cursors[bucket] = int(row[1]) - 1  # this one is claimed next
                    return str(row[0])
                if taken > 0:  # nothing for her in the whole bucket, as of now
                    last = conn.execute(
                        f"SELECT MAX(s.rid) FROM review_state s WHERE {head}", params
                    ).fetchone()[0]
                    self._cursors[bucket] = max(after, int(last or 0))
        return None


def _bucket(key: tuple[str, str] | None, taken: int) -> tuple[str, list[Any]]:
    """The index prefix of one (key, taken) bucket and its parameters."""
    if key is None:
        return "s.taken = ?", [taken]
    return f"s.{key[0]} = ? AND s.taken = ?", [key[1], taken]


def _next_sql(head: str, tail: Sequence[str]) -> str:
    """The next-item query of one bucket: its first row after a rid that passes ``tail``."""
    where = " AND ".join([head, "s.rid > ?", *tail])
    return f"SELECT s.scenario_id, s.rid FROM review_state s WHERE {where} ORDER BY s.rid LIMIT 1"


def explain_next(queue: ReviewQueue) -> list[str]:
    """The query plan of the next-item query (for tests and ``--debug`` style checks)."""
    head, params = _bucket(queue._keys()[0], 0)
    tail, tail_params = queue._tail(())
    plan = queue.store.connection.execute(
        "EXPLAIN QUERY PLAN " + _next_sql(head, tail), [*params, 0, *tail_params]
    )
    return [str(r[3]) for r in plan]
