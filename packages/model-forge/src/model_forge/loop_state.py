"""A loop run's folder: which stages are done, its settings file, and whether it may be used.

A run records each finished stage in ``WORKDIR/progress.json`` (written atomically after the
stage's outputs), so ``model-forge loop --resume`` continues after the last one; its resolved
settings are in ``WORKDIR/run.yaml`` from the start, so a resumed or repeated run is the same
run. A folder that holds anything is refused unless the run is resumed or overwritten.

Example:
    >>> state = RunState.load(Path("runs/x"))  # doctest: +SKIP
    >>> state.is_done("round 1 train")
    True
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_export.atomic_files import atomic_output
from forge_export.errors import ForgeError

PROGRESS_FILE = "progress.json"
RUN_FILE = "run.yaml"

LOOP_FILES = (
    PROGRESS_FILE,
    RUN_FILE,
    "test-set.json",
    "summary.json",
    "rounds.png",
    "rounds.html",
)
"""The files a loop writes at the top of its folder (besides ``round-*/`` and its store)."""

STORE_FILES = ("forge.db", "forge.db-wal", "forge.db-shm", "forge.db-journal")
"""The default store in the folder and SQLite's companions."""


@dataclass
class RunState:
    """What the finished stages of a run left (``progress.json``).

    Attributes:
        path: The file.
        done: Finished stages, in order.
        timings: Seconds per finished stage.
        elapsed: Wall seconds of earlier processes of the run (before a resume).
        exports: Export round → rows per config and split.
        probes: Round → its probe's summary (JSON).
        probed: Ids of every probe scenario asked so far.
        failure_ids: Ids of the training scenarios made from probe failures so far.
        device: Where the models ran; dtype: their weight type.
    """

    path: Path
    done: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    exports: dict[str, Any] = field(default_factory=dict)
    probes: dict[str, Any] = field(default_factory=dict)
    probed: list[str] = field(default_factory=list)
    failure_ids: list[str] = field(default_factory=list)
    device: str = ""
    dtype: str = ""

    @classmethod
    def load(cls, workdir: Path) -> RunState:
        """The state in ``workdir`` (empty when the run has not finished a stage)."""
        path = workdir / PROGRESS_FILE
        if not path.is_file():
            return cls(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, **{k: v for k, v in raw.items() if k != "path"})
        except (ValueError, TypeError) as exc:
            raise ForgeError(
                f"{path}: unreadable ({exc}); start the run again with --overwrite"
            ) from None

    def is_done(self, stage: str) -> bool:
        """Whether ``stage`` finished in this run (this process or an earlier one)."""
        return stage in self.done

    def finish(self, stage: str, seconds: float, **updates: Any) -> None:
        """Record ``stage`` as finished (after its outputs are written) and save."""
        for key, value in updates.items():
            setattr(self, key, value)
        if stage not in self.done:
            self.done.append(stage)
        self.timings[stage] = round(seconds, 1)
        self.save()

    def save(self) -> None:
        """Write the state atomically."""
        data = {k: v for k, v in self.__dict__.items() if k != "path"}
        with atomic_output(self.path, "w") as fh:
            fh.write(json.dumps(data, indent=1, sort_keys=True) + "\n")


def prepare_workdir(workdir: Path, *, own_store: bool, resume: bool, overwrite: bool) -> None:
    """Check (and with ``overwrite`` empty) a run's folder before anything is written.

    Args:
        workdir: The folder.
        own_store: Whether the run's store is the default one inside the folder.
        resume: Continue the run there.
        overwrite: Remove an earlier run's files first.

    Raises:
        ForgeError: ``resume`` without a run there, both flags, or (neither flag) a folder that
            is not empty.
    """
    if resume and overwrite:
        raise ForgeError("use --resume or --overwrite, not both")
    if resume:
        if not (workdir / RUN_FILE).is_file():
            raise ForgeError(f"{workdir / RUN_FILE}: no run to resume here (drop --resume)")
        return
    if not workdir.exists() or not any(workdir.iterdir()):
        return
    if not overwrite:
        shown = ", ".join(sorted(p.name for p in workdir.iterdir())[:3])
        raise ForgeError(
            f"{workdir}: not empty ({shown}...); pass --resume to continue the run there, "
            "--overwrite to start it again, or choose another --workdir"
        )
    for item in workdir.iterdir():
        ours = item.name in LOOP_FILES or (item.is_dir() and item.name.startswith("round-"))
        if own_store and item.name in STORE_FILES:
            ours = True
        if not ours:
            continue
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def write_run_file(workdir: Path, settings: dict[str, Any]) -> Path:
    """Write the run's resolved settings as ``run.yaml`` (``--config`` reads it back)."""
    import yaml

    path = workdir / RUN_FILE
    text = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    with atomic_output(path, "w") as fh:
        fh.write(
            "# The resolved settings of this run: `model-forge loop --config run.yaml "
            "--workdir NEW` repeats it.\n" + text
        )
    return path
