"""An export killed midway leaves no folder at the destination; the next export cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from forge_export.exporters.huggingface import export_dataset
from forge_export.reader import validate_export
from forge_export.synthetic import synthetic_bundles

SCRIPT = """
import sys
from forge_export.exporters.huggingface import ExportOptions, export_dataset
from forge_export.synthetic import synthetic_bundles
export_dataset(synthetic_bundles(10**7, trusted=True), sys.argv[1], ExportOptions(batch_size=500))
"""


def _wait_for_parquet_bytes(parent: Path, timeout: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tmp in parent.glob(".ds.forge-tmp-*"):
            sft = tmp / "sft" / "train.parquet"
            if sft.is_file() and sft.stat().st_size > 50_000:
                return tmp
        time.sleep(0.1)
    raise AssertionError("the export never started writing")


def test_sigkill_midway_leaves_no_destination_folder(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)])
    try:
        tmp = _wait_for_parquet_bytes(tmp_path)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "a half-written export is at the destination"
    assert tmp.name.startswith(".ds.forge-tmp-")  # clearly temporary, hidden
    # the next export to the same destination removes the dead process's leftovers
    export_dataset(synthetic_bundles(5), out)
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    assert validate_export(out) == []
