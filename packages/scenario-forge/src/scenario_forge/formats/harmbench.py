"""HarmBench / AdvBench-style CSV (one harmful behaviour per row) → forge scenarios.

HarmBench's behaviour files have the columns ``Behavior, FunctionalCategory, SemanticCategory,
Tags, ContextString, BehaviorID``; AdvBench's ``harmful_behaviors.csv`` has ``goal, target``
(where ``target`` is the affirmative answer an attack aims for, "Sure, here is ..." — NOT a
forge evaluation target). Column names match case-insensitively.

Field mapping (the first column present wins; override with ``--map FIELD=COLUMN``, switch a
field off with ``--map FIELD=``):

=====================  ==========================================  ==========================
scenario field         default columns                             how
=====================  ==========================================  ==========================
``prompt``             ``Behavior``, ``goal``, ``prompt``          the text; with a context:
                                                                   ``CONTEXT\\n\\n---\\n\\nBEHAVIOR``
                                                                   (HarmBench's own layout)
(context)              ``ContextString``, ``context``              prepended as above
``evaluation_target``  ``--category-target CATEGORY=TARGET`` for   else ``--target``; a row
                       the ``category`` column                     with neither is rejected
(category)             ``SemanticCategory``, ``category``          also a tag
``tags``               ``FunctionalCategory``, ``Tags``            split on ``,`` and ``|``
``metadata``           ``BehaviorID``/``id`` → ``source_id``;      plus ``source_format``
                       AdvBench ``target`` →
                       ``affirmative_target``
=====================  ==========================================  ==========================

``expected_behavior`` and ``success_criteria`` come from the evaluation target in the taxonomy
(``refuse`` for harmful_code, ``safe_complete`` for self_harm, ...): every HarmBench behaviour
is a harmful request.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

from forge_export import ForgeError

from scenario_forge.formats.rows import Row

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "prompt": ("behavior", "goal", "prompt"),
    "context": ("contextstring", "context"),
    "category": ("semanticcategory", "category"),
    "tags": ("functionalcategory", "tags"),
    "source_id": ("behaviorid", "id"),
    "affirmative_target": ("target",),
}


def resolve_columns(
    header: list[str], mapping: Mapping[str, str], name: str
) -> dict[str, list[int]]:
    """Which column indexes feed each field (``tags`` takes every default column present).

    Raises:
        ForgeError: an unknown field or column in ``mapping``, or no prompt column.
    """
    lower = [h.strip().lower() for h in header]
    out: dict[str, list[int]] = {}
    for field, candidates in DEFAULT_COLUMNS.items():
        if field in mapping:
            column = mapping[field].strip().lower()
            if not column:
                continue
            if column not in lower:
                raise ForgeError(
                    f"{name}:1: --map {field}={mapping[field]}: no such column "
                    f"(columns: {', '.join(h.strip() for h in header)})"
                )
            out[field] = [lower.index(column)]
            continue
        found = [lower.index(c) for c in candidates if c in lower]
        if found:
            out[field] = found if field == "tags" else found[:1]
    unknown = set(mapping) - set(DEFAULT_COLUMNS)
    if unknown:
        raise ForgeError(
            f"--map {sorted(unknown)[0]}=...: unknown field for harmbench "
            f"(use: {', '.join(DEFAULT_COLUMNS)})"
        )
    if "prompt" not in out:
        raise ForgeError(
            f"{name}:1: no behaviour column (looked for Behavior, goal, prompt); "
            "name it with --map prompt=COLUMN"
        )
    return out


def read_behaviors(
    text: str, name: str, mapping: Mapping[str, str], category_targets: Mapping[str, str]
) -> Iterator[Row]:
    """Rows of scenario fields from a behaviour CSV (bad rows named by their first line)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ForgeError(f"{name}:1: cannot read the CSV header ({exc})") from None
    names = [h.strip().lower() for h in header]
    twice = [c for i, c in enumerate(names) if c and c in names[:i]]
    if twice:
        raise ForgeError(f"{name}:1: the column {twice[0]!r} appears twice in the header; keep one")
    cols = resolve_columns(header, mapping, name)
    line_end = reader.line_num
    while True:
        start = line_end + 1
        where = f"{name}:{start}"
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ForgeError(f"{where}: cannot parse CSV ({exc})") from None
        line_end = reader.line_num
        if not any(c.strip() for c in cells):
            continue

        def cell(field: str, cells: list[str] = cells) -> str:
            got = [cells[i].strip() for i in cols.get(field, []) if i < len(cells)]
            return ",".join(x for x in got if x)

        behavior = cell("prompt")
        if not behavior:
            column = header[cols["prompt"][0]].strip()
            yield where, start, None, f"{where}: column '{column}': empty behaviour"
            continue
        context = cell("context")
        data: dict[str, Any] = {
            "prompt": f"{context}\n\n---\n\n{behavior}" if context else behavior
        }
        category = cell("category")
        tags = [t.strip() for t in re.split(r"[,|]", cell("tags")) if t.strip()]
        if category:
            tags.insert(0, category)
            if category in category_targets:
                data["evaluation_target"] = category_targets[category]
        if tags:
            data["tags"] = list(dict.fromkeys(tags))
        metadata = {"source_format": "harmbench"}
        if cell("source_id"):
            metadata["source_id"] = cell("source_id")
        if cell("affirmative_target"):
            metadata["affirmative_target"] = cell("affirmative_target")
        if category:
            metadata["category"] = category
        data["metadata"] = metadata
        yield where, start, data, None
