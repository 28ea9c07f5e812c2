"""``manifest.json`` of an export: what is in it, how it was made, and the hash of every file.

The manifest is written last into the export's temporary folder, just before the folder is
renamed into place. Readers check it first: the schema major version, then the sha256 of every
file they read.

Example:
    >>> m = Manifest(counts={"sft": {"train": 1, "test": 0}})
    >>> m.schema_version == SCHEMA_VERSION
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from forge_export.bounded import json_loads
from forge_export.errors import ContractError, describe_validation_error
from forge_export.models import SCHEMA_VERSION, check_schema_version, utc_now

MANIFEST_NAME = "manifest.json"
"""File name of the manifest inside an export folder."""

FORMAT = "forge-export/huggingface"
"""Value of ``Manifest.format`` for the folder layout written by the HuggingFace exporter."""


class FileEntry(BaseModel):
    """One file of an export, as recorded in the manifest."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)
    rows: int | None = None


class Manifest(BaseModel):
    """The content of ``manifest.json``.

    Attributes:
        schema_version: Contract version the rows follow; another major is refused on read.
        format: Folder layout, :data:`FORMAT`.
        created_at: When the export finished (not part of the fingerprint).
        tools: Versions of forge-export, pyarrow, python, ... that wrote it.
        options: The export options, filters included.
        counts: Rows per config and split.
        stats: Scenario counts (seen, exported, duplicates, filtered) and per target/source.
        files: Every file but the manifest, by path relative to the export, with its sha256.
        fingerprint: sha256 over the sorted ``path:sha256`` lines of ``files``.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    format: str = FORMAT
    created_at: datetime = Field(default_factory=utc_now)
    tools: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, FileEntry] = Field(default_factory=dict)
    fingerprint: str = ""

    @field_validator("files")
    @classmethod
    def _inside_the_folder(cls, files: dict[str, FileEntry]) -> dict[str, FileEntry]:
        # readers open folder / path for every listed file: only plain relative paths
        for path in files:
            if not is_safe_relpath(path):
                raise ValueError(
                    f"{path!r} is not a plain path inside the export folder (no absolute "
                    "paths, '..', backslashes or empty parts); re-export it"
                )
        return files


def is_safe_relpath(path: str) -> bool:
    """Whether ``path`` names a file inside a folder: relative, ``/``-separated, no ``..``.

    Example:
        >>> [is_safe_relpath(p) for p in ("sft/train.parquet", "../x", "/etc/passwd", "a//b")]
        [True, False, False, False]
    """
    if not path or path.startswith("/") or "\\" in path or "\x00" in path or ":" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(files: Mapping[str, FileEntry]) -> str:
    """sha256 over the sorted ``path:sha256`` lines: equal data gives an equal fingerprint."""
    lines = "".join(f"{p}:{files[p].sha256}\n" for p in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest`` as ``folder/manifest.json`` (sorted, indented, trailing newline)."""
    path = folder / MANIFEST_NAME
    data = manifest.model_dump(mode="json")
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: str | Path) -> Manifest:
    """Read and check ``folder/manifest.json``: present, JSON, contract shape, schema major.

    Raises:
        ContractError: naming the file and field (``SchemaVersionError`` for another major).
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        backups = sorted(folder.parent.glob(f".{folder.name}.forge-old-*"))
        if backups and not folder.exists():
            raise ContractError(
                f"no such export folder, but an interrupted overwrite left the previous export "
                f"at {backups[-1]}; run the export again (it first puts that one back) or "
                "rename it back yourself",
                where=str(folder),
            )
        raise ContractError(
            "no such export folder; give the folder an export wrote", where=str(folder)
        )
    if not path.is_file():
        raise ContractError(
            "missing; this is not a forge export (or it is incomplete): re-export it",
            where=str(path),
        )
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContractError(f"not readable as JSON ({exc}); re-export it", where=str(path)) from exc
    if not isinstance(data, dict):
        raise ContractError("must be a JSON object; re-export it", where=str(path))
    version = data.get("schema_version")
    if not isinstance(version, str):
        raise ContractError("missing or not a string", where=str(path), field="schema_version")
    check_schema_version(version, str(path))
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(exc, str(path)) from exc


def check_file(folder: Path, relpath: str, manifest: Manifest) -> Path:
    """Check that ``relpath`` is listed in the manifest, exists, and has the recorded sha256.

    Raises:
        ContractError: naming the file and ``sha256`` (or ``files``) on any mismatch.
    """
    path = folder / relpath
    entry = manifest.files.get(relpath)
    if entry is None:
        raise ContractError(
            f"{relpath} is not listed in {MANIFEST_NAME}; re-export it",
            where=str(folder / MANIFEST_NAME),
            field="files",
        )
    if not path.is_file():
        raise ContractError("listed in the manifest but missing; re-export it", where=str(path))
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise ContractError(
            f"content changed since export (manifest {entry.sha256[:12]}…, file "
            f"{actual[:12]}…); re-export it or restore the file",
            where=str(path),
            field="sha256",
        )
    return path
