"""A loop's folder: a run's files are refused, resumed or removed; nothing else is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_export.errors import ForgeError
from model_forge.loop_state import RunState, prepare_workdir, write_run_file


def _old_run(folder: Path) -> None:
    (folder / "round-1" / "model").mkdir(parents=True)
    (folder / "round-1" / "model" / "config.json").write_text("{}")
    for name in ("summary.json", "test-set.json", "forge.db", "forge.db-wal", "notes.txt"):
        (folder / name).write_text("x")
    write_run_file(folder, {"rounds": 2})


def test_a_folder_that_holds_anything_is_refused(tmp_path: Path) -> None:
    _old_run(tmp_path)
    with pytest.raises(ForgeError) as info:
        prepare_workdir(tmp_path, own_store=True, resume=False, overwrite=False)
    assert "not empty" in str(info.value) and "--resume" in str(info.value)
    assert (tmp_path / "summary.json").exists()
    prepare_workdir(tmp_path / "new", own_store=True, resume=False, overwrite=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_workdir(empty, own_store=True, resume=False, overwrite=False)


def test_overwrite_removes_the_run_s_files_and_keeps_others(tmp_path: Path) -> None:
    _old_run(tmp_path)
    prepare_workdir(tmp_path, own_store=False, resume=False, overwrite=True)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["forge.db", "forge.db-wal", "notes.txt"]  # a --store given elsewhere
    _old_run(tmp_path)
    prepare_workdir(tmp_path, own_store=True, resume=False, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_resume_needs_a_run_and_excludes_overwrite(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="no run to resume here"):
        prepare_workdir(tmp_path, own_store=True, resume=True, overwrite=False)
    _old_run(tmp_path)
    prepare_workdir(tmp_path, own_store=True, resume=True, overwrite=False)  # accepted
    with pytest.raises(ForgeError, match="not both"):
        prepare_workdir(tmp_path, own_store=True, resume=True, overwrite=True)


def test_stages_are_recorded_and_read_back(tmp_path: Path) -> None:
    state = RunState.load(tmp_path)
    assert not state.is_done("scenarios")
    state.finish("scenarios", 1.23, probed=["a"])
    again = RunState.load(tmp_path)
    assert again.is_done("scenarios") and again.timings == {"scenarios": 1.2}
    assert again.probed == ["a"]
    (tmp_path / "progress.json").write_text("{not json")
    with pytest.raises(ForgeError, match="start the run again with --overwrite"):
        RunState.load(tmp_path)
