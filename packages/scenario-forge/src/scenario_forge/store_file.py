"""A SQLite store file read as a file: integrity checks, raw rows, online backup.

``scenario-forge check`` and ``backup`` must look at a store file without opening it as a
:class:`~scenario_forge.store.ScenarioStore` (which would migrate it, and which refuses a file
it cannot read): :class:`StoreFile` is that read-only door, a backend module beside
:mod:`scenario_forge.store`. It holds the SQL; :mod:`scenario_forge.maintenance` holds the
checks and never sees a connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scenario_forge.migrations import current_version
from scenario_forge.store_errors import MaintenanceError

_PAGE = 2000
COUNTED_TABLES = ("scenarios", "completions", "reviews", "review_claims", "audit_log")
"""The tables whose rows a check report counts."""
_ROW_QUERIES = {
    "scenarios": (
        "SELECT rowid, id, evaluation_target, expected_behavior, group_id, source_kind, data "
        "FROM scenarios WHERE rowid > ? ORDER BY rowid LIMIT ?"
    ),
    "completions": (
        "SELECT rowid, id, scenario_id, text, source, origin, status, validated_by, created_at, "
        "metadata FROM completions WHERE rowid > ? ORDER BY rowid LIMIT ?"
    ),
    "reviews": (
        "SELECT rowid, id, scenario_id, reviewer, rating, note, created_at FROM reviews "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    ),
}
_REVIEW_STATE_MISMATCHES = """
    SELECT q.scenario_id, q.reviewers, q.claims, q.taken,
           COALESCE(r.n, 0), COALESCE(c.n, 0)
    FROM review_state q
    LEFT JOIN (SELECT scenario_id, COUNT(DISTINCT reviewer) AS n FROM reviews
               GROUP BY scenario_id) r ON r.scenario_id = q.scenario_id
    LEFT JOIN (SELECT scenario_id, COUNT(*) AS n FROM review_claims
               GROUP BY scenario_id) c ON c.scenario_id = q.scenario_id
    WHERE q.reviewers <> COALESCE(r.n, 0) OR q.claims <> COALESCE(c.n, 0)
       OR q.taken <> q.reviewers + q.claims
    LIMIT ?
"""


class StoreFile:
    """One SQLite store file, opened for reading (a context manager).

    Args:
        path: The store file.

    Raises:
        MaintenanceError: the file is missing, a folder, or not SQLite.
    """

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise MaintenanceError(f"{path}: no store here; check the --db path")
        if path.is_dir():
            raise MaintenanceError(
                f"{path}: is a folder; give the store file, e.g. {path}/forge.db"
            )
        self.path = path
        try:
            # Read-write (never written here): after a crash SQLite must be able to recover the
            # -wal file, which a read-only connection cannot do.
            self._conn = sqlite3.connect(path, timeout=30)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise MaintenanceError(f"{path}: not a SQLite database ({exc})") from exc

    def __enter__(self) -> StoreFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def begin_snapshot(self) -> None:
        """Start the one read transaction every later read sees (ended by :meth:`close`)."""
        self._conn.execute("BEGIN")

    def integrity(self, *, quick: bool, limit: int = 100) -> list[str]:
        """``PRAGMA integrity_check`` (or ``quick_check``): ``["ok"]`` or the problems.

        Raises:
            sqlite3.DatabaseError: SQLite cannot read the file at all.
        """
        pragma = "quick_check" if quick else "integrity_check"
        return [str(r[0]) for r in self._conn.execute(f"PRAGMA {pragma}({int(limit)})")]

    def schema_version(self) -> int:
        """``PRAGMA user_version``: the store's schema version."""
        return current_version(self._conn)

    def tables(self) -> set[str]:
        """The names of the file's tables."""
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(r[0]) for r in rows}

    def count(self, table: str) -> int:
        """Rows of one of the store's tables."""
        if table not in {*COUNTED_TABLES, "review_state"}:
            raise ValueError(f"not a store table: {table!r}")
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def foreign_key_problems(self) -> list[tuple[str, int, str]]:
        """``PRAGMA foreign_key_check``: ``(table, rowid, parent table)`` per broken row."""
        return [
            (str(t), int(r), str(p))
            for t, r, p, _fk in self._conn.execute("PRAGMA foreign_key_check")
        ]

    def row_pages(self, table: str) -> Iterator[list[tuple[Any, ...]]]:
        """The raw rows of ``scenarios``, ``completions`` or ``reviews``, in rowid pages
        (``rowid`` first, then the columns in the order of the table)."""
        sql = _ROW_QUERIES[table]
        last = -(2**63)
        while True:
            rows = self._conn.execute(sql, (last, _PAGE)).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def review_state_gaps(self) -> tuple[int, int]:
        """Scenarios without a queue row, and queue rows without a scenario."""
        missing = self._conn.execute(
            "SELECT COUNT(*) FROM scenarios s WHERE NOT EXISTS "
            "(SELECT 1 FROM review_state q WHERE q.scenario_id = s.id)"
        ).fetchone()[0]
        orphans = self._conn.execute(
            "SELECT COUNT(*) FROM review_state q WHERE NOT EXISTS "
            "(SELECT 1 FROM scenarios s WHERE s.id = q.scenario_id)"
        ).fetchone()[0]
        return int(missing), int(orphans)

    def review_state_mismatches(
        self, limit: int = 100
    ) -> list[tuple[str, int, int, int, int, int]]:
        """Queue rows whose counts differ from fresh counts: ``(scenario_id, reviewers,
        claims, taken, reviewers counted, claims counted)`` (grouped once per table)."""
        rows = self._conn.execute(_REVIEW_STATE_MISMATCHES, (limit,)).fetchall()
        return [(str(r[0]), *(int(v) for v in r[1:])) for r in rows]  # type: ignore[misc]

    def backup_to(self, tmp: Path, shown: Path) -> int:
        """Copy the whole file into ``tmp`` with SQLite's online backup API (one snapshot),
        check the copy, and return its scenario count (``shown``: the name in messages).

        Raises:
            MaintenanceError: the copy fails its integrity check.
            sqlite3.DatabaseError: the copy could not be made.
        """
        dst = sqlite3.connect(tmp)
        try:
            # pages=-1: the whole database in one step, i.e. one read snapshot; a step-wise
            # copy would restart every time a reviewer commits.
            self._conn.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            lines = [str(r[0]) for r in dst.execute("PRAGMA integrity_check(5)")]
            if lines != ["ok"]:
                raise MaintenanceError(f"{shown}: the copy fails its check ({'; '.join(lines)})")
            return int(dst.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0])
        finally:
            dst.close()


__all__ = ["COUNTED_TABLES", "StoreFile"]
