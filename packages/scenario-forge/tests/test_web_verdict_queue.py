"""The verdict queue at scale: pages of 25, filters, order, progress and the keys' markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Scenario
from forge_export.models import EvalReport, EvalResult
from scenario_forge.cli import main
from scenario_forge.eval_verdicts import (
    human_verdicts,
    record_eval_verdict,
    review_rows,
    withdraw_eval_verdict,
)
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import add_user
from scenario_forge.web.verdict_routes import InForceCache, queue_rows
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
N = 60


def _report(n: int = N) -> EvalReport:
    """n answers: odd ones failed by the judge; confidence cycles 0.0..0.9; 3 targets."""
    results = []
    for i in range(n):
        s = Scenario(
            prompt=f"Queue prompt {i:03d}",
            evaluation_target=("demo_code", "demo_help", "demo_bio")[i % 3],
            success_criteria=[f"Criterion of answer {i:03d}"],
        )
        results.append(
            EvalResult(
                scenario=s,
                response=f"Response {i:03d}",
                verdict="fail" if i % 2 else "pass",
                refused=not i % 2,
                judge="rules@3",
                reason=f"reason {i:03d}",
                label="compliance" if i % 2 else "refusal",
                confidence=(i % 10) / 10,
            )
        )
    return EvalReport(model_id="m", results=results)


def _client(db: Path, report: EvalReport, name: str = "ana") -> tuple[TestClient, str]:
    with ScenarioStore.open(db, create=True) as store:
        add_user(store, name, PASSWORD)
    c = TestClient(create_app(db, reports=[report]), follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
    assert r.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/verdicts").text)
    assert csrf
    return c, csrf.group(1)


def _shown(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<section class="answer[^"]*" id="a(\d+)"', page)]


def test_the_queue_pages_25_answers_with_progress(tmp_path: Path) -> None:
    c, csrf = _client(tmp_path / "s.db", _report())
    first = c.get("/verdicts").text
    assert _shown(first) == list(range(25))
    assert 'id="verified">0</strong> of <strong id="total">60</strong> verified' in first
    assert 'href="/verdicts?page=2"' in first and "prev-page" not in first
    assert _shown(c.get("/verdicts?page=3").text) == list(range(50, 60))
    assert _shown(c.get("/verdicts?page=99").text) == list(range(50, 60))  # the last page
    # criteria and the judge's reason are beside the answer, escaped
    assert "Criterion of answer 007" in first and "reason 007" in first
    for bad in ("page=0", "page=x", "page=-1", "label=bogus", "target=nope", "at=x", "at=-1"):
        r = c.get(f"/verdicts?{bad}")
        assert r.status_code == 400, bad
        assert r.headers["content-type"].startswith("text/plain")
        assert "\n" not in r.text.strip()
    c.post("/verdicts/3", data={"csrf": csrf, "verdict": "confirm"})
    assert 'id="verified">1</strong> of' in c.get("/verdicts").text


def test_filters_and_lowest_confidence_first(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    c, csrf = _client(db, _report())
    fails = _shown(c.get("/verdicts?fail=1").text)
    assert fails == [i for i in range(1, N, 2)][:25]
    assert _shown(c.get("/verdicts?target=demo_bio").text) == list(range(2, N, 3))[:25]
    assert _shown(c.get("/verdicts?label=refusal&fail=1").text) == []
    low = _shown(c.get("/verdicts?low=1&target=demo_code").text)  # confidence < 0.8
    assert low == [i for i in range(0, N, 3) if i % 10 < 8]
    ordered = _shown(c.get("/verdicts?order=confidence").text)
    assert ordered[:6] == [0, 10, 20, 30, 40, 50]  # confidence 0.0 first, report order within
    # unverified: a verdict takes the answer out; the redirect keeps the filters and goes on
    r = c.post(
        "/verdicts/0",
        data={"csrf": csrf, "verdict": "fail", "back": "unverified=1&fail=", "next": "1"},
    )
    assert r.headers["location"] == "/verdicts?unverified=1&at=1#a1"
    assert _shown(c.get("/verdicts?unverified=1").text)[:2] == [1, 2]
    # verified by: whose verdict is in force
    assert _shown(c.get("/verdicts?reviewer=ana").text) == [0]
    assert _shown(c.get("/verdicts?reviewer=bob").text) == []
    # a tampered return address is rebuilt from known filters, never echoed
    r = c.post(
        "/verdicts/1",
        data={"csrf": csrf, "verdict": "confirm", "back": "target=//evil.example", "next": "x"},
    )
    assert r.headers["location"] == "/verdicts?at=1#a1"
    with ScenarioStore.open(db) as store:
        assert sorted(h["prompt"] for h in human_verdicts(store)) == [
            "Queue prompt 000",
            "Queue prompt 001",
        ]


def _next_of(page: str, i: int) -> str:
    got = re.search(rf'action="/verdicts/{i}".*?name="next" value="(\d+)"', page, re.S)
    assert got, i
    return got.group(1)


def test_a_verdict_on_the_last_answer_of_a_page_goes_on_to_the_next_page(tmp_path: Path) -> None:
    c, csrf = _client(tmp_path / "s.db", _report())
    first = c.get("/verdicts").text
    assert _next_of(first, 3) == "4" and _next_of(first, 24) == "25"  # on to page 2
    r = c.post("/verdicts/24", data={"csrf": csrf, "verdict": "confirm", "next": "25"})
    assert r.headers["location"] == "/verdicts?at=25#a25"
    page = c.get("/verdicts?at=25").text
    assert _shown(page) == list(range(25, 50)) and 'id="page">2<' in page
    assert _next_of(c.get("/verdicts?page=3").text, 59) == "59"  # the very end: itself
    # only unverified: the judged answer leaves, so answer 25 moves up to page 1, and at finds it
    r = c.post(
        "/verdicts/23",
        data={"csrf": csrf, "verdict": "pass", "back": "unverified=1", "next": "25"},
    )
    assert r.headers["location"] == "/verdicts?unverified=1&at=25#a25"
    page = c.get("/verdicts?unverified=1&at=25").text
    assert 'id="page">1<' in page and _shown(page)[23:] == [25, 26]  # 23 and 24 are judged
    # an answer the filters leave out: the page asked for (or the last one)
    assert _shown(c.get("/verdicts?unverified=1&at=24&page=2").text)[0] == 27


def test_every_action_has_a_key_shown_on_the_page(tmp_path: Path) -> None:
    c, _ = _client(tmp_path / "s.db", _report(3))
    page = c.get("/verdicts").text
    assert '<script src="/static/verdicts.js"></script>' in page
    assert "onclick" not in page and "<style" not in page
    for key in ("j", "k", "c", "p", "f", "l", "n", "]", "[", "?"):
        assert f"<kbd>{key}</kbd>" in page, key
    script = c.get("/static/verdicts.js").text
    for key in ('"j"', '"k"', '"c"', '"p"', '"f"', '"l"', '"n"', '"]"', '"["'):
        assert f"key === {key}" in script, key


def test_the_terminal_verdict_review_takes_the_same_filters(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ScenarioStore.open(db, create=True).close()
    report = tmp_path / "report.json"
    report.write_text(_report(12).model_dump_json(), encoding="utf-8")
    args = ["review", "verdicts", str(report), "--db", str(db), "--reviewer", "ana"]
    r = CliRunner().invoke(
        main, [*args, "--target", "demo_code", "--low-confidence", "--json"], input="c\n" * 12
    )
    assert r.exit_code == 0, r.output
    with ScenarioStore.open(db) as store:
        done = sorted(h["prompt"] for h in human_verdicts(store))
    assert done == ["Queue prompt 000", "Queue prompt 003", "Queue prompt 006"]  # 9: conf 0.9
    r = CliRunner().invoke(main, [*args, "--label", "nonsense"])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "nonsense" in r.output


def _record(store: ScenarioStore, report: EvalReport, i: int, verdict: str, who: str) -> int:
    row = {**review_rows(report)[i], "verdict": verdict, "label": None}
    return record_eval_verdict(store, row, who)


def test_the_page_follows_verdicts_added_and_withdrawn_elsewhere(tmp_path: Path) -> None:
    """The app keeps the verdicts in force between requests; what another process adds or
    withdraws on the store shows on the next page all the same."""
    db = tmp_path / "s.db"
    report = _report(30)
    c, csrf = _client(db, report)
    assert 'id="verified">0<' in c.get("/verdicts").text
    c.post("/verdicts/0", data={"csrf": csrf, "verdict": "confirm"})
    with ScenarioStore.open(db) as other:  # another process on the same store
        bob = _record(other, report, 1, "fail", "bob")
    page = c.get("/verdicts").text
    assert 'id="verified">2<' in page and "Verdict by bob: <strong>fail</strong>" in page
    assert _shown(c.get("/verdicts?reviewer=bob").text) == [1]
    with ScenarioStore.open(db) as other:
        _record(other, report, 1, "pass", "cy")  # a later verdict overrules bob's
    assert "Verdict by cy: <strong>pass</strong>" in c.get("/verdicts").text
    assert _shown(c.get("/verdicts?reviewer=bob").text) == []
    with ScenarioStore.open(db) as other:
        later = max(int(r["id"]) for r in other.eval_verdicts_after(0))
        assert withdraw_eval_verdict(other, later)  # cy's undone: bob's is in force again
        assert not withdraw_eval_verdict(other, bob + 100)
    page = c.get("/verdicts").text
    assert "Verdict by bob: <strong>fail</strong>" in page and "by cy" not in page
    assert 'id="verified">2<' in page


def test_the_kept_verdicts_are_read_again_when_a_row_commits_late(tmp_path: Path) -> None:
    """On PostgreSQL a verdict can commit after one with a higher id; the cache must not miss
    it (simulated here by moving ids on SQLite)."""
    db = tmp_path / "s.db"
    report = _report(5)
    rows = queue_rows([report])
    with ScenarioStore.open(db, create=True) as store:
        cache = InForceCache([r["key"] for r in rows])
        assert cache.get(store).verified == 0
        first = _record(store, report, 0, "pass", "ana")
        store.connection.execute("UPDATE eval_verdicts SET id = 10 WHERE id = ?", (first,))
        seen = cache.get(store)
        assert seen.version == (1, 10, 10) and seen.verified == 1
        assert cache.get(store) is seen  # unchanged: nothing read again
        # a row added above the highest id: merged; the earlier snapshot stays as it was
        _record(store, report, 1, "fail", "bob")
        grown = cache.get(store)
        assert grown.verified == 2 and seen.verified == 1 and len(seen.by_key) == 1
        assert grown.reviewers == ("ana", "bob")
        # a row that commits late, with an id under the highest seen
        late = _record(store, report, 2, "fail", "cy")
        store.connection.execute("UPDATE eval_verdicts SET id = 5 WHERE id = ?", (late,))
        after = cache.get(store)
        assert after.verified == 3 and rows[2]["key"] in after.by_key
        assert after.by_key[rows[2]["key"]]["reviewer"] == "cy"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_the_verdict_version_and_the_rows_after_an_id(store: ScenarioStore) -> None:
    report = _report(4)
    assert store.eval_verdicts_version() == (0, 0, 0) and store.eval_verdicts_after() == []
    ids = [_record(store, report, i, "fail", who) for i, who in ((0, "ana"), (1, "bob"), (0, "cy"))]
    assert store.eval_verdicts_version() == (3, max(ids), sum(ids))
    after = store.eval_verdicts_after(ids[0])
    assert [(r["id"], r["reviewer"], r["verdict"]) for r in after] == [
        (ids[1], "bob", "fail"),
        (ids[2], "cy", "fail"),
    ]
    assert "response" not in after[0]  # the answer's text is not read
    cache = InForceCache([r["key"] for r in queue_rows([report])])
    now = cache.get(store)
    assert now.verified == 2 and now.by_key[queue_rows([report])[0]["key"]]["reviewer"] == "cy"
    assert withdraw_eval_verdict(store, ids[2])
    assert cache.get(store).by_key[queue_rows([report])[0]["key"]]["reviewer"] == "ana"
