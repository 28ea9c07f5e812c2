"""Agreement per target, the disagreement list, and a lead settling it (what export uses)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
from click.testing import CliRunner
from forge_export import Completion, Review, Scenario
from scenario_forge.cli import main
from scenario_forge.review.adjudication import agreement_by_target, disagreements, settle
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import add_user, user_role
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
HOSTILE = '<script>document.title="pwned"</script>\x1b[2J'
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


def _seed(store: ScenarioStore) -> list[str]:
    """Six scenarios on two targets, each rated by ana and bob: code agrees, help does not."""
    made = [
        Scenario(
            prompt=f"Adjudication prompt {i}",
            evaluation_target="demo_code" if i < 3 else "demo_help",
            success_criteria=["Declines"],
        )
        for i in range(6)
    ]
    store.add_scenarios(made)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"Reply {i}.", source="human", origin="ana")
        for i, s in enumerate(made)
    )
    ana = [3, 1, 2, 3, 0, 2]
    bob = [3, 1, 2, 1, 3, 2]
    store.add_reviews(
        Review(scenario_id=s.id, reviewer=who, rating=r[i], note=f"{who} on {i} {HOSTILE}")
        for i, s in enumerate(made)
        for who, r in (("ana", ana), ("bob", bob))
    )
    add_user(store, "ana", PASSWORD)
    add_user(store, "lee", PASSWORD, role="lead")
    return [s.id for s in made]


def _client(store: ScenarioStore, name: str) -> tuple[TestClient, str]:
    where = str(getattr(store.connection, "url", store.path))
    c = TestClient(create_app(where), follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
    assert r.status_code == 303
    page = c.get("/agreement")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return c, csrf.group(1)


@BOTH_BACKENDS
def test_alpha_per_target_and_the_disagreement_list(store: ScenarioStore) -> None:
    ids = _seed(store)
    per = {a.evaluation_target: a for a in agreement_by_target(store)}
    assert per["demo_code"].scenarios == 3 and per["demo_code"].alpha == 1.0
    assert per["demo_help"].scenarios == 3 and per["demo_help"].disagreements == 2
    assert per["demo_help"].alpha is not None and per["demo_help"].alpha < 0
    assert per["all"].scenarios == 6
    assert [d.scenario_id for d in disagreements(store)] == [ids[4], ids[3]]  # widest first

    c, _ = _client(store, "ana")
    page = c.get("/agreement").text
    assert re.search(r'data-target="demo_help">.*?class="num n">3<', page, re.S)
    assert 'id="disagreement-count">2<' in page
    assert "ana on 4" in page and "Adjudication prompt 4" in page
    assert "<script>document.title" not in page and "&lt;script&gt;" in page
    assert "\\x1b[2J" in page
    assert "/settle" not in page  # no settle form for a reviewer
    only_code = c.get("/agreement?target=demo_code").text
    assert 'id="disagreement-count">0<' in only_code
    r = c.get("/agreement?target=nope")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")


@BOTH_BACKENDS
def test_only_a_lead_settles_and_the_settled_rating_is_what_export_uses(
    store: ScenarioStore, tmp_path: Path
) -> None:
    ids = _seed(store)
    reviewer, csrf = _client(store, "ana")
    r = reviewer.post(f"/agreement/{ids[4]}/settle", data={"csrf": csrf, "rating": "0"})
    assert r.status_code == 403 and "lead" in r.text
    assert store.adjudications() == {}

    lead, csrf = _client(store, "lee")
    page = lead.get("/agreement").text
    assert f'action="/agreement/{ids[4]}/settle"' in page
    assert lead.post(f"/agreement/{ids[4]}/settle", data={"rating": "0"}).status_code == 403
    bad = lead.post(f"/agreement/{ids[4]}/settle", data={"csrf": csrf, "rating": "7"})
    assert bad.status_code == 400
    one_rating = lead.post(f"/agreement/{'0' * 20}/settle", data={"csrf": csrf, "rating": "1"})
    assert one_rating.status_code == 404
    r = lead.post(
        f"/agreement/{ids[4]}/settle",
        data={"csrf": csrf, "rating": "3", "note": "a fine scenario", "back": "unsettled=1"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/agreement?unsettled=1#d-{ids[4]}"
    lead.post(f"/agreement/{ids[3]}/settle", data={"csrf": csrf, "rating": "0"})
    settled = store.adjudications()
    assert settled[ids[4]].rating == 3 and settled[ids[4]].lead == "lee"
    assert settled[ids[4]].ratings == {"ana": 0, "bob": 3}  # provenance: the ratings it settled
    assert [d.scenario_id for d in disagreements(store, unsettled_only=True)] == []
    assert "Settled: <strong>3</strong> by lee (a fine scenario)" in lead.get("/agreement").text
    shown = lead.get(f"/scenario/{ids[4]}").text
    assert '<strong id="settled">3</strong>, settled by lee' in shown
    assert "mean of the reviewers' 1.50" in shown
    # the individual ratings stay
    assert sorted(r.rating for r in store.reviews_for(ids[4])) == [0, 3]

    # export: the mean (1.5) would drop ids[4] and keep ids[3] (2.0); the settled 3 and 0 decide
    where = str(getattr(store.connection, "url", store.path))
    out = tmp_path / "export"
    res = CliRunner().invoke(
        main,
        ["export", str(out), "--only-validated", "--config", "sft", "--test-size", "0", "--json"],
        env={"SCENARIO_FORGE_DB": where},
    )
    assert res.exit_code == 0, res.output
    ds = datasets.load_dataset(str(out), "sft")
    rows = {r["scenario_id"]: r for split in ds for r in ds[split]}
    assert rows[ids[4]]["rating"] == 3.0 and rows[ids[4]]["reviewers"] == 2
    assert rows[ids[4]]["settled_by"] == "lee"  # who settled it travels with the rating
    assert [rows[s]["settled_by"] for s in (ids[0], ids[2], ids[5])] == [None, None, None]
    assert set(rows) == {ids[0], ids[2], ids[4], ids[5]}


def test_users_add_with_the_lead_role_and_change_it(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ScenarioStore.open(db, create=True).close()
    env = {"SCENARIO_FORGE_DB": str(db)}
    run = CliRunner().invoke
    r = run(
        main,
        ["users", "add", "lee", "--role", "lead", "--password-stdin"],
        "a long passphrase\n",
        env=env,
    )
    assert r.exit_code == 0 and "Account lee created (lead)." in r.output
    r = run(main, ["users", "add", "ana", "--password-stdin"], "a long passphrase\n", env=env)
    assert r.exit_code == 0
    r = run(main, ["users", "add", "cy", "--role", "boss", "--password-stdin"], "x" * 12, env=env)
    assert r.exit_code == 2 and "boss" in r.output and "Traceback" not in r.output
    assert run(main, ["users", "role", "ana", "lead"], env=env).exit_code == 0
    r = run(main, ["users", "role", "nobody", "lead"], env=env)
    assert r.exit_code == 1 and r.output.startswith("Error: no account 'nobody'")
    listed = json.loads(run(main, ["users", "list", "--json"], env=env).output)
    assert {u["name"]: u["role"] for u in listed} == {"ana": "lead", "lee": "lead"}
    with ScenarioStore.open(db) as store:
        assert user_role(store, "ana") == "lead"


def test_the_terminal_lists_and_settles_disagreements(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with ScenarioStore.open(db, create=True) as store:
        ids = _seed(store)
    env = {"SCENARIO_FORGE_DB": str(db)}
    run = CliRunner().invoke
    listed = json.loads(run(main, ["review", "disagreements", "--json"], env=env).output)
    assert [d["scenario_id"] for d in listed["disagreements"]] == [ids[4], ids[3]]
    r = run(main, ["review", "settle", ids[4][:8], "2", "--lead", "ana"], env=env)
    assert r.exit_code == 1 and "'ana' is not a lead account" in r.output
    r = run(main, ["review", "settle", "ffffffff", "2", "--lead", "lee"], env=env)
    assert r.exit_code == 1 and r.output.startswith("Error:") and "\n" not in r.output.strip()
    r = run(main, ["review", "settle", ids[4], "9", "--lead", "lee"], env=env)
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = run(main, ["review", "settle", ids[4][:8], "2", "--lead", "LEE", "--note", "ok"], env=env)
    assert r.exit_code == 0, r.output
    r = run(main, ["review", "disagreements", "--unsettled"], env=env)
    assert ids[4] not in r.output and ids[3] in r.output
    with ScenarioStore.open(db) as store:
        assert store.adjudications()[ids[4]].note == "ok"


def test_stats_shows_alpha_per_target_with_its_n(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with ScenarioStore.open(db, create=True) as store:
        ids = _seed(store)
        settle(store, ids[4], 3, "lee")
        page = {a.evaluation_target: a for a in agreement_by_target(store)}  # the page's numbers
    env = {"SCENARIO_FORGE_DB": str(db)}
    r = CliRunner().invoke(main, ["stats", "--json"], env=env)
    assert r.exit_code == 0, r.output
    by_target = json.loads(r.output)["agreement"]["by_target"]
    assert list(by_target) == ["demo_code", "demo_help", "all"]
    assert by_target["demo_code"] == {
        "alpha": 1.0,
        "n": 3,
        "ratings": 6,
        "disagreements": 0,
        "settled": 0,
    }
    assert (by_target["demo_help"]["n"], by_target["demo_help"]["disagreements"]) == (3, 2)
    assert by_target["demo_help"]["settled"] == 1 and by_target["all"]["n"] == 6
    for target, a in page.items():
        assert (by_target[target]["alpha"], by_target[target]["n"]) == (a.alpha, a.scenarios)
    assert by_target["demo_help"]["alpha"] < 0

    text = CliRunner().invoke(main, ["stats"], env=env)
    assert text.exit_code == 0, text.output
    table_rows = {
        line.split()[0]: line.split()[1:] for line in text.output.splitlines() if line.strip()
    }
    help_alpha = f"{page['demo_help'].alpha:.3f}"
    assert table_rows["demo_code"][:5] == ["1.000", "3", "6", "0", "0"]
    assert table_rows["demo_help"][:5] == [help_alpha, "3", "6", "2", "1"]
    assert table_rows["all"][:2] == [f"{page['all'].alpha:.3f}", "6"]


def test_stats_without_overlapping_ratings_has_no_alpha_per_target(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with ScenarioStore.open(db, create=True) as store:
        s = Scenario(prompt="Rated once", evaluation_target="demo_code", success_criteria=["c"])
        store.add_scenarios([s])
        store.add_reviews([Review(scenario_id=s.id, reviewer="ana", rating=2)])
    env = {"SCENARIO_FORGE_DB": str(db)}
    r = CliRunner().invoke(main, ["stats", "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.output)["agreement"]["by_target"] == {}
    text = CliRunner().invoke(main, ["stats"], env=env).output
    assert "Agreement: 0 scenarios" in text and "disagreements" not in text
    missing = CliRunner().invoke(
        main, ["stats"], env={"SCENARIO_FORGE_DB": str(tmp_path / "no.db")}
    )
    assert missing.exit_code != 0 and missing.output.startswith("Error:")
    assert "Traceback" not in missing.output and len(missing.output.strip().splitlines()) == 1
