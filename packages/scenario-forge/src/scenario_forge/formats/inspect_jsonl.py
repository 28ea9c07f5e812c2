"""inspect_ai JSONL samples ↔ forge scenarios.

inspect_ai's ``json_dataset`` reads one sample per line: ``input`` (a string, or a list of
``{role, content}`` chat messages), ``target`` (a string or a list of strings), ``id``,
``metadata`` (a dict); ``choices``, ``files``, ``setup``, ``sandbox`` are ignored here.

Import mapping (override with ``--map FIELD=SOURCE``; SOURCE is ``target``, ``metadata.KEY`` or
empty to leave the field to the taxonomy):

============================  ===============================================================
scenario field                from
============================  ===============================================================
``prompt``                    ``input`` (a string), or the content of the LAST message of the
                              list, which must be a user message
``system``                    a leading ``system`` message of the list
``context``                   the messages between the system message and the last one
``success_criteria``          ``metadata.success_criteria`` when present, else ``target``
                              (one criterion per line, or the list); ``--map
                              success_criteria=`` when your target is a reference answer
``evaluation_target``         ``metadata.evaluation_target`` (else ``--target``)
``expected_behavior``         ``metadata.expected_behavior`` (else the target's)
``group_id``                  ``metadata.group_id``
``tags``                      ``metadata.tags``
``metadata``                  the rest of ``metadata``, plus ``inspect_id`` (the sample id)
============================  ===============================================================

Export: :func:`scenario_sample` writes exactly the ``id``/``input``/``target``/``metadata`` of
the export's ``eval`` config (:func:`forge_export.records.eval_row`), so
``scenario-forge export-inspect`` and ``forge-export to-inspect`` agree, and importing the file
back gives the same scenario ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from forge_export import Scenario
from forge_export.jsonl import parse_json_lines

from scenario_forge.formats.rows import Row

DEFAULT_MAPPING = {
    "success_criteria": "metadata.success_criteria|target",
    "evaluation_target": "metadata.evaluation_target",
    "expected_behavior": "metadata.expected_behavior",
    "group_id": "metadata.group_id",
    "tags": "metadata.tags",
}
_FORGE_KEYS = {"evaluation_target", "expected_behavior", "group_id", "success_criteria", "tags"}
_IGNORED_METADATA = {"scenario_id"}


def scenario_sample(scenario: Scenario) -> dict[str, Any]:
    """One inspect_ai sample (``id``, ``input``, ``target``, ``metadata``) of a scenario."""
    from forge_export.records import eval_row

    row = eval_row(scenario)
    metadata = dict(row["metadata"])
    if scenario.tags:
        metadata["tags"] = list(scenario.tags)
    return {"id": row["id"], "input": row["input"], "target": row["target"], "metadata": metadata}


def _criteria(value: Any) -> list[str] | str:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return [x.strip() for x in value if x.strip()]
    return "expected a string (one criterion per line) or a list of strings"


def _lookup(sample: dict[str, Any], source: str) -> tuple[bool, Any]:
    for option in source.split("|"):
        option = option.strip()
        if option == "target" and "target" in sample:
            return True, sample["target"]
        if option.startswith("metadata."):
            meta = sample.get("metadata") or {}
            key = option.removeprefix("metadata.")
            if isinstance(meta, dict) and key in meta and meta[key] not in (None, "", []):
                return True, meta[key]
    return False, None


def _sample_fields(
    sample: dict[str, Any], where: str, mapping: Mapping[str, str]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    raw = sample.get("input")
    if isinstance(raw, str):
        data["prompt"] = raw
    elif isinstance(raw, list) and raw:
        messages = []
        for i, m in enumerate(raw):
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                raise ValueError(
                    f"{where}: field 'input[{i}]': expected {{role, content}} with text content"
                )
            messages.append({"role": m.get("role"), "content": m["content"]})
        if messages[-1]["role"] != "user":
            raise ValueError(f"{where}: field 'input': the last message must be the user's")
        if messages[0]["role"] == "system" and len(messages) > 1:
            data["system"] = messages.pop(0)["content"]
        data["prompt"] = messages.pop()["content"]
        data["context"] = messages
    else:
        raise ValueError(f"{where}: field 'input': missing (a string or a list of messages)")
    for field, source in {**DEFAULT_MAPPING, **mapping}.items():
        if field not in DEFAULT_MAPPING:
            known = ", ".join(DEFAULT_MAPPING)
            raise ValueError(f"--map {field}=...: unknown field for inspect (use: {known})")
        if not source:
            continue
        found, value = _lookup(sample, source)
        if not found:
            continue
        if field in ("success_criteria", "tags"):
            value = _criteria(value)
            if isinstance(value, str):
                raise ValueError(f"{where}: field '{source.split('|')[0]}': {value}")
        data[field] = value
    meta = sample.get("metadata") or {}
    extra = (
        {k: v for k, v in meta.items() if k not in _FORGE_KEYS | _IGNORED_METADATA}
        if isinstance(meta, dict)
        else {}
    )
    if sample.get("id") is not None:
        extra["inspect_id"] = sample["id"]
    if extra:
        data["metadata"] = extra
    return data


def read_samples(text: str, name: str, mapping: Mapping[str, str]) -> Iterator[Row]:
    """Rows of scenario fields from inspect_ai JSONL samples (bad lines named by number)."""
    lines = text.split("\n")
    for line in parse_json_lines(lines, name, what="a JSON object (an inspect_ai sample)"):
        where, n = line.where, line.number
        if line.data is None:
            yield where, n, None, f"{where}: {line.error}"
            continue
        try:
            yield where, n, _sample_fields(line.data, where, mapping), None
        except ValueError as exc:
            yield where, n, None, str(exc)
