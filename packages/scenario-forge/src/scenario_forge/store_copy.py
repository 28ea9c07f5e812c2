"""Copy a whole store between backends (SQLite ↔ PostgreSQL), checked row for row.

Every table is copied with its ids (review and audit ids stay valid: completions and the
audit log refer to them), scenarios in the source's queue order, in one transaction on the
destination. Afterwards each table's row count and a SHA-256 over its rows (in key order)
must match on both sides; the review queue's counts (kept by triggers on the destination)
are compared too. A mismatch rolls nothing back silently: the copy is refused and reported.

Example:
    >>> copy_store("forge.db", "postgresql://forge@dbhost/forge")  # doctest: +SKIP
    CopyReport(counts={'scenarios': 1200, ...}, ...)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenario_forge.store import ScenarioStore
from scenario_forge.store_errors import StoreError

PAGE = 2000

# table -> (columns, key order); scenarios are copied in queue order (see _rows)
TABLES: dict[str, tuple[str, str]] = {
    "scenarios": (
        "id, evaluation_target, expected_behavior, group_id, source_kind, source_origin, "
        "created_at, data",
        "id",
    ),
    "completions": (
        "id, scenario_id, text, source, origin, status, validated_by, created_at, metadata",
        "id",
    ),
    "reviews": ("id, scenario_id, reviewer, rating, note, created_at", "id"),
    "review_claims": (
        "scenario_id, reviewer, claimed_at, expires_at",
        "scenario_id, reviewer",
    ),
    "eval_verdicts": (
        "id, scenario_id, response_sha, prompt, response, expected_behavior, evaluation_target, "
        "verdict, label, judge, judge_verdict, judge_label, reviewer, note, created_at",
        "id",
    ),
    "web_users": ("name, password_hash, created_at, session_key, role", "name"),
    "adjudications": ("id, scenario_id, rating, lead, note, ratings, created_at", "id"),
    "audit_log": ("id, at, actor, action, entity, entity_id, details", "id"),
}
QUEUE = ("review_state", "scenario_id, evaluation_target, source_kind, reviewers, claims, taken")


@dataclass
class CopyReport:
    """What :func:`copy_store` copied.

    Attributes:
        counts: Rows per table (equal on both sides).
        hashes: SHA-256 of each table's rows (equal on both sides).
        source: The source store.
        dest: The destination store.
    """

    counts: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    source: str = ""
    dest: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "source": self.source,
            "dest": self.dest,
            "counts": self.counts,
            "hashes": self.hashes,
        }


def _rows(store: ScenarioStore, table: str, cols: str, key: str) -> Iterator[tuple[Any, ...]]:
    """All rows of ``table`` (queue order for scenarios, key order otherwise), by page."""
    conn = store.connection
    if table == "scenarios":
        sql = (
            f"SELECT {', '.join('s.' + c.strip() for c in cols.split(','))} FROM scenarios s "
            "JOIN review_state q ON q.scenario_id = s.id ORDER BY q.rid"
        )
        yield from (tuple(r) for r in conn.execute(sql).fetchall())
        return
    yield from (tuple(r) for r in conn.execute(f"SELECT {cols} FROM {table} ORDER BY {key}"))


def table_digest(store: ScenarioStore, table: str, cols: str, key: str) -> tuple[int, str]:
    """Row count and SHA-256 of a table's rows in key order (values as JSON)."""
    h = hashlib.sha256()
    n = 0
    for row in store.connection.execute(f"SELECT {cols} FROM {table} ORDER BY {key}"):
        h.update(json.dumps(list(row), ensure_ascii=False).encode())
        h.update(b"\n")
        n += 1
    return n, h.hexdigest()


def digests(store: ScenarioStore) -> dict[str, tuple[int, str]]:
    """Count and hash of every copied table and of the review queue counts."""
    with store.snapshot():
        out = {t: table_digest(store, t, c, k) for t, (c, k) in TABLES.items()}
        out[QUEUE[0]] = table_digest(store, QUEUE[0], QUEUE[1], "scenario_id")
    return out


def _is_empty(store: ScenarioStore) -> bool:
    conn = store.connection
    for table in TABLES:
        if table == "audit_log":
            continue  # a new store logs its own creation
        if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            return False
    return True


def copy_store(
    source: str | Path, dest: str | Path, *, force: bool = False, actor: str | None = None
) -> CopyReport:
    """Copy the store at ``source`` into ``dest`` (created if missing) and check the copy.

    Args:
        source: A store file or ``postgresql://`` URL (must exist).
        dest: A store file or URL; it must hold no scenarios, completions or reviews.
        force: Empty a non-empty destination first (its rows are deleted).
        actor: Name for the destination's audit entry of the copy.

    Raises:
        StoreError: same store, non-empty destination without ``force``, or a mismatch.
    """
    if str(source) == str(dest):
        raise StoreError(f"migrate-store: source and destination are the same ({source})")
    with (
        ScenarioStore.open(source, create=False, actor=actor) as src,
        ScenarioStore.open(dest, actor=actor) as dst,
    ):
        if not _is_empty(dst) and not force:
            raise StoreError(
                f"{dst.path}: the destination already holds a store's rows; give an empty "
                "one, or --force to delete them first"
            )
        with src.snapshot():
            with dst.transaction() as conn:
                for table in reversed(list(TABLES)):
                    conn.execute(f"DELETE FROM {table}")
                for table, (cols, key) in TABLES.items():
                    marks = ", ".join("?" for _ in cols.split(","))
                    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
                    page: list[tuple[Any, ...]] = []
                    for row in _rows(src, table, cols, key):
                        page.append(row)
                        if len(page) >= PAGE:
                            conn.executemany(sql, page)
                            page = []
                    if page:
                        conn.executemany(sql, page)
                if dst.is_postgres:
                    for table in ("reviews", "eval_verdicts", "adjudications", "audit_log"):
                        conn.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                        )
            want = digests(src)
        got = digests(dst)
        bad = [t for t in want if want[t] != got[t]]
        if bad:
            raise StoreError(
                f"migrate-store: the copy in {dst.path} differs from {src.path} in "
                f"{', '.join(bad)} (counts {[want[t][0] for t in bad]} vs "
                f"{[got[t][0] for t in bad]}); do not use the copy"
            )
        report = CopyReport(
            counts={t: v[0] for t, v in want.items()},
            hashes={t: v[1] for t, v in want.items()},
            source=str(src.path),
            dest=str(dst.path),
        )
        with dst.transaction():
            dst.audit("migrate_store", "store", str(dst.path), {"from": str(src.path)})
        if dst.is_postgres:  # planner statistics for the new rows (the queue's index choice)
            dst.connection.execute("ANALYZE")
    return report
