"""Failures of the world around a command are one line with what to do, and nothing is half
written (issue 17): a full disk, a read-only store, a damaged store, a busy mount point, a Hub
push without network, bad backend option values, a store whose schema version was edited.

Disk-full, read-only and mount-point cases use a real small tmpfs where this process may
mount one (root in a container); elsewhere they are skipped and the injected-``OSError`` tests
below still run.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from forge_export.cli import main as forge_export_cli
from forge_export.exporters.huggingface import ExportOptions, export_dataset
from forge_export.synthetic import synthetic_bundles
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _one_line_error(res: Result, *words: str) -> str:
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, res.output
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


def _counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM completions").fetchone()[0],
        )
    finally:
        conn.close()


def _fill(db: Path, n: int) -> None:
    bundles = list(synthetic_bundles(n))
    with ScenarioStore.open(db) as store:
        store.add_scenarios([b.scenario for b in bundles])
        store.add_completions([c for b in bundles for c in b.completions])


@contextmanager
def _tmpfs(where: Path, size: str, *, ro: bool = False) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if ro else "")
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot run mount here")
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def _store_check_ok(db: Path) -> None:
    res = _run("check", "--db", str(db))
    assert res.exit_code == 0, res.output


# ---------------------------------------------------------------- a full disk (real tmpfs)


def test_import_onto_a_full_disk(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "600k") as small:
        db = small / "forge.db"
        assert _run("init", "--db", str(db)).exit_code == 0
        _fill(db, 20)
        before = _counts(db)
        rows = tmp_path / "many.jsonl"
        rows.write_text(
            "".join(json.dumps({"prompt": f"row {i} " + "x" * 400}) + "\n" for i in range(3000))
        )
        res = _run("import", str(rows), "--target", "harmful_code", "--db", str(db))
        line = _one_line_error(res, "full")
        assert "rollback" not in line.lower() or "rolled back" in line
        assert _counts(db) == before  # all or nothing
        res = _run("generate", "-t", "harmful_code", "--count", "3000", "--db", str(db))
        _one_line_error(res, "full")
        assert _counts(db) == before
        _store_check_ok(db)


def test_export_onto_a_full_disk(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _fill(db, 3000)
    with _tmpfs(tmp_path / "small", "300k") as small:
        res = _run("export", str(small / "out"), "--db", str(db))
        _one_line_error(res, "No space left", "free some space")
        assert list(small.iterdir()) == []  # no half export, no temporary folder


def test_export_over_a_busy_mount_point(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _fill(db, 30)
    with _tmpfs(tmp_path / "mnt", "1m") as mnt:
        res = _run("export", str(mnt), "--overwrite", "--db", str(db))
        _one_line_error(res, str(mnt))
        assert os.path.ismount(mnt) and list(mnt.iterdir()) == []
        assert [p.name for p in tmp_path.iterdir() if ".forge-" in p.name] == []


def test_read_only_store(tmp_path: Path) -> None:
    db_dir = tmp_path / "ro"
    db_dir.mkdir()
    db = db_dir / "forge.db"
    _fill(db, 5)
    with ScenarioStore.open(db) as store:  # leave no -wal behind: a clean file to mount over
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    with _tmpfs(db_dir, "2m") as mounted:
        (mounted / "forge.db").write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True, timeout=30)
        rows = tmp_path / "rows.jsonl"
        rows.write_text(json.dumps({"prompt": "a new one"}) + "\n")
        res = _run(
            "import", str(rows), "--target", "harmful_code", "--db", str(mounted / "forge.db")
        )
        _one_line_error(res, "read-only", "writable")
        assert (mounted / "forge.db").read_bytes() == data


# ---------------------------------------------------------------- injected or real, everywhere


def test_injected_disk_full_during_export_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forge_export.exporters import huggingface

    db = tmp_path / "forge.db"
    _fill(db, 30)

    def full(folder: Path, *args: object, **kwargs: object) -> None:
        (folder / "README.md").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "README.md"))

    monkeypatch.setattr(huggingface, "_write_card", full)
    res = _run("export", str(tmp_path / "out"), "--db", str(db))
    _one_line_error(res, "No space left on device", "free some space")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "forge.db",
        "forge.db-shm",
        "forge.db-wal",
    ] or sorted(p.name for p in tmp_path.iterdir()) == ["forge.db"]


def test_damaged_store_file(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _fill(db, 300)
    with ScenarioStore.open(db) as store:
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db, "r+b") as fh:  # overwrite the b-tree pages after the first one
        fh.seek(4096)
        fh.write(b"\xa5" * 40_000)
    for args in (["list"], ["export", str(tmp_path / "out")], ["check"]):
        res = _run(*args, "--db", str(db))
        assert res.exit_code == 1 and "Traceback" not in res.output, res.output
        if args[0] != "check":
            _one_line_error(res, "damaged", "scenario-forge check", "backup")
    assert not (tmp_path / "out").exists()


def test_schema_version_edited_down(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _fill(db, 3)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    counts = _counts(db)
    res = _run("list", "--db", str(db))
    _one_line_error(res, "version", "backup")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    assert _counts(db) == counts and len(db.read_bytes()) == len(before)


@pytest.mark.parametrize(
    "option", ["device=quantum", "timeout=soon", "max_concurrency=0", "on_error=maybe", "flavour=x"]
)
def test_bad_backend_option_values(tmp_path: Path, option: str) -> None:
    db = tmp_path / "forge.db"
    _fill(db, 2)
    counts = _counts(db)
    model = "tiny" if option.startswith("device") else "openai:m"
    res = _run(
        "complete", "--source", "model", "--model", model,
        "--option", "base_url=http://127.0.0.1:9/v1", "--option", option, "--db", str(db),
    )  # fmt: skip
    if model == "tiny":
        res = _run("complete", "--source", "model", "--model", model, "--option", option,
                   "--db", str(db))  # fmt: skip
    _one_line_error(res, option.split("=")[0])
    assert _counts(db) == counts


def test_hub_push_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    out = tmp_path / "export"
    export_dataset(synthetic_bundles(5), out, ExportOptions(test_size=0))
    monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 30)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    res = CliRunner().invoke(forge_export_cli, ["push", str(out), "me/safety"])
    line = _one_line_error(res, "cannot reach the HuggingFace Hub", "retry")
    assert "x" * 30 not in res.output and len(line) < 600
