"""Same input and seed give byte-identical parquet files, in two separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from forge_export.exporters.huggingface import ExportOptions, export_dataset
from forge_export.synthetic import synthetic_bundles
s = export_dataset(synthetic_bundles(300), sys.argv[1], ExportOptions(seed=5, batch_size=64))
print(json.dumps({"fingerprint": s.fingerprint, "counts": s.counts}))
"""


def _export(out: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_processes_write_byte_identical_files(tmp_path: Path) -> None:
    a, b = _export(tmp_path / "a"), _export(tmp_path / "b")
    assert a == b
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files_a) == 10
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / "README.md").read_text() == (tmp_path / "b" / "README.md").read_text()
    counts = a["counts"]
    assert isinstance(counts, dict) and counts["sft"]["train"] > 0 and counts["sft"]["test"] > 0
