"""Eight reviewers at once over HTTP on one store: nothing lost, nothing reviewed twice.

A real ``scenario-forge serve`` process serves the store (SQLite file or PostgreSQL); eight
threads, each with its own HTTP client and account, sign in and review until the queue is
empty. Every few answers a reviewer skips a scenario, and some undo their last answer and
answer again, so claims are given back and taken again while the others compete. At the end
every scenario holds exactly one review (after a last pass over what was skipped at the very
end), each reviewer's count matches what her client saved, and no claim is left.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from forge_export import Completion, Scenario
from scenario_forge.store import ScenarioStore
from scenario_forge.web.auth import add_user

REVIEWERS = [f"r{i}" for i in range(8)]
PASSWORD = "correct horse battery"
N = 96


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "forge.db"
    return str(request.getfixturevalue("pg_url"))


def _serve(db: Path | str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("scenario-forge")
    env = {**os.environ, "SCENARIO_FORGE_DB": str(db)}
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("H14_LOG", os.devnull), "wb"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/login", timeout=1)
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None, "the server exited"
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


def _review_all(url: str, name: str, index: int, *, skips: bool = True) -> dict[str, int]:
    """One reviewer's session until the queue is empty; counts of what the server accepted."""
    counts = {"answered": 0, "skipped": 0, "undone": 0}
    with httpx.Client(base_url=url, timeout=60) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert token
        r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
        assert r.status_code == 303, r.text
        step = 0
        while True:
            page = c.get("/review").text
            if 'id="done"' in page:
                return counts
            sid = re.search(r'id="scenario" data-id="([0-9a-f]+)"', page)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert sid and csrf, page[:2000]
            step += 1
            form = {"csrf": csrf.group(1)}
            if skips and step % 7 == index % 7:
                r = c.post(f"/review/{sid.group(1)}/skip", data=form)
                assert r.status_code == 303
                counts["skipped"] += 1
                continue
            cid = re.search(r'name="decision_([0-9a-f]+)"', page)
            assert cid
            data = {**form, "rating": "2", f"decision_{cid.group(1)}": "accept"}
            r = c.post(f"/review/{sid.group(1)}/answer", data=data)
            assert r.status_code == 303, r.text[:2000]
            counts["answered"] += 1
            if index % 2 and step % 5 == 0:  # undo, then the same scenario comes back
                r = c.post("/undo", data=form)
                assert r.status_code == 303
                counts["answered"] -= 1
                counts["undone"] += 1


def test_eight_web_reviewers_lose_nothing_and_review_nothing_twice(db: Path | str) -> None:
    with ScenarioStore.open(db) as store:
        made = [
            Scenario(
                prompt=f"Load prompt {i}",
                evaluation_target=("demo_code", "demo_help")[i % 2],
                success_criteria=["c"],
            )
            for i in range(N)
        ]
        store.add_scenarios(made)
        store.add_completions(
            Completion(scenario_id=s.id, text=f"reply {i}", source="template", origin="t")
            for i, s in enumerate(made)
        )
        for name in REVIEWERS:
            add_user(store, name, PASSWORD)
    proc, url = _serve(db)
    try:
        with ThreadPoolExecutor(len(REVIEWERS)) as pool:
            futures = [pool.submit(_review_all, url, n, i) for i, n in enumerate(REVIEWERS)]
            results = dict(zip(REVIEWERS, (f.result() for f in futures), strict=True))
        # A reviewer stops when the queue is empty *at that moment*: a scenario another one
        # held then and skipped afterwards is free again but everyone has left. A last pass
        # in a new session (no skips) reviews what is left.
        last = _review_all(url, REVIEWERS[0], 0, skips=False)
    finally:
        proc.terminate()
        proc.wait(20)
    answered = {n: r["answered"] for n, r in results.items()}
    answered[REVIEWERS[0]] += last["answered"]
    with ScenarioStore.open(db) as store:
        q = store.connection.execute
        per_scenario = dict(q("SELECT scenario_id, COUNT(*) FROM reviews GROUP BY scenario_id"))
        assert set(per_scenario) == {s.id for s in made}  # nothing lost
        twice = {k: v for k, v in per_scenario.items() if v != 1}
        assert not twice, (twice, results)  # nothing reviewed twice
        assert sum(answered.values()) == N, results
        assert sum(r["undone"] for r in results.values()) > 0
        assert sum(r["skipped"] for r in results.values()) > 0
        by_reviewer = {n: 0 for n in REVIEWERS}
        by_reviewer.update(dict(q("SELECT reviewer, COUNT(*) FROM reviews GROUP BY reviewer")))
        assert by_reviewer == answered
        assert q("SELECT COUNT(*) FROM review_claims").fetchone()[0] == 0
        accepted = q("SELECT COUNT(*) FROM completions WHERE status = 'accepted'").fetchone()[0]
        assert accepted == N
        state = q("SELECT MIN(taken), MAX(taken), SUM(reviewers) FROM review_state").fetchone()
        assert tuple(state) == (1, 1, N)
