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
    """True when the C encoder's output is already the RFC 8785 form of ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif kind is dict:
            for key, member in item.items():
                # Code-point order equals UTF-16 order unless a key holds U+E000 or above.
                if type(key) is not str or (not key.isascii() and max(key) >= "\ue000"):
                    return False
                stack.append(member)
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2026-11-26T15:04:05.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a log record")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
