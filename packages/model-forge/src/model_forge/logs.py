"""forge's own messages through :mod:`logging`: ``model-forge -q/--quiet`` and ``-v/--verbose``.

Every module logs to a child of the ``model_forge`` logger (:func:`get_logger`). The command
line configures it once (:func:`configure`): by default progress lines (``INFO``) go to
stderr as plain text; ``--quiet`` keeps warnings and errors only and turns transformers' and
datasets' own logging down to errors; ``--verbose`` adds ``DEBUG`` lines (each request a
server backend retries, with the reason and the wait) prefixed with the logger's name. A
library user configures logging as usual; nothing is printed until a handler is set.

Example:
    >>> get_logger("train").name
    'model_forge.train'
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

ROOT = "model_forge"
QUIET, NORMAL, VERBOSE = -1, 0, 1
"""The verbosity levels of :func:`configure`."""

_LEVELS = {QUIET: logging.WARNING, NORMAL: logging.INFO, VERBOSE: logging.DEBUG}


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever ``sys.stderr`` is when a record is emitted (click's test
    runner and ``contextlib.redirect_stderr`` swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def get_logger(name: str) -> logging.Logger:
    """The logger ``model_forge.<name>``."""
    return logging.getLogger(f"{ROOT}.{name}")


def configure(verbosity: int = NORMAL) -> None:
    """Send forge's log records to stderr at ``verbosity`` (:data:`QUIET`, :data:`NORMAL`,
    :data:`VERBOSE`); calling it again replaces the earlier setting."""
    logger = logging.getLogger(ROOT)
    for handler in [h for h in logger.handlers if isinstance(h, _CurrentStderr)]:
        logger.removeHandler(handler)
    handler = _CurrentStderr()
    fmt = "%(name)s: %(message)s" if verbosity >= VERBOSE else "%(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    logger.setLevel(_LEVELS[max(QUIET, min(VERBOSE, verbosity))])
    logger.propagate = False
    if verbosity <= QUIET:
        # read by transformers and datasets when they are imported (later, inside commands)
        os.environ["TRANSFORMERS_VERBOSITY"] = "error"
        os.environ["DATASETS_VERBOSITY"] = "error"


def shows_progress(name: str) -> bool:
    """Whether progress lines and bars of logger ``model_forge.<name>`` are shown (not
    ``--quiet``)."""
    return get_logger(name).isEnabledFor(logging.INFO)


class NoProgress:
    """A progress bar that shows nothing (``--quiet``); same interface as click's."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Count ``n`` more items (nothing is shown)."""


def progress_bar(length: int, label: str, logger: str) -> Any:
    """A progress bar on stderr for the work of logger ``model_forge.<logger>``: click's bar
    (drawn on a terminal only), or :class:`NoProgress` under ``--quiet``."""
    if not shows_progress(logger):
        return NoProgress()
    import click

    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)
