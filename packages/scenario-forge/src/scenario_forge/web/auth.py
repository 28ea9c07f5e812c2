"""Accounts of the web review app: scrypt password hashes in the store, and CSRF tokens.

Accounts live in the store's ``web_users`` table (migration 5), so every server on a shared
PostgreSQL store knows the same reviewers. Passwords are hashed with scrypt (a memory-hard
KDF from the standard library) and a random salt per account; a login compares in constant
time. Only an admin with access to the store creates accounts (``scenario-forge users add``).

Example:
    >>> add_user(store, "ana", "a long passphrase")  # doctest: +SKIP
    >>> check_login(store, "ana", "a long passphrase")  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from forge_export import ForgeError

from scenario_forge.review.decisions import AnswerError, check_reviewer
from scenario_forge.store import now_iso

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

MIN_PASSWORD = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


class AccountError(ForgeError):
    """An account that cannot be created or changed (bad name, short password, exists)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` of ``password`` (hex salt and hash)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` result (constant-time compare)."""
    try:
        kind, n, r, p, salt, want = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want) // 2,
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), want)


def add_user(store: ScenarioStore, name: str, password: str, *, replace: bool = False) -> str:
    """Create the account ``name`` (or with ``replace`` set a new password). Returns the name.

    Raises:
        AccountError: unusable name, a password shorter than :data:`MIN_PASSWORD`, or the
            account exists (without ``replace``).
    """
    try:
        name = check_reviewer(name)
    except AnswerError as exc:
        raise AccountError(str(exc).replace("--reviewer", "the account name")) from None
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters, please")
    hashed = hash_password(password)
    with store.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM web_users WHERE name = ?", (name,)).fetchone()
        if exists and not replace:
            raise AccountError(f"account {name!r} exists; use `users passwd {name}` to reset it")
        if exists:
            conn.execute("UPDATE web_users SET password_hash = ? WHERE name = ?", (hashed, name))
        else:
            conn.execute(
                "INSERT INTO web_users (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, hashed, now_iso()),
            )
        store.audit("passwd" if exists else "add", "web_user", name)
    return name


def remove_user(store: ScenarioStore, name: str) -> bool:
    """Delete an account (its reviews stay). Returns False when there was none."""
    with store.transaction() as conn:
        n = conn.execute("DELETE FROM web_users WHERE name = ?", (name,)).rowcount
        if n:
            store.audit("delete", "web_user", name)
    return bool(n)


def list_users(store: ScenarioStore) -> list[tuple[str, str]]:
    """``(name, created_at)`` of every account, by name."""
    rows = store.connection.execute("SELECT name, created_at FROM web_users ORDER BY name")
    return [(str(r[0]), str(r[1])) for r in rows]


def check_login(store: ScenarioStore, name: str, password: str) -> bool:
    """Whether ``name`` / ``password`` is a valid account (as slow for unknown names)."""
    row = store.connection.execute(
        "SELECT password_hash FROM web_users WHERE name = ?", (name,)
    ).fetchone()
    ok = verify_password(password, str(row[0]) if row else _DUMMY)
    return ok and row is not None


def new_csrf_token() -> str:
    """A random token for one session's forms."""
    return secrets.token_urlsafe(32)


def csrf_ok(expected: object, given: object) -> bool:
    """Whether a form's token matches the session's (constant time)."""
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), given.encode())
    )
