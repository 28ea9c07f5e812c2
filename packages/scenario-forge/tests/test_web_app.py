"""The web review app through Starlette's TestClient: the flow, accounts and the security rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Completion, Scenario
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import add_user, hash_password, verify_password
from scenario_forge.web.reviewing import Settings
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
HOSTILE = (
    '<script>document.title="pwned"</script> <img src=x onerror="document.title=1"> '
    '<a href="javascript:alert(1)">click</a> \x1b[2J'
)
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


def seed(store: ScenarioStore, n: int = 4, prompt: str = "Web prompt {i}") -> list[str]:
    made = [
        Scenario(
            prompt=prompt.format(i=i),
            evaluation_target=("demo_code", "demo_help")[i % 2],
            success_criteria=["Declines"],
        )
        for i in range(n)
    ]
    store.add_scenarios(made)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"template reply {i}", source="template", origin="t")
        for i, s in enumerate(made)
    )
    for name in ("ana", "bob", "cy"):
        add_user(store, name, PASSWORD)
    return [s.id for s in made]


def location(store: ScenarioStore) -> str:
    """The store's location as `open` takes it (a URL keeps its password out of .path)."""
    return str(getattr(store.connection, "url", store.path))


def client(store: ScenarioStore, **settings: object) -> TestClient:
    app = create_app(location(store), settings=Settings(**settings))  # type: ignore[arg-type]
    return TestClient(app, follow_redirects=False)


def csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def login(c: TestClient, name: str = "ana", password: str = PASSWORD) -> int:
    token = csrf(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": token}).status_code


def shown(c: TestClient) -> tuple[str, str]:
    """(scenario id on the review page, the page's CSRF token)."""
    page = c.get("/review").text
    m = re.search(r'id="scenario" data-id="([0-9a-f]+)"', page)
    assert m, page[:3000]
    return m.group(1), csrf(page)


def test_password_hash_is_salted_scrypt() -> None:
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, a) and not verify_password(PASSWORD + "x", a)
    assert not verify_password(PASSWORD, "garbage")


def test_login_required_and_wrong_password(store: ScenarioStore) -> None:
    seed(store)
    c = client(store)
    for path in ("/review", "/stats", "/agreement", "/scenario/abc"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    r = c.post("/undo", data={"csrf": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert login(c, "ana", "wrong password!") == 401
    assert login(c, "nobody", PASSWORD) == 401
    assert c.get("/review").status_code == 303
    assert login(c) == 303
    assert c.get("/review").status_code == 200


def test_csrf_is_checked_on_every_form(store: ScenarioStore) -> None:
    ids = seed(store)
    c = client(store)
    # sign-in itself needs the token of the login page
    c.get("/login")
    r = c.post("/login", data={"name": "ana", "password": PASSWORD})
    assert r.status_code == 403
    assert login(c) == 303
    sid, token = shown(c)
    for path, data in (
        (f"/review/{sid}/answer", {"rating": "1"}),
        (f"/review/{sid}/skip", {}),
        ("/undo", {}),
        ("/logout", {}),
    ):
        assert c.post(path, data=data).status_code == 403, path
        assert c.post(path, data={**data, "csrf": token + "x"}).status_code == 403, path
    assert store.connection.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 0
    # a token of another session is no good either
    other = client(store)
    assert login(other, "bob") == 303
    bob_token = shown(other)[1]
    assert (
        c.post(f"/review/{sid}/answer", data={"rating": "1", "csrf": bob_token}).status_code == 403
    )
    assert c.post(f"/review/{sid}/answer", data={"rating": "1", "csrf": token}).status_code == 303
    assert sid in ids


def test_security_headers_on_every_page(store: ScenarioStore) -> None:
    seed(store)
    c = client(store)
    pages = [c.get("/login"), c.get("/static/review.js")]
    login(c)
    pages += [c.get(p) for p in ("/review", "/stats", "/agreement")]
    for r in pages:
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    cookie = pages[-1].request.headers.get("cookie", "")
    assert cookie.startswith("forge_session=")
    # no page has inline script or inline event handlers
    for r in pages[2:]:
        assert re.search(r"<script(?![^>]*\bsrc=)", r.text) is None
        assert re.search(r"\son[a-z]+=", r.text) is None


@BOTH_BACKENDS
def test_review_flow_rate_accept_edit_write_skip_undo(store: ScenarioStore) -> None:
    ids = seed(store, 5)
    c = client(store)
    assert login(c) == 303
    sid1, token = shown(c)
    (comp1,) = store.completions_for(sid1)
    # rating 2 accepting the template
    r = c.post(
        f"/review/{sid1}/answer",
        data={"csrf": token, "rating": "2", "note": "fine", f"decision_{comp1.id}": "accept"},
    )
    assert r.status_code == 303
    sid2, _ = shown(c)
    assert sid2 != sid1
    (comp2,) = store.completions_for(sid2)
    # rating 3 needs a good response: refused, nothing stored, the form kept
    r = c.post(f"/review/{sid2}/answer", data={"csrf": token, "rating": "3", "note": "kept"})
    assert r.status_code == 400 and "ideal_response" in r.text and 'value="kept"' in r.text
    assert len(store.reviews_for(sid2)) == 0
    # edit the template: a new human completion, the original rejected
    r = c.post(
        f"/review/{sid2}/answer",
        data={
            "csrf": token,
            "rating": "3",
            f"decision_{comp2.id}": "edit",
            f"edit_{comp2.id}": "An edited, better reply.",
            "reviewer": "bob",  # ignored: she acts as herself
        },
    )
    assert r.status_code == 303
    sid3, _ = shown(c)
    r = c.post(f"/review/{sid3}/skip", data={"csrf": token})
    assert r.status_code == 303
    sid4, _ = shown(c)
    assert sid4 not in (sid1, sid2, sid3)
    r = c.post(
        f"/review/{sid4}/answer",
        data={"csrf": token, "rating": "2", "ideal_response": "  The ideal reply.\n\n"},
    )
    assert r.status_code == 303
    page = c.get("/review").text
    assert re.search(r'id="answered">3<', page) and "1 skipped" in page
    # undo: the last answer is gone and its scenario is shown again
    assert c.post("/undo", data={"csrf": token}).status_code == 303
    again, _ = shown(c)
    assert again == sid4 and store.reviews_for(sid4) == []
    assert [x.source for x in store.completions_for(sid4)] == ["template"]

    revs = {s: store.reviews_for(s) for s in ids}
    assert [r.reviewer for r in revs[sid1]] == ["ana"] and revs[sid1][0].note == "fine"
    assert [r.rating for r in revs[sid2]] == [3] and revs[sid2][0].reviewer == "ana"
    assert revs[sid3] == []
    got1 = store.get_completion(comp1.id)
    assert got1 is not None and got1.status == "accepted" and got1.validated_by == ["ana"]
    by_source = {x.source: x for x in store.completions_for(sid2)}
    assert by_source["template"].status == "rejected"
    assert by_source["human"].text == "An edited, better reply."
    assert by_source["human"].origin == "ana" and by_source["human"].validated_by == ["ana"]
    assert by_source["human"].metadata["edited_from"] == comp2.id
    # the audit log names the reviewer
    answers = [e for e in store.audit_entries(entity="scenario") if e["action"] == "review_answer"]
    assert {e["actor"] for e in answers} == {"ana"}


def test_a_reviewer_acts_only_as_herself(store: ScenarioStore) -> None:
    seed(store, 2)
    ana, bob = client(store), client(store)
    login(ana)
    login(bob, "bob")
    sid_a, tok_a = shown(ana)
    sid_b, tok_b = shown(bob)
    assert sid_a != sid_b  # no overlap: each holds her own
    # bob cannot answer the scenario ana holds
    r = bob.post(f"/review/{sid_a}/answer", data={"csrf": tok_b, "rating": "0"})
    assert r.status_code == 400 and "not saved" in r.text
    assert store.reviews_for(sid_a) == []
    assert (
        ana.post(f"/review/{sid_a}/answer", data={"csrf": tok_a, "rating": "0"}).status_code == 303
    )
    # bob's undo does not touch ana's answer
    bob.post("/undo", data={"csrf": tok_b})
    assert [r.reviewer for r in store.reviews_for(sid_a)] == ["ana"]


def test_overlap_and_target_filter(store: ScenarioStore) -> None:
    ids = seed(store, 4)
    cs = [client(store, overlap=2) for _ in range(3)]
    for c, name in zip(cs, ("ana", "bob", "cy"), strict=True):
        login(c, name)
    # ana and bob both get the first scenario (the fullest bucket first), never the same twice
    first_a, tok_a = shown(cs[0])
    first_b, _ = shown(cs[1])
    assert first_a == first_b
    cs[0].post(f"/review/{first_a}/answer", data={"csrf": tok_a, "rating": "1"})
    assert shown(cs[0])[0] != first_a
    # the target filter: only demo_help scenarios (odd ids)
    page = cs[2].get("/review", params={"target": "demo_help"}).text
    m = re.search(r'data-id="([0-9a-f]+)"', page)
    assert m and m.group(1) in ids[1::2]
    assert "showing demo_help" in page
    # the filter is check boxes (no multi-select needing Ctrl-click), the chosen one ticked
    assert "<select" not in page.split('id="progress"')[0]
    assert '<input type="checkbox" name="target" value="demo_help" checked>' in page
    assert '<input type="checkbox" name="target" value="demo_code">' in page
    # the rating, note, Save and Skip sit together in the action bar at the form's end
    bar = page.split('id="actionbar"', 1)[1].split("</form>", 1)[0]
    for part in ('id="rating-3"', 'id="note"', 'id="save"', 'id="skip" form="skip-form"'):
        assert part in bar, part


def test_hostile_scenario_text_is_escaped_on_every_page(store: ScenarioStore) -> None:
    (sid,) = seed(store, 1, prompt=HOSTILE + " {i}")
    store.add_completions(
        [Completion(scenario_id=sid, text=HOSTILE, source="model", origin="<b>m</b>")]
    )
    c = client(store)
    login(c)
    pages = [c.get("/review").text, c.get(f"/scenario/{sid}").text, c.get("/stats").text]
    for page in pages[:2]:
        assert "&lt;script&gt;document.title=" in page
        assert "<script>document" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page and '<a href="javascript' not in page
        assert "\\x1b[2J" in page and "\x1b" not in page
        assert "&lt;b&gt;m&lt;/b&gt;" in page


def test_read_only_pages(store: ScenarioStore) -> None:
    ids = seed(store, 2)
    c = client(store)
    login(c)
    sid, token = shown(c)
    c.post(f"/review/{sid}/answer", data={"csrf": token, "rating": "1", "note": "meh"})
    page = c.get(f"/scenario/{sid[:8]}").text
    assert "ana: 1 — meh" in page and "rating 1.00" in page
    assert c.get("/scenario/zzz").status_code == 404
    stats = c.get("/stats").text
    assert "2 scenarios" in stats and "demo_code" in stats
    agreement = c.get("/agreement").text
    assert "<td>ana</td>" in agreement and 'id="alpha">undefined' in agreement
    assert len(ids) == 2


def test_users_cli(db_path: Path) -> None:
    runner = CliRunner()
    env = {"SCENARIO_FORGE_DB": str(db_path)}
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    r = runner.invoke(main, ["users", "add", "ana", "--password-stdin"], input="short\n", env=env)
    assert r.exit_code == 1 and "at least 10" in r.stderr
    r = runner.invoke(main, ["users", "add", "ana"], input=f"{PASSWORD}\n{PASSWORD}\n", env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["users", "add", "ana", "--password-stdin"], input=PASSWORD, env=env)
    assert r.exit_code == 1 and "exists" in r.stderr
    assert "ana" in runner.invoke(main, ["users", "list"], env=env).stdout
    with ScenarioStore.open(db_path) as store:
        c = client(store)
        assert login(c) == 303
        stored = store.connection.execute("SELECT password_hash FROM web_users").fetchone()[0]
        assert PASSWORD not in stored and stored.startswith("scrypt$")
    r = runner.invoke(
        main, ["users", "passwd", "ana", "--password-stdin"], input="another passphrase\n", env=env
    )
    assert r.exit_code == 0, r.output
    assert runner.invoke(main, ["users", "remove", "ana"], env=env).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "ana"], env=env).exit_code == 1


def test_serve_and_users_need_a_store(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SCENARIO_FORGE_DB": str(tmp_path / "missing.db")}
    for args in (["serve"], ["users", "list"], ["users", "add", "ana", "--password-stdin"]):
        r = runner.invoke(main, args, env=env, input=PASSWORD)
        assert r.exit_code == 1 and "scenario-forge init" in r.stderr, args
        assert "Traceback" not in r.output
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_a_lost_database_connection_is_replaced(store: ScenarioStore) -> None:
    import psycopg
    from scenario_forge.web.app import StorePool

    pool = StorePool(location(store))
    first = pool.get("ana")
    assert first.count_scenarios() == 0
    with psycopg.connect(location(store), autocommit=True) as admin:  # as a restart would
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(psycopg.OperationalError):
        first.count_scenarios()  # the request that meets the dead connection fails ...
    second = pool.get("ana")  # ... and the next one gets a new connection
    assert second is not first and second.count_scenarios() == 0
    pool.close()
