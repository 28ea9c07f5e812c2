"""The store's review tables: claims with a lease, answers, decisions, reviewer stats, verdicts.

Part of :class:`scenario_forge.store.ScenarioStore` (a mixin it inherits), so the review code
(:mod:`scenario_forge.review`, :mod:`scenario_forge.eval_verdicts`) calls typed methods and
holds no SQL. The SQL is written once in the SQLite dialect; a PostgreSQL store runs it through
:mod:`scenario_forge.pg_backend`, and the few statements only PostgreSQL needs (row locks of
the review queue, its cleanup lock) are chosen here by :attr:`is_postgres`.

Writes are meant to run inside :meth:`ScenarioStore.transaction` (the caller opens it, so one
answer or one claim is one transaction together with its audit entries).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import sqlite3

CLEANUP_LOCK_KEY = 0x5F0F0F02
"""PostgreSQL: one claim transaction at a time deletes expired claims (the others skip it)."""

_EVAL_VERDICT_COLUMNS = (
    "scenario_id, response_sha, prompt, response, expected_behavior, evaluation_target, "
    "verdict, label, judge, judge_verdict, judge_label, reviewer, note, created_at"
)
_INSERT_EVAL_VERDICT = (
    f"INSERT INTO eval_verdicts ({_EVAL_VERDICT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)

RowLock = Literal["none", "skip_locked", "wait"]
"""How the next-item query locks the row it picks (PostgreSQL; SQLite locks the whole file)."""


@dataclass(frozen=True)
class QueueSlice:
    """Which part of the review queue a query reads.

    Attributes:
        reviewer: The reviewer the queue hands scenarios to.
        targets: Evaluation targets to keep (empty: all).
        sources: Scenario provenance kinds to keep (empty: all).
        unreviewed: Only scenarios nobody has rated yet.
    """

    reviewer: str
    targets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    unreviewed: bool = False


QueueKey = tuple[str, str] | None
"""The indexed equality prefix of a next-item query: ``(column, value)`` or none."""


def _marks(values: Collection[Any]) -> str:
    return ",".join("?" * len(values))


def _bucket(key: QueueKey, taken: int) -> tuple[str, list[Any]]:
    """The index prefix of one (key, taken) bucket and its parameters."""
    if key is None:
        return "s.taken = ?", [taken]
    column = {"evaluation_target": "evaluation_target", "source_kind": "source_kind"}[key[0]]
    return f"s.{column} = ? AND s.taken = ?", [key[1], taken]


def _tail(part: QueueSlice, exclude: Collection[str]) -> tuple[list[str], list[Any]]:
    """The conditions every next-item query checks on the rows its index range yields."""
    tail: list[str] = [
        "NOT EXISTS (SELECT 1 FROM reviews r WHERE r.reviewer = ? "
        "AND r.scenario_id = s.scenario_id)",
        "NOT EXISTS (SELECT 1 FROM review_claims c WHERE c.scenario_id = s.scenario_id "
        "AND c.reviewer = ?)",
    ]
    params: list[Any] = [part.reviewer, part.reviewer]
    if part.targets and part.sources:
        tail.append(f"s.source_kind IN ({_marks(part.sources)})")
        params.extend(part.sources)
    if part.unreviewed:
        tail.append("s.reviewers = 0")
    if exclude:
        tail.append(f"s.scenario_id NOT IN ({_marks(exclude)})")
        params.extend(exclude)
    return tail, params


def _next_sql(head: str, tail: Sequence[str]) -> str:
    """The next-item query of one bucket: its first row after a rid that passes ``tail``."""
    where = " AND ".join([head, "s.rid > ?", *tail])
    return f"SELECT s.scenario_id, s.rid FROM review_state s WHERE {where} ORDER BY s.rid LIMIT 1"


class ReviewTables:
    """The review tables' queries; mixed into :class:`scenario_forge.store.ScenarioStore`."""

    _conn: sqlite3.Connection

    @property
    def is_postgres(self) -> bool:  # pragma: no cover - ScenarioStore's property wins
        raise NotImplementedError

    # ------------------------------------------------------------------ claims

    def delete_expired_claims(self, now: str) -> None:
        """Delete claims that expired at ``now`` (on PostgreSQL: unless another claim
        transaction is doing it right now)."""
        if self.is_postgres:
            got = self._conn.execute(
                "SELECT pg_try_advisory_xact_lock(?)", (CLEANUP_LOCK_KEY,)
            ).fetchone()[0]
            if not got:
                return
        self._conn.execute("DELETE FROM review_claims WHERE expires_at <= ?", (now,))

    def insert_claim(
        self, scenario_id: str, reviewer: str, claimed_at: str, expires_at: str
    ) -> None:
        """Hand ``scenario_id`` to ``reviewer`` until ``expires_at``."""
        self._conn.execute(
            "INSERT INTO review_claims (scenario_id, reviewer, claimed_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (scenario_id, reviewer, claimed_at, expires_at),
        )

    def renew_claim(self, scenario_id: str, reviewer: str, expires_at: str) -> bool:
        """Move a claim's expiry; ``False`` when the reviewer holds no claim on it."""
        cur = self._conn.execute(
            "UPDATE review_claims SET expires_at = ? WHERE scenario_id = ? AND reviewer = ?",
            (expires_at, scenario_id, reviewer),
        )
        return cur.rowcount > 0

    def release_claim(self, scenario_id: str, reviewer: str) -> int:
        """Delete ``reviewer``'s claim on ``scenario_id``; how many rows went (0 or 1)."""
        return int(
            self._conn.execute(
                "DELETE FROM review_claims WHERE scenario_id = ? AND reviewer = ?",
                (scenario_id, reviewer),
            ).rowcount
        )

    def live_claims(self, reviewer: str, now: str) -> list[str]:
        """Scenario ids ``reviewer`` holds a claim on that is live at ``now``, oldest first."""
        rows = self._conn.execute(
            "SELECT scenario_id FROM review_claims WHERE reviewer = ? AND expires_at > ? "
            "ORDER BY claimed_at",
            (reviewer, now),
        )
        return [str(r[0]) for r in rows]

    def claim_expiry(self, scenario_id: str, reviewer: str) -> str | None:
        """When ``reviewer``'s claim on ``scenario_id`` expires (``None``: no claim)."""
        row = self._conn.execute(
            "SELECT expires_at FROM review_claims WHERE scenario_id = ? AND reviewer = ?",
            (scenario_id, reviewer),
        ).fetchone()
        return None if row is None else str(row[0])

    def oldest_own_claim(self, part: QueueSlice, exclude: Collection[str]) -> str | None:
        """The reviewer's oldest claim on a scenario of ``part`` (not in ``exclude``)."""
        clauses: list[str] = []
        params: list[Any] = []
        if part.targets:
            clauses.append(f"s.evaluation_target IN ({_marks(part.targets)})")
            params.extend(part.targets)
        if part.sources:
            clauses.append(f"s.source_kind IN ({_marks(part.sources)})")
            params.extend(part.sources)
        if part.unreviewed:
            clauses.append("s.reviewers = 0")
        if exclude:
            clauses.append(f"c.scenario_id NOT IN ({_marks(exclude)})")
            params.extend(exclude)
        extra = "".join(f" AND {c}" for c in clauses)
        row = self._conn.execute(
            "SELECT c.scenario_id FROM review_claims c "
            "JOIN review_state s ON s.scenario_id = c.scenario_id "
            f"WHERE c.reviewer = ?{extra} ORDER BY c.claimed_at LIMIT 1",
            [part.reviewer, *params],
        ).fetchone()
        return None if row is None else str(row[0])

    def next_in_bucket(
        self,
        part: QueueSlice,
        key: QueueKey,
        taken: int,
        after: int,
        exclude: Collection[str] = (),
        lock: RowLock = "none",
    ) -> tuple[str, int] | None:
        """The first scenario of one queue bucket (``key``, ``taken`` slots taken) after
        review-state row ``after`` that ``part``'s reviewer may get: ``(id, rid)`` or ``None``.

        Each query is an equality prefix of an index, read in order up to the first fit.
        """
        head, params = _bucket(key, taken)
        tail, tail_params = _tail(part, exclude)
        sql = _next_sql(head, tail)
        if self.is_postgres and lock != "none":
            sql += " FOR UPDATE OF s" if lock == "wait" else " FOR UPDATE OF s SKIP LOCKED"
        row = self._conn.execute(sql, [*params, after, *tail_params]).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def bucket_last_rid(self, key: QueueKey, taken: int) -> int:
        """The highest review-state row of one queue bucket (0 when it is empty)."""
        head, params = _bucket(key, taken)
        last = self._conn.execute(
            f"SELECT MAX(s.rid) FROM review_state s WHERE {head}", params
        ).fetchone()[0]
        return int(last or 0)

    def explain_next_in_bucket(self, part: QueueSlice, key: QueueKey) -> list[str]:
        """SQLite's query plan of :meth:`next_in_bucket` for the free bucket of ``key``."""
        head, params = _bucket(key, 0)
        tail, tail_params = _tail(part, ())
        plan = self._conn.execute(
            "EXPLAIN QUERY PLAN " + _next_sql(head, tail), [*params, 0, *tail_params]
        )
        return [str(r[3]) for r in plan]

    def count_waiting(self, part: QueueSlice, overlap: int) -> int:
        """Scenarios of ``part`` with fewer than ``overlap`` reviewers plus live claims.

        Read from the ``review_state`` indexes (one count per target or source), so it stays
        cheap on large stores.
        """
        if part.targets:
            key, values = "evaluation_target", part.targets
        elif part.sources:
            key, values = "source_kind", part.sources
        else:
            key, values = "", ()
        residual = ""
        params: list[Any] = []
        if part.targets and part.sources:
            residual += f" AND source_kind IN ({_marks(part.sources)})"
            params.extend(part.sources)
        if part.unreviewed:
            residual += " AND reviewers = 0"
        if not key:
            sql = f"SELECT COUNT(*) FROM review_state WHERE taken < ?{residual}"
            return int(self._conn.execute(sql, [overlap, *params]).fetchone()[0])
        total = 0
        for value in values:
            sql = f"SELECT COUNT(*) FROM review_state WHERE {key} = ? AND taken < ?{residual}"
            total += int(self._conn.execute(sql, [value, overlap, *params]).fetchone()[0])
        return total

    # ------------------------------------------------------------------ answers

    def has_scenario(self, scenario_id: str) -> bool:
        """Whether a scenario with this id is stored."""
        row = self._conn.execute("SELECT 1 FROM scenarios WHERE id = ?", (scenario_id,))
        return row.fetchone() is not None

    def completion_ids_of(self, scenario_id: str, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that are completions of ``scenario_id``."""
        if not ids:
            return set()
        rows = self._conn.execute(
            f"SELECT id FROM completions WHERE scenario_id = ? AND id IN ({_marks(ids)})",
            [scenario_id, *ids],
        )
        return {str(r[0]) for r in rows}

    def has_review_by(self, reviewer: str, scenario_id: str) -> bool:
        """Whether ``reviewer`` has a review of ``scenario_id``."""
        row = self._conn.execute(
            "SELECT 1 FROM reviews WHERE reviewer = ? AND scenario_id = ? LIMIT 1",
            (reviewer, scenario_id),
        ).fetchone()
        return row is not None

    def delete_review(self, review_id: int, reviewer: str) -> int:
        """Delete review ``review_id`` if ``reviewer`` wrote it; rows deleted (0 or 1)."""
        cur = self._conn.execute(
            "DELETE FROM reviews WHERE id = ? AND reviewer = ?", (review_id, reviewer)
        )
        return int(cur.rowcount)

    def last_audit_id(self) -> int:
        """The id of the audit entry this connection wrote last (inside its transaction)."""
        return int(self._conn.execute("SELECT last_insert_rowid()").fetchone()[0])

    def completion_review_fields(
        self, completion_id: str
    ) -> tuple[str, list[str], dict[str, Any]] | None:
        """A completion's ``status``, ``validated_by`` and ``metadata`` (``None``: no such id)."""
        row = self._conn.execute(
            "SELECT status, validated_by, metadata FROM completions WHERE id = ?",
            (completion_id,),
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), list(json.loads(row[1])), dict(json.loads(row[2]))

    def set_completion_review_fields(
        self, completion_id: str, status: str, validated_by: Sequence[str], metadata: dict[str, Any]
    ) -> None:
        """Write a completion's ``status``, ``validated_by`` and ``metadata`` (the review flow's
        derived fields; call inside a transaction)."""
        self._conn.execute(
            "UPDATE completions SET status = ?, validated_by = ?, metadata = ? WHERE id = ?",
            (
                status,
                json.dumps(list(validated_by)),
                json.dumps(metadata, ensure_ascii=False, default=str),
                completion_id,
            ),
        )

    def times_taken(self, scenario_id: str) -> int | None:
        """How many reviewers have answered ``scenario_id`` (None: not in the review queue)."""
        row = self._conn.execute(
            "SELECT taken FROM review_state WHERE scenario_id = ?", (scenario_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def review_answer_entry(self, audit_id: int) -> tuple[str, dict[str, Any]] | None:
        """The scenario id and details of audit entry ``audit_id`` when it records a review
        answer, else None."""
        row = self._conn.execute(
            "SELECT entity_id, details FROM audit_log WHERE id = ? AND action = 'review_answer'",
            (audit_id,),
        ).fetchone()
        return None if row is None else (str(row[0]), dict(json.loads(row[1])))

    def has_review(self, review_id: int, reviewer: str) -> bool:
        """Whether review ``review_id`` by ``reviewer`` is still stored (not undone)."""
        row = self._conn.execute(
            "SELECT 1 FROM reviews WHERE id = ? AND reviewer = ?", (review_id, reviewer)
        ).fetchone()
        return row is not None

    def count_reviews_by(self, reviewer: str, target: str | None = None) -> int:
        """Reviews ``reviewer`` has stored (of scenarios of ``target`` when given)."""
        if target is None:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM reviews WHERE reviewer = ?", (reviewer,)
            ).fetchone()
        else:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM reviews r JOIN scenarios s ON s.id = r.scenario_id "
                "WHERE r.reviewer = ? AND s.evaluation_target = ?",
                (reviewer, target),
            ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ reviewer statistics

    def iter_ratings(self) -> Iterator[tuple[str, str, int]]:
        """Every review as ``(scenario_id, reviewer, rating)``, by scenario, oldest first."""
        rows = self._conn.execute(
            "SELECT scenario_id, reviewer, rating FROM reviews ORDER BY scenario_id, created_at, id"
        )
        for sid, reviewer, rating in rows:
            yield str(sid), str(reviewer), int(rating)

    def iter_review_decisions(self) -> Iterator[dict[str, str]]:
        """Per completion a reviewer recorded decisions on: reviewer → decision."""
        rows = self._conn.execute(
            "SELECT metadata FROM completions WHERE metadata LIKE '%\"decisions\"%'"
        )
        for (meta,) in rows:
            review = json.loads(meta).get("review")
            if isinstance(review, dict):
                yield {str(k): str(v) for k, v in (review.get("decisions") or {}).items()}

    def human_completion_counts(self) -> dict[str, int]:
        """Human-written completions per author (``origin``)."""
        rows = self._conn.execute(
            "SELECT origin, COUNT(*) FROM completions WHERE source = 'human' GROUP BY origin"
        )
        return {str(origin): int(n) for origin, n in rows}

    # ------------------------------------------------------------------ evaluation verdicts

    def add_eval_verdicts(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert human verdicts on evaluated responses (one tuple per row, in the column
        order of ``eval_verdicts`` including ``created_at``; call inside a transaction)."""
        self._conn.executemany(_INSERT_EVAL_VERDICT, [tuple(r) for r in rows])

    def add_eval_verdict(self, row: Sequence[Any]) -> int:
        """Insert one human verdict (see :meth:`add_eval_verdicts`) and return its id."""
        cur = self._conn.execute(_INSERT_EVAL_VERDICT, tuple(row))
        return int(cur.lastrowid or 0)

    def delete_eval_verdict(self, verdict_id: int) -> bool:
        """Delete one human verdict; whether it existed."""
        cur = self._conn.execute("DELETE FROM eval_verdicts WHERE id = ?", (verdict_id,))
        return bool(cur.rowcount)

    def eval_verdicts_version(self) -> tuple[int, int, int]:
        """(count, highest id, sum of ids) of ``eval_verdicts``: changes whenever a verdict is
        added or deleted (rows are never updated, ids never reused). One aggregate row, so a
        reader can tell cheaply whether what it read before is still current."""
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM eval_verdicts"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def eval_verdicts_after(self, after_id: int = 0) -> list[dict[str, Any]]:
        """The verdicts with an id above ``after_id``, oldest first, without the answer's text:
        ``id``, ``scenario_id``, ``response_sha``, ``reviewer``, ``verdict``, ``label``,
        ``note``, ``created_at`` (``after_id=0``: every verdict, superseded ones included)."""
        cur = self._conn.execute(
            "SELECT id, scenario_id, response_sha, reviewer, verdict, label, note, created_at "
            "FROM eval_verdicts WHERE id > ? ORDER BY id",
            (int(after_id),),
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def eval_verdicts_in_force(self) -> list[dict[str, Any]]:
        """The latest human verdict per (scenario, response), oldest first, as plain dicts."""
        cur = self._conn.execute(
            f"SELECT {_EVAL_VERDICT_COLUMNS} FROM eval_verdicts WHERE id IN "
            "(SELECT MAX(id) FROM eval_verdicts GROUP BY scenario_id, response_sha) ORDER BY id"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


__all__ = ["CLEANUP_LOCK_KEY", "QueueKey", "QueueSlice", "ReviewTables", "RowLock"]
