"""atomic_output: the old file or the whole new one, never a half, never a stray temp file."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_export.atomic_files import atomic_output


def test_success_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.jsonl"
    with atomic_output(target) as fh:
        fh.write("new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.jsonl"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target, "wb") as fh:
        fh.write(b"half of the new")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_new_file_mode_follows_the_umask_and_replacing_keeps_the_mode(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        target = tmp_path / "report.json"
        with atomic_output(target) as fh:
            fh.write("{}")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
        os.umask(0o077)
        other = tmp_path / "private.json"
        with atomic_output(other) as fh:
            fh.write("{}")
        assert stat.S_IMODE(other.stat().st_mode) == 0o600
        target.chmod(0o640)
        with atomic_output(target) as fh:
            fh.write("[]")
        assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "[]"
    finally:
        os.umask(old)
