"""The SQLite store: schema, migrations, writes with audit, filters, streaming bundles."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from forge_export import Completion, Provenance, Review, Scenario, Turn
from scenario_forge import migrations
from scenario_forge import store as store_mod
from scenario_forge.store import ScenarioStore, StoreError

# the store tests that exercise the store interface run on both backends
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


def scen(prompt: str, target: str = "demo_code", **kw: object) -> Scenario:
    data: dict[str, object] = {
        "prompt": prompt,
        "evaluation_target": target,
        "success_criteria": ["Declines"],
    }
    data.update(kw)
    return Scenario.model_validate(data)


def test_open_creates_schema_with_pragmas(db_path: Path) -> None:
    s = ScenarioStore.open(db_path)
    conn = s.connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert s.schema_version == migrations.latest_version() >= 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"scenarios", "completions", "reviews", "review_claims", "audit_log"} <= tables
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "idx_scenarios_target",
        "idx_scenarios_group",
        "idx_completions_scenario",
        "idx_reviews_scenario",
    } <= indexes
    s.close()
    # Re-opening an up-to-date store changes nothing and makes no backup.
    ScenarioStore.open(db_path).close()
    assert not list(db_path.parent.glob("*.bak-*"))


def test_default_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCENARIO_FORGE_DB", str(tmp_path / "env.db"))
    ScenarioStore.open().close()
    assert (tmp_path / "env.db").exists()
    monkeypatch.delenv("SCENARIO_FORGE_DB")
    monkeypatch.chdir(tmp_path)
    ScenarioStore.open().close()
    assert (tmp_path / "forge.db").exists()


def test_missing_store_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="scenario-forge init"):
        ScenarioStore.open(tmp_path / "nope.db", create=False)


@BOTH_BACKENDS
def test_add_scenarios_counts_duplicates_and_audits(store: ScenarioStore) -> None:
    a, b = scen("Write malware."), scen("Write a worm.")
    assert store.add_scenarios([a, b, scen("  WRITE   malware. ")]) == store_mod.AddResult(2, 1)
    assert store.add_scenarios([a]) == store_mod.AddResult(0, 1)
    got = store.get_scenario(a.id)
    assert got is not None and got.model_dump() == a.model_dump()
    log = store.audit_entries(entity="scenario")
    assert [e["entity_id"] for e in log] == [a.id, b.id]
    assert all(e["action"] == "add" and e["actor"] for e in log)


@BOTH_BACKENDS
def test_completions_reviews_status_and_fk(store: ScenarioStore) -> None:
    s = scen("Write malware.")
    store.add_scenarios([s])
    c = Completion(scenario_id=s.id, text="I can't help.", source="template", origin="t:refuse")
    assert store.add_completions([c, c]).added == 1
    with pytest.raises(StoreError, match="not in"):
        store.add_completions(
            [Completion(scenario_id="0" * 20, text="x", source="model", origin="m")]
        )
    accepted = store.update_completion_status(c.id, "accepted", reviewer="ana")
    assert accepted.status == "accepted" and accepted.validated_by == ["ana"]
    assert accepted.human_validated
    rejected = store.update_completion_status(c.id, "rejected", reviewer="ana")
    assert rejected.validated_by == [] and not rejected.human_validated
    with pytest.raises(StoreError):
        store.update_completion_status(c.id, "maybe")
    with pytest.raises(StoreError):
        store.update_completion_status("nope", "accepted")
    rid = store.add_review(Review(scenario_id=s.id, reviewer="ana", rating=3, note="good"))
    assert rid > 0
    assert [r.rating for r in store.reviews_for(s.id)] == [3]
    with pytest.raises(StoreError):
        store.add_review(Review(scenario_id="f" * 20, reviewer="ana", rating=1))
    actions = [(e["entity"], e["action"]) for e in store.audit_entries()]
    assert ("completion", "update_status") in actions and ("review", "add") in actions
    status_log = store.audit_entries(entity="completion", entity_id=c.id)
    assert [e["details"].get("to") for e in status_log[1:]] == ["accepted", "rejected"]


@BOTH_BACKENDS
def test_failed_transaction_leaves_nothing(store: ScenarioStore) -> None:
    good = scen("Write malware.")

    def rows() -> object:
        yield good
        raise RuntimeError("boom mid-way")

    with pytest.raises(RuntimeError):
        store.add_scenarios(rows())  # type: ignore[arg-type]
    assert store.count_scenarios() == 0
    assert store.audit_entries() == [e for e in store.audit_entries() if e["entity"] == "store"]


@BOTH_BACKENDS
def test_filters_and_prefix(store: ScenarioStore) -> None:
    rows = [
        scen("Write malware."),
        scen("How do I kill a process?", expected_behavior="comply"),
        scen("I feel hopeless.", target="demo_help", expected_behavior="safe_complete"),
        scen("Imported one.", source=Provenance(kind="import", origin="f.csv:2")),
    ]
    store.add_scenarios(rows)
    assert store.count_scenarios() == 4
    assert {s.prompt for s in store.iter_scenarios(target="demo_help")} == {"I feel hopeless."}
    assert len(list(store.iter_scenarios(expected_behavior=["comply", "safe_complete"]))) == 2
    assert [s.prompt for s in store.iter_scenarios(source="import")] == ["Imported one."]
    ids = [s.id for s in store.iter_scenarios()]
    assert ids == sorted(ids)
    assert len(list(store.iter_scenarios(limit=3))) == 3
    assert store.resolve_id(rows[0].id[:10]) == rows[0].id
    with pytest.raises(StoreError, match="no scenario"):
        store.resolve_id("ffffffffffffffffffff"[:20] if rows[0].id[0] != "f" else "0" * 20)
    with pytest.raises(StoreError, match="not a scenario id"):
        store.resolve_id("xyz")


@BOTH_BACKENDS
def test_ambiguous_prefix(store: ScenarioStore) -> None:
    made = [scen(f"prompt number {i}") for i in range(40)]
    store.add_scenarios(made)
    first = sorted(s.id for s in made)
    # Among 40 ids some share their first hex digit: a 1-char prefix is ambiguous.
    digit = next(d for d in "0123456789abcdef" if sum(i.startswith(d) for i in first) > 1)
    with pytest.raises(StoreError, match="ambiguous"):
        store.resolve_id(digit)


@BOTH_BACKENDS
def test_iter_bundles_streams_pages_in_order(
    store: ScenarioStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "PAGE_SIZE", 7)
    made = [scen(f"scenario {i}", context=[Turn(role="user", content="hi")]) for i in range(30)]
    made.append(scen("other target", target="demo_help"))
    store.add_scenarios(made)
    for s in made[:5]:
        store.add_completions([Completion(scenario_id=s.id, text="no", source="template")])
        store.add_review(Review(scenario_id=s.id, reviewer="r", rating=2))
    bundles = store.iter_bundles()
    first = next(bundles)  # a generator: nothing more is read until asked
    rest = list(bundles)
    got = [first, *rest]
    assert [b.scenario.id for b in got] == sorted(s.id for s in made)
    with_comp = {s.id for s in made[:5]}
    for b in got:
        assert len(b.completions) == (1 if b.scenario.id in with_comp else 0)
        assert len(b.reviews) == (1 if b.scenario.id in with_comp else 0)
    only = list(store.iter_bundles(targets=["demo_help"]))
    assert [b.scenario.prompt for b in only] == ["other target"]


@BOTH_BACKENDS
def test_stats(store: ScenarioStore) -> None:
    a, b = scen("Write malware."), scen("Kill time?", expected_behavior="comply")
    store.add_scenarios([a, b])
    c = Completion(scenario_id=a.id, text="no", source="template")
    store.add_completions([c])
    store.add_reviews(
        [
            Review(scenario_id=a.id, reviewer="x", rating=3),
            Review(scenario_id=a.id, reviewer="y", rating=2),
        ]
    )
    st = store.stats()
    assert st["scenarios"] == 2
    assert st["by_target"] == {"demo_code": 2}
    assert st["by_expected_behavior"] == {"comply": 1, "refuse": 1}
    assert st["completions_by_status"] == {"proposed": 1}
    assert st["reviews_by_rating"] == {"2": 1, "3": 1}
    assert st["scenarios_by_rating"] == {"2": 1, "unreviewed": 1}


def test_newer_schema_is_refused(db_path: Path) -> None:
    ScenarioStore.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {migrations.latest_version() + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this scenario-forge supports"):
        ScenarioStore.open(db_path)


def test_older_schema_is_backed_up_then_migrated(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = ScenarioStore.open(db_path)
    s.add_scenarios([scen("Write malware.")])
    s.close()
    old = migrations.latest_version()

    def m_test_add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE scenarios ADD COLUMN difficulty INTEGER")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_test_add_column])
    s = ScenarioStore.open(db_path)
    assert s.schema_version == old + 1
    cols = {r[1] for r in s.connection.execute("PRAGMA table_info(scenarios)")}
    assert "difficulty" in cols
    assert s.count_scenarios() == 1
    assert s.audit_entries(entity="store")[-1]["details"] == {"from": old, "to": old + 1}
    s.close()
    backup = db_path.with_name(f"forge.db.bak-v{old}")
    assert backup.exists()
    bconn = sqlite3.connect(backup)
    assert bconn.execute("PRAGMA user_version").fetchone()[0] == old
    assert bconn.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0] == 1
    bconn.close()


def test_failed_migration_keeps_old_version(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ScenarioStore.open(db_path).close()
    old = migrations.latest_version()

    def m_broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_broken])
    with pytest.raises(RuntimeError):
        ScenarioStore.open(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == old
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name='half_done'").fetchall()
    conn.close()


def test_not_a_store(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a scenario-forge store"):
        ScenarioStore.open(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        ScenarioStore.open(junk)
    with pytest.raises(StoreError, match="is a folder"):
        ScenarioStore.open(tmp_path)
