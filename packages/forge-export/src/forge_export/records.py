"""Rows of the export configs: one builder per config and the fixed pyarrow schema of each.

Every config's rows share the common columns ``scenario_id``, ``group_id``,
``evaluation_target``, ``expected_behavior`` and ``tags``. Messages are
``list<struct<role: string, content: string>>`` everywhere, which is the conversational format
TRL's trainers read as is. The schemas are fixed (not inferred), so an empty split still has
every column and two exports of the same data are byte-identical.

Example:
    >>> from forge_export import Completion, Scenario
    >>> s = Scenario(prompt="Hi", evaluation_target="x", success_criteria=["Greets back"])
    >>> c = Completion(scenario_id=s.id, text="Hello!", source="human")
    >>> row = sft_row(s, c, rating=None, reviewers=0)
    >>> [m["role"] for m in row["messages"]]
    ['user', 'assistant']
    >>> rows_to_table("sft", [row]).num_rows
    1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from forge_export.models import Completion, Scenario

CONFIGS: tuple[str, ...] = ("sft", "prompt_completion", "preference", "kto", "eval")
"""Every export config, in the order they are written and listed in the dataset card."""

SPLITS: tuple[str, ...] = ("train", "test")
"""Every split of every config."""

MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])
"""One chat message."""

MESSAGES = pa.list_(MESSAGE)
"""A conversation: the type of every messages column."""

STRINGS = pa.list_(pa.string())

COMMON_FIELDS: tuple[pa.Field, ...] = (
    pa.field("scenario_id", pa.string(), nullable=False),
    pa.field("group_id", pa.string(), nullable=False),
    pa.field("evaluation_target", pa.string(), nullable=False),
    pa.field("expected_behavior", pa.string(), nullable=False),
    pa.field("tags", STRINGS),
)
"""Columns of every row of every config."""

PROVENANCE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("completion_id", pa.string(), nullable=False),
    pa.field("completion_source", pa.string(), nullable=False),
    pa.field("completion_origin", pa.string(), nullable=False),
    pa.field("completion_status", pa.string(), nullable=False),
    pa.field("validated_by", STRINGS),
    pa.field("rating", pa.float64()),
    pa.field("reviewers", pa.int64(), nullable=False),
    pa.field("settled_by", pa.string()),
)
"""Completion provenance columns (``sft``, ``prompt_completion``, ``kto``). ``settled_by`` is
the lead who settled the scenario's rating when its reviewers disagreed (``rating`` is then
the settled one), ``None`` otherwise."""

COLUMNS_SINCE: dict[str, tuple[int, int]] = {"settled_by": (1, 3)}
"""Columns added after 1.0, with the contract version (major, minor) that added them. An
export of an older minor version lacks them: :func:`forge_export.reader.load` reads it with
the column as nulls, and the checks do not count it as missing."""

EVAL_METADATA = pa.struct(
    [
        pa.field("evaluation_target", pa.string()),
        pa.field("expected_behavior", pa.string()),
        pa.field("group_id", pa.string()),
        pa.field("success_criteria", STRINGS),
        pa.field("scenario_id", pa.string()),
    ]
)
"""The ``metadata`` struct of ``eval`` rows (inspect_ai puts it in ``Sample.metadata``)."""


def _schema(*groups: Iterable[pa.Field]) -> pa.Schema:
    return pa.schema([f for group in groups for f in group])


SCHEMAS: dict[str, pa.Schema] = {
    "sft": _schema(
        [pa.field("messages", MESSAGES, nullable=False)], COMMON_FIELDS, PROVENANCE_FIELDS
    ),
    "prompt_completion": _schema(
        [
            pa.field("prompt", MESSAGES, nullable=False),
            pa.field("completion", MESSAGES, nullable=False),
        ],
        COMMON_FIELDS,
        PROVENANCE_FIELDS,
    ),
    "preference": _schema(
        [
            pa.field("prompt", MESSAGES, nullable=False),
            pa.field("chosen", MESSAGES, nullable=False),
            pa.field("rejected", MESSAGES, nullable=False),
        ],
        COMMON_FIELDS,
        [
            pa.field("chosen_completion_id", pa.string(), nullable=False),
            pa.field("rejected_completion_id", pa.string(), nullable=False),
            pa.field("chosen_source", pa.string(), nullable=False),
            pa.field("rejected_source", pa.string(), nullable=False),
            pa.field("chosen_origin", pa.string(), nullable=False),
            pa.field("rejected_origin", pa.string(), nullable=False),
            pa.field("rating", pa.float64()),
            pa.field("reviewers", pa.int64(), nullable=False),
            pa.field("settled_by", pa.string()),
        ],
    ),
    "kto": _schema(
        [
            pa.field("prompt", MESSAGES, nullable=False),
            pa.field("completion", MESSAGES, nullable=False),
            pa.field("label", pa.bool_(), nullable=False),
        ],
        COMMON_FIELDS,
        PROVENANCE_FIELDS,
    ),
    "eval": _schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("input", MESSAGES, nullable=False),
            pa.field("target", pa.string(), nullable=False),
            pa.field("metadata", EVAL_METADATA, nullable=False),
        ],
        COMMON_FIELDS,
        [
            pa.field("prompt", pa.string(), nullable=False),
            pa.field("system", pa.string()),
            pa.field("context", MESSAGES),
            pa.field("success_criteria", STRINGS, nullable=False),
            pa.field("scenario", pa.string(), nullable=False),
        ],
    ),
}
"""The fixed pyarrow schema of each config."""


def _common(scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario_id": scenario.id,
        "group_id": scenario.group_id,
        "evaluation_target": scenario.evaluation_target,
        "expected_behavior": scenario.expected_behavior,
        "tags": list(scenario.tags),
    }


def _provenance(
    completion: Completion, rating: float | None, reviewers: int, settled_by: str | None
) -> dict[str, Any]:
    return {
        "completion_id": completion.id,
        "completion_source": completion.source,
        "completion_origin": completion.origin,
        "completion_status": completion.status,
        "validated_by": list(completion.validated_by),
        "rating": None if rating is None else float(rating),
        "reviewers": int(reviewers),
        "settled_by": settled_by or None,
    }


def _answer(completion: Completion) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": completion.text}]


def sft_row(
    scenario: Scenario,
    completion: Completion,
    rating: float | None,
    reviewers: int,
    *,
    prompt: list[dict[str, str]] | None = None,
    settled_by: str | None = None,
) -> dict[str, Any]:
    """A row of ``sft``: the whole conversation (system, context, user, assistant).

    Args:
        scenario: The scenario answered.
        completion: The (kept) answer.
        rating: The scenario's rating: a lead's settled rating, else the aggregate of the
            reviews (``None`` when unreviewed).
        reviewers: How many reviewers rated the scenario.
        prompt: ``scenario.messages()`` if the caller already has it (every builder takes
            it, so an exporter computes it once per scenario).
        settled_by: The lead who settled ``rating`` (``None`` when nobody did; every
            builder but ``eval_row`` takes it).
    """
    return {
        "messages": (scenario.messages() if prompt is None else prompt) + _answer(completion),
        **_common(scenario),
        **_provenance(completion, rating, reviewers, settled_by),
    }


def prompt_completion_row(
    scenario: Scenario,
    completion: Completion,
    rating: float | None,
    reviewers: int,
    *,
    prompt: list[dict[str, str]] | None = None,
    settled_by: str | None = None,
) -> dict[str, Any]:
    """A row of ``prompt_completion``: the conversation without the answer, and the answer.

    TRL's ``SFTTrainer`` computes the loss on the completion only for this format.
    """
    return {
        "prompt": scenario.messages() if prompt is None else prompt,
        "completion": _answer(completion),
        **_common(scenario),
        **_provenance(completion, rating, reviewers, settled_by),
    }


def preference_row(
    scenario: Scenario,
    chosen: Completion,
    rejected: Completion,
    rating: float | None,
    reviewers: int,
    *,
    prompt: list[dict[str, str]] | None = None,
    settled_by: str | None = None,
) -> dict[str, Any]:
    """A row of ``preference``: a kept answer (``chosen``) against a rejected one."""
    return {
        "prompt": scenario.messages() if prompt is None else prompt,
        "chosen": _answer(chosen),
        "rejected": _answer(rejected),
        **_common(scenario),
        "chosen_completion_id": chosen.id,
        "rejected_completion_id": rejected.id,
        "chosen_source": chosen.source,
        "rejected_source": rejected.source,
        "chosen_origin": chosen.origin,
        "rejected_origin": rejected.origin,
        "rating": None if rating is None else float(rating),
        "reviewers": int(reviewers),
        "settled_by": settled_by or None,
    }


def kto_row(
    scenario: Scenario,
    completion: Completion,
    label: bool,
    rating: float | None,
    reviewers: int,
    *,
    prompt: list[dict[str, str]] | None = None,
    settled_by: str | None = None,
) -> dict[str, Any]:
    """A row of ``kto``: an answer and whether it is desirable (``label``)."""
    return {
        "prompt": scenario.messages() if prompt is None else prompt,
        "completion": _answer(completion),
        "label": bool(label),
        **_common(scenario),
        **_provenance(completion, rating, reviewers, settled_by),
    }


def eval_row(scenario: Scenario) -> dict[str, Any]:
    """A row of ``eval``: the scenario without any answer, with its criteria.

    The ``id``/``input``/``target``/``metadata`` columns follow inspect_ai's sample fields:
    ``input`` is the chat messages, ``target`` the success criteria one per line. ``scenario``
    holds the full :class:`~forge_export.models.Scenario` as JSON, so evaluation reports can
    embed it unchanged.
    """
    criteria = list(scenario.success_criteria)
    return {
        "id": scenario.id,
        "input": scenario.messages(),
        "target": "\n".join(criteria),
        "metadata": {
            "evaluation_target": scenario.evaluation_target,
            "expected_behavior": scenario.expected_behavior,
            "group_id": scenario.group_id,
            "success_criteria": criteria,
            "scenario_id": scenario.id,
        },
        **_common(scenario),
        "prompt": scenario.prompt,
        "system": scenario.system,
        "context": [{"role": t.role, "content": t.content} for t in scenario.context],
        "success_criteria": criteria,
        "scenario": scenario.model_dump_json(),
    }


def rows_to_table(config: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Build a table of ``config`` from rows made by the builders, with the fixed schema.

    Raises:
        KeyError: if ``config`` is unknown.
        pyarrow.ArrowInvalid / pyarrow.ArrowTypeError: if a row does not fit the schema.
    """
    schema = SCHEMAS[config]
    rows = list(rows)
    return pa.Table.from_pylist(rows, schema=schema)


def empty_table(config: str) -> pa.Table:
    """A table of ``config`` with no rows and the full schema."""
    return SCHEMAS[config].empty_table()
