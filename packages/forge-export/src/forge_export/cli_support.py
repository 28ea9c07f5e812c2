"""Click helpers shared by the three forge CLIs: one-line errors instead of tracebacks.

Every forge CLI uses :class:`ForgeGroup` as its root group. A :class:`~forge_export.ForgeError`
(or ``OSError`` on a user-given path) raised anywhere in a command becomes a
``click.ClickException``: one ``Error: ...`` line on stderr and exit status 1.
"""

from __future__ import annotations

from typing import Any

import click

from forge_export.errors import ForgeError
from forge_export.redact import redact


class ForgeGroup(click.Group):
    """A ``click.Group`` that reports forge errors as one line and a non-zero exit.

    Every error line goes through :func:`forge_export.redact.redact`: URL user-info and API
    keys never reach the terminal or a log.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # keep the exception (and its exit code / usage hint), only clean its text
            setattr(exc, "message", redact(exc.message))  # noqa: B010 - Final in click's stubs
            raise
        except ForgeError as exc:
            raise click.ClickException(redact(str(exc))) from exc
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            raise click.ClickException(redact(f"{exc.filename}: {exc.strerror}")) from exc
