"""The store's account tables: web reviewers' accounts and the sign-in throttle.

Part of :class:`scenario_forge.store.ScenarioStore` (a mixin it inherits), so the web app
(:mod:`scenario_forge.web.auth`, :mod:`scenario_forge.web.throttle`) decides *what* an
account or a lock means and holds no SQL. The statements are written once in the SQLite
dialect; a PostgreSQL store runs them through :mod:`scenario_forge.pg_backend`.

Writes are meant to run inside :meth:`ScenarioStore.transaction` (the caller opens it, so a
password change and its audit entry are one transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3


@dataclass(frozen=True)
class WebAccount:
    """One row of ``web_users``.

    Attributes:
        name: The stored (normalised) account name.
        password_hash: The scrypt hash (``scrypt$n$r$p$salt$hash``).
        created_at: ISO time of creation.
        session_key: The key every session of the account is bound to ("" on old rows).
        role: ``reviewer`` or ``lead``.
    """

    name: str
    password_hash: str
    created_at: str
    session_key: str
    role: str


class AccountTables:
    """Queries of ``web_users`` and ``web_login_failures``; mixed into the store."""

    _conn: sqlite3.Connection

    # ------------------------------------------------------------------ accounts

    def web_account(self, name: str) -> WebAccount | None:
        """The account stored under exactly ``name``, or None."""
        row = self._conn.execute(
            "SELECT name, password_hash, created_at, session_key, role FROM web_users "
            "WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        return WebAccount(*(str(v) if v is not None else "" for v in row))

    def web_accounts(self) -> list[WebAccount]:
        """Every account, by name."""
        rows = self._conn.execute(
            "SELECT name, password_hash, created_at, session_key, role FROM web_users ORDER BY name"
        ).fetchall()
        return [WebAccount(*(str(v) if v is not None else "" for v in r)) for r in rows]

    def insert_web_account(self, account: WebAccount) -> None:
        """Store a new account (the caller checked that the name is free)."""
        self._conn.execute(
            "INSERT INTO web_users (name, password_hash, created_at, session_key, role) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                account.name,
                account.password_hash,
                account.created_at,
                account.session_key,
                account.role,
            ),
        )

    def update_web_account(
        self,
        name: str,
        *,
        password_hash: str | None = None,
        session_key: str | None = None,
        role: str | None = None,
    ) -> bool:
        """Change the given fields of account ``name``. False when there is no such account."""
        fields = {"password_hash": password_hash, "session_key": session_key, "role": role}
        changed = {k: v for k, v in fields.items() if v is not None}
        if not changed:
            return self.web_account(name) is not None
        sets = ", ".join(f"{k} = ?" for k in changed)
        cur = self._conn.execute(
            f"UPDATE web_users SET {sets} WHERE name = ?", (*changed.values(), name)
        )
        return bool(cur.rowcount)

    def delete_web_account(self, name: str) -> bool:
        """Delete account ``name`` (its reviews stay). False when there was none."""
        return bool(self._conn.execute("DELETE FROM web_users WHERE name = ?", (name,)).rowcount)

    # ------------------------------------------------------------------ sign-in throttle

    def login_locked_until(self, keys: Sequence[str]) -> float:
        """The latest ``locked_until`` (epoch seconds) of ``keys``; 0 when none is locked."""
        if not keys:
            return 0.0
        marks = ",".join("?" for _ in keys)
        row = self._conn.execute(
            f"SELECT MAX(locked_until) FROM web_login_failures WHERE key IN ({marks})",
            tuple(keys),
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def login_failures(self, key: str) -> int:
        """Failed sign-ins counted for ``key`` (0: none)."""
        row = self._conn.execute(
            "SELECT failures FROM web_login_failures WHERE key = ?", (key,)
        ).fetchone()
        return int(row[0]) if row else 0

    def set_login_failures(self, key: str, failures: int, at: float, locked_until: float) -> None:
        """Store ``key``'s failure count, the time of the last one and its lock."""
        cur = self._conn.execute(
            "UPDATE web_login_failures SET failures = ?, last_at = ?, locked_until = ? "
            "WHERE key = ?",
            (failures, at, locked_until, key),
        )
        if not cur.rowcount:
            self._conn.execute(
                "INSERT INTO web_login_failures (key, failures, last_at, locked_until) "
                "VALUES (?, ?, ?, ?)",
                (key, failures, at, locked_until),
            )

    def forget_login_failures(
        self, *, key: str | None = None, idle_before: float | None = None, now: float = 0.0
    ) -> None:
        """Delete the failures of ``key``, or (``idle_before``) every entry whose last failure
        is older than that and whose lock has ended at ``now``."""
        if key is not None:
            self._conn.execute("DELETE FROM web_login_failures WHERE key = ?", (key,))
        if idle_before is not None:
            self._conn.execute(
                "DELETE FROM web_login_failures WHERE last_at < ? AND locked_until < ?",
                (idle_before, now),
            )
