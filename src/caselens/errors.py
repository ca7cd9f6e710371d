"""The package's exceptions: one base class, a few subclasses with structured details.

The CLI and the API turn these into one clear message each; anything else is a bug.
"""

from __future__ import annotations

from typing import Any


class CaselensError(Exception):
    """Base class of every error caselens raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ConfigurationError(CaselensError):
    """The installation or the settings are not usable as they are."""


class NotFound(CaselensError):
    """A case, user, item or record that was named does not exist."""


class AccessDenied(CaselensError):
    """The actor may not do this: not a member, wrong role, or no purpose given."""

    exit_code = 3


class InvalidInput(CaselensError):
    """An argument given by the user is malformed."""

    exit_code = 2


class IntegrityError(CaselensError):
    """Stored evidence or a log does not match its recorded hash: never ignored."""

    exit_code = 4


class CaseBusy(CaselensError):
    """Another process holds the case's ingest lock."""

    exit_code = 5


class StorageError(CaselensError):
    """The evidence store or the database failed (disk full, I/O error, lost connection)."""

    exit_code = 6
