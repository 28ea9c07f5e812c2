"""Export scenarios, completions and reviews as a HuggingFace dataset folder that TRL reads as is.

Layout of ``out``::

    README.md                    dataset card, YAML ``configs:`` for every config and split
    manifest.json                schema version, options, counts, sha256 of every file
    <config>/<split>.parquet     for every config of ``ExportOptions.configs``, train and test

Writing streams: rows are buffered per config and split up to ``batch_size`` and then written as
one parquet row group, so memory is bounded by the batch size, not by the number of scenarios.
Everything goes to a temporary folder next to ``out`` (``.<name>.forge-tmp-<pid>-<token>``)
that is renamed into place only when complete; a killed export leaves only that folder, which
the next export next to it removes.

Example:
    >>> import tempfile, pathlib
    >>> from forge_export import Completion, Scenario
    >>> s = Scenario(prompt="Hi", evaluation_target="x", success_criteria=["Greets back"])
    >>> c = Completion(scenario_id=s.id, text="Hello!", source="human")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "ds"
    >>> summary = export_dataset([ScenarioBundle(s, [c])], out, ExportOptions(test_size=0))
    >>> summary.counts["sft"]
    {'train': 1, 'test': 0}
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import platform
import secrets
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from forge_export.errors import ContractError, ForgeError
from forge_export.manifest import (
    FORMAT,
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    fingerprint,
    sha256_file,
    write_manifest,
)
from forge_export.models import SCHEMA_VERSION, Completion, Review, Scenario, aggregate_rating
from forge_export.records import (
    CONFIGS,
    SCHEMAS,
    SPLITS,
    eval_row,
    kto_row,
    preference_row,
    prompt_completion_row,
    sft_row,
)
from forge_export.splits import PromptDeduplicator, assign_split

__all__ = [
    "CONFIGS",
    "SOURCES",
    "ExportOptions",
    "ExportSummary",
    "ScenarioBundle",
    "check_replaceable",
    "clean_stale_temp",
    "export_dataset",
]

SOURCES: tuple[str, ...] = ("human", "template", "model")
"""Completion sources the ``sources`` filter accepts."""

DEFAULT_VALIDATED_MIN_RATING = 2.0
"""``min_rating`` used when ``only_validated`` is set and ``min_rating`` is not."""

TEMP_MARK = ".forge-tmp-"
OLD_MARK = ".forge-old-"
_PROGRESS_EVERY = 1000

_TASK_CATEGORIES = {
    "sft": "text-generation",
    "prompt_completion": "text-generation",
    "preference": "text-generation",
    "kto": "text-generation",
    "eval": "text-generation",
}


@dataclass(frozen=True)
class ScenarioBundle:
    """One scenario with its completions and reviews: the unit the exporter reads.

    ``settled_rating``: a lead's settled rating when reviewers disagreed (scenario-forge's
    adjudication); it replaces the mean of the reviews' ratings, which stay in ``reviews``.
    ``settled_by``: the lead who settled it; rows carry it in their ``settled_by`` column
    (``None`` when ``settled_rating`` is ``None``).
    """

    scenario: Scenario
    completions: Sequence[Completion] = ()
    reviews: Sequence[Review] = ()
    settled_rating: float | None = None
    settled_by: str | None = None


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how.

    Attributes:
        configs: Configs to write (any of :data:`CONFIGS`).
        only_validated: Keep only human-validated completions (implies ``min_rating`` 2).
        min_rating: Keep only scenarios whose aggregate rating is at least this, in every
            config (``eval`` included: a scenario rated unusable is no test either);
            unreviewed scenarios are then excluded.
        sources: Completion sources to keep (``human``, ``template``, ``model``).
        targets: Evaluation targets to keep (every config, ``eval`` included).
        test_size: Share of groups in the ``test`` split, in ``[0, 1]``.
        seed: Seed of the split assignment.
        test_groups: A frozen test set: when given, exactly the scenarios of these groups go
            to ``test`` and every other scenario to ``train`` (``test_size`` and ``seed`` are
            then unused). ``model-forge loop`` chooses its test groups once and passes them
            to every round's export, so a group created later can never drift into ``test``
            and a test group can never reach training.
        overwrite: Replace an existing ``out`` that is a forge export or an empty folder (only
            once the new export is complete; anything else is refused, see
            :func:`check_replaceable`).
        batch_size: Rows buffered per config/split before a parquet row group is written.
        license: License written into the dataset card.
    """

    configs: Sequence[str] = CONFIGS
    only_validated: bool = False
    min_rating: float | None = None
    sources: Sequence[str] | None = None
    targets: Sequence[str] | None = None
    test_size: float = 0.2
    seed: int = 0
    test_groups: frozenset[str] | None = None
    overwrite: bool = False
    batch_size: int = 10_000
    license: str = "other"

    @property
    def effective_min_rating(self) -> float | None:
        """``min_rating``, or 2 when ``only_validated`` is set without one."""
        if self.min_rating is None and self.only_validated:
            return DEFAULT_VALIDATED_MIN_RATING
        return self.min_rating

    def check(self) -> None:
        """Raise :class:`ForgeError` naming the bad option and the fix."""
        if isinstance(self.configs, str) or not self.configs:
            raise ForgeError(f"configs: give a list of configs out of {', '.join(CONFIGS)}")
        unknown = [c for c in self.configs if c not in CONFIGS]
        if unknown:
            raise ForgeError(
                f"configs: unknown config {unknown[0]!r}; use any of {', '.join(CONFIGS)}"
            )
        if len(set(self.configs)) != len(self.configs):
            raise ForgeError("configs: a config is listed twice")
        if not 0.0 <= float(self.test_size) <= 1.0:
            raise ForgeError(f"test_size: {self.test_size} is not in [0, 1]")
        if int(self.batch_size) < 1:
            raise ForgeError(f"batch_size: {self.batch_size} must be at least 1")
        if self.min_rating is not None and not 0.0 <= float(self.min_rating) <= 3.0:
            raise ForgeError(f"min_rating: {self.min_rating} is not in [0, 3] (ratings are 0-3)")
        if self.sources is not None:
            if isinstance(self.sources, str):
                raise ForgeError("sources: give a list, e.g. ['human', 'template']")
            bad = [s for s in self.sources if s not in SOURCES]
            if bad:
                raise ForgeError(f"sources: unknown source {bad[0]!r}; use {', '.join(SOURCES)}")
        if self.targets is not None and isinstance(self.targets, str):
            raise ForgeError("targets: give a list, e.g. ['harmful_code']")
        if self.test_groups is not None and isinstance(self.test_groups, str):
            raise ForgeError("test_groups: give a set of group ids, not one string")

    def to_json(self) -> dict[str, Any]:
        """The options as plain JSON (for the manifest and the card)."""
        data = asdict(self)
        for key in ("configs", "sources", "targets"):
            if data[key] is not None:
                data[key] = list(data[key])
        if self.test_groups is not None:
            # The groups themselves can be many; the manifest records how many and a digest.
            groups = sorted(self.test_groups)
            data["test_groups"] = {
                "count": len(groups),
                "sha256": hashlib.sha256("\n".join(groups).encode("utf-8")).hexdigest(),
            }
        data["effective_min_rating"] = self.effective_min_rating
        return data


@dataclass
class ExportSummary:
    """What an export wrote.

    Attributes:
        path: The export folder.
        counts: Rows per config and split.
        scenarios_seen: Bundles read.
        scenarios_exported: Scenarios with at least one row in some config.
        duplicates_dropped: Scenarios dropped as near-duplicates of an earlier prompt.
        filtered_out: Scenarios with no row after the filters (target, rating, source, ...).
        fingerprint: sha256 over the manifest's file hashes (equal data, equal fingerprint).
    """

    path: Path
    counts: dict[str, dict[str, int]]
    scenarios_seen: int
    scenarios_exported: int
    duplicates_dropped: int
    filtered_out: int
    fingerprint: str
    stats: dict[str, Any] = field(default_factory=dict)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp(out: str | Path) -> list[Path]:
    """Remove temporary folders of earlier exports to ``out`` whose process is gone.

    A backup of the previous export (``.<name>.forge-old-*``) left by a process killed
    between the two renames of an overwrite is renamed back to ``out`` when ``out`` is
    missing (the old export comes back), and removed otherwise.

    Returns:
        The folders removed (a recovered backup is not among them).
    """
    out = Path(out)
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for mark in (OLD_MARK, TEMP_MARK):
        prefix = f".{out.name}{mark}"
        for p in sorted(out.parent.iterdir()):
            if not p.name.startswith(prefix):
                continue
            pid_text = p.name[len(prefix) :].split("-", 1)[0]
            if not pid_text.isdigit() or _pid_alive(int(pid_text)):
                continue
            if mark == OLD_MARK and not (out.exists() or out.is_symlink()):
                os.rename(p, out)  # killed between the renames: the old export comes back
                continue
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def check_replaceable(out: str | Path) -> None:
    """Raise unless ``out`` may be replaced by an export: an empty folder or a forge export.

    A forge export is a real folder (not a link) whose ``manifest.json`` has the forge format
    and that holds nothing but the manifest and the files it lists. Anything else (a project
    folder, notes, the store file, an export someone added files to) is refused, so
    ``overwrite`` never deletes what an export did not write.

    Raises:
        ForgeError: one line naming ``out``, what is wrong and what to do.
    """
    out = Path(out)
    refuse = (
        "; overwrite replaces only a forge export folder (or an empty folder): "
        "choose another folder or move it away"
    )
    if out.is_symlink() or not out.is_dir():
        kind = "a link" if out.is_symlink() else "a file"
        raise ForgeError(f"{out}: is {kind}, not an export folder{refuse}")
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        raise ForgeError(f"{out}: cannot be read ({exc.strerror}){refuse}") from exc
    if not entries:
        return
    manifest = out / MANIFEST_NAME
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        data = None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(files, dict):
        raise ForgeError(f"{out}: holds no forge export manifest{refuse}")
    allowed = {MANIFEST_NAME}
    for rel in files:
        parts = str(rel).split("/")
        allowed.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for root, dirs, names in os.walk(out):
        base = Path(root).relative_to(out).as_posix()
        for name in sorted(dirs) + sorted(names):
            rel = name if base == "." else f"{base}/{name}"
            if rel not in allowed:
                raise ForgeError(f"{out}: holds {rel}, which the export did not write{refuse}")


def _tool_versions() -> dict[str, str]:
    tools = {"python": platform.python_version()}
    for dist in ("forge-export", "pyarrow", "datasets", "pydantic"):
        try:
            tools[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - always installed with forge-export
            tools[dist] = "unknown"
    return tools


class _Writers:
    """One buffered ParquetWriter per config and split."""

    def __init__(self, folder: Path, configs: Sequence[str], batch_size: int) -> None:
        self.batch_size = batch_size
        self.buffers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.counts: dict[str, dict[str, int]] = {c: dict.fromkeys(SPLITS, 0) for c in configs}
        for config in configs:
            (folder / config).mkdir()
            for split in SPLITS:
                self.buffers[(config, split)] = []
                self.writers[(config, split)] = pq.ParquetWriter(
                    folder / config / f"{split}.parquet",
                    SCHEMAS[config],
                    compression="zstd",
                    write_statistics=False,
                )

    def add(self, config: str, split: str, row: dict[str, Any]) -> None:
        buf = self.buffers[(config, split)]
        buf.append(row)
        if len(buf) >= self.batch_size:
            self.flush(config, split)

    def flush(self, config: str, split: str) -> None:
        buf = self.buffers[(config, split)]
        if not buf:
            return
        try:
            table = pa.Table.from_pylist(buf, schema=SCHEMAS[config])
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, KeyError) as exc:
            raise _bad_row(config, buf, exc) from exc
        self.writers[(config, split)].write_table(table, row_group_size=self.batch_size)
        self.counts[config][split] += len(buf)
        buf.clear()

    def close(self) -> None:
        for config, split in list(self.writers):
            self.flush(config, split)
        for w in self.writers.values():
            w.close()
        self.writers.clear()

    def abort(self) -> None:
        for w in self.writers.values():
            # already failing: the temporary folder is removed anyway
            with contextlib.suppress(Exception):
                w.close()
        self.writers.clear()


def _bad_row(config: str, rows: list[dict[str, Any]], exc: Exception) -> ContractError:
    schema = SCHEMAS[config]
    for row in rows:
        for f in schema:
            try:
                pa.array([row.get(f.name)], type=f.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as field_exc:
                return ContractError(
                    f"does not fit the {config} schema ({field_exc})",
                    where=f"scenario {row.get('scenario_id')}",
                    field=f.name,
                )
    return ContractError(f"rows do not fit the {config} schema ({exc})", where=config)


def _check_bundle(bundle: object, index: int) -> ScenarioBundle:
    if not isinstance(bundle, ScenarioBundle) or not isinstance(bundle.scenario, Scenario):
        raise ContractError(
            f"expected a ScenarioBundle with a Scenario, got {type(bundle).__name__}",
            where=f"bundle {index}",
        )
    sid = bundle.scenario.id
    members: tuple[tuple[str, type[Completion] | type[Review], Sequence[object]], ...] = (
        ("completions", Completion, bundle.completions),
        ("reviews", Review, bundle.reviews),
    )
    for name, kind, items in members:
        for item in items:
            if not isinstance(item, kind):
                raise ContractError(
                    f"expected a {kind.__name__}, got {type(item).__name__}",
                    where=f"scenario {sid}",
                    field=name,
                )
            if item.scenario_id != sid:
                what = (
                    f"completion {item.id}"
                    if isinstance(item, Completion)
                    else f"review by {item.reviewer}"
                )
                raise ContractError(
                    f"{what} belongs to scenario {item.scenario_id}, not {sid}; bundle each "
                    f"{kind.__name__.lower()} with its own scenario",
                    where=f"scenario {sid}",
                    field=f"{name}.scenario_id",
                )
    return bundle


class _Stats:
    def __init__(self) -> None:
        self.seen = 0
        self.exported = 0
        self.duplicates = 0
        self.targets: Counter[tuple[str, str]] = Counter()
        self.sources: Counter[tuple[str, str]] = Counter()
        self.reviewers: Counter[int] = Counter()

    def to_json(self) -> dict[str, Any]:
        def nest(c: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for (a, split), n in sorted(c.items()):
                out.setdefault(a, dict.fromkeys(SPLITS, 0))[split] = n
            return out

        return {
            "scenarios_seen": self.seen,
            "scenarios_exported": self.exported,
            "duplicates_dropped": self.duplicates,
            "filtered_out": self.seen - self.exported - self.duplicates,
            "scenarios_per_target": nest(self.targets),
            "completions_per_source": nest(self.sources),
            "scenarios_per_reviewer_count": {str(k): v for k, v in sorted(self.reviewers.items())},
        }


def _rows_of(
    bundle: ScenarioBundle, options: ExportOptions, configs: frozenset[str]
) -> tuple[list[tuple[str, dict[str, Any]]], int, list[str]]:
    """Rows of one scenario (config, row), its reviewer count and the kept sources."""
    s = bundle.scenario
    rows: list[tuple[str, dict[str, Any]]] = []
    reviews = bundle.reviews
    rating: float | None
    if len(reviews) == 1:  # the common case, without statistics.fmean's overhead
        reviewers, rating = 1, float(reviews[0].rating)
    else:
        reviewers = len({r.reviewer for r in reviews})
        rating = aggregate_rating(reviews) if reviewers else None
    settled_by = None
    if bundle.settled_rating is not None:
        rating, settled_by = bundle.settled_rating, bundle.settled_by
    min_rating = options.effective_min_rating
    if min_rating is not None and (rating is None or rating < min_rating):
        return rows, reviewers, []  # reviewers judged it poor (or nobody has): no row at all
    if "eval" in configs:
        rows.append(("eval", eval_row(s)))
    sources = None if options.sources is None else frozenset(options.sources)
    kept: list[Completion] = []
    rejected: list[Completion] = []
    for c in bundle.completions:
        if sources is not None and c.source not in sources:
            continue
        if c.status == "rejected":
            rejected.append(c)
        elif not options.only_validated or c.human_validated:
            kept.append(c)
    if not kept and not rejected:
        return rows, reviewers, []
    prompt = s.messages()  # once per scenario; the builders share it (it is never mutated)
    for c in kept:
        if "sft" in configs:
            rows.append(
                ("sft", sft_row(s, c, rating, reviewers, prompt=prompt, settled_by=settled_by))
            )
        if "prompt_completion" in configs:
            rows.append(
                (
                    "prompt_completion",
                    prompt_completion_row(
                        s, c, rating, reviewers, prompt=prompt, settled_by=settled_by
                    ),
                )
            )
        if "kto" in configs:
            rows.append(
                (
                    "kto",
                    kto_row(s, c, True, rating, reviewers, prompt=prompt, settled_by=settled_by),
                )
            )
    for r in rejected:
        if "kto" in configs:
            rows.append(
                (
                    "kto",
                    kto_row(s, r, False, rating, reviewers, prompt=prompt, settled_by=settled_by),
                )
            )
        if "preference" in configs:
            for c in kept:
                rows.append(
                    (
                        "preference",
                        preference_row(
                            s, c, r, rating, reviewers, prompt=prompt, settled_by=settled_by
                        ),
                    )
                )
    return rows, reviewers, [c.source for c in kept]


def export_dataset(
    bundles: Iterable[ScenarioBundle],
    out: str | Path,
    options: ExportOptions = ExportOptions(),  # noqa: B008 - frozen dataclass, safe default
    *,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Export bundles as a HuggingFace dataset folder (see the module docstring).

    Args:
        bundles: Scenarios with their completions and reviews; read once, streaming.
        out: The folder to create. It must not exist unless ``options.overwrite``.
        options: Configs, filters, split and batching.
        progress: Called with the number of scenarios read since its previous call
            (``click.progressbar``'s ``update`` fits).

    Returns:
        The counts and fingerprint of what was written.

    Raises:
        ForgeError: ``out`` exists without ``overwrite``, or an option is bad.
        ContractError: a bundle is inconsistent (e.g. a completion of another scenario).
    """
    options.check()
    out = Path(out)
    _prepare_target(out, options.overwrite)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = out.parent / f".{out.name}{TEMP_MARK}{token}"
    tmp.mkdir()
    configs = [c for c in CONFIGS if c in options.configs]
    writers: _Writers | None = None
    try:
        writers = _Writers(tmp, configs, int(options.batch_size))
        stats = _write_rows(bundles, writers, options, frozenset(configs), progress)
        writers.close()
        stats_json = stats.to_json()
        fp = _write_card_and_manifest(tmp, options, configs, writers.counts, stats_json)
        _move_into_place(tmp, out, token, options.overwrite)
    except BaseException:
        if writers is not None:
            writers.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportSummary(
        path=out,
        counts=writers.counts,
        scenarios_seen=stats.seen,
        scenarios_exported=stats.exported,
        duplicates_dropped=stats.duplicates,
        filtered_out=stats_json["filtered_out"],
        fingerprint=fp,
        stats=stats_json,
    )


def _prepare_target(out: Path, overwrite: bool) -> None:
    """Make ``out``'s parent; bring back or clear a killed export's leftovers; refuse an
    existing ``out`` unless it may be overwritten and is a forge export (or empty)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp(out)  # first: it may bring back the previous export after a kill
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise ForgeError(
                f"{out}: already exists; choose another folder, or pass --overwrite to replace it "
                "(ExportOptions(overwrite=True) in Python)"
            )
        check_replaceable(out)


def _write_card_and_manifest(
    tmp: Path,
    options: ExportOptions,
    configs: list[str],
    counts: dict[str, dict[str, int]],
    stats_json: dict[str, Any],
) -> str:
    """Hash the written files, write the dataset card and the manifest; the fingerprint.

    ``stats_json`` gets the fingerprint of the data files (``data_fingerprint``).
    """
    files: dict[str, FileEntry] = {}
    for config in configs:
        for split in SPLITS:
            rel = f"{config}/{split}.parquet"
            p = tmp / rel
            files[rel] = FileEntry(
                sha256=sha256_file(p), bytes=p.stat().st_size, rows=counts[config][split]
            )
    stats_json["data_fingerprint"] = fingerprint(files)
    _write_card(tmp, options, configs, counts, stats_json)
    card = tmp / "README.md"
    files["README.md"] = FileEntry(sha256=sha256_file(card), bytes=card.stat().st_size)
    fp = fingerprint(files)
    write_manifest(
        tmp,
        Manifest(
            schema_version=SCHEMA_VERSION,
            tools=_tool_versions(),
            options=options.to_json(),
            counts=counts,
            stats=stats_json,
            files=files,
            fingerprint=fp,
        ),
    )
    return fp


def _write_rows(
    bundles: Iterable[ScenarioBundle],
    writers: _Writers,
    options: ExportOptions,
    configs: frozenset[str],
    progress: Callable[[int], None] | None,
) -> _Stats:
    stats = _Stats()
    dedup = PromptDeduplicator()
    targets = None if options.targets is None else frozenset(options.targets)
    seed, test_size = int(options.seed), float(options.test_size)
    frozen = None if options.test_groups is None else frozenset(options.test_groups)
    pending = 0
    for index, raw in enumerate(bundles):
        bundle = _check_bundle(raw, index)
        stats.seen += 1
        pending += 1
        if progress is not None and pending >= _PROGRESS_EVERY:
            progress(pending)
            pending = 0
        s = bundle.scenario
        if targets is not None and s.evaluation_target not in targets:
            continue
        key = dedup.key(s.prompt)
        if dedup.has_key(key):
            stats.duplicates += 1
            continue
        rows, reviewers, kept_sources = _rows_of(bundle, options, configs)
        if not rows:
            continue
        dedup.add_key(key)
        if frozen is not None:
            split = "test" if s.group_id in frozen else "train"
        else:
            split = assign_split(s.group_id, seed, test_size)
        for config, row in rows:
            writers.add(config, split, row)
        stats.exported += 1
        stats.targets[(s.evaluation_target, split)] += 1
        for src in kept_sources:
            stats.sources[(src, split)] += 1
        stats.reviewers[reviewers] += 1
    if progress is not None and pending:
        progress(pending)
    return stats


_RENAME_EXCHANGE = 2  # renameat2 flag (Linux 3.15+): swap two paths in one step
_AT_FDCWD = -100
_use_exchange = sys.platform == "linux"


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` atomically; ``False`` if the system cannot."""
    global _use_exchange
    if not _use_exchange:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        _use_exchange = False
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def _move_into_place(tmp: Path, out: Path, token: str, overwrite: bool) -> None:
    """Put the finished ``tmp`` at ``out``; at every instant ``out`` is old, new or recoverable.

    A new ``out`` is one rename. An overwrite swaps ``tmp`` and ``out`` in one atomic
    ``renameat2(RENAME_EXCHANGE)`` where the system offers it; else the old export is renamed
    to a sibling backup (``.<name>.forge-old-<pid>-…``), the new one into place, and the
    backup renamed to a temporary name and deleted. A process killed between the two renames
    leaves the complete backup, which the next export to ``out`` renames back
    (:func:`clean_stale_temp`).
    """
    if not (out.exists() or out.is_symlink()):
        os.rename(tmp, out)
        return
    if not overwrite:  # appeared while we were writing
        raise ForgeError(f"{out}: appeared during the export; choose another folder")
    check_replaceable(out)  # again: it may have changed while we were writing
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old export
        return
    old = out.parent / f".{out.name}{OLD_MARK}{token}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    trash = out.parent / f".{out.name}{TEMP_MARK}{token}-old"
    os.rename(old, trash)  # a backup under OLD_MARK is always complete; this one is not kept
    shutil.rmtree(trash, ignore_errors=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def _card_header(
    options: ExportOptions,
    configs: Sequence[str],
    counts: dict[str, dict[str, int]],
    stats: dict[str, Any],
) -> dict[str, Any]:
    """The card's YAML header: one ``configs:`` entry per non-empty config, licence, tags."""
    # `datasets` cannot load a split of zero rows ("corresponds to no data"), so the card lists
    # only non-empty splits; the empty files still exist with the full schema and
    # `forge_export.load` reads them.
    listed = [c for c in configs if any(counts[c].values())]
    return {
        "configs": [
            {
                "config_name": c,
                # `datasets` caches a local folder under its name and this YAML header only, so
                # a new export to the same path would load the old cache: the data fingerprint
                # in the description makes the header (and the cache key) change with the data.
                "description": f"forge {c} rows, data {stats['data_fingerprint'][:20]}",
                "data_files": [
                    {"split": s, "path": f"{c}/{s}.parquet"} for s in SPLITS if counts[c][s]
                ],
            }
            for c in listed
        ],
        "license": options.license,
        "task_categories": sorted({_TASK_CATEGORIES[c] for c in configs}),
        "tags": ["forge", "safety", "trl"],
        "forge_schema_version": SCHEMA_VERSION,
    }


def _write_card(
    folder: Path,
    options: ExportOptions,
    configs: Sequence[str],
    counts: dict[str, dict[str, int]],
    stats: dict[str, Any],
) -> None:
    """Write the dataset card (``README.md``): the YAML header ``datasets`` reads, then the
    counts, the statistics and the filters of the export."""
    header = _card_header(options, configs, counts, stats)
    filters = {
        "only_validated": options.only_validated,
        "min_rating": options.effective_min_rating,
        "sources": list(options.sources) if options.sources is not None else "all",
        "targets": list(options.targets) if options.targets is not None else "all",
        "test_size": options.test_size,
        "seed": options.seed,
    }
    parts = [
        "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---",
        "# forge export",
        "Scenarios, completions and reviews exported by forge-export "
        f"(contract schema {SCHEMA_VERSION}). Load a config with "
        '`datasets.load_dataset("<this folder>", "sft")` or `forge_export.load(path, config, '
        "split)`, which also checks `manifest.json`.",
        "## Rows per config and split",
        _table(["config", *SPLITS], [[c, *(counts[c][s] for s in SPLITS)] for c in configs]),
        "Splits with no rows are left out of the `configs:` header (`datasets` cannot load an "
        "empty split); their parquet files exist with the full schema and "
        "`forge_export.load` reads them.",
        "## Scenarios",
        _table(
            ["seen", "exported", "duplicates dropped", "filtered out"],
            [
                [
                    stats["scenarios_seen"],
                    stats["scenarios_exported"],
                    stats["duplicates_dropped"],
                    stats["filtered_out"],
                ]
            ],
        ),
        "### Scenarios per evaluation target",
        _table(
            ["target", *SPLITS],
            [[t, *(v[s] for s in SPLITS)] for t, v in stats["scenarios_per_target"].items()],
        ),
        "### Kept completions per source",
        _table(
            ["source", *SPLITS],
            [[t, *(v[s] for s in SPLITS)] for t, v in stats["completions_per_source"].items()],
        ),
        "### Reviewers per scenario",
        _table(
            ["reviewers", "scenarios"],
            list(stats["scenarios_per_reviewer_count"].items()),
        ),
        "Every row's `reviewers` column holds the count of distinct reviewers of its scenario "
        "and `rating` their mean latest rating (null when unreviewed), or the rating a lead "
        "settled when they disagreed: `settled_by` names that lead (null when nobody settled "
        "it).",
        "## Filters",
        _table(["filter", "value"], list(filters.items())),
        "",
    ]
    (folder / "README.md").write_text("\n\n".join(parts), encoding="utf-8")
