"""Several real ``scenario-forge review`` processes on one store at the same time.

Each process runs the interactive flow fed from a file on stdin, with its own way of
answering, until the queue is empty. Afterwards the store must hold exactly one review per
scenario (or ``--overlap`` reviews from different reviewers), and every decision each
process reported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from forge_export import Completion, Scenario
from scenario_forge.store import ScenarioStore


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The store: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "forge.db"
    return str(request.getfixturevalue("pg_url"))


# reviewer -> the keystrokes for one scenario (each scenario has one template completion)
STYLES = {
    "acc": "2\na\n",  # accept the template
    "rej": "3\nr\nideal by rej\n.\n",  # reject it and write the ideal response
    "low": "1 meh\n",  # rating 1: no completion decisions
    "edt": "2\ne\nedited by edt\n.\n",  # edit it: new human completion, original rejected
}
RATE_PROMPT = b"Rate 0-3"


def _exe() -> str:
    exe = Path(sys.executable).with_name("scenario-forge")
    return str(exe) if exe.exists() else "scenario-forge"


def _seed(db: Path | str, n: int) -> list[str]:
    store = ScenarioStore.open(db)
    scenarios = [
        Scenario(
            prompt=f"Concurrent prompt {i}",
            evaluation_target=("demo_code", "demo_help")[i % 2],
            success_criteria=["c"],
        )
        for i in range(n)
    ]
    store.add_scenarios(scenarios)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"template reply {i}", source="template", origin="t")
        for i, s in enumerate(scenarios)
    )
    store.close()
    return [s.id for s in scenarios]


def _run_all(
    db: Path | str, tmp: Path, styles: dict[str, str], n: int, *extra: str
) -> dict[str, int]:
    """Start one review process per style and feed each its answers once *all* of them are
    waiting on their first scenario, so every reviewer holds a claim before anyone answers
    (a slow interpreter start cannot leave one of them with nothing to do)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EDITOR", "VISUAL")}
    env["SCENARIO_FORGE_DB"] = str(db)
    procs = {
        name: subprocess.Popen(
            [_exe(), "review", "--reviewer", name, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for name in styles
    }
    heads: dict[str, bytes] = {}
    for name, p in procs.items():  # handshake: each has claimed a scenario and asks for a rating
        assert p.stdout is not None
        head = b""
        while RATE_PROMPT not in head:
            chunk = os.read(p.stdout.fileno(), 65536)
            assert chunk, (name, head.decode()[-2000:], p.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
            head += chunk
        heads[name] = head
    with ThreadPoolExecutor(len(procs)) as pool:  # all fed at once, so they really compete
        results = {
            name: pool.submit(p.communicate, (styles[name] * n).encode(), 120)
            for name, p in procs.items()
        }
    answered = {}
    for name, p in procs.items():
        out, err = results[name].result()
        assert p.returncode == 0, (name, err.decode()[-2000:])
        text = (heads[name] + out).decode()
        assert "Traceback" not in text
        m = re.search(r"Done: (\d+) answered, 0 skipped, 0 undone", text)
        assert m, text[-2000:]
        answered[name] = int(m.group(1))
    return answered


def test_four_reviewers_no_scenario_twice_no_decision_lost(tmp_path: Path, db: Path | str) -> None:
    n = 240
    ids = _seed(db, n)
    answered = _run_all(db, tmp_path, STYLES, n)
    assert sum(answered.values()) == n
    assert all(v > 0 for v in answered.values()), answered  # everyone held a claim

    store = ScenarioStore.open(db)
    q = store.connection.execute
    per_scenario = dict(q("SELECT scenario_id, COUNT(*) FROM reviews GROUP BY scenario_id"))
    assert set(per_scenario) == set(ids) and set(per_scenario.values()) == {1}
    assert dict(q("SELECT reviewer, COUNT(*) FROM reviews GROUP BY reviewer")) == answered
    assert q("SELECT COUNT(*) FROM review_claims").fetchone()[0] == 0

    comps = [c for sid in ids for c in store.completions_for(sid)]
    template = [c for c in comps if c.source == "template"]
    human = [c for c in comps if c.source == "human"]
    accepted = [c for c in template if c.status == "accepted"]
    rejected = [c for c in template if c.status == "rejected"]
    assert len(accepted) == answered["acc"]
    assert all(c.validated_by == ["acc"] for c in accepted)
    assert len(rejected) == answered["rej"] + answered["edt"]
    assert sum(c.status == "proposed" for c in template) == answered["low"]
    by_origin = {o: [c for c in human if c.origin == o] for o in ("rej", "edt")}
    assert len(by_origin["rej"]) == answered["rej"]
    assert all(c.text == "ideal by rej" and c.validated_by == ["rej"] for c in by_origin["rej"])
    assert len(by_origin["edt"]) == answered["edt"]
    assert all(c.metadata.get("edited_from") for c in by_origin["edt"])
    assert len(human) == answered["rej"] + answered["edt"]
    # every answer was audited once
    audit = store.audit_entries(entity="scenario")
    assert sum(a["action"] == "review_answer" for a in audit) == n
    # the decisions each rejecting reviewer made sit on the completions of *their* scenarios
    rej_scenarios = {sid for (sid,) in q("SELECT scenario_id FROM reviews WHERE reviewer='rej'")}
    assert {c.scenario_id for c in by_origin["rej"]} == rej_scenarios
    store.close()


def test_overlap_two_gives_each_scenario_to_two_different_reviewers(
    tmp_path: Path, db: Path | str
) -> None:
    n = 60
    ids = _seed(db, n)
    answered = _run_all(db, tmp_path, {"a": "1\n", "b": "0\n", "c": "1\n"}, n, "--overlap", "2")
    assert sum(answered.values()) == 2 * n
    store = ScenarioStore.open(db)
    rows = store.connection.execute(
        "SELECT scenario_id, COUNT(*), COUNT(DISTINCT reviewer) FROM reviews GROUP BY 1"
    ).fetchall()
    assert {r[0] for r in rows} == set(ids)
    assert all(r[1] == r[2] == 2 for r in rows)
    store.close()
