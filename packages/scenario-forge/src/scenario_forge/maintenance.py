"""Store maintenance: integrity + contract checks (``scenario-forge check``) and online backups.

:func:`check_store` runs SQLite's own checks (``PRAGMA integrity_check`` or ``quick_check``,
``PRAGMA foreign_key_check``) and then the contract checks SQLite cannot do: every stored
scenario, completion and review validates against the :mod:`forge_export` models, the indexed
columns agree with the stored JSON, ids are the content hashes, every completion status and
``validated_by`` follows from the reviewers' decisions, and the review queue counts
(``review_state``) match the reviews and live claims they summarise. Each problem is one line
naming the table, the row and the fix.

:func:`backup_store` copies a live store with SQLite's online backup API (a consistent snapshot
even while reviewers write), checks the copy, and moves it into place only when complete.

Example:
    >>> report = check_store("forge.db")          # doctest: +SKIP
    >>> report.ok, report.problems[:1]            # doctest: +SKIP
    (True, [])
    >>> backup_store("forge.db", "backups/")      # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forge_export import Completion, Review, Scenario
from pydantic import ValidationError

from scenario_forge.migrations import latest_version
from scenario_forge.store_errors import MaintenanceError
from scenario_forge.store_file import COUNTED_TABLES, StoreFile

Progress = Callable[[int], None]
MAX_PROBLEMS = 1000
"""Problems listed at most (the count keeps going)."""


@dataclass
class CheckReport:
    """What :func:`check_store` found.

    Attributes:
        path: The store file.
        schema_version: ``PRAGMA user_version`` of the file.
        counts: Rows per table.
        problems: One line per problem (at most :data:`MAX_PROBLEMS`).
        problem_count: All problems found, listed or not.
        quick: ``quick_check`` ran instead of ``integrity_check`` and rows were not validated.
    """

    path: str
    schema_version: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    quick: bool = False

    @property
    def ok(self) -> bool:
        """No problem found."""
        return self.problem_count == 0

    def add(self, message: str) -> None:
        """Record one problem."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "path": self.path,
            "ok": self.ok,
            "schema_version": self.schema_version,
            "counts": dict(self.counts),
            "problem_count": self.problem_count,
            "problems": list(self.problems),
            "quick": self.quick,
        }


def _short(exc: ValidationError) -> str:
    errs = exc.errors(include_url=False)
    first = errs[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(record)"
    more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"field '{loc}': {first['msg']}{more}"


def _check_scenarios(db: StoreFile, report: CheckReport, progress: Progress) -> None:
    for page in db.row_pages("scenarios"):
        for _rowid, sid, target, behavior, group, kind, data in page:
            where = f"scenarios[{sid}]"
            try:
                s = Scenario.model_validate_json(data)
            except ValidationError as exc:
                report.add(f"{where}: stored JSON is not a valid Scenario ({_short(exc)})")
                continue
            if s.id != sid:
                report.add(f"{where}: the stored JSON has id {s.id!r}; the row and JSON differ")
            for column, have, want in (
                ("evaluation_target", target, s.evaluation_target),
                ("expected_behavior", behavior, s.expected_behavior),
                ("group_id", group, s.group_id),
                ("source_kind", kind, s.source.kind),
            ):
                if have != want:
                    report.add(f"{where}: column {column} is {have!r} but the JSON says {want!r}")
        progress(len(page))


def _derived_status(meta: dict[str, Any]) -> tuple[str, list[str]] | None:
    review = meta.get("review")
    if not isinstance(review, dict):
        return None
    decisions = review.get("decisions")
    before = review.get("before")
    if not isinstance(decisions, dict) or not isinstance(before, dict) or not decisions:
        return None
    rejecters = [r for r, d in decisions.items() if d == "reject"]
    acceptors = [r for r, d in decisions.items() if d == "accept"]
    validated = [v for v in before.get("validated_by") or [] if v not in rejecters]
    validated += [a for a in acceptors if a not in validated]
    return ("rejected" if rejecters else "accepted"), validated


def _check_completions(db: StoreFile, report: CheckReport, progress: Progress) -> None:
    for page in db.row_pages("completions"):
        for row in page:
            cid = row[1]
            where = f"completions[{cid}]"
            try:
                validated = json.loads(row[7])
                meta = json.loads(row[9])
                c = Completion(
                    id=cid,
                    scenario_id=row[2],
                    text=row[3],
                    source=row[4],
                    origin=row[5],
                    status=row[6],
                    validated_by=validated,
                    created_at=datetime.fromisoformat(row[8]),
                    metadata=meta,
                )
            except (ValueError, TypeError, RecursionError) as exc:
                detail = _short(exc) if isinstance(exc, ValidationError) else str(exc)[:200]
                report.add(f"{where}: not a valid Completion ({detail})")
                continue
            derived = _derived_status(c.metadata)
            if derived is not None and (c.status, list(c.validated_by)) != (
                derived[0],
                derived[1],
            ):
                report.add(
                    f"{where}: status {c.status!r} / validated_by {c.validated_by} disagree with "
                    f"the reviewers' decisions (expected {derived[0]!r} / {derived[1]})"
                )
        progress(len(page))


def _check_reviews(db: StoreFile, report: CheckReport, progress: Progress) -> None:
    for page in db.row_pages("reviews"):
        for _rowid, rid, sid, reviewer, rating, note, created in page:
            try:
                Review(
                    scenario_id=sid,
                    reviewer=reviewer,
                    rating=rating,
                    note=note,
                    created_at=datetime.fromisoformat(created),
                )
            except (ValueError, TypeError) as exc:
                detail = _short(exc) if isinstance(exc, ValidationError) else str(exc)[:200]
                report.add(f"reviews[{rid}]: not a valid Review ({detail})")
        progress(len(page))


def _check_review_state(db: StoreFile, report: CheckReport) -> None:
    if "review_state" not in db.tables():
        return
    missing, orphans = db.review_state_gaps()
    if missing:
        report.add(f"review_state: {missing} scenarios have no queue row (rebuild the queue)")
    if orphans:
        report.add(f"review_state: {orphans} queue rows name no scenario")
    # Compare with fresh counts, grouped once per table (one pass each, not one per scenario).
    for sid, reviewers, claims, taken, n_rev, n_claims in db.review_state_mismatches(100):
        report.add(
            f"review_state[{sid}]: reviewers={reviewers} claims={claims} taken={taken}, but the "
            f"store holds {n_rev} reviewers and {n_claims} claims"
        )


def check_store(
    path: str | Path,
    *,
    quick: bool = False,
    progress: Progress | None = None,
) -> CheckReport:
    """Check a store: SQLite integrity, foreign keys, schema version, and the contract.

    Nothing is written, so checking a live store is safe (every check reads one snapshot).

    Args:
        path: The store file.
        quick: ``PRAGMA quick_check`` instead of ``integrity_check``, and skip validating every
            row against the contract (minutes → seconds on a million scenarios).
        progress: Called with the number of rows validated, page by page.

    Returns:
        A :class:`CheckReport`; ``report.ok`` is ``False`` when anything is wrong.

    Raises:
        MaintenanceError: the file is missing or not SQLite at all.
    """
    p = Path(path)
    report = CheckReport(path=str(p), quick=quick)
    with StoreFile(p) as db:
        db.begin_snapshot()  # one snapshot for every check below
        if _check_file(db, p, report):
            _check_review_state(db, report)
            if not quick:
                step = progress or (lambda _n: None)
                _check_scenarios(db, report, step)
                _check_completions(db, report, step)
                _check_reviews(db, report, step)
    return report


def _check_file(db: StoreFile, p: Path, report: CheckReport) -> bool:
    """SQLite's own checks, the schema version, the counts; whether the rows can be read."""
    try:
        lines = db.integrity(quick=report.quick)
    except sqlite3.DatabaseError as exc:
        report.add(f"{p}: SQLite cannot read the file ({exc}); restore a backup")
        return False
    if lines != ["ok"]:
        pragma = "quick_check" if report.quick else "integrity_check"
        for line in lines:
            report.add(f"{p}: SQLite {pragma}: {line}")
        return False
    report.schema_version = db.schema_version()
    latest = latest_version()
    if report.schema_version > latest:
        report.add(
            f"{p}: schema version {report.schema_version} is newer than this scenario-forge "
            f"({latest}); upgrade scenario-forge"
        )
        return False
    if report.schema_version == 0 and not {"scenarios", "completions"} <= db.tables():
        report.add(f"{p}: not a scenario-forge store (no scenarios table)")
        return False
    for table in COUNTED_TABLES:
        report.counts[table] = db.count(table)
    for table, rowid, parent in db.foreign_key_problems():
        report.add(f"{table}[rowid {rowid}]: refers to a missing row of {parent}")
    return True


def check_rows(path: str | Path) -> int:
    """Rows :func:`check_store` validates (the length of its progress bar)."""
    with StoreFile(Path(path)) as db:
        tables = db.tables()
        return sum(db.count(t) for t in ("scenarios", "completions", "reviews") if t in tables)


@dataclass
class BackupResult:
    """What :func:`backup_store` wrote."""

    source: str
    path: str
    bytes: int
    scenarios: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return dict(vars(self))


def backup_target(source: Path, dest: str | Path) -> Path:
    """The backup file for ``dest``: itself, or a time-stamped file inside a folder.

    ``dest`` is a folder when it exists as one or ends with a slash (created if missing).
    """
    folder = Path(dest)
    if folder.is_dir() or str(dest).endswith(("/", os.sep)):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return folder / f"{source.stem}-{stamp}{source.suffix or '.db'}"
    return folder


def backup_store(
    source: str | Path,
    dest: str | Path,
    *,
    overwrite: bool = False,
) -> BackupResult:
    """Copy a (possibly live) store with SQLite's online backup API.

    The copy is one consistent snapshot (writers keep working meanwhile), written to a hidden
    temporary file next to the target, checked with ``PRAGMA integrity_check``, flushed to
    disk, and only then renamed into place: an interrupted backup never leaves a half file
    under the target name.

    Args:
        source: The store file.
        dest: The backup file, or an existing folder (a time-stamped name is chosen in it).
        overwrite: Replace an existing backup file.

    Raises:
        MaintenanceError: missing source, the target exists (without ``overwrite``) or is the
            store itself, or the copy fails its check.
    """
    import time

    src = Path(source)
    target = backup_target(src, dest)
    if target.exists() and not overwrite:
        raise MaintenanceError(f"{target}: already exists; choose another name or --overwrite")
    if target.exists() and target.resolve() == src.resolve():
        raise MaintenanceError(f"{target}: is the store itself; give another file")
    started = time.perf_counter()
    db = StoreFile(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        scenarios = db.backup_to(tmp, target)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"{src}: backup failed ({exc})") from exc
    finally:
        db.close()
        tmp.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return BackupResult(
        source=str(src),
        path=str(target),
        bytes=target.stat().st_size,
        scenarios=scenarios,
        seconds=round(time.perf_counter() - started, 3),
    )


__all__ = [
    "BackupResult",
    "CheckReport",
    "MaintenanceError",
    "backup_store",
    "backup_target",
    "check_rows",
    "check_store",
]
