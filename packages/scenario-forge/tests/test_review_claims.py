"""Claims with a lease: exclusive hand-out, overlap, expiry, resume, and an indexed query."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import pytest
from forge_export import Provenance, Scenario
from scenario_forge.review.claims import QueueFilter, ReviewQueue, explain_next
from scenario_forge.review.decisions import Answer, apply_answer, undo_answer
from scenario_forge.store import ScenarioStore

# the store tests that exercise the store interface run on both backends
BOTH_BACKENDS = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


def seed(store: ScenarioStore, n: int) -> list[str]:
    scenarios = [
        Scenario(
            prompt=f"Claim test prompt {i}",
            evaluation_target=("demo_code", "demo_help")[i % 2],
            success_criteria=["c"],
            source=Provenance(kind=("template", "import")[i % 2]),
        )
        for i in range(n)
    ]
    store.add_scenarios(scenarios)
    return [s.id for s in scenarios]


def test_two_reviewers_never_get_the_same_scenario(store_url: str) -> None:
    a_store = ScenarioStore.open(store_url, actor="ana")
    b_store = ScenarioStore.open(store_url, actor="bob")
    ids = seed(a_store, 5)
    ana, bob = ReviewQueue(a_store, "ana"), ReviewQueue(b_store, "bob")
    got: list[str] = []
    for _ in range(3):
        for q in (ana, bob):
            sid = q.claim_next(exclude=[x for x in got if x in q.claimed_by_me()])
            if sid is not None:
                got.append(sid)
    assert sorted(got) == sorted(ids)  # 5 distinct, then None for the sixth ask
    assert ana.claim_next(exclude=ana.claimed_by_me()) is None
    assert set(ana.claimed_by_me()).isdisjoint(bob.claimed_by_me())
    a_store.close()
    b_store.close()


def test_own_live_claim_comes_back_first(store_url: str) -> None:
    s1 = ScenarioStore.open(store_url, actor="ana")
    seed(s1, 3)
    first = ReviewQueue(s1, "ana").claim_next()
    s1.close()  # the terminal died
    s2 = ScenarioStore.open(store_url, actor="ana")
    assert ReviewQueue(s2, "ana").claim_next() == first
    assert ReviewQueue(s2, "bob").claim_next() != first
    s2.close()


@BOTH_BACKENDS
def test_stale_lease_expires_and_the_scenario_comes_back(store: ScenarioStore) -> None:
    (only,) = seed(store, 1)
    ana = ReviewQueue(store, "ana", lease_minutes=0.01)  # 0.6 s
    bob = ReviewQueue(store, "bob")
    assert ana.claim_next() == only
    assert bob.claim_next() is None
    time.sleep(0.8)
    assert bob.claim_next() == only
    assert ana.expires_at(only) is None  # the stale claim was deleted
    st = store.connection.execute(
        "SELECT claims, taken FROM review_state WHERE scenario_id = ?", (only,)
    ).fetchone()
    assert tuple(st) == (1, 1)


@BOTH_BACKENDS
def test_overlap_hands_a_scenario_to_n_different_reviewers(store: ScenarioStore) -> None:
    ids = seed(store, 3)
    queues = {name: ReviewQueue(store, name, QueueFilter(overlap=2)) for name in "abc"}
    ratings: dict[str, list[str]] = {sid: [] for sid in ids}
    for _round in range(4):
        for name, q in queues.items():
            sid = q.claim_next()
            if sid is None:
                continue
            assert name not in ratings[sid]
            apply_answer(store, Answer(sid, name, 2))
            ratings[sid].append(name)
    assert all(len(set(v)) == len(v) == 2 for v in ratings.values()), ratings
    assert all(q.claim_next() is None for q in queues.values())
    # without overlap nobody gets any of them
    assert ReviewQueue(store, "d").claim_next() is None


@BOTH_BACKENDS
def test_filters_and_unreviewed(store: ScenarioStore) -> None:
    ids = seed(store, 6)
    code = ReviewQueue(store, "ana", QueueFilter(targets=("demo_code",)))
    sid = code.claim_next()
    assert sid in ids[0::2]
    imports = ReviewQueue(store, "bob", QueueFilter(sources=("import",)))
    assert imports.claim_next() in ids[1::2]
    assert code.waiting() == 2 and imports.waiting() == 2  # claimed ones are not free
    apply_answer(store, Answer(ids[2], "carl", 1))
    unrev = ReviewQueue(
        store, "dan", QueueFilter(overlap=2, unreviewed=True, targets=("demo_code",))
    )
    got = unrev.claim_next()
    assert got is not None and got not in (ids[2],)


@BOTH_BACKENDS
def test_undo_puts_the_scenario_back_to_unreviewed(store: ScenarioStore) -> None:
    (sid,) = seed(store, 1)
    q = ReviewQueue(store, "ana")
    assert q.claim_next() == sid
    applied = apply_answer(store, Answer(sid, "ana", 0))
    assert q.claim_next() is None
    undo_answer(store, applied)
    row = store.connection.execute(
        "SELECT reviewers, claims, taken FROM review_state WHERE scenario_id = ?", (sid,)
    ).fetchone()
    assert tuple(row) == (0, 0, 0)
    assert ReviewQueue(store, "bob").claim_next() == sid


@pytest.mark.parametrize("targets", [(), ("demo_code",)])
def test_next_item_query_reads_an_index(store: ScenarioStore, targets: tuple[str, ...]) -> None:
    seed(store, 3)
    plan = " | ".join(explain_next(ReviewQueue(store, "ana", QueueFilter(targets=targets))))
    assert "SEARCH s USING" in plan and "idx_review_state_" in plan, plan
    assert "SCAN s" not in plan and "TEMP B-TREE" not in plan, plan


def _insert_raw(store: ScenarioStore, n: int, targets: tuple[str, ...] = ("t1", "t2")) -> None:
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO scenarios (id, evaluation_target, expected_behavior, group_id, "
            "source_kind, source_origin, created_at, data) VALUES (?, ?, 'refuse', 'g', "
            "'template', '', '2026-01-01', '{}')",
            (
                (hashlib.sha256(str(i).encode()).hexdigest()[:20], targets[i % len(targets)])
                for i in range(n)
            ),
        )


def _vm_steps(store: ScenarioStore, fn: Callable[[], object]) -> int:
    """SQLite virtual-machine work (in units of 100 instructions) that ``fn`` costs: a
    deterministic measure of how much of the store a query reads, unlike a wall clock."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.connection.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        store.connection.set_progress_handler(None, 0)
    return steps


def test_next_item_reads_little_of_a_big_mostly_reviewed_store(store: ScenarioStore) -> None:
    """100k scenarios, 99,900 already reviewed: claiming is an index probe, not a scan."""
    n, left = 100_000, 100
    _insert_raw(store, n)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO reviews (scenario_id, reviewer, rating, note, created_at) "
            "SELECT scenario_id, 'old', 2, '', '2026' FROM review_state ORDER BY rid LIMIT ?",
            (n - left,),
        )
    # the baseline, measured here: one pass over the table
    scan = _vm_steps(
        store,
        lambda: store.connection.execute(
            "SELECT COUNT(*) FROM review_state WHERE claims + reviewers >= 0"
        ).fetchone(),
    )
    for filt in (QueueFilter(), QueueFilter(targets=("t2",)), QueueFilter(overlap=2)):
        q = ReviewQueue(store, f"r{id(filt)}", filt)
        costs = []
        for _ in range(20):
            got: list[str | None] = []
            costs.append(_vm_steps(store, lambda q=q, got=got: got.append(q.claim_next())))
            assert got[0] is not None
            apply_answer(store, Answer(got[0], q.reviewer, 1))
        costs.sort()
        assert costs[len(costs) // 2] * 100 < scan, (costs, scan)
    assert ReviewQueue(store, "x").waiting() == left - 40


def test_overlap_queue_does_not_walk_her_own_ratings_again(store: ScenarioStore) -> None:
    """With --overlap 2, ann rated the oldest 20,000 of 40,000: after her first claim, the
    next ones skip her ratings instead of walking past all of them each time."""
    n, rated = 40_000, 20_000
    _insert_raw(store, n, ("t1",))
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO reviews (scenario_id, reviewer, rating, note, created_at) "
            "SELECT scenario_id, 'ann', 2, '', '2026' FROM review_state ORDER BY rid LIMIT ?",
            (rated,),
        )
    q = ReviewQueue(store, "ann", QueueFilter(overlap=2))
    costs = []
    for _ in range(30):
        got: list[str | None] = []
        costs.append(_vm_steps(store, lambda got=got: got.append(q.claim_next())))
        assert got[0] is not None
        apply_answer(store, Answer(got[0], "ann", 2))
    first, later = costs[0], sorted(costs[1:])
    assert later[-1] * 50 < first, costs  # every later claim: a small fraction of the first
    # a fresh queue (a new session) pays the first walk again, then is cheap too
    assert _vm_steps(store, ReviewQueue(store, "ann", QueueFilter(overlap=2)).claim_next) > (
        later[-1] * 50
    )


def test_remembered_overlap_scan_still_finds_a_scenario_that_became_partly_rated(
    store: ScenarioStore,
) -> None:
    ids = seed(store, 30)
    # ann rated the 20 oldest but one; then her queue (overlap 2) starts
    for sid in ids[:20]:
        if sid != ids[9]:
            apply_answer(store, Answer(sid, "ann", 2))
    ann = ReviewQueue(store, "ann", QueueFilter(overlap=2))
    first = ann.claim_next()
    assert first == ids[9]  # the oldest she has not rated
    ann.release(first)  # she skips it ...
    # ... bob rates an old one she never saw: it is partly rated now, below her queue's cursor
    bob_first = ReviewQueue(store, "bob", QueueFilter(overlap=2)).claim_next()
    assert bob_first == ids[0]  # (the oldest partly rated one, rated by ann)
    apply_answer(store, Answer(ids[9], "bob", 1))
    handed = []
    while (sid := ann.claim_next(exclude=[])) is not None:
        handed.append(sid)
        apply_answer(store, Answer(sid, "ann", 2))
    assert ids[9] in handed  # not lost: scanned again before the queue says it is empty
    assert sorted(handed) == sorted([ids[9], *ids[20:]])
