"""JSON Schemas of the contract models and the export columns, for ``forge-export schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from forge_export.manifest import Manifest
from forge_export.models import (
    Completion,
    EvalReport,
    EvalResult,
    Provenance,
    Review,
    Scenario,
    TargetSummary,
    Turn,
)
from forge_export.records import CONFIGS, SCHEMAS

MODELS: tuple[type[BaseModel], ...] = (
    Scenario,
    Turn,
    Provenance,
    Review,
    Completion,
    EvalResult,
    EvalReport,
    TargetSummary,
    Manifest,
)
"""Every model of the contract, in the order they are documented."""


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name -> content of every schema file (deterministic)."""
    files = {f"{m.__name__}.schema.json": _dump(m.model_json_schema()) for m in MODELS}
    columns = {
        config: [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in SCHEMAS[config]
        ]
        for config in CONFIGS
    }
    files["export-columns.json"] = _dump(columns)
    return files


def write_schemas(outdir: str | Path) -> list[Path]:
    """Write :func:`schema_files` into ``outdir`` (created if needed); return the paths."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_files().items():
        p = out / name
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written
