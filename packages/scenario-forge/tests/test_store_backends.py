"""PostgreSQL next to SQLite: the CLI on a URL, migrate-store round trips, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Completion, Scenario
from scenario_forge import migrations
from scenario_forge.cli import main
from scenario_forge.pg_migrations import PG_MIGRATIONS
from scenario_forge.review.claims import QueueFilter, ReviewQueue
from scenario_forge.review.decisions import Answer, apply_answer
from scenario_forge.store import ScenarioStore
from scenario_forge.store_copy import digests

from .conftest import TEAM_TAXONOMY


def run(db: str | Path, *args: str, input: bytes | None = None) -> tuple[int, str, str]:
    env = {"SCENARIO_FORGE_DB": str(db), "SCENARIO_FORGE_TAXONOMY": str(TEAM_TAXONOMY)}
    res = CliRunner().invoke(main, list(args), env=env, input=input)
    return res.exit_code, res.stdout, res.stderr


def fill(location: str | Path) -> list[str]:
    """Scenarios, template completions, answers with decisions, edits and a live claim."""
    with ScenarioStore.open(location, actor="seed") as store:
        made = [
            Scenario(
                prompt=f"Backend prompt {i} <b>ü</b>",
                evaluation_target=("demo_code", "demo_help")[i % 2],
                success_criteria=["c"],
            )
            for i in range(12)
        ]
        store.add_scenarios(made)
        store.add_completions(
            Completion(scenario_id=s.id, text=f"reply {i}", source="template", origin="t")
            for i, s in enumerate(made)
        )
        ana = ReviewQueue(store, "ana", QueueFilter(overlap=2))
        for n in range(5):
            sid = ana.claim_next()
            assert sid is not None
            (comp,) = store.completions_for(sid)
            answer = Answer(sid, "ana", n % 4, note=f"note {n}")
            if n % 4 >= 2:
                answer.ideal_response = f"ideal {n}"
                answer.decisions = {comp.id: "accept"}
            else:
                answer.edits = {comp.id: f"edited {n}"}
            apply_answer(store, answer)
        assert ReviewQueue(store, "bob").claim_next() is not None  # a live claim
        return [s.id for s in made]


def rest(d: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """Digests of every table but the audit log (each copy logs itself)."""
    return {k: v for k, v in d.items() if k != "audit_log"}


def test_pg_migrations_mirror_the_sqlite_ones() -> None:
    assert len(PG_MIGRATIONS) == migrations.latest_version()


def test_cli_commands_on_a_postgresql_url(pg_url: str, tmp_path: Path) -> None:
    code, out, _ = run(pg_url, "init", "--json")
    assert code == 0 and json.loads(out)["created"] is True
    assert json.loads(run(pg_url, "init", "--json")[1])["created"] is False
    assert run(pg_url, "generate", "-t", "demo_code", "-n", "6")[0] == 0
    assert run(pg_url, "complete")[0] == 0
    listed = json.loads(run(pg_url, "list", "--limit", "0", "--json")[1])
    assert len(listed) == 6
    code, out, err = run(pg_url, "review", "--reviewer", "ana", input=b"2\na\n1\n")
    assert code == 0, err
    stats = json.loads(run(pg_url, "stats", "--json")[1])
    assert stats["scenarios"] == 6 and stats["reviews"] == 2
    assert "***" not in stats["path"] and stats["path"].startswith("postgresql://")
    code, out, _ = run(pg_url, "show", listed[0]["id"][:8], "--json")
    assert code == 0 and json.loads(out)["scenario"]["id"] == listed[0]["id"]
    code, out, err = run(pg_url, "export", str(tmp_path / "out"), "--json")
    assert code == 0, err
    assert json.loads(out)["scenarios_seen"] == 6
    # SQLite-only maintenance commands say so in one line
    code, _, err = run(pg_url, "backup", str(tmp_path / "b.db"))
    assert code == 1 and "SQLite files only" in err and "Traceback" not in err


def test_unreachable_server_is_one_line_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody:secret@/forge?host={tmp_path}&port=1"
    code, _, err = run(url, "stats")
    assert code == 1 and "cannot connect to PostgreSQL" in err
    assert "Traceback" not in err and "secret" not in err


@pytest.mark.parametrize("first", ["sqlite", "postgresql"])
def test_migrate_store_round_trip_is_lossless(first: str, pg_url: str, tmp_path: Path) -> None:
    sqlite_a, sqlite_b = tmp_path / "a.db", tmp_path / "b.db"
    start: str | Path = sqlite_a if first == "sqlite" else pg_url
    fill(start)
    middle: str | Path = pg_url if first == "sqlite" else sqlite_a
    code, out, err = run(tmp_path / "unused.db", "migrate-store", str(start), str(middle), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["counts"]["scenarios"] == 12 and report["counts"]["reviews"] == 5
    assert report["counts"]["review_claims"] == 1
    code, _, err = run(tmp_path / "unused.db", "migrate-store", str(middle), str(sqlite_b))
    assert code == 0, err
    with (
        ScenarioStore.open(start) as s0,
        ScenarioStore.open(middle) as s1,
        ScenarioStore.open(sqlite_b) as s2,
    ):
        want, got1, got2 = digests(s0), digests(s1), digests(s2)
        assert rest(got1) == rest(want) and rest(got2) == rest(want)
        # each copy adds one audit entry of its own after the copied ones
        assert got1["audit_log"][0] == want["audit_log"][0] + 1
        assert got2["audit_log"][0] == want["audit_log"][0] + 2
        assert s2.audit_entries()[-1]["action"] == "migrate_store"
        # the queue hands out the same next scenario everywhere, and new rows get fresh ids
        nxt = {ReviewQueue(s, "carl").claim_next() for s in (s0, s1, s2)}
        assert len(nxt) == 1 and nxt != {None}
        (sid,) = nxt
        ids = {apply_answer(s, Answer(sid, "carl", 1)).review_id for s in (s0, s1, s2)}
        assert len(ids) == 1
    # the SQLite copies export byte-identical parquet (the review rows, ids and order match)
    outs = []
    for db in (start, sqlite_b):
        out_dir = tmp_path / f"out-{len(outs)}"
        code, _, err = run(db, "export", str(out_dir))
        assert code == 0, err
        outs.append({p.relative_to(out_dir): p.read_bytes() for p in out_dir.rglob("*.parquet")})
    assert outs[0] == outs[1] and outs[0]


def test_migrate_store_refuses_a_non_empty_destination(pg_url: str, tmp_path: Path) -> None:
    src = tmp_path / "src.db"
    fill(src)
    fill(pg_url)
    code, _, err = run(src, "migrate-store", str(src), pg_url)
    assert code == 1 and "--force" in err and "Traceback" not in err
    code, _, err = run(src, "migrate-store", str(src), pg_url, "--force")
    assert code == 0, err
    with ScenarioStore.open(src) as a, ScenarioStore.open(pg_url) as b:
        assert rest(digests(a)) == rest(digests(b))
    code, _, err = run(src, "migrate-store", str(tmp_path / "missing.db"), pg_url)
    assert code == 1 and "scenario-forge init" in err


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_nul_characters_survive_both_backends(store: ScenarioStore, tmp_path: Path) -> None:
    # PostgreSQL text cannot hold NUL; a random model's output can
    s = Scenario(prompt="nul \x00 inside", evaluation_target="demo_code", success_criteria=["c"])
    store.add_scenarios([s])
    odd = "a\x00b \ue000 c \ue0000 \x00"
    c = Completion(scenario_id=s.id, text=odd, source="model", origin="m\x00")
    store.add_completions([c])
    got = store.get_completion(c.id)
    assert got is not None and got.text == odd and got.origin == "m\x00"
    assert store.get_scenario(s.id) == s
    assert [x.text for x in store.completions_for(s.id)] == [odd]
    copy = tmp_path / "copy.db"
    code, _, err = run(copy, "migrate-store", location(store), str(copy))
    assert code == 0, err
    with ScenarioStore.open(copy) as back:
        assert back.completions_for(s.id) == store.completions_for(s.id)


def location(store: ScenarioStore) -> str:
    return str(getattr(store.connection, "url", store.path))
