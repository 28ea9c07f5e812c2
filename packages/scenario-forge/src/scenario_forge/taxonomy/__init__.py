"""The taxonomy: evaluation targets with seeds, benign contrasts and response templates.

Built-in targets ship as YAML files in this package (``builtin/<target>.yaml``, read with
:mod:`importlib.resources`). A team adds or changes targets with one YAML file of the same
keys under a top-level ``targets:`` list; a target with a built-in name overrides the built-in
one key by key at the top level (give ``seeds:`` and you replace all seeds).

Example:
    >>> from scenario_forge.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()                        # built-ins only
    >>> tax = load_taxonomy("team-taxonomy.yaml")    # doctest: +SKIP
    >>> tax.get("harmful_code").expected_behavior    # doctest: +SKIP
    'refuse'

Benign look-alike kinds (``builtin/lookalikes/<kind>.yaml``, prompts that sound dangerous but
should be answered) load with the targets as :attr:`Taxonomy.lookalikes`; a team file adds or
replaces kinds under a top-level ``lookalikes:`` list (see :mod:`.lookalikes`).

Errors name the file and the key: ``team.yaml: targets[2].seeds[5]: 'prompt' is required``.
YAML is read with ``forge_export.bounded.yaml_load`` (``yaml.safe_load`` with size limits).
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenario_forge.taxonomy.lookalikes import (
    EXAGGERATED_SAFETY,
    LookalikeKind,
    LookalikeSpec,
    build_lookalikes,
    builtin_lookalike_raw,
    override_lookalike_raw,
)
from scenario_forge.taxonomy.models import BenignSpec, JudgeSpec, PatternGroup, SeedSpec, TargetSpec
from scenario_forge.taxonomy.yaml_io import Located, TaxonomyError, read_yaml

__all__ = [
    "EXAGGERATED_SAFETY",
    "TAXONOMY_ENV",
    "BenignSpec",
    "LookalikeKind",
    "LookalikeSpec",
    "JudgeSpec",
    "PatternGroup",
    "SeedSpec",
    "TargetSpec",
    "Taxonomy",
    "TaxonomyError",
    "load_taxonomy",
]

TAXONOMY_ENV = "SCENARIO_FORGE_TAXONOMY"
"""Environment variable naming a team taxonomy file (same as ``--taxonomy``)."""


@dataclass
class Taxonomy:
    """The evaluation targets known to scenario-forge, by name, in a stable order.

    Attributes:
        targets: Target name → :class:`TargetSpec`.
        files: Target name → the file(s) it was read from.
        lookalikes: Look-alike kind → :class:`LookalikeKind` (benign prompts that sound
            dangerous, with answers; see :mod:`scenario_forge.taxonomy.lookalikes`).
        lookalike_files: Look-alike kind → the file(s) it was read from.
    """

    targets: dict[str, TargetSpec] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    lookalikes: dict[str, LookalikeKind] = field(default_factory=dict)
    lookalike_files: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        """All target names."""
        return list(self.targets)

    def judge_specs(self) -> dict[str, JudgeSpec]:
        """Target name → its ``judge:`` block, what a judge is handed with each item."""
        return {t.name: t.judge for t in self}

    def __contains__(self, name: object) -> bool:
        return name in self.targets

    def __iter__(self) -> Iterator[TargetSpec]:
        return iter(self.targets.values())

    def __len__(self) -> int:
        return len(self.targets)

    def get(self, name: str) -> TargetSpec:
        """The target called ``name``.

        Raises:
            TaxonomyError: unknown name, listing the known ones.
        """
        try:
            return self.targets[name]
        except KeyError:
            known = ", ".join(self.targets) or "none"
            raise TaxonomyError(
                f"unknown evaluation target {name!r} (known: {known}); "
                "add it in a YAML file and pass --taxonomy FILE"
            ) from None

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[TargetSpec]:
        """The named targets (checked), or all of them when ``names`` is empty."""
        if not names:
            return list(self.targets.values())
        return [self.get(n) for n in names]

    def select_lookalikes(
        self, kinds: list[str] | tuple[str, ...] | None = None
    ) -> list[LookalikeKind]:
        """The named look-alike kinds (checked), or all of them when ``kinds`` is empty.

        Raises:
            TaxonomyError: unknown kind, listing the known ones.
        """
        if not kinds:
            return list(self.lookalikes.values())
        unknown = [k for k in kinds if k not in self.lookalikes]
        if unknown:
            known = ", ".join(self.lookalikes) or "none"
            raise TaxonomyError(
                f"unknown look-alike kind {unknown[0]!r} (known: {known}); "
                "add it under 'lookalikes:' in a YAML file and pass --taxonomy FILE"
            )
        return [self.lookalikes[k] for k in kinds]


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(exc: ValidationError, file_for: Any, prefix_for: Any) -> TaxonomyError:
    """One line per problem: ``file: targets[2].seeds[5]: 'prompt' is required``."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = file_for(loc[0] if loc else None)
        prefix = prefix_for(loc[0] if loc else None)
        if err["type"] == "missing" and loc:
            path = _loc(loc[:-1])
            msg = f"{loc[-1]!r} is required"
        else:
            path = _loc(loc)
            msg = err["msg"].removeprefix("Value error, ")
        full = ".".join(p for p in (prefix, path) if p).replace(".[", "[")
        lines.append(f"{where}: {full}: {msg}" if full else f"{where}: {msg}")
    shown = lines[:5]
    if len(lines) > 5:
        shown.append(f"... and {len(lines) - 5} more")
    return TaxonomyError("; ".join(shown))


def _builtin_raw() -> list[tuple[str, dict[str, Any]]]:
    # Parsed once per process (the files are package data); callers get fresh copies.
    return [(name, copy.deepcopy(data)) for name, data in _builtin_parsed()]


@functools.cache
def _builtin_parsed() -> tuple[tuple[str, dict[str, Any]], ...]:
    root = resources.files("scenario_forge.taxonomy") / "builtin"
    if not root.is_dir():
        return ()
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        data = read_yaml(entry.read_text(encoding="utf-8"), entry.name)
        if not isinstance(data, dict):
            raise TaxonomyError(f"{entry.name}: expected a mapping of target keys at the top")
        out.append((entry.name, data))
    return tuple(out)


def _override_data(path: Path) -> dict[str, Any]:
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: taxonomy file not found") from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    data = read_yaml(text, where)
    if not isinstance(data, dict) or not {"targets", "lookalikes"} & set(data):
        raise TaxonomyError(
            f"{where}: expected a top-level 'targets:' list of target mappings "
            "(each with name, description, success_criteria, response_templates, seeds) "
            "and/or a 'lookalikes:' list of look-alike kinds"
        )
    extra = sorted(set(data) - {"targets", "lookalikes"})
    if extra:
        raise TaxonomyError(
            f"{where}: unknown top-level key {extra[0]!r} (only 'targets:' and 'lookalikes:')"
        )
    return data


def _override_raw(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    items = data.get("targets", [])
    if not isinstance(items, list):
        raise TaxonomyError(f"{where}: targets: expected a list of target mappings")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TaxonomyError(f"{where}: targets[{i}]: expected a mapping with 'name:'")
        if not isinstance(item.get("name"), str):
            raise TaxonomyError(f"{where}: targets[{i}]: 'name' is required")
    return items


def load_taxonomy(path: str | Path | None = None, *, builtin: bool = True) -> Taxonomy:
    """Load the built-in targets and merge a team's override file.

    Args:
        path: A YAML file with a top-level ``targets:`` list (and/or a ``lookalikes:`` list
            of look-alike kinds); ``None`` means
            ``$SCENARIO_FORGE_TAXONOMY`` if set, else no override.
        builtin: Include the built-in targets and look-alike kinds (tests and teams may leave
            them out).

    Raises:
        TaxonomyError: a file is unreadable or invalid; the message names the file and key.
    """
    if path is None and os.environ.get(TAXONOMY_ENV):
        path = os.environ[TAXONOMY_ENV]
    raws: dict[str, dict[str, Any]] = {}
    origin: dict[str, dict[str, str]] = {}  # target -> top-level key -> file
    prefixes: dict[str, dict[str, str]] = {}
    files: dict[str, list[str]] = {}
    if builtin:
        for fname, data in _builtin_raw():
            name = str(data.get("name") or fname.rsplit(".", 1)[0])
            raws[name] = dict(data)
            origin[name] = {k: fname for k in data}
            prefixes[name] = {k: "" for k in data}
            files[name] = [fname]
    override: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        override = _override_data(p)
        for i, item in enumerate(_override_raw(override, p.name)):
            name = item["name"]
            base = raws.get(name, {})
            raws[name] = {**base, **item}
            origin.setdefault(name, {}).update({k: p.name for k in item})
            prefixes.setdefault(name, {}).update({k: f"targets[{i}]" for k in item})
            files.setdefault(name, []).append(str(p))
    targets: dict[str, TargetSpec] = {}
    for name, raw in raws.items():
        located = Located(origin[name], prefixes[name], files[name][-1].rsplit("/", 1)[-1])
        targets[name] = located.validate(TargetSpec, raw, _describe)
    lookalikes, lookalike_files = build_lookalikes(
        builtin_lookalike_raw() if builtin else [],
        override_lookalike_raw(override, Path(path).name) if path is not None else [],
        str(path) if path is not None else None,
        list(targets),
        _describe,
    )
    return Taxonomy(
        targets=targets, files=files, lookalikes=lookalikes, lookalike_files=lookalike_files
    )
