"""Sign-in throttling: failed sign-ins per account and per client address, with a growing lock.

Counts live in the store's ``web_login_failures`` table (migration 6), so every server on a
shared PostgreSQL store sees the same counts and a restart forgets nothing. An account may fail
:data:`ACCOUNT_FREE` times without delay, an address :data:`ADDRESS_FREE` times (several
reviewers may share one address, e.g. behind a proxy); each failure after that locks sign-in
for twice as long as the one before (1 s, 2 s, 4 s, ... up to :data:`MAX_LOCK_S`). While
locked, no password is checked, so the right one does not get in either. A count is forgotten
an hour (:data:`FORGET_AFTER_S`) after its last failure; a successful sign-in clears the
account's count (not the address's: one account of her own would otherwise let an attacker
reset it between guesses at others').

Example:
    >>> lock_seconds(4, ACCOUNT_FREE), lock_seconds(5, ACCOUNT_FREE), lock_seconds(7, ACCOUNT_FREE)
    (0.0, 1.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

ACCOUNT_FREE = 5
"""Failed sign-ins an account may have before each further one locks it."""
ADDRESS_FREE = 20
"""Failed sign-ins one client address may have before each further one locks it."""
MAX_LOCK_S = 900.0
"""The longest lock (15 minutes)."""
FORGET_AFTER_S = 3600.0
"""A count is dropped this long after its last failure."""


def account_key(name: str) -> str:
    """The throttle key of an account name (as typed, normalised when it can be)."""
    return "account:" + name[:200]


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return "address:" + address[:100]


def lock_seconds(failures: int, free: int) -> float:
    """How long sign-in is locked after the ``failures``-th failure."""
    if failures < free:
        return 0.0
    return float(min(2 ** min(failures - free, 30), MAX_LOCK_S))


def locked_for(store: ScenarioStore, keys: Sequence[str], now: float) -> float:
    """Seconds until sign-in is allowed again for all of ``keys`` (0: allowed now)."""
    return max(0.0, store.login_locked_until(keys) - now)


def record_failure(
    store: ScenarioStore, limits: Sequence[tuple[str, int]], now: float
) -> tuple[int, float]:
    """Count one failed sign-in for each ``(key, free failures)``.

    Returns:
        The account's failure count (the first key's) and the seconds sign-in is now locked.
    """
    counts: list[int] = []
    wait = 0.0
    with store.transaction():
        store.forget_login_failures(idle_before=now - FORGET_AFTER_S, now=now)
        for key, free in limits:
            failures = store.login_failures(key) + 1
            lock = lock_seconds(failures, free)
            store.set_login_failures(key, failures, now, now + lock)
            counts.append(failures)
            wait = max(wait, lock)
    return counts[0], wait


def clear(store: ScenarioStore, key: str) -> None:
    """Forget the failures of ``key`` (an account that signed in)."""
    with store.transaction():
        store.forget_login_failures(key=key)
