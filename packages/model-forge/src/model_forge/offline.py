"""No hub traffic while training: telemetry off, the HuggingFace hub offline.

TRL's trainers ping the HuggingFace Hub with usage telemetry when they are created (unless
``HF_HUB_DISABLE_TELEMETRY`` or ``HF_HUB_OFFLINE`` is set), and ``transformers`` may ask the Hub
about a model. Every model ``model-forge train`` (and ``loop``) trains from is a local folder
(``bundled``, ``tiny`` or a path), so training needs no network at all: :func:`hub_offline`
turns telemetry off and the hub offline for the duration of a run, in the environment (for
libraries imported later and for child processes) and in ``huggingface_hub``'s and
``datasets``' already-read settings, and restores both afterwards.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}
"""Environment set while training (restored afterwards)."""

_SETTINGS: tuple[tuple[str, str], ...] = (
    ("huggingface_hub.constants", "HF_HUB_DISABLE_TELEMETRY"),
    ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
    ("datasets.config", "HF_HUB_OFFLINE"),
)


@contextmanager
def hub_offline() -> Iterator[None]:
    """Within the block: no telemetry, no hub requests (see the module docstring)."""
    saved_env = {k: os.environ.get(k) for k in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    import huggingface_hub.constants  # noqa: F401 - read the settings below from it

    saved: list[tuple[Any, str, Any]] = []
    for module_name, attr in _SETTINGS:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attr):
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, True)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)
        for key, old in saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def offline(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` inside :func:`hub_offline`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with hub_offline():
            return fn(*args, **kwargs)

    return wrapper
