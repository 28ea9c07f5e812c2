"""Formats people already have: inspect_ai JSONL samples and HarmBench/AdvBench-style CSV.

Each reader turns a file's text into rows of :class:`forge_export.Scenario` fields, with the
mapping from the foreign fields written down explicitly (module docstrings, ``--map``); the
importer (:func:`scenario_forge.importer.import_file`) then fills defaults from the taxonomy,
validates every row, reports bad rows by line and stores the good ones in one transaction.

* ``inspect``: :mod:`scenario_forge.formats.inspect_jsonl` (also the writer behind
  ``scenario-forge export-inspect``).
* ``harmbench``: :mod:`scenario_forge.formats.harmbench` (HarmBench ``Behavior`` and AdvBench
  ``goal`` CSVs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from forge_export import ForgeError

from scenario_forge.formats.rows import Row

__all__ = ["FOREIGN_FORMATS", "Row", "foreign_rows", "parse_mapping"]

FOREIGN_FORMATS = ("inspect", "harmbench")


def parse_mapping(
    pairs: tuple[str, ...] | list[str], option: str = "--map", example: str = "prompt=goal"
) -> dict[str, str]:
    """``FIELD=SOURCE`` pairs (``--map``) as a dict; an empty SOURCE switches a field off.

    The values are field and column names, so they stay text (split by
    :func:`forge_export.cli_support.split_key_value`, as every ``KEY=VALUE`` option is).

    Raises:
        click.BadParameter: a pair without ``=`` (naming the option and the pair).
    """
    from forge_export.cli_support import split_key_value

    return dict(split_key_value(p, option=option, example=example) for p in pairs)


def foreign_rows(
    fmt: str,
    text: str,
    name: str,
    mapping: Mapping[str, str] | None = None,
    category_targets: Mapping[str, str] | None = None,
) -> Iterator[Row]:
    """Rows of a foreign-format file, for the importer.

    Args:
        fmt: ``inspect`` or ``harmbench``.
        text: The file's text.
        name: The file name, for messages.
        mapping: ``--map`` overrides of the format's default field mapping.
        category_targets: HarmBench category → evaluation target.
    """
    if fmt == "inspect":
        from scenario_forge.formats.inspect_jsonl import read_samples

        yield from read_samples(text, name, mapping or {})
    elif fmt == "harmbench":
        from scenario_forge.formats.harmbench import read_behaviors

        yield from read_behaviors(text, name, mapping or {}, category_targets or {})
    else:  # pragma: no cover - guarded by the CLI choice
        raise ForgeError(f"unknown format {fmt!r}; use one of {', '.join(FOREIGN_FORMATS)}")
