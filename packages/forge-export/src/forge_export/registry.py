"""One registry for every kind of plug-in, fed by entry points.

A plug-in is one module plus one line in its package's ``pyproject.toml``::

    [project.entry-points."forge_export.judges"]
    strict = "my_package.strict_judge:PLUGIN"

Each kind has its entry-point group (:data:`KINDS`); the registry finds plug-ins by name,
lists them for ``--help`` and error messages (so a new one shows up everywhere at once), and
turns an unknown name into one line naming the nearest registered one. Nothing is imported
until a plug-in is loaded: names come from the installed packages' metadata, so listing is
instant (inspect_ai's registry and entry points play the same role there).

Example:
    >>> "model-forge" in names("generator")
    True
    >>> load("generator", "model-forge").__name__
    'ModelForgeGenerator'
    >>> load("generator", "model-forg")
    Traceback (most recent call last):
    forge_export.registry.PluginNotFound: unknown generator 'model-forg'; did you mean 'model-forge'? (registered: model-forge, template)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from forge_export.errors import ForgeError

__all__ = ["KINDS", "Kind", "PluginNotFound", "describe", "entry", "load", "names", "split_spec"]


@dataclass(frozen=True)
class Kind:
    """A kind of plug-in.

    Attributes:
        name: The kind (``judge``).
        group: Its entry-point group.
        what: What a plug-in of the kind is, for listings.
        protocol: Where the object a plug-in's entry point names is described.
    """

    name: str
    group: str
    what: str
    protocol: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "backend",
            "forge_export.backends",
            "generation backends (--model NAME or NAME:ARG)",
            "model_forge.generation.plugins.BackendPlugin",
        ),
        Kind(
            "judge",
            "forge_export.judges",
            "judges (--judge NAME or NAME:ARG)",
            "model_forge.judge_plugins.JudgePlugin",
        ),
        Kind(
            "generator",
            "forge_export.generators",
            "generators of scenarios and completions (--generator NAME)",
            "forge_export.generators.Generator (a factory called with keyword options)",
        ),
        Kind(
            "transform",
            "scenario_forge.transforms",
            "attack and wording transforms (--transform NAME[:ARG])",
            "scenario_forge.transforms.Transform (a factory called with the ARG or None)",
        ),
    )
}
"""Every kind of plug-in, by name. (Store backends join when storage is behind one door,
issue 30 item 3: ``ScenarioStore.open`` is where the registry would be asked.)"""


class PluginNotFound(ForgeError):
    """No plug-in of that kind and name is registered."""


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ForgeError(f"unknown plug-in kind {kind!r}; use one of {', '.join(KINDS)}") from None


def _entries(kind: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=_kind(kind).group):
        found.setdefault(ep.name, ep)  # the first installed package wins a name
    return dict(sorted(found.items()))


def names(kind: str) -> list[str]:
    """The registered names of a kind, sorted."""
    return list(_entries(kind))


def describe(kind: str, *, extra: str = "") -> str:
    """``a, b or c``: the names of a kind for a help text (``extra`` appended as the last)."""
    items = names(kind) + ([extra] if extra else [])
    if len(items) < 2:
        return "".join(items) or "none"
    return ", ".join(items[:-1]) + " or " + items[-1]


def split_spec(spec: str) -> tuple[str, str | None]:
    """``name:arg`` → ``("name", "arg")``; ``name`` → ``("name", None)`` (both stripped)."""
    name, sep, arg = spec.strip().partition(":")
    return name.strip(), (arg.strip() if sep else None)


def entry(kind: str, name: str) -> EntryPoint | None:
    """The entry point of a registered plug-in, ``None`` when there is none."""
    return _entries(kind).get(name)


def not_found(kind: str, name: str, *, also: str = "") -> PluginNotFound:
    """The one-line error for an unknown ``name``: the nearest registered one and the list."""
    registered = names(kind)
    close = difflib.get_close_matches(name, registered, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(registered) or "none"
    return PluginNotFound(
        f"unknown {kind} {name!r}; {hint}(registered: {listed}{', ' + also if also else ''})"
    )


def load(kind: str, name: str) -> Any:
    """The object the plug-in ``name`` of ``kind`` registers (imported now).

    Raises:
        PluginNotFound: no such plug-in (one line: the nearest name and every registered one).
    """
    ep = entry(kind, name)
    if ep is None:
        raise not_found(kind, name)
    return ep.load()
