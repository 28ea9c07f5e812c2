"""Read and check exports: :func:`load` one config/split, :func:`validate_export` a whole folder.

:func:`load` checks the manifest (present, schema major version), the sha256 of the file it
reads, the file's columns and every row against the contract, then returns a
``datasets.Dataset``; the first problem is raised as a :class:`ContractError` naming the file,
the row and the field. :func:`validate_export` checks everything and lists *every* problem.

Example:
    >>> import tempfile, pathlib
    >>> from forge_export import Scenario
    >>> from forge_export.exporters.huggingface import ScenarioBundle, export_dataset
    >>> s = Scenario(prompt="Hi", evaluation_target="x", success_criteria=["Greets back"])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "ds"
    >>> _ = export_dataset([ScenarioBundle(s)], out)
    >>> validate_export(out)
    []
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from forge_export.errors import ContractError, describe_validation_error
from forge_export.manifest import (
    MANIFEST_NAME,
    Manifest,
    check_file,
    fingerprint,
    read_manifest,
    sha256_file,
)
from forge_export.models import EXPECTED_BEHAVIORS, SCHEMA_VERSION, Scenario
from forge_export.records import COLUMNS_SINCE, CONFIGS, SCHEMAS, SPLITS

if TYPE_CHECKING:
    from datasets import Dataset

__all__ = ["check_table", "load", "validate_export"]

_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ROLES = frozenset({"system", "user", "assistant"})
_BEHAVIORS = frozenset(EXPECTED_BEHAVIORS)
_SOURCES = frozenset({"human", "template", "model"})
_STATUSES = frozenset({"proposed", "accepted", "rejected"})
_STATUSES_KEPT = frozenset({"proposed", "accepted"})


class _Problem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(row: dict[str, Any], name: str, allowed: frozenset[str] | None = None) -> None:
    v = row.get(name)
    if not isinstance(v, str) or not v:
        raise _Problem(name, "missing or empty; every row needs it")
    if allowed is not None and v not in allowed:
        raise _Problem(name, f"{v!r} is not one of {', '.join(sorted(allowed))}")


def _messages(
    row: dict[str, Any], name: str, *, last: str | None = None, exactly_one: bool = False
) -> None:
    msgs = row.get(name)
    if not isinstance(msgs, list) or not msgs:
        raise _Problem(name, "empty messages; give at least one {role, content} message")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in _ROLES:
            role = m.get("role") if isinstance(m, dict) else m
            raise _Problem(f"{name}[{i}].role", f"{role!r} is not system, user or assistant")
        if not isinstance(m.get("content"), str):
            raise _Problem(f"{name}[{i}].content", "missing; every message needs a text")
    if exactly_one and len(msgs) != 1:
        raise _Problem(name, f"has {len(msgs)} messages; it must be exactly one")
    if last is not None and msgs[-1]["role"] != last:
        raise _Problem(name, f"the last message is {msgs[-1]['role']!r}; it must be {last!r}")


def _provenance(row: dict[str, Any], prefix: str = "completion_") -> None:
    _text(row, f"{prefix}id")
    _text(row, f"{prefix}source", _SOURCES)


def _rating(row: dict[str, Any]) -> None:
    rating = row.get("rating")
    if rating is not None and not 0.0 <= rating <= 3.0:
        raise _Problem("rating", f"{rating} is not in [0, 3]")
    reviewers = row.get("reviewers")
    if not isinstance(reviewers, int) or reviewers < 0:
        raise _Problem("reviewers", f"{reviewers!r} is not a count of reviewers")
    settled_by = row.get("settled_by")
    if settled_by is not None and (not isinstance(settled_by, str) or not settled_by):
        raise _Problem("settled_by", f"{settled_by!r} is not a lead's name; leave it null")
    if settled_by is not None and rating is None:
        raise _Problem("settled_by", "set, but rating is null: a settled scenario has a rating")


def _slug(row: dict[str, Any]) -> None:
    _text(row, "evaluation_target")
    if not _SLUG.match(row["evaluation_target"]):
        raise _Problem("evaluation_target", f"{row['evaluation_target']!r} is not a slug")


def _sft_messages(row: dict[str, Any]) -> None:
    _messages(row, "messages", last="assistant")
    if not any(m["role"] == "user" for m in row["messages"]):
        raise _Problem("messages", "no user message; the conversation needs the prompt")


def _label(row: dict[str, Any]) -> None:
    if not isinstance(row.get("label"), bool):
        raise _Problem("label", "missing; it must be true or false")


def _criteria(row: dict[str, Any]) -> None:
    criteria = row.get("success_criteria")
    if not isinstance(criteria, list) or not criteria:
        raise _Problem("success_criteria", "missing or empty; give at least one criterion")
    if not all(isinstance(c, str) and c for c in criteria):
        raise _Problem("success_criteria", "a criterion is empty; every criterion needs a text")


def _eval_id(row: dict[str, Any]) -> None:
    _text(row, "id")
    if row["id"] != row.get("scenario_id"):
        raise _Problem("id", f"{row['id']!r} differs from scenario_id {row.get('scenario_id')!r}")


def _target(row: dict[str, Any]) -> None:
    criteria = row.get("success_criteria")
    if isinstance(criteria, list) and row.get("target") != "\n".join(map(str, criteria)):
        raise _Problem("target", "must be the success_criteria joined by newlines")


def _metadata(row: dict[str, Any]) -> None:
    meta = row.get("metadata")
    if not isinstance(meta, dict):
        raise _Problem("metadata", "missing; it holds the scenario's target and criteria")
    for key in ("evaluation_target", "expected_behavior", "group_id", "scenario_id"):
        if key in row and meta.get(key) != row[key]:
            raise _Problem(f"metadata.{key}", f"differs from the row's {key}")
    if "success_criteria" in row and meta.get("success_criteria") != row["success_criteria"]:
        raise _Problem("metadata.success_criteria", "differs from the row's success_criteria")


def _embedded_scenario(row: dict[str, Any]) -> None:
    try:
        scenario = Scenario.model_validate_json(row.get("scenario") or "")
    except ValidationError as exc:
        err = describe_validation_error(exc)
        raise _Problem("scenario", f"not a valid Scenario ({err})") from exc
    if scenario.id != row.get("scenario_id"):
        raise _Problem("scenario", "its id differs from scenario_id")
    expected = {
        "prompt": scenario.prompt,
        "system": scenario.system,
        "context": [{"role": t.role, "content": t.content} for t in scenario.context],
        "evaluation_target": scenario.evaluation_target,
        "expected_behavior": scenario.expected_behavior,
        "group_id": scenario.group_id,
        "success_criteria": list(scenario.success_criteria),
        "input": scenario.messages(),
    }
    for key, value in expected.items():
        if key in row and row[key] != value:
            raise _Problem(key, "differs from the embedded scenario's; re-export it")


_Check = Callable[[dict[str, Any]], None]


def _t(name: str, allowed: frozenset[str] | None = None) -> _Check:
    return lambda row: _text(row, name, allowed)


def _m(name: str, last: str, exactly_one: bool = False) -> _Check:
    return lambda row: _messages(row, name, last=last, exactly_one=exactly_one)


_COMMON: list[_Check] = [
    _t("scenario_id"),
    _t("group_id"),
    _slug,
    _t("expected_behavior", _BEHAVIORS),
]
_PROVENANCE: list[_Check] = [_t("completion_id"), _t("completion_source", _SOURCES), _rating]

# Each check is independent, so a row with several problems gets them all listed.
_CHECKS: dict[str, list[_Check]] = {
    "sft": [_sft_messages, *_PROVENANCE, _t("completion_status", _STATUSES_KEPT)],
    "prompt_completion": [
        _m("prompt", "user"),
        _m("completion", "assistant", exactly_one=True),
        *_PROVENANCE,
        _t("completion_status", _STATUSES_KEPT),
    ],
    "preference": [
        _m("prompt", "user"),
        _m("chosen", "assistant", exactly_one=True),
        _m("rejected", "assistant", exactly_one=True),
        _t("chosen_completion_id"),
        _t("rejected_completion_id"),
        _t("chosen_source", _SOURCES),
        _t("rejected_source", _SOURCES),
        _rating,
    ],
    "kto": [
        _m("prompt", "user"),
        _m("completion", "assistant", exactly_one=True),
        _label,
        *_PROVENANCE,
        _t("completion_status", _STATUSES),
    ],
    "eval": [_criteria, _eval_id, _m("input", "user"), _t("prompt"), _target, _metadata],
}


def _minor(version: str) -> tuple[int, int]:
    """(major, minor) of a schema version; an unreadable one counts as this contract's."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return _minor(SCHEMA_VERSION)
    return major, minor


def _added_later(config: str, schema_version: str) -> set[str]:
    """Columns of ``config`` that an export of ``schema_version`` predates (see
    :data:`~forge_export.records.COLUMNS_SINCE`)."""
    have = _minor(schema_version)
    return {
        name
        for name, since in COLUMNS_SINCE.items()
        if name in SCHEMAS[config].names and have < since
    }


def _check_schema(
    config: str, schema: pa.Schema, schema_version: str = SCHEMA_VERSION
) -> Iterator[tuple[str, str]]:
    later = _added_later(config, schema_version)
    for f in SCHEMAS[config]:
        idx = schema.get_field_index(f.name)
        if idx < 0:
            if f.name not in later:
                yield f.name, "column missing; re-export with this forge-export"
        elif not schema.field(idx).type.equals(f.type):
            yield f.name, f"has type {schema.field(idx).type}, expected {f.type}"
    known = set(SCHEMAS[config].names)
    for name in schema.names:
        if name not in known:
            yield name, f"unexpected column in {config}; remove it"


def check_table(
    config: str,
    table: pa.Table,
    where: str,
    *,
    deep: bool = True,
    schema_version: str = SCHEMA_VERSION,
) -> Iterator[ContractError]:
    """Check a table of ``config`` against the contract; yield one error per problem.

    Columns (presence and type) are checked first, then every row: the common columns,
    messages (non-empty, valid roles, the right last role), the config's own columns, and for
    ``eval`` the criteria, ``target``, ``metadata`` and (``deep``) the embedded scenario.

    Args:
        config: One of :data:`~forge_export.records.CONFIGS`.
        table: The rows.
        where: The file name used in the errors.
        deep: Also validate the embedded ``scenario`` JSON of ``eval`` rows.
        schema_version: The export's contract version (its manifest's): a column added in a
            later minor version may be missing.
    """
    missing = set(SCHEMAS[config].names) - set(table.schema.names)
    for field, message in _check_schema(config, table.schema, schema_version):
        yield ContractError(message, where=where, field=field)
    names = [n for n in SCHEMAS[config].names if n in table.schema.names]
    checks = [*_COMMON, *_CHECKS[config]]
    if deep and config == "eval":
        checks.append(_embedded_scenario)
    row_index = 0
    for batch in table.select(names).to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            for check in checks:
                try:
                    check(row)
                except _Problem as p:
                    if re.split(r"[.\[]", p.field, maxsplit=1)[0] in missing:
                        continue  # already reported once for the whole column
                    yield ContractError(p.message, where=f"{where} row {row_index}", field=p.field)
            row_index += 1


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ContractError(
            f"not a readable parquet file ({exc}); re-export it", where=str(path)
        ) from exc


def load(
    path: str | Path, config: str, split: str = "train", *, check_rows: bool = True
) -> Dataset:
    """Load one config and split of an export as a ``datasets.Dataset``, after checking it.

    Args:
        path: The export folder.
        config: One of ``sft``, ``prompt_completion``, ``preference``, ``kto``, ``eval``.
        split: ``train`` or ``test``.
        check_rows: Check every row against the contract (on by default).

    Raises:
        ContractError: naming the file (and row and field) of the first problem found.

    Example:
        >>> ds = load("out/", "sft", "train")  # doctest: +SKIP
        >>> ds[0]["messages"][-1]["role"]  # doctest: +SKIP
        'assistant'
    """
    folder = Path(path)
    if config not in CONFIGS:
        raise ContractError(f"unknown config {config!r}; use one of {', '.join(CONFIGS)}")
    if split not in SPLITS:
        raise ContractError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    manifest = read_manifest(folder)
    if config not in manifest.counts:
        raise ContractError(
            f"this export has no {config!r} config (it has {', '.join(manifest.counts)}); "
            "re-export with it",
            where=str(folder / MANIFEST_NAME),
            field="counts",
        )
    file = check_file(folder, f"{config}/{split}.parquet", manifest)
    table = _read_parquet(file)
    version = manifest.schema_version
    for problem in check_table(config, table, str(file), deep=check_rows, schema_version=version):
        raise problem
    # the schema check above passed, so the table has the contract's columns, except those an
    # older export predates: they are read as nulls
    for name in _added_later(config, version) - set(table.schema.names):
        field = SCHEMAS[config].field(name)
        table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    table = table.select(SCHEMAS[config].names)
    from datasets import Dataset, NamedSplit
    from datasets.table import InMemoryTable

    return Dataset(InMemoryTable(table), split=NamedSplit(split))


def _check_manifest_files(folder: Path, manifest: Manifest) -> Iterator[str]:
    where = str(folder / MANIFEST_NAME)
    for config in manifest.counts:
        if config not in CONFIGS:
            yield f"{where}: field 'counts': unknown config {config!r}"
            continue
        for split in SPLITS:
            rel = f"{config}/{split}.parquet"
            if rel not in manifest.files:
                yield f"{where}: field 'files': {rel} is not listed"
    if manifest.fingerprint != fingerprint(manifest.files):
        yield f"{where}: field 'fingerprint': does not match the file hashes it lists"
    for rel, entry in sorted(manifest.files.items()):
        p = folder / rel
        if not p.is_file():
            yield f"{p}: listed in the manifest but missing"
        elif sha256_file(p) != entry.sha256:
            yield f"{p}: field 'sha256': content changed since export; re-export or restore it"
    for p in sorted(folder.rglob("*.parquet")):
        rel = p.relative_to(folder).as_posix()
        if rel not in manifest.files:
            yield f"{p}: not listed in {MANIFEST_NAME}; remove it or re-export"


def validate_export(
    path: str | Path, *, progress: Callable[[int], None] | None = None
) -> list[str]:
    """Check a whole export and list every problem, one line each (empty list: all good).

    Checks the manifest (present, JSON, schema major version, fingerprint), the sha256 of
    every file, that every parquet file is readable with the contract's columns and row count,
    and every row against the contract. Lines name the file, row and field.

    Args:
        path: The export folder.
        progress: Called with 1 after each parquet file checked (of ``len(counts) * 2``).
    """
    folder = Path(path)
    try:
        manifest = read_manifest(folder)
    except ContractError as exc:
        return [str(exc)]
    problems = list(_check_manifest_files(folder, manifest))
    for config, splits in manifest.counts.items():
        if config not in CONFIGS:
            continue
        for split in SPLITS:
            p = folder / config / f"{split}.parquet"
            if not p.is_file():
                continue
            try:
                table = _read_parquet(p)
            except ContractError as exc:
                problems.append(str(exc))
                if progress is not None:
                    progress(1)
                continue
            expected = splits.get(split)
            if expected is not None and expected != table.num_rows:
                problems.append(
                    f"{p}: has {table.num_rows} rows, the manifest says {expected}; re-export it"
                )
            problems.extend(
                str(e)
                for e in check_table(config, table, str(p), schema_version=manifest.schema_version)
            )
            if progress is not None:
                progress(1)
    return problems


def manifest_summary(path: str | Path) -> dict[str, Any]:
    """Counts of an export (per config/split, target, source) from its checked manifest."""
    manifest = read_manifest(path)
    return {
        "path": str(path),
        "schema_version": manifest.schema_version,
        "fingerprint": manifest.fingerprint,
        "created_at": manifest.created_at.isoformat(),
        "counts": manifest.counts,
        "stats": manifest.stats,
        "options": manifest.options,
    }
