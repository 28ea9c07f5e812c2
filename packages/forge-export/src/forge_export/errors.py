"""Errors raised at the edges of the contract, with messages a person can act on.

Every message names *where* (file, line or record), *what* (the field) and, where we can tell,
*the fix*. CLIs print ``str(error)`` as one line and exit non-zero; nobody sees a traceback
for a mistake in their own data.
"""

from __future__ import annotations

from pydantic import ValidationError


class ForgeError(Exception):
    """Base class of every error forge reports to a user as one line."""


class ContractError(ForgeError):
    """Data does not match the contract (a record, a manifest, a report).

    Args:
        message: What is wrong and how to fix it.
        where: The file (and line, or record id) the problem is in, if known.
        field: The offending field, if known.
    """

    def __init__(self, message: str, *, where: str | None = None, field: str | None = None):
        self.where = where
        self.field = field
        self.message = message
        parts = []
        if where:
            parts.append(where)
        if field:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SchemaVersionError(ContractError):
    """Data was written by a schema major version this code cannot read."""


_FIX_HINTS = {
    "missing": "add it",
    "too_short": "give at least one value",
    "string_too_short": "give a non-empty text",
    "literal_error": "use one of the allowed values",
    "extra_forbidden": "remove it (or check its spelling)",
    "string_pattern_mismatch": "use lowercase letters, digits and underscores",
}


def describe_validation_error(exc: ValidationError, where: str | None = None) -> ContractError:
    """Turn a pydantic ``ValidationError`` into one :class:`ContractError` line.

    All problems of the record are listed, separated by ``; ``, each with its field path,
    pydantic's explanation and a fix where one is obvious.

    Example:
        >>> from forge_export import Scenario
        >>> try:
        ...     Scenario.model_validate({"prompt": "hi", "evaluation_target": "x"})
        ... except ValidationError as exc:
        ...     print(describe_validation_error(exc, "data.jsonl:3"))
        data.jsonl:3: field 'success_criteria': Field required (add it)
    """
    problems = []
    first_field: str | None = None
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        first_field = first_field or field
        hint = _FIX_HINTS.get(err["type"])
        msg = err["msg"] + (f" ({hint})" if hint else "")
        problems.append((field, msg))
    if len(problems) == 1:
        field, msg = problems[0]
        return ContractError(msg, where=where, field=field)
    joined = "; ".join(f"field '{f}': {m}" for f, m in problems)
    return ContractError(joined, where=where)
