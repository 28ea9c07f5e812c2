"""Where a number came from: the code, the libraries, the machine and the data of a run.

Every record a forge job writes (a loop's ``summary.json``, an evaluation's ``report.json``,
a training run's ``metrics.json``) carries a :class:`RunProvenance`, so a figure in a table
can be traced to the commit, the versions, the device and the datasets that produced it.
Collecting it is light: versions come from package metadata (nothing heavy is imported) and
the commit from ``git`` when the code runs from a checkout.

Example:
    >>> p = collect_provenance(seeds={"seed": 0})
    >>> sorted(p.packages)[:2], p.seeds
    (['datasets', 'forge-export'], {'seed': 0})
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from forge_export.models import RunProvenance
from forge_export.redact import redact

PACKAGES = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "datasets",
    "forge-export",
    "scenario-forge",
    "model-forge",
)
"""The distributions whose versions every record names."""

__all__ = ["PACKAGES", "RunProvenance", "collect_provenance", "git_state", "package_versions"]


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(where: Path | None = None) -> tuple[str, bool | None]:
    """(commit, dirty) of the git checkout holding ``where`` (``("", None)`` outside one).

    ``where`` defaults to this package's source folder: the checkout forge runs from.
    """
    folder = where or Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], folder)
    if not commit:
        return "", None
    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    return commit, bool(status) if status is not None else None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution (``""`` when it is not installed)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out


def collect_provenance(
    *,
    device: str = "",
    dtype: str = "",
    seeds: Mapping[str, int] | None = None,
    datasets: Mapping[str, str] | None = None,
    workdir: str | Path = "",
    stage_seconds: Mapping[str, float] | None = None,
) -> RunProvenance:
    """A :class:`RunProvenance` of the running process plus what the caller knows."""
    commit, dirty = git_state()
    return RunProvenance(
        git_commit=commit,
        git_dirty=dirty,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}".strip(),
        packages=package_versions(),
        device=device,
        dtype=dtype,
        seeds=dict(seeds or {}),
        datasets=dict(datasets or {}),
        workdir=str(workdir),
        command=[redact(arg) for arg in sys.argv],  # no password of a --store URL
        stage_seconds=dict(stage_seconds or {}),
    )
