"""Options and helpers shared by the scenario-forge commands (light imports only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy import Taxonomy

from forge_export.cli_support import STORE_LOCATION, StoreLocation  # noqa: F401

from scenario_forge.terminal import table as table  # the commands' table (lives outside cli/)

F = TypeVar("F", bound=Callable[..., Any])

SOURCE_KINDS = ("template", "llm", "import", "human", "report")


def db_option(f: F) -> F:
    """``--db PATH|URL`` (env ``SCENARIO_FORGE_DB``, default ``./forge.db``)."""
    return click.option(
        "--db",
        type=STORE_LOCATION,
        envvar="SCENARIO_FORGE_DB",
        default="forge.db",
        show_default=True,
        help="The store file, or a postgresql://user@host/db URL (or set $SCENARIO_FORGE_DB).",
    )(f)


def taxonomy_option(f: F) -> F:
    """``--taxonomy PATH`` (env ``SCENARIO_FORGE_TAXONOMY``): a team's targets YAML."""
    return click.option(
        "--taxonomy",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="SCENARIO_FORGE_TAXONOMY",
        default=None,
        help="A YAML file of your own targets (top-level 'targets:' list) and/or look-alike "
        "kinds ('lookalikes:' list), merged over the built-in ones "
        "(or set $SCENARIO_FORGE_TAXONOMY).",
    )(f)


def json_option(f: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def target_option(help_text: str) -> Callable[[F], F]:
    """``--target T`` (repeatable)."""

    def deco(f: F) -> F:
        return click.option(
            "--target", "-t", "targets", multiple=True, metavar="TARGET", help=help_text
        )(f)

    return deco


def generator_options(default: str, prefix: str = "") -> Callable[[F], F]:
    """``--generator NAME``, ``--model M`` and ``--option KEY=VALUE`` (repeatable).

    Args:
        default: The generator used when ``--generator`` is not given.
        prefix: Put before each help text, e.g. ``"Model source: "``.
    """

    def helptext(text: str) -> str:
        full = prefix + text
        return full[:1].upper() + full[1:]

    def deco(f: F) -> F:
        f = click.option(
            "--option",
            "options",
            multiple=True,
            metavar="KEY=VALUE",
            help=helptext("extra generator option (repeatable), e.g. --option temperature=0.8."),
        )(f)
        f = click.option(
            "--model",
            default=None,
            help=helptext("model of a model-backed generator, e.g. tiny or openai:gpt-4o."),
        )(f)
        return click.option(
            "--generator",
            "generator_name",
            default=default,
            show_default=True,
            help=helptext(
                "a generator registered in the 'forge_export.generators' entry-point group "
                "(e.g. model-forge)."
            ),
        )(f)

    return deco


def build_generator(name: str, model: str | None, options: Sequence[str], **extra: Any) -> Any:
    """Load generator ``name`` with the ``--option`` values, ``--model`` and ``extra``."""
    from forge_export.cli_support import parse_key_values
    from forge_export.generators import load_generator

    opts = parse_key_values(options, option="--option", example="temperature=0.7")
    if model is not None:
        opts["model"] = model
    opts.update(extra)
    return load_generator(name, **opts)


def shown(db: Path | str) -> str:
    """A store location as every message shows it: the password masked
    (:func:`forge_export.redact.redact_location`, the one rule)."""
    from forge_export.redact import redact_location

    return redact_location(db)


def open_store(db: Path | str, *, create: bool = True) -> ScenarioStore:
    """Open the store (created if missing when ``create``).

    A store created by any command but ``init`` is announced on stderr, so a mistyped
    ``--db`` does not silently start a new, empty store.
    """
    from scenario_forge.store import ScenarioStore

    new = create and not StoreLocation.is_postgres(db)
    new = new and not Path(db).exists()
    store = ScenarioStore.open(db, create=create)
    ctx = click.get_current_context(silent=True)
    if new and (ctx is None or ctx.info_name != "init"):
        click.echo(
            f"note: no store was at {shown(db)}: created a new, empty one (mistyped --db? "
            "`scenario-forge init` creates stores explicitly)",
            err=True,
        )
    return store


def get_taxonomy(path: Path | None) -> Taxonomy:
    """Built-in targets plus the team file, if given."""
    from scenario_forge.taxonomy import load_taxonomy

    return load_taxonomy(path)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def short(text: str, width: int = 70) -> str:
    """One line of at most ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
