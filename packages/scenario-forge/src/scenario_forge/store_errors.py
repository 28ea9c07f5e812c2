"""The store's error type, in a module of its own so both backends can raise it."""

from __future__ import annotations

from forge_export.errors import ForgeError


class StoreError(ForgeError):
    """The store file cannot be opened or used (wrong file, newer schema, missing)."""


class MaintenanceError(ForgeError):
    """A store cannot be checked or backed up at all (missing, not SQLite, target exists)."""
