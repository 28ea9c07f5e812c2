"""Numbered schema migrations of the scenario store, recorded in ``PRAGMA user_version``.

The schema version of a store is the number of migrations applied to it. :data:`MIGRATIONS`
is an ordered list of small functions; migration ``n`` (1-based) turns a version ``n - 1``
store into a version ``n`` store. Add a migration by appending a function decorated with
``@migration``: never edit or reorder one that has shipped.

The idea comes from simonw/llm's ``migrations.py``; here the version lives in
``user_version`` (one integer in the file header) instead of a table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration (decorator)."""
    MIGRATIONS.append(fn)
    return fn


def latest_version() -> int:
    """The schema version this code writes: the number of known migrations."""
    return len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The ``user_version`` of the open database."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def apply_migrations(conn: sqlite3.Connection, start: int) -> int:
    """Run migrations ``start + 1 .. latest`` on ``conn`` (inside the caller's transaction).

    Returns:
        The new version.
    """
    for number, fn in enumerate(MIGRATIONS[start:], start=start + 1):
        fn(conn)
        # PRAGMA does not accept parameters; number is an int we computed.
        conn.execute(f"PRAGMA user_version = {int(number)}")
    return latest_version()


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Execute ``;``-separated DDL statements one by one.

    ``executescript`` would COMMIT the caller's transaction first; a migration must run inside
    it so that a failure leaves the store at its old version.
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    """Scenarios, completions, reviews, review claims and the audit log."""
    _run(
        conn,
        """
        CREATE TABLE scenarios (
            id TEXT PRIMARY KEY,
            evaluation_target TEXT NOT NULL,
            expected_behavior TEXT NOT NULL,
            group_id TEXT NOT NULL,
            source_kind TEXT NOT NULL,
            source_origin TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE completions (
            id TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            source TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'proposed',
            validated_by TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            reviewer TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 3),
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE review_claims (
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            reviewer TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (scenario_id, reviewer)
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_scenarios_target ON scenarios(evaluation_target);
        CREATE INDEX idx_scenarios_group ON scenarios(group_id);
        CREATE INDEX idx_scenarios_source ON scenarios(source_kind);
        CREATE INDEX idx_completions_scenario ON completions(scenario_id);
        CREATE INDEX idx_reviews_scenario ON reviews(scenario_id);
        CREATE INDEX idx_review_claims_expires ON review_claims(expires_at);
        CREATE INDEX idx_audit_entity ON audit_log(entity, entity_id);
        """,
    )
