"""Accounts of the web review app: names, scrypt password hashes, session keys, CSRF tokens.

Accounts live in the store's ``web_users`` table (migrations 5 and 6), so every server on a
shared PostgreSQL store knows the same reviewers. Passwords are hashed with scrypt (a
memory-hard KDF from the standard library) and a random salt per account; a login compares in
constant time. Only an admin with access to the store creates accounts
(``scenario-forge users add``).

Names are normalised (:func:`account_name`: NFKC, which includes NFC, then case-folded), so
``Ana``, ``ANA`` and ``ana`` are one account, and so are the composed and decomposed forms of
``José``. A name that mixes scripts (a Cyrillic ``а`` among Latin letters) is refused, and so
is one that looks like an existing account once look-alike letters of other scripts are read
as Latin ones (Cyrillic ``асе`` next to ``ace``).

Each account has a random *session key*; every session cookie carries it and is refused when
it no longer matches (:func:`session_key`). Signing out and a password change draw a new key
(:func:`end_sessions`), which ends every session of the account on every device; removing the
account removes its key, and an account made again under the same name gets a new one.

Example:
    >>> add_user(store, "Ana", "a long passphrase")  # doctest: +SKIP
    'ana'
    >>> check_login(store, "ANA", "a long passphrase")  # doctest: +SKIP
    'ana'
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import unicodedata
from typing import TYPE_CHECKING

from forge_export import ForgeError

from scenario_forge.review.decisions import AnswerError, check_reviewer
from scenario_forge.store import now_iso
from scenario_forge.store_accounts import WebAccount

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

MIN_PASSWORD = 10
ROLES = ("reviewer", "lead")
"""Account roles: a ``lead`` also settles disagreements (``/agreement``); migration 7."""
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32

# Letters of other scripts that look like a Latin letter (lower case, as names are folded).
# Not all of Unicode's confusables: the ones a reviewer's name could be spoofed with.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "\u0430": "a",
        "\u0441": "c",
        "\u0501": "d",
        "\u0435": "e",
        "\u04bb": "h",
        "\u0456": "i",
        "\u0458": "j",
        "\u04cf": "l",
        "\u043e": "o",
        "\u0440": "p",
        "\u051b": "q",
        "\u0455": "s",
        "\u0443": "y",
        "\u0445": "x",
        "\u051d": "w",
        "\u0475": "v",
        # Greek
        "\u03b1": "a",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "v",
        "\u03bf": "o",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u03c7": "x",
        "\u03b5": "e",
    }
)
# Scripts that mix in ordinary names (Japanese writes Kanji, Hiragana and Katakana together).
_SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "CJK": "CJK"}


class AccountError(ForgeError):
    """An account that cannot be created or changed (bad name, short password, exists)."""


def _script(char: str) -> str | None:
    """The script of a letter (first word of its Unicode name); None for digits and marks."""
    if not char.isalpha():
        return None
    word = unicodedata.name(char, "UNKNOWN").split(" ")[0]
    return _SCRIPT_GROUPS.get(word, word)


def account_name(name: str) -> str:
    """``name`` as an account name: stripped, NFKC-normalised and case-folded.

    Raises:
        AccountError: empty, too long, not printable, or mixing letters of several scripts.
    """
    if isinstance(name, str):  # casefold may leave text NFKC changes again
        name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    try:
        folded = check_reviewer(name)
    except AnswerError as exc:
        raise AccountError(
            str(exc)
            .replace("reviewer: ", "account name: ", 1)
            .replace("--reviewer", "the account name")
        ) from None
    scripts = sorted({s for s in map(_script, folded) if s})
    if len(scripts) > 1:
        raise AccountError(
            f"account name {folded!r} mixes {' and '.join(s.title() for s in scripts)} letters "
            "(a look-alike of another name?); write it in one script"
        )
    return folded


def _skeleton(name: str) -> str:
    """``name`` with look-alike letters of other scripts read as the Latin ones."""
    return name.translate(_LOOKALIKES)


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


def _new_key() -> str:
    return secrets.token_hex(16)


def _stored_name(store: ScenarioStore, name: str) -> str | None:
    """The stored account ``name`` means: its normalised form, or (an account made before names
    were normalised) the name as typed."""
    candidates = [name.strip()]
    with contextlib.suppress(AccountError):
        candidates.insert(0, account_name(name))
    for candidate in candidates:
        account = store.web_account(candidate)
        if account is not None:
            return account.name
    return None


def add_user(
    store: ScenarioStore,
    name: str,
    password: str,
    *,
    replace: bool = False,
    role: str = "reviewer",
) -> str:
    """Create the account ``name`` (or with ``replace`` set a new password). Returns the name.

    The name is normalised (:func:`account_name`). A new password draws a new session key, so
    every session of the account ends. ``role`` (one of :data:`ROLES`) is set for a new
    account; :func:`set_role` changes it.

    Raises:
        AccountError: unusable name, a name that looks like another account's, a password
            shorter than :data:`MIN_PASSWORD`, the account exists (without ``replace``), or
            an unknown role.
    """
    _check_role(role)
    existing = _stored_name(store, name) if replace else None
    name = existing or account_name(name)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters, please")
    hashed = hash_password(password)
    with store.transaction():
        exists = store.web_account(name) is not None
        if exists and not replace:
            raise AccountError(f"account {name!r} exists; use `users passwd {name}` to reset it")
        if exists:
            store.update_web_account(name, password_hash=hashed, session_key=_new_key())
        else:
            skeleton = _skeleton(name)
            for other in store.web_accounts():
                if _skeleton(other.name) == skeleton:
                    raise AccountError(
                        f"account name {name!r} looks like the account {other.name!r}; choose "
                        "another name"
                    )
            store.insert_web_account(WebAccount(name, hashed, now_iso(), _new_key(), role))
        store.audit("passwd" if exists else "add", "web_user", name)
    return name


def find_user(store: ScenarioStore, name: str) -> str | None:
    """The stored name of the account ``name`` means (any case or Unicode form), or None."""
    return _stored_name(store, name)


def remove_user(store: ScenarioStore, name: str) -> bool:
    """Delete an account (its reviews stay; its sessions end). False when there was none."""
    stored = _stored_name(store, name)
    if stored is None:
        return False
    with store.transaction():
        gone = store.delete_web_account(stored)
        if gone:
            store.audit("delete", "web_user", stored)
    return gone


def list_users(store: ScenarioStore) -> list[tuple[str, str]]:
    """``(name, created_at)`` of every account, by name."""
    return [(a.name, a.created_at) for a in store.web_accounts()]


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role {role[:40]!r}: use {' or '.join(ROLES)}")


def user_role(store: ScenarioStore, name: str) -> str | None:
    """The role of the account ``name`` (its stored name), or None when there is none."""
    account = store.web_account(name)
    return None if account is None else account.role


def set_role(store: ScenarioStore, name: str, role: str) -> str:
    """Give the account ``name`` the role ``role``; returns its stored name.

    Raises:
        AccountError: no such account, or an unknown role.
    """
    _check_role(role)
    stored = _stored_name(store, name)
    if stored is None:
        raise AccountError(f"no account {name!r}; create it with `users add`")
    with store.transaction():
        store.update_web_account(stored, role=role)
        store.audit("role", "web_user", stored, {"role": role})
    return stored


def list_roles(store: ScenarioStore) -> dict[str, str]:
    """Every account's role, by name."""
    return {a.name: a.role for a in store.web_accounts()}


def check_login(store: ScenarioStore, name: str, password: str) -> str | None:
    """The account's stored name when ``name`` / ``password`` are right, else None.

    As slow for an unknown name as for a known one (a dummy hash is checked).
    """
    stored = _stored_name(store, name)
    account = None if stored is None else store.web_account(stored)
    ok = verify_password(password, account.password_hash if account else _DUMMY)
    return stored if ok and account is not None else None


def session_key(store: ScenarioStore, name: str) -> str | None:
    """The account's current session key (None: no such account).

    An account whose key is empty (made by an older server) gets one now.
    """
    account = store.web_account(name)
    if account is None:
        return None
    if not account.session_key:
        return end_sessions(store, name)
    return account.session_key


def end_sessions(store: ScenarioStore, name: str) -> str | None:
    """Draw a new session key for ``name``: every session of the account ends. Returns it."""
    key = _new_key()
    with store.transaction():
        found = store.update_web_account(name, session_key=key)
    return key if found else None


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
