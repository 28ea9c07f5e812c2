"""Concurrency soak: N reviewer processes + a generator + an exporter on one store.

For a bounded time every process works flat out on the same SQLite file and logs what it
had acknowledged (``ACK ...`` after each commit). Afterwards every decision is accounted for
exactly: each reviewer's reviews are exactly the answers it acknowledged (none lost, none
doubled, no scenario handed to two reviewers), each completion carries the decisions made on
it, the generator's scenarios are all there, every export is complete and valid, and
``scenario-forge check`` passes.

``FORGE_SOAK_SECONDS`` (default 6; nightly: 600) and ``FORGE_SOAK_REVIEWERS`` (default 3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from forge_export import Completion, Scenario
from forge_export.reader import validate_export
from scenario_forge.maintenance import check_store
from scenario_forge.store import ScenarioStore

SECONDS = float(os.environ.get("FORGE_SOAK_SECONDS", "6"))
REVIEWERS = int(os.environ.get("FORGE_SOAK_REVIEWERS", "3"))

WORKER = r"""
import json, sys, time
from pathlib import Path
role, name, db, work, seconds = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), float(sys.argv[5])
from forge_export import Completion, Scenario
from scenario_forge.store import ScenarioStore
store = ScenarioStore.open(db, actor=name)
go = work / "GO"
while not go.exists():
    time.sleep(0.01)
deadline = time.monotonic() + seconds
i = 0
while time.monotonic() < deadline:
    i += 1
    if role == "reviewer":
        from scenario_forge.review.claims import ReviewQueue
        from scenario_forge.review.decisions import Answer, apply_answer
        sid = ReviewQueue(store, name).claim_next()
        if sid is None:
            time.sleep(0.02)
            continue
        decisions = {c.id: ("accept" if (i + n) % 3 else "reject")
                     for n, c in enumerate(store.completions_for(sid))}
        apply_answer(store, Answer(scenario_id=sid, reviewer=name, rating=i % 4,
                                   decisions=decisions))
        print("ACK " + json.dumps([sid, decisions]), flush=True)
    elif role == "generator":
        batch = [Scenario(prompt=f"soak {name} {i} {k}", evaluation_target="harmful_code",
                          success_criteria=["c"]) for k in range(5)]
        with store.transaction():
            store.add_scenarios(batch)
            store.add_completions(Completion(scenario_id=s.id, text=f"reply {s.id}",
                                             source="template", origin="soak") for s in batch)
        print("ACK " + json.dumps([s.id for s in batch]), flush=True)
    elif role == "exporter":
        from forge_export.exporters.huggingface import ExportOptions
        from scenario_forge.api import export_store
        out = work / f"export-{i}"
        export_store(store, out, ExportOptions(configs=["sft", "kto", "eval"]))
        print("ACK " + json.dumps(str(out)), flush=True)
store.close()
print("DONE", flush=True)
"""


def _seed(db: Path, n: int) -> int:
    store = ScenarioStore.open(db)
    scenarios = [
        Scenario(prompt=f"soak seed {i}", evaluation_target="self_harm", success_criteria=["c"])
        for i in range(n)
    ]
    store.add_scenarios(scenarios)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"seed reply {i}", source="template", origin="t")
        for i, s in enumerate(scenarios)
    )
    store.close()
    return n


def test_reviewers_generator_exporter_exact_accounting(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    seeded = _seed(db, 60)
    roles = [("reviewer", f"rev{k}") for k in range(REVIEWERS)]
    roles += [("generator", "gen"), ("exporter", "exp")]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", WORKER, role, name, str(db), str(tmp_path), str(SECONDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, name in roles
    }
    time.sleep(1.0)  # let them import and open the store
    (tmp_path / "GO").touch()
    acks: dict[str, list[object]] = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=SECONDS + 120)
        assert p.returncode == 0, (name, err[-3000:])
        lines = out.splitlines()
        assert lines[-1] == "DONE", (name, lines[-3:])
        acks[name] = [json.loads(x[4:]) for x in lines if x.startswith("ACK ")]

    store = ScenarioStore.open(db)
    try:
        conn = store.connection
        # generator: every acknowledged scenario is there, and nothing else appeared
        generated = [sid for batch in acks["gen"] for sid in batch]  # type: ignore[union-attr]
        assert store.existing_ids(generated) == set(generated)
        assert store.count_scenarios() == seeded + len(generated)
        # reviewers: reviews in the store == acknowledged answers, exactly
        handed: Counter[str] = Counter()
        for k in range(REVIEWERS):
            name = f"rev{k}"
            answered = [a[0] for a in acks[name]]  # type: ignore[index]
            stored = [
                r[0]
                for r in conn.execute("SELECT scenario_id FROM reviews WHERE reviewer = ?", (name,))
            ]
            assert sorted(stored) == sorted(answered), name
            handed.update(answered)
            logged = conn.execute(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'review_answer' AND actor = ?",
                (name,),
            ).fetchone()[0]
            assert logged == len(answered)
            for _sid, decisions in acks[name]:  # type: ignore[misc]
                for cid, decision in decisions.items():
                    c = store.get_completion(cid)
                    assert c is not None and c.metadata["review"]["decisions"][name] == decision
        assert all(n == 1 for n in handed.values()), "a scenario went to two reviewers"
        total_reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        assert total_reviews == sum(handed.values())
        assert sum(handed.values()) > 0
        # every acknowledged export is complete and valid
        assert acks["exp"], "the exporter never finished an export"
        for path in acks["exp"]:
            assert validate_export(path) == []  # type: ignore[arg-type]
        leftovers = [p.name for p in tmp_path.iterdir() if ".forge-tmp-" in p.name]
        assert leftovers == []
    finally:
        store.close()
    report = check_store(db)
    assert report.ok, report.problems[:10]
