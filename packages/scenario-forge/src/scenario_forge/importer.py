"""Import scenarios from JSONL, CSV or YAML files: every bad row reported, good rows kept.

Rows are scenario mappings (the :class:`forge_export.Scenario` fields). Missing values are
filled from the taxonomy: ``evaluation_target`` from ``--target``, ``expected_behavior`` from the
target, ``success_criteria`` from the target's (benign) criteria. Each row gets provenance
``import`` with origin ``<file name>:<line>``. The look-alike pseudo-target
``exaggerated_safety`` is accepted too (expected behaviour ``comply`` by default).

* JSONL: one JSON object per line; bad rows are named by line number.
* CSV: a header with the columns ``prompt, evaluation_target, success_criteria,
  expected_behavior, system, tags, group_id`` (only ``prompt`` is required);
  ``success_criteria`` and ``tags`` are separated by ``|`` or given as a JSON list. Bad rows
  are named by the physical line they start on (quoted cells may span lines).
* YAML: a list of mappings (or ``scenarios:`` holding one); bad items are named by index and line.

Every good row is stored in ONE transaction; ids are content hashes, so importing the same
file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_export import ForgeError, Provenance, Scenario
from forge_export.bounded import json_loads
from forge_export.errors import ContractError, describe_validation_error
from forge_export.jsonl import parse_json_lines
from pydantic import ValidationError

from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import Taxonomy
from scenario_forge.taxonomy.lookalikes import EXAGGERATED_SAFETY, EXAGGERATED_SAFETY_CRITERIA

FORMATS = ("jsonl", "csv", "yaml", "inspect", "harmbench")  # last two: scenario_forge.formats
CSV_COLUMNS = (
    "prompt",
    "evaluation_target",
    "success_criteria",
    "expected_behavior",
    "system",
    "tags",
    "group_id",
)
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
}


class ImportFileError(ForgeError):
    """The file as a whole cannot be imported (unreadable, wrong encoding, not the format)."""


@dataclass
class RowError:
    """One rejected row."""

    where: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    path: str
    format: str
    rows: int = 0
    valid: int = 0
    added: int = 0
    duplicates: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows rejected."""
        return len(self.errors)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "valid": self.valid,
            "added": self.added,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dry_run": self.dry_run,
            "errors": [{"where": e.where, "message": e.message} for e in self.errors],
        }


@dataclass
class _Row:
    where: str
    line: int | None
    data: dict[str, Any] | None
    problem: str | None = None


def detect_format(path: Path, fmt: str | None) -> str:
    """The format: given, else from the file extension.

    Raises:
        ImportFileError: unknown extension and no ``--format``.
    """
    if fmt:
        return fmt
    got = _EXTENSIONS.get(path.suffix.lower())
    if got is None:
        raise ImportFileError(
            f"{path}: cannot tell the format from '{path.suffix or '(no extension)'}'; "
            "pass --format jsonl, csv or yaml"
        )
    return got


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a BOM is dropped).

    Raises:
        ImportFileError: missing, binary, or not UTF-8.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder; give a .jsonl, .csv or .yaml file") from None
    if b"\x00" in data[:8192]:
        raise ImportFileError(
            f"{path}: looks like a binary file (it contains NUL bytes); "
            "import a UTF-8 JSONL, CSV or YAML text file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); re-save the file as UTF-8"
        ) from None


def _rows_jsonl(text: str, name: str) -> Iterator[_Row]:
    for line in parse_json_lines(text.split("\n"), name):
        problem = None if line.error is None else f"{line.where}: {line.error}"
        yield _Row(line.where, line.number, line.data, problem)


def _split_list(value: str, where: str, column: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json_loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: field '{column}': not a JSON list ({exc.msg})") from None
        except ValueError as exc:  # NumberTooLong, NotFinite, DuplicateKey
            raise ValueError(f"{where}: field '{column}': {exc}") from None
        except RecursionError:
            raise ValueError(f"{where}: field '{column}': JSON nested too deeply") from None
        if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
            raise ValueError(f"{where}: field '{column}': expected a JSON list of texts")
        return [x.strip() for x in parsed if x.strip()]
    return [part.strip() for part in value.split("|") if part.strip()]


def _rows_csv(text: str, name: str) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportFileError(f"{name}:1: cannot read the CSV header ({exc})") from None
    columns = [h.strip().lower() for h in header]
    twice = [c for i, c in enumerate(columns) if c and c in columns[:i]]
    if twice:
        raise ImportFileError(
            f"{name}:1: the column {twice[0]!r} appears twice in the header; keep one"
        )
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        hint = (
            "; a HarmBench/AdvBench file? use --format harmbench"
            if {"behavior", "goal"} & set(columns)
            else ""
        )
        raise ImportFileError(
            f"{name}:1: unknown column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)}){hint}"
        )
    if "prompt" not in columns:
        raise ImportFileError(f"{name}:1: the header has no 'prompt' column; add it")
    line_end = reader.line_num
    while True:
        start = line_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = f"{name}:{start}"
            raise ImportFileError(f"{where}: cannot parse CSV ({exc})") from None
        line_end = reader.line_num
        where = f"{name}:{start}"
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns):
            yield _Row(
                where,
                start,
                None,
                f"{where}: {len(cells)} cells but the header has {len(columns)} columns "
                "(quote cells that contain commas)",
            )
            continue
        data: dict[str, Any] = {}
        try:
            for col, value in zip(columns, cells, strict=False):
                if not value.strip():
                    continue
                if col in ("success_criteria", "tags"):
                    data[col] = _split_list(value, where, col)
                elif col == "prompt":
                    data[col] = value
                else:
                    data[col] = value.strip()
        except ValueError as exc:
            yield _Row(where, start, None, str(exc))
            continue
        yield _Row(where, start, data)


def _rows_yaml(text: str, name: str) -> Iterator[_Row]:
    import yaml
    from forge_export.bounded import yaml_compose

    try:
        # one parse; alias expansion, recursion and number size checked before building
        node, loader = yaml_compose(text, name)
        try:
            data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except ContractError as exc:
        raise ImportFileError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ImportFileError(f"{name}{at}: not valid YAML ({problem})") from None
    except RecursionError:
        raise ImportFileError(f"{name}: YAML nested too deeply; flatten the file") from None
    if data is None or node is None:
        return
    items_node: Any = node
    if isinstance(data, dict) and isinstance(data.get("scenarios"), list):
        data = data["scenarios"]
        for key_node, value_node in items_node.value:
            if key_node.value == "scenarios":
                items_node = value_node
    if not isinstance(data, list):
        raise ImportFileError(
            f"{name}: expected a list of scenario mappings (or 'scenarios:' holding one)"
        )
    for i, item in enumerate(data):
        line: int | None = None
        try:
            line = items_node.value[i].start_mark.line + 1
        except (AttributeError, IndexError, TypeError):
            line = None
        where = f"{name}: item {i}" + (f" (line {line})" if line else "")
        if not isinstance(item, dict):
            yield _Row(where, line, None, f"{where}: expected a mapping, got {type(item).__name__}")
            continue
        yield _Row(where, line, item)


def _scenario(
    row: _Row, taxonomy: Taxonomy, default_target: str | None, origin: str
) -> Scenario | str:
    assert row.data is not None
    data = dict(row.data)
    data.pop("source", None)
    if not data.get("evaluation_target") and default_target:
        data["evaluation_target"] = default_target
    target = data.get("evaluation_target")
    if target == EXAGGERATED_SAFETY:
        # The look-alike pseudo-target: benign prompts that sound dangerous.
        data.setdefault("expected_behavior", "comply")
        if not data.get("success_criteria"):
            data["success_criteria"] = list(EXAGGERATED_SAFETY_CRITERIA)
    elif isinstance(target, str) and target:
        if target not in taxonomy:
            known = ", ".join(taxonomy.names()) or "none"
            return (
                f"{row.where}: field 'evaluation_target': unknown target {target!r} "
                f"(known: {known}; add it with --taxonomy FILE)"
            )
        spec = taxonomy.get(target)
        data.setdefault("expected_behavior", spec.expected_behavior)
        if not data.get("success_criteria"):
            data["success_criteria"] = (
                spec.benign_success_criteria
                if data["expected_behavior"] == "comply"
                else spec.success_criteria
            )
    elif "evaluation_target" not in data:
        return f"{row.where}: field 'evaluation_target': missing (add it, or pass --target)"
    data["source"] = Provenance(kind="import", origin=origin)
    try:
        scenario = Scenario.model_validate(data)
        scenario.model_dump_json()  # what the store writes: too deep metadata fails here
        return scenario
    except ValidationError as exc:
        return str(describe_validation_error(exc, row.where))
    except (ValueError, RecursionError):
        return f"{row.where}: nested too deeply to store; flatten 'metadata'"


def import_file(
    store: ScenarioStore,
    path: str | Path,
    taxonomy: Taxonomy,
    *,
    fmt: str | None = None,
    default_target: str | None = None,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    category_targets: dict[str, str] | None = None,
) -> ImportResult:
    """Validate every row of a file and store the good ones in one transaction.

    Args:
        store: The store.
        path: A JSONL, CSV or YAML file.
        taxonomy: Known targets and their default criteria.
        fmt: ``jsonl``, ``csv`` or ``yaml``; default from the extension.
        default_target: Target for rows without ``evaluation_target``.
        dry_run: Validate and count, store nothing.
        mapping: ``inspect`` / ``harmbench`` only: field mapping overrides (``--map``).
        category_targets: ``harmbench`` only: category → evaluation target.

    Raises:
        ImportFileError: the file cannot be read as a whole (nothing is imported).
    """
    p = Path(path)
    fmt = detect_format(p, fmt)
    if default_target and default_target != EXAGGERATED_SAFETY:
        taxonomy.get(default_target)
    text = read_text(p)
    if fmt in ("inspect", "harmbench"):
        from scenario_forge.formats import foreign_rows

        def reader(text: str, name: str) -> Iterator[_Row]:
            for where, line, data, problem in foreign_rows(
                fmt, text, name, mapping, category_targets
            ):
                yield _Row(where, line, data, problem)

    else:
        reader = {"jsonl": _rows_jsonl, "csv": _rows_csv, "yaml": _rows_yaml}[fmt]
    result = ImportResult(path=str(p), format=fmt, dry_run=dry_run)
    good: list[Scenario] = []
    for row in reader(text, p.name):
        result.rows += 1
        if row.problem is not None:
            result.errors.append(RowError(row.where, row.problem))
            continue
        origin = f"{p.name}:{row.line}" if row.line else p.name
        got = _scenario(row, taxonomy, default_target, origin)
        if isinstance(got, str):
            result.errors.append(RowError(row.where, got))
        else:
            good.append(got)
    result.valid = len(good)
    if dry_run:
        seen = store.existing_ids(s.id for s in good)
        new_ids = {s.id for s in good} - seen
        result.added = len(new_ids)
        result.duplicates = len(good) - len(new_ids)
    else:
        added = store.add_scenarios(good)
        result.added, result.duplicates = added.added, added.duplicates
    return result
