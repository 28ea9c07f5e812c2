"""Parsing people's files with limits: no alias bomb, no giant number, no NaN, checked early.

A 400-byte YAML file with nested aliases (``&a [*a, *a, ...]``) expands to hundreds of MB
once it is stored or printed; an integer of 5,000 digits makes Python raise ``ValueError``
(its 4,300-digit conversion limit) deep inside a reader; ``NaN`` and ``Infinity`` (which
Python's ``json`` accepts though JSON has neither) become ``null`` once stored. These helpers
check the parsed *graph* before anything is expanded and turn every such input into one clear
message.

Example:
    >>> yaml_load("a: 1\\nb: [x, y]\\n", "in.yaml")
    {'a': 1, 'b': ['x', 'y']}
    >>> try:
    ...     json_loads('{"n": ' + "9" * 2000 + "}")
    ... except ValueError as exc:
    ...     print(exc)
    a number of 2000 digits (the limit is 1000); write it as text
"""

from __future__ import annotations

import json
from typing import Any

from forge_export.errors import ContractError

__all__ = [
    "MAX_ALIAS_GROWTH",
    "MAX_DECODED_CHARS",
    "MAX_NUMBER_DIGITS",
    "DuplicateKey",
    "NotFinite",
    "NumberTooLong",
    "json_loads",
    "yaml_load",
]

MAX_NUMBER_DIGITS = 1000
"""Longest number (in characters) a reader accepts; Python itself stops at 4,300 digits."""

MAX_DECODED_CHARS = 64 * 1024 * 1024
"""Largest size (characters) a YAML document may have once its aliases are expanded."""

MAX_ALIAS_GROWTH = 10
"""A YAML document may grow at most this many times its own size (plus 1 MB) by aliases."""

_YAML_INT = "tag:yaml.org,2002:int"
_YAML_FLOAT = "tag:yaml.org,2002:float"


class NumberTooLong(ValueError):  # noqa: N818 - reads as the problem it names
    """A JSON or YAML number longer than :data:`MAX_NUMBER_DIGITS`."""

    def __init__(self, digits: int) -> None:
        super().__init__(
            f"a number of {digits} digits (the limit is {MAX_NUMBER_DIGITS}); write it as text"
        )


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise NumberTooLong(len(text))
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise NumberTooLong(len(text))
    return float(text)


class NotFinite(ValueError):  # noqa: N818 - reads as the problem it names
    """``NaN``, ``Infinity`` or ``-Infinity`` in JSON (or ``.nan`` / ``.inf`` in YAML)."""

    def __init__(self, token: str) -> None:
        super().__init__(
            f"{token} is not a number JSON has (it would be stored as null); write a number, or "
            "null for none"
        )


def _refuse_constant(token: str) -> Any:
    raise NotFinite(token)


class DuplicateKey(ValueError):  # noqa: N818 - reads as the problem it names
    """A JSON object or YAML mapping names one key twice (the last would silently win)."""

    def __init__(self, key: object) -> None:
        super().__init__(f"the key {key!r} appears twice in one object; keep one")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def json_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses numbers longer than :data:`MAX_NUMBER_DIGITS`, ``NaN`` and
    ``±Infinity``, and objects that name a key twice.

    Raises:
        json.JSONDecodeError: not JSON.
        NumberTooLong: a number is too long (a ``ValueError``, before it is converted).
        NotFinite: ``NaN``, ``Infinity`` or ``-Infinity`` (a ``ValueError``).
        DuplicateKey: a key appears twice in one object (a ``ValueError``).
        RecursionError: nested too deeply.
    """
    return json.loads(
        text,
        parse_int=_bounded_int,
        parse_float=_bounded_float,
        parse_constant=_refuse_constant,
        object_pairs_hook=_no_duplicates,
    )


def _expanded_size(root: Any, where: str) -> int:
    """Characters of the document with every alias expanded, computed on the shared graph."""
    import yaml

    sizes: dict[int, int] = {}
    state: dict[int, int] = {}  # 1: being visited, 2: done
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            if isinstance(node, yaml.SequenceNode):
                total = 1 + sum(sizes[id(child)] for child in node.value)
            else:  # MappingNode
                total = 1 + sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)
            sizes[key] = min(total, MAX_DECODED_CHARS + 1)
            state[key] = 2
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            line = node.start_mark.line + 1 if node.start_mark else "?"
            raise ContractError(
                "a YAML alias refers to its own anchor (a recursive document); remove it",
                where=f"{where}:{line}",
            )
        if isinstance(node, yaml.ScalarNode):
            value = node.value
            if node.tag in (_YAML_INT, _YAML_FLOAT) and len(value) > MAX_NUMBER_DIGITS:
                raise ContractError(
                    str(NumberTooLong(len(value))), where=f"{where}:{node.start_mark.line + 1}"
                )
            if node.tag == _YAML_FLOAT and value.lstrip("+-").lower() in (".nan", ".inf"):
                raise ContractError(
                    str(NotFinite(value)), where=f"{where}:{node.start_mark.line + 1}"
                )
            sizes[key] = len(value) + 1
            state[key] = 2
            continue
        state[key] = 1
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, False) for child in node.value)
        else:
            keys: set[tuple[str, str]] = set()
            for k, _v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if (k.tag, k.value) in keys:
                        raise ContractError(
                            str(DuplicateKey(k.value)), where=f"{where}:{k.start_mark.line + 1}"
                        )
                    keys.add((k.tag, k.value))
            for k, v in node.value:
                stack.append((k, False))
                stack.append((v, False))
    return sizes[id(root)]


def yaml_load(text: str, where: str) -> Any:
    """``yaml.safe_load`` with limits checked on the node graph, before anything is built.

    Refused: a document that aliases would expand beyond :data:`MAX_DECODED_CHARS` or more
    than :data:`MAX_ALIAS_GROWTH` times its size, an alias to its own anchor, a number longer
    than :data:`MAX_NUMBER_DIGITS`, ``.nan`` / ``.inf``, a mapping that names a key twice. Only
    plain YAML types are built (``SafeLoader``).

    Raises:
        yaml.YAMLError: not YAML.
        ContractError: a limit is exceeded (naming ``where`` and the line).
        RecursionError: nested too deeply.
    """
    node, loader = yaml_compose(text, where)
    if node is None:
        return None
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_compose(text: str, where: str) -> tuple[Any, Any]:
    """The checked node graph of ``text`` and the loader that can construct it.

    Use ``loader.construct_document(node)`` for the data (the node keeps line numbers).
    Raises as :func:`yaml_load`.
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise
    if node is None:
        loader.dispose()
        return None, loader
    size = _expanded_size(node, where)
    limit = min(MAX_DECODED_CHARS, MAX_ALIAS_GROWTH * len(text) + 1024 * 1024)
    if size > limit:
        loader.dispose()
        shown = f"over {MAX_DECODED_CHARS:,}" if size > MAX_DECODED_CHARS else f"{size:,}"
        raise ContractError(
            f"YAML aliases would expand this {len(text):,}-character file to {shown} "
            f"characters (the limit is {limit:,}); write the data out without aliases",
            where=where,
        )
    return node, loader
