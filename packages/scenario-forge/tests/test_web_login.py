"""Signing in to the web app: throttled per account and per address, a new CSRF token after
each failure, every event logged; account names normalised and look-alikes refused.

The clock the app reads is passed in, so lockouts are tested without waiting.
"""

from __future__ import annotations

import logging
import re
import secrets

import pytest
from click.testing import CliRunner
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import AccountError, add_user, list_users
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
SECRET = secrets.token_urlsafe(32)


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def client(store: ScenarioStore, clock: Clock, address: str = "198.51.100.7") -> TestClient:
    location = str(getattr(store.connection, "url", store.path))
    app = create_app(location, secret_key=SECRET, clock=clock)
    return TestClient(app, follow_redirects=False, client=(address, 40000))


def token(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def attempt(c: TestClient, name: str, password: str, csrf: str | None = None) -> tuple[int, str]:
    """(status, page) of one sign-in with the token the login page shows."""
    r = c.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf or token(c.get("/login").text)},
    )
    return r.status_code, r.text


def test_wrong_passwords_lock_the_account_with_a_growing_delay(store: ScenarioStore) -> None:
    add_user(store, "ana", PASSWORD)
    clock = Clock()
    c = client(store, clock)
    for _ in range(4):
        assert attempt(c, "ana", "wrong password")[0] == 401
    status, page = attempt(c, "ana", "wrong password")  # the fifth: locked for a while
    assert status == 401 and "wait 1 second" in page
    # while locked even the right password is refused, with a clear message
    r = c.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token(page)})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert r.headers["retry-after"] == "1"
    delays = []
    for _ in range(4):
        clock.now += 20  # past the lock, well within the hour that keeps the count
        status, page = attempt(c, "ana", "wrong password")
        assert status == 401
        delays.append(int(re.search(r"wait (\d+) second", page).group(1)))  # type: ignore[union-attr]
    assert delays == [2, 4, 8, 16]
    # another browser, another address: the account itself is locked
    other = client(store, clock, address="203.0.113.9")
    assert attempt(other, "ana", PASSWORD)[0] == 429
    clock.now += 16
    assert attempt(other, "ana", PASSWORD)[0] == 303
    # a success clears the account's count
    assert attempt(client(store, clock), "ana", "wrong password")[0] == 401
    assert attempt(client(store, clock), "ana", PASSWORD)[0] == 303


def test_an_admin_unlocks_an_account(store: ScenarioStore) -> None:
    add_user(store, "ana", PASSWORD)
    clock = Clock()
    for i in range(10):  # from ten addresses: only the account is locked
        attempt(client(store, clock, address=f"203.0.113.{i}"), "ana", "wrong password")
    assert attempt(client(store, clock, address="203.0.113.99"), "ana", PASSWORD)[0] == 429
    location = str(getattr(store.connection, "url", store.path))
    r = CliRunner().invoke(main, ["users", "unlock", "ANA", "--db", location])
    assert r.exit_code == 0 and "Account ana unlocked." in r.output
    assert attempt(client(store, clock, address="203.0.113.99"), "ana", PASSWORD)[0] == 303
    assert "unlock" in [e["action"] for e in store.audit_entries(entity="web_user")]


def test_one_address_trying_many_accounts_is_locked(store: ScenarioStore) -> None:
    add_user(store, "ana", PASSWORD)
    clock = Clock()
    c = client(store, clock)
    for i in range(20):
        assert attempt(c, f"guess{i}", "wrong password")[0] == 401
    # the address is locked now, even for an account it never tried
    assert attempt(c, "ana", PASSWORD)[0] == 429
    assert attempt(client(store, clock, address="203.0.113.10"), "ana", PASSWORD)[0] == 303


def test_the_lock_holds_across_server_processes(store: ScenarioStore) -> None:
    add_user(store, "ana", PASSWORD)
    clock = Clock()
    first, second = client(store, clock), client(store, clock, address="203.0.113.11")
    for _ in range(5):
        attempt(first, "ana", "wrong password")
    assert attempt(second, "ana", PASSWORD)[0] == 429


def test_each_failure_gets_a_new_csrf_token_and_the_old_one_dies(store: ScenarioStore) -> None:
    add_user(store, "ana", PASSWORD)
    c = client(store, Clock())
    first = token(c.get("/login").text)
    status, page = attempt(c, "ana", "wrong password", first)
    assert status == 401 and "Wrong name or password" in page
    second = token(page)
    assert second != first
    assert attempt(c, "ana", PASSWORD, first)[0] == 403
    assert attempt(c, "ana", PASSWORD, second)[0] == 303


def test_sign_in_events_are_logged(store: ScenarioStore, caplog: pytest.LogCaptureFixture) -> None:
    add_user(store, "ana", PASSWORD)
    clock = Clock()
    c = client(store, clock)
    caplog.set_level(logging.INFO, logger="scenario_forge.web")
    for _ in range(5):
        attempt(c, "ana", "wrong password")
    attempt(c, "ana", PASSWORD)
    clock.now += 1
    attempt(c, "ana\x1b[2J", PASSWORD)  # control characters never reach the log raw
    attempt(c, "ana", PASSWORD)
    page = c.get("/review")
    c.post("/logout", data={"csrf": token(page.text)})
    text = caplog.text
    assert "sign-in failed for 'ana' from 198.51.100.7" in text
    assert "sign-in refused for 'ana' from 198.51.100.7: locked" in text
    assert "signed in: 'ana' from 198.51.100.7" in text
    assert "signed out: 'ana'" in text
    assert "\x1b" not in text
    actions = [e["action"] for e in store.audit_entries(entity="web_user")]
    assert actions.count("login_failed") == 6 and actions.count("login_locked") == 1
    assert "login" in actions and "logout" in actions


def test_account_names_are_normalised(store: ScenarioStore) -> None:
    assert add_user(store, "  Ana  ", PASSWORD) == "ana"
    decomposed, composed = "Jose\u0301", "Jos\u00e9"  # NFD and NFC of "José"
    assert add_user(store, decomposed, PASSWORD) == "jos\u00e9"
    with pytest.raises(AccountError, match="exists"):
        add_user(store, composed, PASSWORD)
    with pytest.raises(AccountError, match="exists"):
        add_user(store, "ANA", PASSWORD)
    assert [n for n, _ in list_users(store)] == ["ana", "jos\u00e9"]
    clock = Clock()
    for typed in ("ANA", "Ana", "ana"):
        assert attempt(client(store, clock), typed, PASSWORD)[0] == 303
    assert attempt(client(store, clock), composed.upper(), PASSWORD)[0] == 303


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("\u0430na", "mixes"),  # Cyrillic a + Latin na
        ("\u0430\u043d\u0430", None),  # all Cyrillic: fine on its own ...
    ],
)
def test_look_alike_names_are_refused(store: ScenarioStore, name: str, why: str | None) -> None:
    add_user(store, "ana", PASSWORD)
    add_user(store, "ace", PASSWORD)
    if why:
        with pytest.raises(AccountError, match=why):
            add_user(store, name, PASSWORD)
    else:
        assert add_user(store, name, PASSWORD) == name  # "ана" does not look like "ana"
    with pytest.raises(AccountError, match="looks like the account 'ace'"):
        add_user(store, "\u0430\u0441\u0435", PASSWORD)  # Cyrillic "асе"
    with pytest.raises(AccountError, match="exists"):
        add_user(store, "\uff41\uff4e\uff41", PASSWORD)  # fullwidth "ａｎａ" is NFKC "ana"
