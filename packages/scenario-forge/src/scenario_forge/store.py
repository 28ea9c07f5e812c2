"""The scenario store: one SQLite file with scenarios, completions, reviews and an audit log.

The store is the single source of truth of scenario-forge. It is safe for several processes
at once (WAL journal, ``busy_timeout``, every write in a ``BEGIN IMMEDIATE`` transaction),
keeps every change in ``audit_log``, and upgrades older files with numbered migrations: a
SQLite file is backed up first and the upgrade announced on stderr; a PostgreSQL store, shared
by a team, is upgraded only on purpose (``ScenarioStore.open(url, upgrade=True)``, the
``scenario-forge migrate`` command), because every older client is locked out after it.

Example:
    >>> from forge_export import Scenario
    >>> store = ScenarioStore.open(tmp / "forge.db")  # doctest: +SKIP
    >>> store.add_scenarios([Scenario(prompt="hi", evaluation_target="x",
    ...                               success_criteria=["c"])])  # doctest: +SKIP
    AddResult(added=1, duplicates=0)

Storage is behind this one door: code outside the backend modules calls typed methods and
holds no SQL (``tests/test_store_door.py`` fails on SQL elsewhere). The review tables' queries
live in :mod:`scenario_forge.store_review` (a mixin of :class:`ScenarioStore`). Extending the
store means a new method that opens :meth:`ScenarioStore.transaction` and calls
:meth:`ScenarioStore.audit` for each change, and a new function in
:mod:`scenario_forge.migrations` (and :mod:`scenario_forge.pg_migrations`) for any new table or
column.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import Completion, Review, Scenario, aggregate_rating
from forge_export.cli_support import StoreLocation

from scenario_forge.migrations import apply_migrations, current_version, latest_version
from scenario_forge.pg_backend import STORE_LOCK_KEY, redact
from scenario_forge.store_accounts import AccountTables
from scenario_forge.store_errors import StoreError
from scenario_forge.store_review import ReviewTables

if TYPE_CHECKING:
    from forge_export.exporters.huggingface import ScenarioBundle

DEFAULT_DB = "forge.db"
DB_ENV = "SCENARIO_FORGE_DB"
ACTOR_ENV = "SCENARIO_FORGE_REVIEWER"
BUSY_TIMEOUT_MS = 30_000
PAGE_SIZE = 500
_TABLES = {
    "scenarios",
    "completions",
    "reviews",
    "review_claims",
    "audit_log",
    "web_users",
    "eval_verdicts",
    "web_login_failures",
}


def announce_on_stderr(line: str) -> None:
    """Print one line on stderr (how a store announces a schema upgrade by default)."""
    print(line, file=sys.stderr, flush=True)


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch ``conn`` to WAL. SQLite answers "database is locked" at once, without waiting
    for the busy timeout, when another connection is switching the same new file at that
    moment (concurrent first opens), so the switch is retried for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@dataclass(frozen=True)
class AddResult:
    """What an ``add_*`` call did: rows added and rows skipped because their id existed."""

    added: int
    duplicates: int


def default_db_path() -> Path:
    """``$SCENARIO_FORGE_DB`` if set, else ``./forge.db``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def default_location() -> str | Path:
    """``$SCENARIO_FORGE_DB`` (a file or a ``postgresql://`` URL), else ``./forge.db``."""
    env = os.environ.get(DB_ENV)
    if env and StoreLocation.is_postgres(env):
        return env
    return default_db_path()


def default_actor() -> str:
    """Who the audit log names for changes: ``$SCENARIO_FORGE_REVIEWER`` or the OS user."""
    env = os.environ.get(ACTOR_ENV)
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database (containers)
        return "unknown"


def now_iso() -> str:
    """Current UTC time as ISO 8601 text (how every time is stored)."""
    return datetime.now(UTC).isoformat()


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value) or None


class ScenarioStore(ReviewTables, AccountTables):
    """A scenario-forge store: one SQLite file, or a PostgreSQL database. Open it with :meth:`open`.

    Attributes:
        path: The database file (PostgreSQL: the URL without its password).
        actor: The name written to the audit log for changes made through this object.
        backend: ``"sqlite"`` or ``"postgresql"``.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, actor: str) -> None:
        self._conn = conn
        self.path = path
        self.actor = actor
        self.backend: str = getattr(conn, "backend", "sqlite")
        self._in_tx = False
        self._snapshots = 0
        self.created_now = False
        self.upgraded_from: int | None = None

    @property
    def is_postgres(self) -> bool:
        """Whether the store lives in PostgreSQL."""
        return self.backend == "postgresql"

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        create: bool = True,
        actor: str | None = None,
        upgrade: bool = False,
        announce: Callable[[str], None] = announce_on_stderr,
    ) -> ScenarioStore:
        """Open (and create or migrate) the store at ``path``.

        An older SQLite file is copied to ``<file>.bak-v<N>`` and upgraded, and ``announce``
        gets one line saying so first. An older PostgreSQL store is upgraded only with
        ``upgrade`` (``scenario-forge migrate``); a new, empty database is always set up.

        Args:
            path: The database file or a ``postgresql://user@host/db`` URL; ``None`` means
                ``$SCENARIO_FORGE_DB`` or ``./forge.db``.
            create: Create the file if missing; with ``False`` a missing file is an error.
            actor: Name for the audit log (default ``$SCENARIO_FORGE_REVIEWER`` / OS user).
            upgrade: Upgrade an older PostgreSQL store (SQLite files are upgraded anyway).
            announce: Receives the line that announces an upgrade (default: stderr).

        Raises:
            StoreError: the file is missing (``create=False``), is not a scenario-forge store,
                was written by a newer scenario-forge, or is an older PostgreSQL store and
                ``upgrade`` is not set.
        """
        location = path if path is not None else default_location()
        if StoreLocation.is_postgres(location):
            return cls._open_postgres(str(location), actor, upgrade, announce)
        p = Path(location)
        if p.is_dir():
            raise StoreError(f"{p}: is a folder; give the store file, e.g. {p / DEFAULT_DB}")
        if not p.exists():
            if not create:
                raise StoreError(f"{p}: no store here; create it with `scenario-forge init`")
            if not p.parent.exists():
                p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(
                p, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            _set_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "unable to open" in text or "readonly" in text or "read-only" in text:
                raise StoreError(
                    f"{p}: the store cannot be opened for writing ({text}): the file or its "
                    "folder is read-only or not yours (SQLite writes -wal/-shm files next to "
                    "it); make both writable, or copy the store somewhere writable"
                ) from exc
            raise StoreError(f"{p}: not a SQLite database ({exc}); check the --db path") from exc
        store = cls(conn, p, actor or default_actor())
        try:
            store._migrate(upgrade=True, announce=announce)
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _open_postgres(
        cls, url: str, actor: str | None, upgrade: bool, announce: Callable[[str], None]
    ) -> ScenarioStore:
        from scenario_forge.pg_backend import connect

        conn = connect(url)
        store = cls(conn, redact(url), actor or default_actor())  # type: ignore[arg-type]
        try:
            store._migrate(upgrade=upgrade, announce=announce)
        except BaseException:
            conn.close()
            raise
        return store

    def _migrate(self, *, upgrade: bool, announce: Callable[[str], None]) -> None:
        latest = latest_version()
        version = current_version(self._conn)
        if version > latest:
            raise StoreError(
                f"{self.path}: store schema version {version} is newer than this "
                f"scenario-forge supports ({latest}); upgrade scenario-forge"
            )
        if version == latest:
            return
        self.created_now = version == 0
        if version == 0 and self.is_postgres:
            from scenario_forge.pg_migrations import pg_user_tables

            tables = pg_user_tables(self._conn) - {"forge_schema"}
            if tables:
                raise StoreError(
                    f"{self.path}: a PostgreSQL database that is not a scenario-forge store "
                    f"(tables: {', '.join(sorted(tables))}); create an empty one (createdb)"
                )
        elif version == 0:
            tables = {
                r[0]
                for r in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            }
            if tables and not tables <= _TABLES:
                raise StoreError(
                    f"{self.path}: a SQLite file that is not a scenario-forge store "
                    f"(tables: {', '.join(sorted(tables))}); choose another --db path"
                )
        elif self.is_postgres:  # shared by a team: only on purpose; one transaction
            if not upgrade:
                raise StoreError(
                    f"{self.path}: store schema version {version} is older than this "
                    f"scenario-forge's {latest}; a shared store is upgraded on purpose, once: "
                    "run `scenario-forge migrate` with the same --db (older scenario-forge "
                    "versions cannot open it afterwards)"
                )
            announce(
                f"Upgrading store {self.path} from schema version {version} to {latest} "
                "(one transaction; older scenario-forge versions cannot open it afterwards)"
            )
        else:
            backup = self._backup_path(version)
            announce(
                f"Upgrading store {self.path} from schema version {version} to {latest}; "
                f"the old file is copied to {backup} first"
            )
            self._backup(version)
        try:
            with self.transaction() as conn:
                # Re-read inside the write lock: another process may have migrated meanwhile.
                version = current_version(conn)
                if version < latest:
                    apply_migrations(conn, version)
                    self.audit("migrate", "store", str(self.path), {"from": version, "to": latest})
                    if version > 0:
                        self.upgraded_from = version
        except sqlite3.OperationalError as exc:
            if "already exists" not in str(exc):
                raise
            raise StoreError(
                f"{self.path}: the store says schema version {version} but already holds "
                f"tables of a later version ({exc}); its version number was changed by hand. "
                "Restore the store from a backup (the file was not changed)"
            ) from None

    def _backup_path(self, version: int) -> Path:
        return self.path.with_name(f"{self.path.name}.bak-v{version}")

    def _backup(self, version: int) -> Path:
        target = self._backup_path(version)
        if target.exists():
            return target
        tmp = target.with_name(target.name + ".tmp")
        dest = sqlite3.connect(tmp)
        try:
            self._conn.backup(dest)
        finally:
            dest.close()
        shutil.move(tmp, target)
        return target

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return current_version(self._conn)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> ScenarioStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing helpers

    @contextmanager
    def transaction(self, *, shared: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one.

        Everything in the block commits together or not at all. Other processes wait (up to
        the busy timeout) instead of failing. On PostgreSQL the transaction takes one advisory
        lock, so writers queue as they do on SQLite.

        Args:
            shared: PostgreSQL only: skip the store-wide lock; the block must lock the rows it
                changes itself (the review queue's ``FOR UPDATE SKIP LOCKED`` claims).
        """
        if self._in_tx:
            yield self._conn
            return
        if self._snapshots:
            raise StoreError(f"{self.path}: cannot write inside a read snapshot")
        try:
            if self.is_postgres:
                self._conn.execute("BEGIN")
                if not shared:
                    self._conn.execute("SELECT pg_advisory_xact_lock(?)", (STORE_LOCK_KEY,))
            else:
                self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot lock the store for writing ({exc})") from exc
        self._in_tx = True
        try:
            yield self._conn
        except BaseException:
            # SQLite may have rolled back itself (disk full, I/O error): a second ROLLBACK
            # would raise "cannot rollback - no transaction is active" over the real error
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._in_tx = False

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold one read transaction: every read in the block sees one state of the store.

        Writers in other processes go on (WAL); this connection sees none of their changes
        until the block ends, so an export or a report made inside matches a state the store
        really had. Nested calls join the outer snapshot; writing inside one is refused.

        Example:
            >>> with store.snapshot():  # doctest: +SKIP
            ...     n = store.count_scenarios()
            ...     rows = list(store.iter_scenarios())  # exactly n, whatever others import
        """
        if self._snapshots or self._in_tx:
            self._snapshots += 1
            try:
                yield
            finally:
                self._snapshots -= 1
            return
        if self.is_postgres:
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            self._conn.execute("BEGIN DEFERRED")
        self._snapshots = 1
        try:
            # WAL: the snapshot is taken at the first read of the transaction, so read now
            self._conn.execute(
                "SELECT 1" if self.is_postgres else "SELECT COUNT(*) FROM sqlite_master"
            ).fetchone()
            yield
        finally:
            self._snapshots = 0
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def audit(
        self, action: str, entity: str, entity_id: str, details: dict[str, Any] | None = None
    ) -> None:
        """Record one change in the audit log (call inside :meth:`transaction`)."""
        self._audit_many([(action, entity, entity_id, details or {})])

    def _audit_many(self, rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
        at = now_iso()
        self._conn.executemany(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, details) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (at, self.actor, a, e, i, json.dumps(d, ensure_ascii=False, default=str))
                for a, e, i, d in rows
            ],
        )

    # ------------------------------------------------------------------ scenarios

    def add_scenarios(self, scenarios: Iterable[Scenario]) -> AddResult:
        """Add scenarios in one transaction, skipping ids already stored (or repeated).

        Returns:
            How many were added and how many were duplicates.
        """
        added = duplicates = 0
        with self.transaction() as conn:
            for s in scenarios:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO scenarios (id, evaluation_target, expected_behavior, "
                    "group_id, source_kind, source_origin, created_at, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.id,
                        s.evaluation_target,
                        s.expected_behavior,
                        s.group_id,
                        s.source.kind,
                        s.source.origin,
                        _iso(s.source.created_at),
                        s.model_dump_json(),
                    ),
                )
                if cur.rowcount:
                    added += 1
                    self.audit(
                        "add",
                        "scenario",
                        s.id,
                        {"target": s.evaluation_target, "source": s.source.kind},
                    )
                else:
                    duplicates += 1
        return AddResult(added, duplicates)

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` that are stored scenarios."""
        found: set[str] = set()
        batch: list[str] = []
        for i in ids:
            batch.append(i)
            if len(batch) >= PAGE_SIZE:
                found |= self._existing(batch)
                batch = []
        if batch:
            found |= self._existing(batch)
        return found

    def _existing(self, ids: list[str]) -> set[str]:
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(f"SELECT id FROM scenarios WHERE id IN ({marks})", ids)
        return {r[0] for r in rows}

    def get_scenario(self, scenario_id: str) -> Scenario | None:
        """The scenario with this exact id, or ``None``."""
        row = self._conn.execute(
            "SELECT data FROM scenarios WHERE id = ?", (scenario_id,)
        ).fetchone()
        return Scenario.model_validate_json(row[0]) if row else None

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one scenario whose id starts with ``prefix``.

        Raises:
            StoreError: no scenario or several match.
        """
        prefix = prefix.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise StoreError(f"{prefix!r} is not a scenario id (ids are hex, see `list`)")
        rows = self._conn.execute(
            "SELECT id FROM scenarios WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
            (prefix, prefix + "g"),
        ).fetchall()
        if not rows:
            raise StoreError(f"no scenario id starts with {prefix!r} in {self.path}")
        if len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:2])
            raise StoreError(
                f"id prefix {prefix!r} is ambiguous ({shown}, ...); give more characters"
            )
        return str(rows[0][0])

    def _where(
        self,
        target: str | Sequence[str] | None,
        source: str | Sequence[str] | None,
        expected_behavior: str | Sequence[str] | None,
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("evaluation_target", target),
            ("source_kind", source),
            ("expected_behavior", expected_behavior),
        ):
            values = _as_list(value)
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        return clauses, params

    def iter_scenarios(
        self,
        *,
        target: str | Sequence[str] | None = None,
        source: str | Sequence[str] | None = None,
        expected_behavior: str | Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Iterator[Scenario]:
        """Scenarios ordered by id, filtered, streamed page by page.

        Args:
            target: Evaluation target(s) to keep.
            source: Provenance kind(s) to keep (template, llm, import, human, report).
            expected_behavior: refuse / safe_complete / comply (one or several).
            limit: Stop after this many.
        """
        for _sid, data in self._iter_rows(target, source, expected_behavior, limit):
            yield Scenario.model_validate_json(data)

    def _iter_rows(
        self,
        target: str | Sequence[str] | None,
        source: str | Sequence[str] | None,
        expected_behavior: str | Sequence[str] | None,
        limit: int | None,
    ) -> Iterator[tuple[str, str]]:
        clauses, params = self._where(target, source, expected_behavior)
        last = ""
        left = limit
        while left is None or left > 0:
            page = PAGE_SIZE if left is None else min(PAGE_SIZE, left)
            where = " AND ".join([*clauses, "id > ?"])
            rows = self._conn.execute(
                f"SELECT id, data FROM scenarios WHERE {where} ORDER BY id LIMIT ?",
                [*params, last, page],
            ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]
            if left is not None:
                left -= len(rows)
            if len(rows) < page:
                return

    def targets(self) -> set[str]:
        """The evaluation targets of the stored scenarios."""
        rows = self._conn.execute("SELECT DISTINCT evaluation_target FROM scenarios")
        return {str(r[0]) for r in rows}

    def count_scenarios(
        self,
        *,
        target: str | Sequence[str] | None = None,
        source: str | Sequence[str] | None = None,
        expected_behavior: str | Sequence[str] | None = None,
    ) -> int:
        """How many scenarios match the filters."""
        clauses, params = self._where(target, source, expected_behavior)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return int(
            self._conn.execute(f"SELECT COUNT(*) FROM scenarios {where}", params).fetchone()[0]
        )

    # ------------------------------------------------------------------ completions

    def add_completions(self, completions: Iterable[Completion]) -> AddResult:
        """Add completions in one transaction, skipping ids already stored.

        Raises:
            StoreError: a completion names a scenario that is not in the store.
        """
        added = duplicates = 0
        with self.transaction() as conn:
            for c in completions:
                try:
                    cur = conn.execute(
                        "INSERT OR IGNORE INTO completions (id, scenario_id, text, source, origin, "
                        "status, validated_by, created_at, metadata) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            c.id,
                            c.scenario_id,
                            c.text,
                            c.source,
                            c.origin,
                            c.status,
                            json.dumps(c.validated_by),
                            _iso(c.created_at),
                            json.dumps(c.metadata, ensure_ascii=False, default=str),
                        ),
                    )
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"completion {c.id}: scenario {c.scenario_id!r} is not in {self.path}"
                    ) from exc
                if cur.rowcount:
                    added += 1
                    self.audit(
                        "add",
                        "completion",
                        c.id,
                        {"scenario_id": c.scenario_id, "source": c.source, "origin": c.origin},
                    )
                else:
                    duplicates += 1
        return AddResult(added, duplicates)

    def delete_completions(self, completion_ids: Iterable[str]) -> int:
        """Delete completions by id (audited). Returns how many were deleted."""
        deleted = 0
        with self.transaction() as conn:
            for cid in completion_ids:
                row = conn.execute(
                    "SELECT scenario_id, source, origin, status FROM completions WHERE id = ?",
                    (cid,),
                ).fetchone()
                if row is None:
                    continue
                conn.execute("DELETE FROM completions WHERE id = ?", (cid,))
                deleted += 1
                self.audit(
                    "delete",
                    "completion",
                    cid,
                    {"scenario_id": row[0], "source": row[1], "origin": row[2], "status": row[3]},
                )
        return deleted

    def update_completion_status(
        self, completion_id: str, status: str, reviewer: str | None = None
    ) -> Completion:
        """Set a completion's status; ``accepted`` adds ``reviewer`` to ``validated_by``.

        ``rejected`` removes ``reviewer`` from ``validated_by``. Returns the updated completion.

        Raises:
            StoreError: unknown completion id or status.
        """
        if status not in ("proposed", "accepted", "rejected"):
            raise StoreError(f"status {status!r} is not one of proposed, accepted, rejected")
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT status, validated_by FROM completions WHERE id = ?", (completion_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no completion {completion_id!r} in {self.path}")
            validated: list[str] = json.loads(row[1])
            who = reviewer or self.actor
            if status == "accepted" and who not in validated:
                validated.append(who)
            elif status == "rejected" and who in validated:
                validated.remove(who)
            conn.execute(
                "UPDATE completions SET status = ?, validated_by = ? WHERE id = ?",
                (status, json.dumps(validated), completion_id),
            )
            self.audit(
                "update_status",
                "completion",
                completion_id,
                {"from": row[0], "to": status, "reviewer": who},
            )
        got = self.get_completion(completion_id)
        assert got is not None
        return got

    def get_completion(self, completion_id: str) -> Completion | None:
        """The completion with this id, or ``None``."""
        row = self._conn.execute(
            f"SELECT {_COMPLETION_COLS} FROM completions WHERE id = ?", (completion_id,)
        ).fetchone()
        return _completion(row) if row else None

    def completions_for(self, scenario_id: str) -> list[Completion]:
        """Completions of one scenario, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_COMPLETION_COLS} FROM completions WHERE scenario_id = ? "
            "ORDER BY created_at, id",
            (scenario_id,),
        )
        return [_completion(r) for r in rows]

    # ------------------------------------------------------------------ reviews

    def add_reviews(self, reviews: Iterable[Review]) -> list[int]:
        """Add reviews in one transaction. Returns their row ids.

        Raises:
            StoreError: a review names a scenario that is not in the store.
        """
        ids: list[int] = []
        with self.transaction() as conn:
            for r in reviews:
                try:
                    cur = conn.execute(
                        "INSERT INTO reviews (scenario_id, reviewer, rating, note, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (r.scenario_id, r.reviewer, r.rating, r.note, _iso(r.created_at)),
                    )
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"review by {r.reviewer}: scenario {r.scenario_id!r} is not in {self.path}"
                    ) from exc
                rid = int(cur.lastrowid or 0)
                ids.append(rid)
                self.audit(
                    "add",
                    "review",
                    str(rid),
                    {"scenario_id": r.scenario_id, "reviewer": r.reviewer, "rating": r.rating},
                )
        return ids

    def add_review(self, review: Review) -> int:
        """Add one review; returns its row id."""
        return self.add_reviews([review])[0]

    def reviews_for(self, scenario_id: str) -> list[Review]:
        """Reviews of one scenario, oldest first."""
        rows = self._conn.execute(
            "SELECT scenario_id, reviewer, rating, note, created_at FROM reviews "
            "WHERE scenario_id = ? ORDER BY created_at, id",
            (scenario_id,),
        )
        return [_review(r) for r in rows]

    # ------------------------------------------------------------------ bundles / export

    def iter_bundles(self, targets: Sequence[str] | None = None) -> Iterator[ScenarioBundle]:
        """Each scenario with its completions and reviews, ordered by id, streamed by page.

        Memory is bounded by the page size, not by the store size.
        """
        page: list[tuple[str, str]] = []
        for row in self._iter_rows(targets, None, None, None):
            page.append(row)
            if len(page) >= PAGE_SIZE:
                yield from self._bundles(page)
                page = []
        if page:
            yield from self._bundles(page)

    def _bundles(self, rows: list[tuple[str, str]]) -> Iterator[ScenarioBundle]:
        # Imported here: the exporter module pulls in pyarrow, which `--help` should not pay for.
        from forge_export.exporters.huggingface import ScenarioBundle

        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        comps: dict[str, list[Completion]] = {}
        for r in self._conn.execute(
            f"SELECT {_COMPLETION_COLS} FROM completions WHERE scenario_id IN ({marks}) "
            "ORDER BY created_at, id",
            ids,
        ):
            c = _completion(r)
            comps.setdefault(c.scenario_id, []).append(c)
        revs: dict[str, list[Review]] = {}
        for r in self._conn.execute(
            "SELECT scenario_id, reviewer, rating, note, created_at FROM reviews "
            f"WHERE scenario_id IN ({marks}) ORDER BY created_at, id",
            ids,
        ):
            rv = _review(r)
            revs.setdefault(rv.scenario_id, []).append(rv)
        settled = self.adjudications(ids)
        for sid, data in rows:
            done = settled.get(sid)
            yield ScenarioBundle(
                scenario=Scenario.model_validate_json(data),
                completions=tuple(comps.get(sid, ())),
                reviews=tuple(revs.get(sid, ())),
                settled_rating=None if done is None else float(done.rating),
                settled_by=None if done is None else done.lead,
            )

    # ------------------------------------------------------------------ stats / audit

    def stats(self) -> dict[str, Any]:
        """Counts for people and scripts.

        Returns:
            ``scenarios`` (total), ``by_target``, ``by_expected_behavior``, ``by_source``,
            ``completions`` (total), ``completions_by_status``, ``completions_by_source``,
            ``reviews`` (total), ``reviews_by_rating``, ``scenarios_by_rating`` (aggregate
            rating rounded down, or ``unreviewed``), ``schema_version``.
        """
        q = self._conn.execute

        def grouped(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in q(sql)}

        by_rating: dict[str, int] = {}
        current: str | None = None
        bucket: list[Review] = []
        reviewed = 0

        def flush() -> None:
            rating = aggregate_rating(bucket)
            if rating is not None:
                key = str(int(rating))
                by_rating[key] = by_rating.get(key, 0) + 1

        for r in q(
            "SELECT scenario_id, reviewer, rating, note, created_at FROM reviews "
            "ORDER BY scenario_id"
        ):
            rv = _review(r)
            if rv.scenario_id != current:
                if bucket:
                    flush()
                    reviewed += 1
                current, bucket = rv.scenario_id, []
            bucket.append(rv)
        if bucket:
            flush()
            reviewed += 1
        total = int(q("SELECT COUNT(*) FROM scenarios").fetchone()[0])
        by_rating["unreviewed"] = total - reviewed
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "scenarios": total,
            "by_target": grouped(
                "SELECT evaluation_target, COUNT(*) FROM scenarios GROUP BY 1 ORDER BY 1"
            ),
            "by_expected_behavior": grouped(
                "SELECT expected_behavior, COUNT(*) FROM scenarios GROUP BY 1 ORDER BY 1"
            ),
            "by_source": grouped(
                "SELECT source_kind, COUNT(*) FROM scenarios GROUP BY 1 ORDER BY 1"
            ),
            "completions": int(q("SELECT COUNT(*) FROM completions").fetchone()[0]),
            "completions_by_status": grouped(
                "SELECT status, COUNT(*) FROM completions GROUP BY 1 ORDER BY 1"
            ),
            "completions_by_source": grouped(
                "SELECT source, COUNT(*) FROM completions GROUP BY 1 ORDER BY 1"
            ),
            "reviews": int(q("SELECT COUNT(*) FROM reviews").fetchone()[0]),
            "reviews_by_rating": grouped(
                "SELECT rating, COUNT(*) FROM reviews GROUP BY 1 ORDER BY 1"
            ),
            "scenarios_by_rating": dict(sorted(by_rating.items())),
        }

    def audit_entries(
        self, *, entity: str | None = None, entity_id: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Audit log rows (oldest first), optionally for one entity kind or id."""
        clauses: list[str] = []
        params: list[Any] = []
        if entity:
            clauses.append("entity = ?")
            params.append(entity)
        if entity_id:
            clauses.append("entity_id = ?")
            params.append(entity_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        lim = f"LIMIT {int(limit)}" if limit else ""
        rows = self._conn.execute(
            f"SELECT id, at, actor, action, entity, entity_id, details FROM audit_log {where} "
            f"ORDER BY id {lim}",
            params,
        )
        return [
            {
                "id": r[0],
                "at": r[1],
                "actor": r[2],
                "action": r[3],
                "entity": r[4],
                "entity_id": r[5],
                "details": json.loads(r[6]),
            }
            for r in rows
        ]

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for read queries by extensions (write via :meth:`transaction`)."""
        return self._conn

    # ------------------------------------------------------------------ adjudication

    def latest_ratings(self, targets: Sequence[str] | None = None) -> list[RatedScenario]:
        """Each reviewed scenario's latest rating per reviewer (with notes), by scenario id.

        Args:
            targets: Only scenarios of these evaluation targets (all when ``None``).
        """
        where, params = "", list(targets or ())
        if targets is not None:
            where = f"WHERE s.evaluation_target IN ({','.join('?' * len(params))}) "
        out: dict[str, RatedScenario] = {}
        for sid, target, reviewer, rating, note in self._conn.execute(
            "SELECT r.scenario_id, s.evaluation_target, r.reviewer, r.rating, r.note "
            f"FROM reviews r JOIN scenarios s ON s.id = r.scenario_id {where}"
            "ORDER BY r.scenario_id, r.created_at, r.id",
            params,
        ):
            unit = out.setdefault(str(sid), RatedScenario(str(sid), str(target), {}, {}))
            unit.ratings[str(reviewer)] = int(rating)
            unit.notes[str(reviewer)] = str(note or "")
        return list(out.values())

    def add_adjudication(
        self, scenario_id: str, rating: int, lead: str, note: str, ratings: dict[str, int]
    ) -> int:
        """Store a lead's settled rating of a scenario (the latest one is in force); returns
        its id. ``ratings`` are the reviewers' latest ratings it settles (provenance)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO adjudications (scenario_id, rating, lead, note, ratings, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (scenario_id, int(rating), lead, note, json.dumps(ratings), now_iso()),
            )
            aid = int(cur.lastrowid or 0)
            self.audit(
                "settle",
                "scenario",
                scenario_id,
                {"rating": int(rating), "lead": lead, "ratings": ratings, "adjudication": aid},
            )
        return aid

    def adjudications(self, scenario_ids: Sequence[str] | None = None) -> dict[str, Settlement]:
        """The settled rating in force per scenario (the latest adjudication of each)."""
        where, params = "", list(scenario_ids or ())
        if scenario_ids is not None:
            if not params:
                return {}
            where = f"WHERE scenario_id IN ({','.join('?' * len(params))}) "
        rows = self._conn.execute(
            "SELECT id, scenario_id, rating, lead, note, ratings, created_at FROM adjudications "
            f"{where}ORDER BY id",
            params,
        )
        return {
            str(r[1]): Settlement(
                id=int(r[0]),
                scenario_id=str(r[1]),
                rating=int(r[2]),
                lead=str(r[3]),
                note=str(r[4]),
                ratings={str(k): int(v) for k, v in json.loads(r[5]).items()},
                created_at=str(r[6]),
            )
            for r in rows
        }


_COMPLETION_COLS = (
    "id, scenario_id, text, source, origin, status, validated_by, created_at, metadata"
)


def _completion(row: Sequence[Any]) -> Completion:
    return Completion(
        id=row[0],
        scenario_id=row[1],
        text=row[2],
        source=row[3],
        origin=row[4],
        status=row[5],
        validated_by=json.loads(row[6]),
        created_at=datetime.fromisoformat(row[7]),
        metadata=json.loads(row[8]),
    )


def _review(row: Sequence[Any]) -> Review:
    return Review(
        scenario_id=row[0],
        reviewer=row[1],
        rating=row[2],
        note=row[3],
        created_at=datetime.fromisoformat(row[4]),
    )


@dataclass
class RatedScenario:
    """A reviewed scenario: its target and each reviewer's latest rating and note."""

    scenario_id: str
    evaluation_target: str
    ratings: dict[str, int]
    notes: dict[str, str]


@dataclass(frozen=True)
class Settlement:
    """A lead's settled rating of a scenario (table ``adjudications``, migration 7).

    Attributes:
        id: Row id.
        scenario_id: The scenario.
        rating: The settled rating (0-3): what exports and the loop use.
        lead: Who settled it.
        note: Why.
        ratings: The reviewers' latest ratings when it was settled (provenance).
        created_at: When (ISO 8601, UTC).
    """

    id: int
    scenario_id: str
    rating: int
    lead: str
    note: str
    ratings: dict[str, int]
    created_at: str
