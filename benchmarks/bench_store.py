"""Benchmark: the scenario store at 10k and 1M scenarios (review, stats, list, export).

For each size N a store is built fast (synthetic rows written with ``executemany`` in big
transactions through the real schema, triggers included; no audit rows), then measured:

* ``next-item``: what ``scenario-forge review`` does to show the next scenario: claim it
  (:meth:`ReviewQueue.claim_next`), read the scenario and its completions; then the answer is
  stored (:func:`apply_answer`, not timed) so the queue moves on. p50 / p95 over ``--items``
  items, for a fresh reviewer (``overlap=1``) and for the reviewer who already rated 10% of the
  store with ``--overlap 2`` (the harder case: the queue must skip everything she rated).
* ``stats``: ``scenario-forge stats --json`` (CliRunner, in process; median of 3).
* ``list --target``: ``scenario-forge list --target harmful_code`` (default limit 20; median of 5).
* ``export``: ``scenario-forge export`` of the whole store in a fresh subprocess: scenarios/s,
  rows/s and the child's peak RSS (``ru_maxrss``).

Shape of the synthetic store (per scenario): 5 targets round robin, groups of 3, one template
completion; every 10th scenario is rated 2 by ``ann`` (so 10% reviewed) and her decision
accepts its completion.

Usage:
    uv run python benchmarks/bench_store.py                    # 10000 1000000
    uv run python benchmarks/bench_store.py 10000 100000 --items 100
    uv run python benchmarks/bench_store.py 10000 --keep /tmp/stores   # keep the .db files
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = (
    "harmful_code",
    "self_harm",
    "privacy_violation",
    "medical_misinformation",
    "ai_psychosis",
)
CHUNK = 50_000
CREATED = "2024-01-01T00:00:00Z"


def build_store(path: Path, n: int, *, reviewed_every: int = 10) -> float:
    """Write a synthetic store of ``n`` scenarios at ``path``; returns seconds taken."""
    from forge_export.ids import completion_id, scenario_id
    from scenario_forge.store import ScenarioStore

    t = time.perf_counter()
    store = ScenarioStore.open(path, actor="bench")
    conn = store.connection
    conn.execute("PRAGMA synchronous = OFF")
    criteria = ["Declines to help with the harmful part", "Stays polite"]
    for start in range(0, n, CHUNK):
        scenarios: list[tuple[Any, ...]] = []
        completions: list[tuple[Any, ...]] = []
        reviews: list[tuple[Any, ...]] = []
        for i in range(start, min(start + CHUNK, n)):
            target = TARGETS[i % len(TARGETS)]
            prompt = f"Synthetic request number {i} about {target}: how would one do it?"
            sid = scenario_id(prompt, [], target)
            behavior = "comply" if i % 5 == 4 else "refuse"
            group = f"group-{i // 3}"
            data = {
                "id": sid,
                "prompt": prompt,
                "system": None,
                "context": [],
                "evaluation_target": target,
                "success_criteria": criteria,
                "expected_behavior": behavior,
                "group_id": group,
                "tags": ["synthetic"],
                "source": {
                    "kind": "template",
                    "origin": "bench",
                    "parent_id": None,
                    "created_at": CREATED,
                },
                "metadata": {},
            }
            scenarios.append(
                (sid, target, behavior, group, "template", "bench", CREATED, json.dumps(data))
            )
            text = f"I can't help with request {i}."
            cid = completion_id(sid, "template", "refuse", text)
            reviewed = reviewed_every and i % reviewed_every == 0
            meta = (
                json.dumps(
                    {
                        "review": {
                            "before": {"status": "proposed", "validated_by": []},
                            "decisions": {"ann": "accept"},
                        }
                    }
                )
                if reviewed
                else "{}"
            )
            completions.append(
                (
                    cid,
                    sid,
                    text,
                    "template",
                    "refuse",
                    "accepted" if reviewed else "proposed",
                    '["ann"]' if reviewed else "[]",
                    CREATED,
                    meta,
                )
            )
            if reviewed:
                reviews.append((sid, "ann", 2, "", CREATED))
        with store.transaction() as c:
            c.executemany(
                "INSERT INTO scenarios (id, evaluation_target, expected_behavior, group_id, "
                "source_kind, source_origin, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                scenarios,
            )
            c.executemany(
                "INSERT INTO completions (id, scenario_id, text, source, origin, status, "
                "validated_by, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                completions,
            )
            c.executemany(
                "INSERT INTO reviews (scenario_id, reviewer, rating, note, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                reviews,
            )
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return time.perf_counter() - t


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def next_item(path: Path, reviewer: str, items: int, overlap: int) -> dict[str, float]:
    """Latency (ms) of claiming and reading the next scenario, answered one after another."""
    from scenario_forge.review.claims import QueueFilter, ReviewQueue
    from scenario_forge.review.decisions import Answer, apply_answer
    from scenario_forge.store import ScenarioStore

    store = ScenarioStore.open(path, create=False, actor=reviewer)
    queue = ReviewQueue(store, reviewer, QueueFilter(overlap=overlap))
    times: list[float] = []
    for _ in range(items):
        t = time.perf_counter()
        sid = queue.claim_next()
        assert sid is not None, "the queue ran dry"
        store.get_scenario(sid)
        store.completions_for(sid)
        times.append((time.perf_counter() - t) * 1000)
        apply_answer(store, Answer(scenario_id=sid, reviewer=reviewer, rating=1))
    store.close()
    return {"p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95)}


def cli_ms(args: list[str], repeat: int) -> float:
    """Median wall time (ms) of one in-process CLI call (CliRunner)."""
    from click.testing import CliRunner
    from scenario_forge.cli import main

    runner = CliRunner()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = runner.invoke(main, args, catch_exceptions=False)
        times.append((time.perf_counter() - t) * 1000)
        assert result.exit_code == 0, result.output
    return statistics.median(times)


def export_child(db: str, out: str) -> None:
    """Run in a fresh process: export the store, print seconds, rows and peak RSS as JSON."""
    from forge_export.exporters.huggingface import ExportOptions
    from scenario_forge.api import export_store
    from scenario_forge.store import ScenarioStore

    store = ScenarioStore.open(db, create=False)
    t, cpu = time.perf_counter(), time.process_time()
    summary = export_store(store, out, ExportOptions())
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = sum(sum(s.values()) for s in summary.counts.values())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "rss_mb": rss}))


def measure(n: int, folder: Path, items: int) -> dict[str, Any]:
    db = folder / f"store-{n}.db"
    row: dict[str, Any] = {"n": n, "build_s": build_store(db, n)}
    row["db_mb"] = db.stat().st_size / 2**20
    # ann first: the partly reviewed bucket then holds only her own ratings (the worst case)
    row["next_overlap2_ann"] = next_item(db, "ann", items, 2)
    row["next_fresh"] = next_item(db, "bench-fresh", items, 1)
    os.environ["SCENARIO_FORGE_DB"] = str(db)
    row["stats_ms"] = cli_ms(["stats", "--json"], 3)
    row["list_target_ms"] = cli_ms(["list", "--target", "harmful_code"], 5)
    out = folder / f"export-{n}"
    proc = subprocess.run(
        [sys.executable, __file__, "--export-child", str(db), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    exp = json.loads(proc.stdout.strip().splitlines()[-1])
    exp["scenarios_per_s"] = n / exp["seconds"]
    exp["rows_per_s"] = exp["rows"] / exp["seconds"]
    row["export"] = exp
    shutil.rmtree(out, ignore_errors=True)
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| scenarios | build s | db MB | next-item p50 ms (p95) | next-item overlap 2, "
        "reviewer with 10% rated: p50 ms (p95) | stats ms | list --target ms | export s | "
        "export scenarios/s | export rows/s | export peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        f, o, e = r["next_fresh"], r["next_overlap2_ann"], r["export"]
        print(
            f"| {r['n']:,} | {r['build_s']:.1f} | {r['db_mb']:.0f} | "
            f"{f['p50_ms']:.2f} ({f['p95_ms']:.2f}) | {o['p50_ms']:.2f} ({o['p95_ms']:.2f}) | "
            f"{r['stats_ms']:.0f} | {r['list_target_ms']:.1f} | {e['seconds']:.1f} | "
            f"{e['scenarios_per_s']:,.0f} | {e['rows_per_s']:,.0f} | {e['rss_mb']:.0f} |"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        ratio = b["next_fresh"]["p50_ms"] / a["next_fresh"]["p50_ms"]
        print(f"\nnext-item p50 ratio {b['n']:,} / {a['n']:,}: {ratio:.2f} (goal <= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 1_000_000])
    parser.add_argument("--items", type=int, default=200, help="next-item samples per case")
    parser.add_argument("--keep", type=Path, default=None, help="keep the stores in this folder")
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    parser.add_argument("--export-child", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-store-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for n in args.sizes:
            row = measure(n, folder, args.items)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
