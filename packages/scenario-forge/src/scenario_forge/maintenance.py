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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forge_export import Completion, ForgeError, Review, Scenario
from pydantic import ValidationError

from scenario_forge.migrations import current_version, latest_version

Progress = Callable[[int], None]
MAX_PROBLEMS = 1000
"""Problems listed at most (the count keeps going)."""
_PAGE = 2000


class MaintenanceError(ForgeError):
    """A store cannot be checked or backed up at all (missing, not SQLite, target exists)."""


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


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise MaintenanceError(f"{path}: no store here; check the --db path")
    if path.is_dir():
        raise MaintenanceError(f"{path}: is a folder; give the store file, e.g. {path}/forge.db")
    try:
        # Read-write (never written here): after a crash SQLite must be able to recover the
        # -wal file, which a read-only connection cannot do.
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"{path}: not a SQLite database ({exc})") from exc
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _pages(conn: sqlite3.Connection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``sql`` (which must select ``rowid`` first) in rowid pages."""
    last = -(2**63)
    while True:
        rows = conn.execute(sql, (last, _PAGE)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _short(exc: ValidationError) -> str:
    errs = exc.errors(include_url=False)
    first = errs[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(record)"
    more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"field '{loc}': {first['msg']}{more}"


def _check_scenarios(conn: sqlite3.Connection, report: CheckReport, progress: Progress) -> None:
    sql = (
        "SELECT rowid, id, evaluation_target, expected_behavior, group_id, source_kind, data "
        "FROM scenarios WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    for page in _pages(conn, sql):
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


def _check_completions(conn: sqlite3.Connection, report: CheckReport, progress: Progress) -> None:
    sql = (
        "SELECT rowid, id, scenario_id, text, source, origin, status, validated_by, created_at, "
        "metadata FROM completions WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    for page in _pages(conn, sql):
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


def _check_reviews(conn: sqlite3.Connection, report: CheckReport, progress: Progress) -> None:
    sql = (
        "SELECT rowid, id, scenario_id, reviewer, rating, note, created_at FROM reviews "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    for page in _pages(conn, sql):
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


def _check_review_state(conn: sqlite3.Connection, report: CheckReport) -> None:
    if "review_state" not in _tables(conn):
        return
    missing = conn.execute(
        "SELECT COUNT(*) FROM scenarios s WHERE NOT EXISTS "
        "(SELECT 1 FROM review_state q WHERE q.scenario_id = s.id)"
    ).fetchone()[0]
    if missing:
        report.add(f"review_state: {missing} scenarios have no queue row (rebuild the queue)")
    orphans = conn.execute(
        "SELECT COUNT(*) FROM review_state q WHERE NOT EXISTS "
        "(SELECT 1 FROM scenarios s WHERE s.id = q.scenario_id)"
    ).fetchone()[0]
    if orphans:
        report.add(f"review_state: {orphans} queue rows name no scenario")
    # Compare with fresh counts, grouped once per table (one pass each, not one per scenario).
    bad = conn.execute(
        """
        SELECT q.scenario_id, q.reviewers, q.claims, q.taken,
               COALESCE(r.n, 0), COALESCE(c.n, 0)
        FROM review_state q
        LEFT JOIN (SELECT scenario_id, COUNT(DISTINCT reviewer) AS n FROM reviews
                   GROUP BY scenario_id) r ON r.scenario_id = q.scenario_id
        LEFT JOIN (SELECT scenario_id, COUNT(*) AS n FROM review_claims
                   GROUP BY scenario_id) c ON c.scenario_id = q.scenario_id
        WHERE q.reviewers <> COALESCE(r.n, 0) OR q.claims <> COALESCE(c.n, 0)
           OR q.taken <> q.reviewers + q.claims
        LIMIT 100
        """
    ).fetchall()
    for sid, reviewers, claims, taken, n_rev, n_claims in bad:
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
    conn = _connect(p)
    report = CheckReport(path=str(p), quick=quick)
    step = progress or (lambda _n: None)
    try:
        conn.execute("BEGIN")  # one snapshot for every check below
        try:
            pragma = "quick_check" if quick else "integrity_check"
            lines = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}(100)")]
        except sqlite3.DatabaseError as exc:
            report.add(f"{p}: SQLite cannot read the file ({exc}); restore a backup")
            return report
        if lines != ["ok"]:
            for line in lines:
                report.add(f"{p}: SQLite {pragma}: {line}")
            return report
        report.schema_version = current_version(conn)
        latest = latest_version()
        if report.schema_version > latest:
            report.add(
                f"{p}: schema version {report.schema_version} is newer than this scenario-forge "
                f"({latest}); upgrade scenario-forge"
            )
            return report
        if report.schema_version == 0 and not {"scenarios", "completions"} <= _tables(conn):
            report.add(f"{p}: not a scenario-forge store (no scenarios table)")
            return report
        for table in ("scenarios", "completions", "reviews", "review_claims", "audit_log"):
            report.counts[table] = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
            report.add(f"{table}[rowid {rowid}]: refers to a missing row of {parent}")
        _check_review_state(conn, report)
        if not quick:
            _check_scenarios(conn, report, step)
            _check_completions(conn, report, step)
            _check_reviews(conn, report, step)
    finally:
        conn.close()
    return report


def check_rows(path: str | Path) -> int:
    """Rows :func:`check_store` validates (the length of its progress bar)."""
    conn = _connect(Path(path))
    try:
        return sum(
            int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in ("scenarios", "completions", "reviews")
            if t in _tables(conn)
        )
    finally:
        conn.close()


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
    conn = _connect(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        dst = sqlite3.connect(tmp)
        try:
            # pages=-1: the whole database in one step, i.e. one read snapshot; a step-wise
            # copy would restart every time a reviewer commits.
            conn.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            lines = [str(r[0]) for r in dst.execute("PRAGMA integrity_check(5)")]
            if lines != ["ok"]:
                raise MaintenanceError(f"{target}: the copy fails its check ({'; '.join(lines)})")
            scenarios = int(dst.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0])
        finally:
            dst.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"{src}: backup failed ({exc})") from exc
    finally:
        conn.close()
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
