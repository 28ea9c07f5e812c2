"""Sessions of the web app end with the account: logout, password change, removal, expiry.

A saved copy of a session cookie (what an attacker who once read it holds) is replayed after
each event and must get the sign-in page, and its posts must store nothing. The clock the app
reads is passed in, so expiry is tested without waiting.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Completion, ForgeError, Scenario
from itsdangerous import TimestampSigner
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import add_user
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
SECRET = secrets.token_urlsafe(32)
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


class Clock:
    """The time the app reads (seconds); tests move it forward."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def seed(store: ScenarioStore, n: int = 4) -> None:
    made = [
        Scenario(
            prompt=f"Session prompt {i}", evaluation_target="demo_code", success_criteria=["x"]
        )
        for i in range(n)
    ]
    store.add_scenarios(made)
    store.add_completions(
        Completion(scenario_id=s.id, text="template reply", source="template", origin="t")
        for s in made
    )
    for name in ("ana", "bob"):
        add_user(store, name, PASSWORD)


def location(store: ScenarioStore) -> str:
    return str(getattr(store.connection, "url", store.path))


def app_client(store: ScenarioStore, clock: Clock | None = None) -> TestClient:
    app = create_app(location(store), secret_key=SECRET, clock=clock or Clock())
    return TestClient(app, follow_redirects=False)


def csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def login(c: TestClient, name: str = "ana", password: str = PASSWORD) -> int:
    token = csrf(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": token}).status_code


def review_page(c: TestClient) -> tuple[str, str]:
    page = c.get("/review")
    assert page.status_code == 200, page.status_code
    m = re.search(r'id="scenario" data-id="([0-9a-f]+)"', page.text)
    assert m, page.text[:2000]
    return m.group(1), csrf(page.text)


def replay(store: ScenarioStore, cookie: str, clock: Clock | None = None) -> TestClient:
    """A new client (another browser) holding a saved copy of a session cookie."""
    c = app_client(store, clock)
    c.cookies.set("forge_session", cookie)
    return c


def reviews(store: ScenarioStore) -> int:
    return int(store.connection.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])


def assert_signed_out(c: TestClient, sid: str, token: str) -> None:
    r = c.get("/review")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = c.post(f"/review/{sid}/answer", data={"csrf": token, "rating": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/login"


@BOTH_BACKENDS
def test_a_saved_cookie_dies_with_logout(store: ScenarioStore) -> None:
    seed(store)
    c = app_client(store)
    assert login(c) == 303
    sid, token = review_page(c)
    saved = c.cookies["forge_session"]
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    assert_signed_out(replay(store, saved), sid, token)
    assert reviews(store) == 0
    # signing in again works, with a new session
    assert login(c) == 303 and c.get("/review").status_code == 200


@BOTH_BACKENDS
def test_a_saved_cookie_dies_with_removal_and_recreation_does_not_revive_it(
    store: ScenarioStore,
) -> None:
    seed(store)
    c = app_client(store)
    assert login(c, "bob") == 303
    sid, token = review_page(c)
    saved = c.cookies["forge_session"]
    r = CliRunner().invoke(main, ["users", "remove", "bob", "--db", location(store)])
    assert r.exit_code == 0, r.output
    assert_signed_out(c, sid, token)
    add_user(store, "bob", "a brand new passphrase")  # the same name again
    assert_signed_out(replay(store, saved), sid, token)
    assert reviews(store) == 0


def test_a_saved_cookie_dies_with_a_password_change(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    with ScenarioStore.open(db) as store:
        seed(store)
        c = app_client(store)
        other_device = app_client(store)
        assert login(c) == 303 and login(other_device) == 303
        sid, token = review_page(c)
        saved = c.cookies["forge_session"]
        r = CliRunner().invoke(
            main,
            ["users", "passwd", "ana", "--password-stdin", "--db", str(db)],
            input="another long passphrase\n",
        )
        assert r.exit_code == 0, r.output
        assert_signed_out(replay(store, saved), sid, token)
        assert other_device.get("/review").status_code == 303
        assert login(c) == 401  # the old password is gone
        assert login(c, password="another long passphrase") == 303
        assert reviews(store) == 0


def _forged(data: dict[str, object], secret: str = SECRET) -> str:
    payload = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(secret).sign(payload).decode()


def test_a_cookie_forged_with_the_secret_needs_a_live_session_key(db_path: Path) -> None:
    with ScenarioStore.open(db_path) as store:
        seed(store)
        c = app_client(store)
        assert login(c) == 303
        sid, token = review_page(c)
        now = Clock().now
        for data in (
            {"user": "mallory", "csrf": token, "issued": now, "seen": now},  # no such account
            {"user": "ana", "csrf": token, "issued": now, "seen": now},  # no session key
            {"user": "ana", "key": "0" * 32, "csrf": token, "issued": now, "seen": now},
        ):
            assert_signed_out(replay(store, _forged(data)), sid, token)
        assert reviews(store) == 0


def test_idle_and_absolute_expiry(db_path: Path) -> None:
    with ScenarioStore.open(db_path) as store:
        seed(store)
        clock = Clock()
        c = app_client(store, clock)
        assert login(c) == 303
        # used every 50 minutes: the idle limit (60 min) never ends it ...
        for _ in range(14):
            clock.now += 50 * 60
            assert c.get("/review").status_code == 200
        # ... but 12 hours after sign-in it ends anyway
        clock.now += 50 * 60
        assert c.get("/review").status_code == 303
        assert login(c) == 303
        sid, token = review_page(c)
        saved = c.cookies["forge_session"]
        clock.now += 59 * 60
        assert replay(store, saved, clock).get("/review").status_code == 200
        clock.now += 61 * 60  # 61 minutes since the last use
        assert c.get("/review").status_code == 303
        assert_signed_out(replay(store, saved, clock), sid, token)


@pytest.mark.parametrize(
    "secret",
    ["x", "not-32-bytes-long", "a" * 40, "change-me-change-me-change-me-change-me", "s3cr3t" * 6],
)
def test_a_weak_secret_is_refused_at_start(db_path: Path, secret: str) -> None:
    ScenarioStore.open(db_path).close()
    with pytest.raises(ForgeError, match="SCENARIO_FORGE_SECRET") as info:
        create_app(db_path, secret_key=secret)
    assert "secrets.token_urlsafe(32)" in str(info.value) and "\n" not in str(info.value)
    r = CliRunner().invoke(
        main, ["serve", "--db", str(db_path)], env={"SCENARIO_FORGE_SECRET": secret}
    )
    assert r.exit_code == 1 and "Traceback" not in r.output
    (line,) = r.stderr.strip().splitlines()
    assert "SCENARIO_FORGE_SECRET" in line and "secrets.token_urlsafe(32)" in line
    assert secret not in line or len(secret) < 4


def test_a_random_secret_keeps_sessions_across_a_restart(db_path: Path) -> None:
    with ScenarioStore.open(db_path) as store:
        seed(store)
        c = app_client(store)
        assert login(c) == 303
        saved = c.cookies["forge_session"]
        assert replay(store, saved).get("/review").status_code == 200  # another process
