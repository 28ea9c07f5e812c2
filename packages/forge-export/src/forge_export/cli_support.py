"""Click helpers shared by the three forge CLIs: one-line errors instead of tracebacks.

Every forge CLI uses :class:`ForgeGroup` as its root group. A :class:`~forge_export.ForgeError`
(or ``OSError`` on a user-given path) raised anywhere in a command becomes a
``click.ClickException``: one ``Error: ...`` line on stderr and exit status 1.
"""

from __future__ import annotations

from typing import Any

import click

from forge_export.errors import ForgeError


class ForgeGroup(click.Group):
    """A ``click.Group`` that reports forge errors as one line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ForgeError as exc:
            raise click.ClickException(str(exc)) from exc
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            raise click.ClickException(f"{exc.filename}: {exc.strerror}") from exc
