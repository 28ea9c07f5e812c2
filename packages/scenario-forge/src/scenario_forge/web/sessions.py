"""Sessions of the web app: bound to the account, with an idle and an absolute limit.

The signed session cookie holds the reviewer's name, her account's session key
(:func:`scenario_forge.web.auth.session_key`), when she signed in (``issued``) and when she
last made a request (``seen``). Every request checks all four (:func:`session_problem`): the
account must still exist with the same key (sign-out, a password change and removal end every
session), the session must be younger than :attr:`SessionLimits.max_age_s` and used within
:attr:`SessionLimits.idle_s`. The cookie is signed with ``$SCENARIO_FORGE_SECRET``, which must
be at least 32 bytes and not a placeholder (:func:`check_secret`).

Example:
    >>> check_secret("x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    forge_export.errors.ForgeError: SCENARIO_FORGE_SECRET is 1 byte long: ...
"""

from __future__ import annotations

import hmac
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from forge_export import ForgeError

SECRET_ENV = "SCENARIO_FORGE_SECRET"
MIN_SECRET_BYTES = 32
MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_PLACEHOLDERS = (
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "mysecret",
    "secretkey",
    "supersecret",
    "placeholder",
    "example",
    "password",
    "insecure",
    "notsecret",
    "djangoinsecure",
)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts (``scenario-forge serve --session-hours / --idle-minutes``).

    Attributes:
        max_age_s: Seconds after sign-in when the session ends, used or not.
        idle_s: Seconds without a request after which the session ends.
    """

    max_age_s: float = 12 * 3600.0
    idle_s: float = 60 * 60.0


def check_secret(secret: str) -> str:
    """``secret`` when it is fit to sign session cookies.

    Raises:
        ForgeError: shorter than :data:`MIN_SECRET_BYTES`, a placeholder ("change-me...",
            "secret-key...") or too regular (fewer than 10 distinct characters); one line
            saying how to make a good one.
    """
    size = len(secret.encode())
    problem = None
    if size < MIN_SECRET_BYTES:
        problem = f"is {size} byte{'s' if size != 1 else ''} long (at least {MIN_SECRET_BYTES})"
    else:
        letters = "".join(c for c in secret.lower() if c.isalnum())
        if any(word in letters for word in _PLACEHOLDERS):
            problem = "is a well-known placeholder"
        elif len(set(secret)) < 10:
            problem = "is too regular (fewer than 10 different characters)"
    if problem:
        raise ForgeError(
            f"{SECRET_ENV} {problem}: it signs the session cookies; make a random one with "
            f"`export {SECRET_ENV}=$({MAKE_SECRET})`"
        )
    return secret


def begin(session: MutableMapping[str, Any], user: str, key: str, now: float, csrf: str) -> None:
    """Start a new session for ``user`` (everything of the old one goes)."""
    session.clear()
    session.update(user=user, key=key, issued=now, seen=now, csrf=csrf)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def expiry_problem(session: MutableMapping[str, Any], now: float, limits: SessionLimits) -> str:
    """Why the session's times end it ("" when they do not)."""
    issued, seen = _number(session.get("issued")), _number(session.get("seen"))
    if issued is None or seen is None:
        return "a session without times"
    if now - issued > limits.max_age_s:
        return f"older than {limits.max_age_s / 3600:g} h"
    if now - seen > limits.idle_s:
        return f"unused for more than {limits.idle_s / 60:g} min"
    return ""


def key_problem(session: MutableMapping[str, Any], current: str | None) -> str:
    """Why the account's current session key ends the session ("" when it matches)."""
    if current is None:
        return "the account no longer exists"
    given = session.get("key")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), current.encode()):
        return "the account's sessions were ended (sign-out or password change)"
    return ""
