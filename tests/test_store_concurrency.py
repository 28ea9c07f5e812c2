"""Real processes write to one store at the same time and nothing is lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

N_PER_WORKER = 150

# Each worker says it is ready, waits for the GO file, then writes in many small transactions;
# halfway it waits for the other worker to be halfway too, so the two runs must overlap even
# when one process is scheduled much later than the other.
WRITER = """
import sys, time
from pathlib import Path
from forge_export import Completion, Review, Scenario
from scenario_forge.store import ScenarioStore

db, worker, go, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
store = ScenarioStore.open(db, actor=f"worker-{worker}")
(go.parent / f"ready-{worker}").touch()
while not go.exists():
    time.sleep(0.01)
shared = Scenario(prompt="Shared scenario", evaluation_target="demo", success_criteria=["c"])
store.add_scenarios([shared])
for i in range(n):
    if i == n // 2:
        (go.parent / f"half-{worker}").touch()
        while len(list(go.parent.glob("half-*"))) < 2:
            time.sleep(0.005)
    s = Scenario(prompt=f"worker {worker} scenario {i}", evaluation_target="demo",
                 success_criteria=["c"])
    store.add_scenarios([s])
    store.add_completions(
        [Completion(scenario_id=s.id, text=f"answer {i}", source="template", origin="t")])
    store.add_review(Review(scenario_id=shared.id, reviewer=f"w{worker}", rating=i % 4))
store.close()
"""

OPENER = """
import sys, time
from pathlib import Path
from scenario_forge.store import ScenarioStore
db, go = sys.argv[1], Path(sys.argv[2])
(go.parent / f"ready-{id(go)}-{time.time_ns()}").touch()
while not go.exists():
    time.sleep(0.005)
ScenarioStore.open(db).close()
"""


def _run_all(code: str, argvs: list[list[str]], go: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for argv in argvs
    ]
    # start only when every process has imported (and opened) what it needs
    deadline = time.monotonic() + 120
    while len(list(go.parent.glob("ready-*"))) < len(procs):
        assert time.monotonic() < deadline, "workers never got ready"
        assert all(p.poll() is None for p in procs), "a worker died before the start"
        time.sleep(0.01)
    go.touch()
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()


def test_two_processes_lose_nothing(tmp_path: Path) -> None:
    from scenario_forge.store import ScenarioStore

    db = tmp_path / "forge.db"
    ScenarioStore.open(db).close()
    go = tmp_path / "go"
    _run_all(WRITER, [[str(db), w, str(go), str(N_PER_WORKER)] for w in ("1", "2")], go)
    store = ScenarioStore.open(db)
    st = store.stats()
    assert st["scenarios"] == 2 * N_PER_WORKER + 1  # the shared one once
    assert st["completions"] == 2 * N_PER_WORKER
    assert st["reviews"] == 2 * N_PER_WORKER
    adds = [e for e in store.audit_entries() if e["action"] == "add"]
    assert len(adds) == st["scenarios"] + st["completions"] + st["reviews"]
    assert {e["actor"] for e in adds} == {"worker-1", "worker-2"}
    # the writes really interleaved (not one process after the other): the halfway barrier
    # makes each worker's first half precede the other's second half
    actors = [e["actor"] for e in adds]
    switches = sum(a != b for a, b in zip(actors, actors[1:], strict=False))
    assert switches >= 2
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_concurrent_first_open_migrates_once(tmp_path: Path) -> None:
    from scenario_forge.migrations import latest_version
    from scenario_forge.store import ScenarioStore

    db = tmp_path / "fresh.db"
    go = tmp_path / "go"
    _run_all(OPENER, [[str(db), str(go)] for _ in range(3)], go)
    store = ScenarioStore.open(db)
    assert store.schema_version == latest_version()
    assert len(store.audit_entries(entity="store")) == 1
    store.close()
