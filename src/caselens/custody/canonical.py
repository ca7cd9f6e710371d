"""Canonical JSON (RFC 8785, JCS) and the times written into it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """Serialise to the one byte sequence RFC 8785 allows for this value."""
    data: bytes = rfc8785.dumps(value)
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2026-11-26T15:04:05.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a log record")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
