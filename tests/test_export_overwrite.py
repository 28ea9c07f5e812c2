"""``export --overwrite`` replaces only a forge export (or an empty folder), never anything else,
and a process killed at any step of the swap leaves the old or the new export (issue 17)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export.exporters.huggingface import ExportOptions, clean_stale_temp, export_dataset
from forge_export.manifest import read_manifest
from forge_export.reader import validate_export
from forge_export.synthetic import synthetic_bundles
from scenario_forge.cli import main

OLD_N, NEW_N = 7, 11


def _export(out: Path, n: int, **kw: object) -> str:
    return export_dataset(
        synthetic_bundles(n),
        out,
        ExportOptions(test_size=0, **kw),  # type: ignore[arg-type]
    ).fingerprint


def _cli_export(db: Path, out: Path) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["export", str(out), "--overwrite", "--db", str(db)])
    return res.exit_code, res.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "forge.db"
    assert CliRunner().invoke(main, ["init", "--db", str(path)]).exit_code == 0
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "make",
    ["project", "notes_in_export", "store_file", "store_in_folder", "bad_manifest", "link"],
)
def test_overwrite_refuses_what_is_not_an_export(tmp_path: Path, db: Path, make: str) -> None:
    out = tmp_path / "out"
    if make == "project":
        (out / "src").mkdir(parents=True)
        (out / "src" / "main.py").write_text("print('mine')\n")
        (out / "NOTES.md").write_text("months of notes\n")
    elif make == "notes_in_export":
        _export(out, OLD_N)
        (out / "sft" / "my-notes.txt").write_text("do not delete\n")
    elif make == "store_file":
        out = db
    elif make == "store_in_folder":
        out.mkdir()
        (out / "forge.db").write_bytes(db.read_bytes())
    elif make == "bad_manifest":
        out.mkdir()
        (out / "manifest.json").write_text('{"files": {}}\n')
    elif make == "link":
        real = tmp_path / "real"
        _export(real, OLD_N)
        out.symlink_to(real)
    before = _tree(out) if out.is_dir() else {"": out.read_bytes()}
    code, output = _cli_export(db, out)
    assert code != 0
    lines = [ln for ln in output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, output
    expected = "is a file" if make == "store_file" else "overwrite replaces only a forge export"
    assert expected in lines[0], output
    assert "Traceback" not in output
    after = _tree(out) if out.is_dir() else {"": out.read_bytes()}
    assert after == before
    assert not [p for p in out.parent.iterdir() if ".forge-" in p.name]


def test_overwrite_replaces_an_export_or_an_empty_folder(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert _cli_export(db, out)[0] == 0  # empty folder
    assert validate_export(out) == []
    old = _export(tmp_path / "other", OLD_N)
    _export(out, OLD_N, overwrite=True)  # an export: replaced
    assert read_manifest(out).fingerprint == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forge.db", "other", "out"]


KILLER = r"""
import os, shutil, signal, sys
from pathlib import Path
from forge_export.exporters import huggingface as h
from forge_export.exporters.huggingface import ExportOptions, clean_stale_temp, export_dataset
from forge_export.synthetic import synthetic_bundles

out, exchange, step = Path(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
h._use_exchange = exchange
calls = 0

def tick():
    global calls
    calls += 1
    if calls == step:
        os.kill(os.getpid(), signal.SIGKILL)

def wrap(fn):
    def inner(*a, **k):
        tick()              # killed before this step
        r = fn(*a, **k)
        tick()              # killed after this step
        return r
    return inner

h._exchange = wrap(h._exchange)
h.os.rename = wrap(os.rename)
h.shutil.rmtree = wrap(shutil.rmtree)
export_dataset(synthetic_bundles(int(sys.argv[4])), out, ExportOptions(test_size=0, overwrite=True))
print("DONE", flush=True)
"""


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_kill_at_every_step_of_the_swap_keeps_old_or_new(tmp_path: Path, exchange: bool) -> None:
    new_fp = _export(tmp_path / "reference", NEW_N)
    finished = False
    step = 0
    outcomes: set[str] = set()
    while not finished:
        step += 1
        assert step < 20, "the swap never finished"
        work = tmp_path / f"step{step}"
        work.mkdir()
        out = work / "ds"
        old_fp = _export(out, OLD_N)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                KILLER,
                str(out),
                "1" if exchange else "0",
                str(step),
                str(NEW_N),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode == 0:
            assert "DONE" in proc.stdout
            finished = True
        else:
            assert proc.returncode == -signal.SIGKILL, proc.stderr
        # at this instant: out is the old or the new export, or (between the two renames of the
        # fallback) missing with a complete backup beside it
        if out.exists():
            assert validate_export(out) == []
            fp = read_manifest(out).fingerprint
            assert fp in (old_fp, new_fp)
        else:
            assert not exchange
            backups = list(work.glob(".ds.forge-old-*"))
            assert len(backups) == 1 and validate_export(backups[0]) == []
            assert "interrupted overwrite left the previous export" in validate_export(out)[0]
        # what the next export to ds does first: recover a backup, remove dead leftovers
        clean_stale_temp(out)
        assert validate_export(out) == []
        fp = read_manifest(out).fingerprint
        assert fp in (old_fp, new_fp)
        outcomes.add("new" if fp == new_fp else "old")
        assert sorted(p.name for p in work.iterdir()) == ["ds"], "leftovers not cleaned"
    assert outcomes == {"old", "new"}
    assert step >= 3  # there were steps to kill between
