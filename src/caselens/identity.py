"""Identifiers derived from a case and a natural key.

Never from content alone: two cases holding the same file must not get the same id,
or ids would reveal across cases what each holds.
"""

from __future__ import annotations

import hashlib
import os
import uuid


def new_case_id() -> str:
    return uuid.uuid4().hex


def _digest(parts: tuple[str | bytes, ...]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8")
        # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def item_id(case_id: str, exhibit_id: str | None, parent_id: str | None, path: bytes) -> str:
    """The id of one occurrence: the same source in the same place is the same item."""
    return _digest(("item", case_id, exhibit_id or "", parent_id or "", path))[:32]


def exhibit_id(case_id: str, reference: str) -> str:
    return _digest(("exhibit", case_id, reference))[:32]


def entity_id(case_id: str, *natural_key: str) -> str:
    """FollowTheMoney entity id for a case and a natural key (40 hex characters)."""
    return _digest(("entity", case_id, *natural_key))[:40]


def display_path(raw: bytes) -> str:
    """A printable form of a path; undecodable bytes show as \\xNN, the bytes are kept apart."""
    text = os.fsdecode(raw)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
