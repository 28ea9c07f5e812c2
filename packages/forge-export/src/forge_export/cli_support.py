"""Click helpers shared by the three forge CLIs: one-line errors instead of tracebacks.

Every forge CLI uses :class:`ForgeGroup` as its root group. A :class:`~forge_export.ForgeError`
raised anywhere in a command becomes a ``click.ClickException``: one ``Error: ...`` line on
stderr and exit status 1. So do the failures of the world around a command, each with what to
do (:func:`describe_environment_error`): a full disk, a read-only or busy folder, a damaged or
locked store, no network, an integer beyond Python's digit limit, memory exhausted.

Every ``KEY=VALUE`` option of the three CLIs (``--option``, ``--judge-option``, ``--map``) is
read by :func:`parse_key_values` with one coercion rule, :func:`coerce_option_value`.
"""

from __future__ import annotations

import errno
import json
import math
import sqlite3
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from forge_export.errors import ForgeError
from forge_export.redact import redact

__all__ = [
    "STORE_LOCATION",
    "StoreLocation",
    "ForgeGroup",
    "coerce_option_value",
    "describe_environment_error",
    "option_bool",
    "parse_key_values",
    "split_key_value",
]

NOTHING_WRITTEN = "nothing was half written"

_OS_HINTS: dict[int, str] = {
    errno.ENOSPC: "free some space (or write elsewhere) and run the command again",
    errno.EDQUOT: "free some space and run the command again",
    errno.EROFS: "write somewhere else (another --db or output folder)",
    errno.EACCES: "check the permissions or choose another path",
    errno.EPERM: "check the permissions or choose another path",
    errno.EBUSY: "a mount point, or in use by another program: choose another path",
    errno.EXDEV: "choose a path on the same file system as its parent folder",
    errno.EIO: "a failing disk? check it, run `scenario-forge check` on the store and restore "
    "from a backup if it reports damage",
    errno.EMFILE: "raise the limit (ulimit -n) and run again",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
}


def _sqlite_line(exc: sqlite3.Error) -> str:
    text = str(exc)
    low = text.lower()
    if "full" in low:
        return (
            f"the store's disk is full ({text}); free some space and run the command again "
            "(the store is unchanged: the transaction was rolled back)"
        )
    if "readonly" in low or "read-only" in low:
        return (
            f"the store cannot be written ({text}): make the store file and its folder "
            "writable (SQLite also writes -wal/-shm files next to it), or use another --db"
        )
    if "locked" in low or "busy" in low:
        return (
            f"the store is busy ({text}): another process held its write lock too long; run "
            "the command again"
        )
    if any(w in low for w in ("malformed", "not a database", "corrupt", "disk i/o")):
        return (
            f"the store file is damaged ({text}): run `scenario-forge check` to see what is "
            "wrong, then restore it from a backup (`scenario-forge backup` makes them)"
        )
    if "unable to open" in low:
        return f"the store cannot be opened ({text}); check the --db path and its permissions"
    return f"store error ({text}); run `scenario-forge check` on the store"


def describe_environment_error(exc: BaseException) -> str | None:
    """One line saying what went wrong around a command and what to do; ``None`` if not ours.

    Example:
        >>> import errno
        >>> describe_environment_error(OSError(errno.EROFS, "Read-only file system", "out"))
        'out: Read-only file system; write somewhere else (another --db or output folder)'
    """
    from forge_export.hub import is_network_error

    if isinstance(exc, sqlite3.Error):
        return _sqlite_line(exc)
    if isinstance(exc, MemoryError):
        return "out of memory; give a smaller input (or split it) and run the command again"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply; flatten it"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "the input holds a number longer than Python's 4,300-digit limit; write it as text"
    if is_network_error(exc) and not (isinstance(exc, OSError) and exc.filename):
        first = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
        return f"network error ({first}); check the network connection (or proxy) and retry"
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        hint = _OS_HINTS.get(exc.errno or -1)
        line = f"{what}; {hint}" if hint else what
        return f"{exc.filename}: {line}" if exc.filename is not None else line
    return None


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _shown(text: str) -> str:
    """An error line as the terminal should get it: no secret, no control or bidi character."""
    text = redact(text)
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(c):04x}"
        if c in _BIDI
        else (f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" and c not in "\n\t" else c)
        for c in text
    )


class ForgeGroup(click.Group):
    """A ``click.Group`` that reports forge errors as one line and a non-zero exit.

    Every error line goes through :func:`forge_export.redact.redact` (URL user-info and API
    keys never reach the terminal or a log) and has its control and bidirectional-override
    characters written as escapes.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # keep the exception (and its exit code / usage hint), only clean its text
            setattr(exc, "message", _shown(exc.message))  # noqa: B010 - Final in click's stubs
            raise
        except ForgeError as exc:
            raise click.ClickException(_shown(str(exc))) from exc
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            line = describe_environment_error(exc)
            if line is None:
                raise
            raise click.ClickException(_shown(line)) from exc


def coerce_option_value(raw: str) -> Any:
    """The one coercion rule of every ``KEY=VALUE`` option: the value's text, typed.

    The text is stripped; ``true`` / ``false`` (any case) become booleans, a JSON number
    (``4``, ``-2``, ``0.7``, ``1e-3``) becomes an int or a float (not ``NaN`` or infinity),
    anything else stays text. A consumer that needs text takes ``str(value)``.

    Example:
        >>> [coerce_option_value(v) for v in ("4", " 0.5", "True", "cpu", "nan")]
        [4, 0.5, True, 'cpu', 'nan']
    """
    text = raw.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        value = json.loads(text)
    except ValueError:  # not JSON, or a number beyond Python's digit limit
        return text
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def split_key_value(item: str, *, option: str, example: str) -> tuple[str, str]:
    """One ``KEY=VALUE`` item as (key, value text), both stripped.

    Args:
        item: The item as given.
        option: The option's name, for the error (``--option``).
        example: A good item, for the error (``device=cpu``).

    Raises:
        click.BadParameter: no ``=`` or an empty key (the message names the option, the item
            and an example).
    """
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(
            f"{item!r} is not KEY=VALUE (e.g. {option} {example})", param_hint=f"'{option}'"
        )
    return key.strip(), value.strip()


def parse_key_values(
    items: Iterable[str], *, option: str = "--option", example: str = "device=cpu"
) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict, each value typed by :func:`coerce_option_value`.

    A key given twice keeps its last value.

    Example:
        >>> parse_key_values(["batch_size=4", "device=cpu", "greedy=true"])
        {'batch_size': 4, 'device': 'cpu', 'greedy': True}

    Raises:
        click.BadParameter: an item that is not ``KEY=VALUE`` (see :func:`split_key_value`).
    """
    out: dict[str, Any] = {}
    for item in items:
        key, value = split_key_value(item, option=option, example=example)
        out[key] = coerce_option_value(value)
    return out


def option_bool(value: Any, *, name: str) -> bool:
    """A yes/no option's value: a bool, ``0`` / ``1`` or text that :func:`coerce_option_value`
    makes one of those.

    Raises:
        ForgeError: any other value (the message names the option).
    """
    if isinstance(value, str):
        value = coerce_option_value(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ForgeError(f"option {name}={value!r}: expected true or false")


class StoreLocation(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A store file (→ :class:`~pathlib.Path`) or a ``postgresql://`` URL (kept as text).

    The one place that decides whether a store location is SQLite or PostgreSQL: the click
    type of every ``--db`` / ``--store`` option, and :meth:`is_postgres` / :meth:`parse` for
    locations read elsewhere (``$SCENARIO_FORGE_DB``, a settings file, a Python caller).
    """

    name = "PATH|URL"
    POSTGRES_PREFIXES = ("postgresql://", "postgres://")
    """How a PostgreSQL store's URL starts."""

    @classmethod
    def is_postgres(cls, location: object) -> bool:
        """Whether ``location`` names a PostgreSQL store (a ``postgresql://`` URL)."""
        return isinstance(location, str) and location.startswith(cls.POSTGRES_PREFIXES)

    @classmethod
    def parse(cls, location: str | Path) -> Path | str:
        """A location as the store opens it: a URL stays text (a :class:`~pathlib.Path` would
        fold its ``//``), anything else is a file path."""
        if isinstance(location, Path):
            return location
        return location if cls.is_postgres(location) else Path(location)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Path):
            return value
        text = str(value)
        if self.is_postgres(text):
            return text
        return click.Path(dir_okay=False, path_type=Path).convert(text, param, ctx)


STORE_LOCATION = StoreLocation()
