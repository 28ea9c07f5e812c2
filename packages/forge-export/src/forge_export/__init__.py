"""forge-export: the typed dataset contract of forge, and its HuggingFace exporter.

Import the models from here; heavy libraries (``datasets``) load only when :func:`load` or
the exporter is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forge_export.errors import ContractError, ForgeError, SchemaVersionError
from forge_export.models import (
    EXPECTED_BEHAVIORS,
    HARMFUL_BEHAVIORS,
    SCHEMA_VERSION,
    Completion,
    EvalReport,
    EvalResult,
    Provenance,
    ResponseLabel,
    Review,
    Scenario,
    TargetSummary,
    Turn,
    aggregate_rating,
    check_schema_version,
    summarize,
)

if TYPE_CHECKING:
    from datasets import Dataset

__version__ = "0.1.0"

__all__ = [
    "EXPECTED_BEHAVIORS",
    "HARMFUL_BEHAVIORS",
    "SCHEMA_VERSION",
    "Completion",
    "ContractError",
    "EvalReport",
    "EvalResult",
    "ForgeError",
    "Provenance",
    "ResponseLabel",
    "Review",
    "Scenario",
    "SchemaVersionError",
    "TargetSummary",
    "Turn",
    "aggregate_rating",
    "check_schema_version",
    "load",
    "summarize",
]


def load(path: Any, config: str, split: str = "train") -> Dataset:
    """Load one config and split of an export as a ``datasets.Dataset``, after checking it.

    The manifest's schema major version and the sha256 of the files read are verified first.

    Raises:
        ContractError: naming the file and what is wrong.
    """
    from forge_export.reader import load as _load

    return _load(path, config, split)
