"""kill -9 at random points of import, review, complete and export (real subprocesses).

Four workers loop on one store at once: importing files, answering reviews, re-completing
with templates, exporting with ``--overwrite``. Each prints ``ACK ...`` only after its work
is committed. Every iteration SIGKILLs them at random moments; afterwards:

* ``scenario-forge check`` (SQLite integrity + contract checks) passes;
* every acknowledged import and review decision is in the store;
* the export folder is either absent or a complete, valid export (never half written).

``FORGE_CRASH_ITERATIONS`` sets the kill rounds (default 3; nightly: 100).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from forge_export.reader import validate_export
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore

ITERATIONS = int(os.environ.get("FORGE_CRASH_ITERATIONS", "3"))

WORKER = r"""
import json, os, sys
from pathlib import Path
mode, db, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import load_taxonomy
store = ScenarioStore.open(db, actor=mode)
tax = load_taxonomy()
print("READY", flush=True)
i = 0
while True:
    i += 1
    if mode == "import":
        from scenario_forge.importer import import_file
        f = work / f"import-{os.getpid()}-{i}.jsonl"
        f.write_text("".join(json.dumps({"prompt": f"crash import {os.getpid()} {i} {k}"}) + "\n"
                             for k in range(20)), encoding="utf-8")
        import_file(store, f, tax, default_target="harmful_code")
        from forge_export import Scenario
        ids = [Scenario(prompt=f"crash import {os.getpid()} {i} {k}",
                        evaluation_target="harmful_code", success_criteria=["c"]).id
               for k in range(20)]
        print("ACK import " + " ".join(ids), flush=True)
    elif mode == "review":
        from scenario_forge.review.claims import ReviewQueue
        from scenario_forge.review.decisions import Answer, apply_answer
        q = ReviewQueue(store, "crash-rev")
        sid = q.claim_next()
        if sid is None:
            continue
        comps = store.completions_for(sid)
        decisions = {c.id: ("accept" if n % 2 else "reject") for n, c in enumerate(comps)}
        apply_answer(store, Answer(scenario_id=sid, reviewer="crash-rev", rating=2 + i % 2,
                                   ideal_response=f"ideal {i}", decisions=decisions))
        print("ACK review " + json.dumps([sid, decisions]), flush=True)
    elif mode == "complete":
        from scenario_forge.api import complete_with_templates
        complete_with_templates(store, tax, overwrite=True)
        print("ACK complete", flush=True)
    elif mode == "export":
        from forge_export.exporters.huggingface import ExportOptions
        from scenario_forge.api import export_store
        export_store(store, work / "out", ExportOptions(overwrite=True, batch_size=50))
        print("ACK export", flush=True)
"""

MODES = ("import", "review", "complete", "export")


def _seed(db: Path, tmp: Path) -> None:
    env = {"SCENARIO_FORGE_DB": str(db)}
    runner = CliRunner()
    for args in (["generate", "--count", "40"], ["complete", "--source", "template"]):
        res = runner.invoke(main, args, env=env)
        assert res.exit_code == 0, res.output


def _start(mode: str, db: Path, work: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, mode, str(db), str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY"):
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"worker died: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError("worker never became ready")


def test_kill9_everywhere_store_stays_sound(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _seed(db, tmp_path)
    rng = random.Random(int(os.environ.get("FORGE_CRASH_SEED", "8")))
    acked_imports: set[str] = set()
    acked_reviews: dict[str, dict[str, str]] = {}
    acks = dict.fromkeys(MODES, 0)
    for _ in range(ITERATIONS):
        procs = {m: _start(m, db, tmp_path) for m in MODES}
        for p in procs.values():
            _wait_ready(p)
        # kill each worker at its own random moment, mid-work
        order = list(procs.items())
        rng.shuffle(order)
        for _mode, p in order:
            time.sleep(rng.uniform(0.05, 1.2))
            os.kill(p.pid, signal.SIGKILL)
        for mode, p in procs.items():
            out, err = p.communicate(timeout=60)
            assert p.returncode == -signal.SIGKILL, (mode, p.returncode, err[-2000:])
            assert "Traceback" not in err, err[-2000:]
            for line in out.splitlines():
                if not line.startswith("ACK "):
                    continue
                acks[mode] += 1
                _, kind, *rest = line.split(" ", 2)
                if kind == "import":
                    acked_imports.update(rest[0].split())
                elif kind == "review":
                    sid, decisions = json.loads(rest[0])
                    acked_reviews[sid] = decisions
        # after every round: the store is sound, and no half export exists
        res = CliRunner().invoke(main, ["check", "--json"], env={"SCENARIO_FORGE_DB": str(db)})
        report = json.loads(res.stdout)
        assert res.exit_code == 0 and report["ok"], report["problems"][:10]
        out_dir = tmp_path / "out"
        if out_dir.exists():
            assert validate_export(out_dir) == []
        assert not (tmp_path / "out.tmp").exists()
    # nothing acknowledged was lost
    store = ScenarioStore.open(db)
    try:
        assert store.existing_ids(acked_imports) == acked_imports
        for sid, decisions in acked_reviews.items():
            assert [r.reviewer for r in store.reviews_for(sid)] == ["crash-rev"], sid
            comps = {c.id: c for c in store.completions_for(sid)}
            for cid, decision in decisions.items():  # decided ones are never replaced
                assert comps[cid].metadata["review"]["decisions"]["crash-rev"] == decision
            assert any(c.source == "human" and c.origin == "crash-rev" for c in comps.values())
    finally:
        store.close()
    # the rounds did real work (otherwise the test proves nothing)
    assert acks["import"] and acks["review"], acks


def test_check_finds_damage_and_backup_is_a_sound_copy(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _seed(db, tmp_path)
    env = {"SCENARIO_FORGE_DB": str(db)}
    runner = CliRunner()
    backup = runner.invoke(main, ["backup", str(tmp_path / "bk") + "/", "--json"], env=env)
    assert backup.exit_code == 0, backup.output
    copy = Path(json.loads(backup.stdout)["path"])
    assert copy.parent == tmp_path / "bk" and copy.is_file()
    assert runner.invoke(main, ["check"], env={"SCENARIO_FORGE_DB": str(copy)}).exit_code == 0
    # damage the original behind the store's back: check must say so, per row
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    sid = conn.execute("SELECT id FROM scenarios LIMIT 1").fetchone()[0]
    conn.execute("UPDATE scenarios SET evaluation_target = 'self_harm' WHERE id = ?", (sid,))
    conn.execute("UPDATE completions SET status = 'bogus' WHERE rowid = 1")
    conn.close()
    res = runner.invoke(main, ["check"], env=env)
    assert res.exit_code == 1
    assert f"scenarios[{sid}]: column evaluation_target" in res.output
    assert "not a valid Completion" in res.output and "Traceback" not in res.output
    # the backup still holds the sound data
    assert (
        runner.invoke(main, ["check", "--quick"], env={"SCENARIO_FORGE_DB": str(copy)}).exit_code
        == 0
    )
    again = runner.invoke(main, ["backup", str(copy)], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
