"""Canonical JSON (RFC 8785, JCS) and the times written into it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785


# Integers beyond 2**53 are not exact in I-JSON (RFC 7493), which RFC 8785 builds on.
MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """Serialise to the one byte sequence RFC 8785 allows for this value.

    For the values caselens logs (strings, safe integers, booleans, nulls, lists and
    objects whose keys are below U+E000) the standard library's encoder with sorted keys
    and no whitespace produces exactly the RFC 8785 form, and does so in C; anything
    else (floats, keys whose UTF-16 order differs from code-point order) goes to the
    reference implementation.
    """
    if _plain(value):
        return json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    data: bytes = rfc8785.dumps(value)
    return data


def _plain(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _bmp_low(key) and _plain(item) for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    return False


def _bmp_low(key: str) -> bool:
    # Code-point order equals UTF-16 order unless a key holds U+E000 or above.
    return key.isascii() or max(key) < "\ue000"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2026-11-26T15:04:05.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a log record")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
