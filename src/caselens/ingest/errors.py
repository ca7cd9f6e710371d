"""Outcomes an ingestor can signal besides success.

"Not my format" sends the item to the next ingestor; the others are recorded on the item.
"""

from __future__ import annotations


class NotMyFormat(Exception):
    """The ingestor cannot handle this item after all: try the next one."""


class BrokenFile(Exception):
    """The item is of this ingestor's format but damaged (truncated, corrupt, malformed)."""


class EncryptedFile(Exception):
    """The item is encrypted or password-protected and no known password opens it."""


class LimitReached(Exception):
    """A configured limit against hostile input was reached (size, depth, ratio, time)."""


class UnsupportedVersion(Exception):
    """The item is of a known format or app, but of a version this ingestor cannot read:
    recorded as "unsupported" with the reason, never read wrongly."""
