"""PostgreSQL as a second store backend: a connection that speaks the store's SQLite dialect.

The store and the review code write SQL for SQLite (``?`` placeholders, ``INSERT OR IGNORE``,
``last_insert_rowid()``, ``cursor.lastrowid``). :class:`PgConnection` wraps a psycopg 3
connection and translates those few constructs, so every query of the store runs unchanged on
both backends. Integrity errors are raised as :class:`sqlite3.IntegrityError` (with the
PostgreSQL error chained), so the store's error handling is the same too.

Writes: :meth:`scenario_forge.store.ScenarioStore.transaction` starts a transaction and takes
one transaction-scoped advisory lock (the equivalent of SQLite's ``BEGIN IMMEDIATE``: writers
queue, nothing is lost); the review queue's claim transactions instead lock the one
``review_state`` row they hand out with ``FOR UPDATE SKIP LOCKED``, so reviewers claim in
parallel and never get the same slot.

Text columns use the ``"C"`` collation, so ``ORDER BY`` (ids, targets) gives the same order
as SQLite and exports are byte-identical across backends. PostgreSQL text cannot hold NUL
characters, which SQLite keeps (a model may well generate one): text with a NUL is stored with
a reversible escape (:func:`encode_text`) and read back as it was.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

STORE_LOCK_KEY = 0x5F0F0F01
"""The advisory lock every write transaction holds (one writer at a time, like SQLite)."""

_SERIAL_TABLES = ("reviews", "audit_log", "eval_verdicts")
_INSERT_RE = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


NUL_ESCAPE = "\ue000"
"""A private-use character: NUL is stored as ``NUL_ESCAPE + "0"`` and the escape itself as
``NUL_ESCAPE + "e"``; text with neither is stored unchanged."""


def encode_text(value: Any) -> Any:
    """``value`` as stored in PostgreSQL (text with NUL or :data:`NUL_ESCAPE` escaped)."""
    if isinstance(value, str) and ("\x00" in value or NUL_ESCAPE in value):
        return value.replace(NUL_ESCAPE, NUL_ESCAPE + "e").replace("\x00", NUL_ESCAPE + "0")
    return value


def decode_text(value: Any) -> Any:
    """The inverse of :func:`encode_text`."""
    if not isinstance(value, str) or NUL_ESCAPE not in value:
        return value
    head, *rest = value.split(NUL_ESCAPE)
    return head + "".join(("\x00" if p[:1] == "0" else NUL_ESCAPE) + p[1:] for p in rest)


def _row(row: Any) -> Any:
    if row is None or not any(type(v) is str and NUL_ESCAPE in v for v in row):
        return row
    return tuple(decode_text(v) for v in row)


def _params(params: Sequence[Any] | None) -> list[Any]:
    return [encode_text(v) for v in params or ()]


def redact(url: str) -> str:
    """The URL without its password, for messages and the audit log (the one rule of
    :func:`forge_export.redact.redact_location`)."""
    from forge_export.redact import redact_location

    return redact_location(url)


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, bool]:
    """SQLite-dialect SQL → psycopg SQL; also whether ``RETURNING id`` was appended.

    ``?`` outside string literals becomes ``%s``, a literal ``%`` becomes ``%%``,
    ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING`` and
    ``last_insert_rowid()`` becomes ``lastval()``.
    """
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    text = "".join(out)
    ignore = re.match(r"^\s*INSERT\s+OR\s+IGNORE\s+", text, re.IGNORECASE)
    if ignore:
        text = "INSERT " + text[ignore.end() :] + " ON CONFLICT DO NOTHING"
    text = text.replace("last_insert_rowid()", "lastval()")
    returning = False
    m = _INSERT_RE.match(text)
    if m and m.group(1).lower() in _SERIAL_TABLES and "RETURNING" not in text.upper():
        text += " RETURNING id"
        returning = True
    return text, returning


class PgCursor:
    """The part of :class:`sqlite3.Cursor` the store uses, over a psycopg cursor."""

    def __init__(self, cur: Any, returning: bool) -> None:
        self._cur = cur
        self.lastrowid: int | None = None
        if returning:
            row = cur.fetchone()
            self.lastrowid = int(row[0]) if row else None

    @property
    def rowcount(self) -> int:
        """Rows changed by the statement."""
        return int(self._cur.rowcount)

    @property
    def description(self) -> Any:
        """Column descriptions (``d[0]`` is the name)."""
        return self._cur.description

    def fetchone(self) -> Any:
        """The next row or ``None``."""
        return _row(self._cur.fetchone()) if self._cur.description else None

    def fetchall(self) -> list[Any]:
        """All remaining rows."""
        return [_row(r) for r in self._cur.fetchall()] if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg 3 connection with the ``execute`` interface of :class:`sqlite3.Connection`.

    It runs in autocommit mode: a statement outside ``BEGIN``/``COMMIT`` commits by itself,
    as with SQLite's ``isolation_level=None``.
    """

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self._conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        """Run one statement (SQLite dialect) and return its cursor."""
        text, returning = translate(sql)
        try:
            cur = self._conn.execute(text, _params(params))
        except self._psycopg.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc).strip()) from exc
        return PgCursor(cur, returning)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        text, returning = translate(sql)
        if returning:
            text = text[: -len(" RETURNING id")]
        try:
            with self._conn.cursor() as cur:
                cur.executemany(text, [_params(r) for r in rows])
        except self._psycopg.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc).strip()) from exc

    @property
    def broken(self) -> bool:
        """Whether the connection is lost (server restart, network): open a new one."""
        return bool(self._conn.broken or self._conn.closed)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (also an aborted one, which needs a ROLLBACK)."""
        status = self._conn.info.transaction_status
        return bool(status != self._psycopg.pq.TransactionStatus.IDLE)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def connect(url: str) -> PgConnection:
    """Open a connection to the store at ``url``.

    Raises:
        scenario_forge.store.StoreError: the server cannot be reached or refuses the login.
    """
    import psycopg

    from scenario_forge.store_errors import StoreError

    try:
        return PgConnection(url)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or ["no detail"])[0]
        raise StoreError(
            f"{redact(url)}: cannot connect to PostgreSQL ({first}); check the URL, that the "
            "server runs and that the database exists (createdb)"
        ) from None
