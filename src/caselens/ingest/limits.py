"""Limits against hostile input, handed to every ingestor with the item it reads."""

from __future__ import annotations

from dataclasses import dataclass

from caselens.config import Settings

MIB = 1024 * 1024
# Below this much expanded content the ratio is not checked: small archives of text
# legitimately compress by more than any sensible ratio.
RATIO_GRACE_BYTES = 64 * MIB


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 16  # containers inside containers
    max_members: int = 100_000  # child items one item may yield (a mailbox holds many)
    max_expanded_bytes: int = 65536 * MIB  # total size of an item's children (a PST is large)
    max_expansion_ratio: float = 100.0  # children's total size over the item's own size
    max_text_chars: int = 20_000_000  # text kept per item
    item_timeout: float = 120.0  # seconds a parser may spend on one item

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_depth,
            max_members=settings.max_archive_members,
            max_expanded_bytes=settings.max_expanded_mb * MIB,
            max_expansion_ratio=settings.max_expansion_ratio,
            max_text_chars=settings.max_text_chars,
            item_timeout=settings.item_timeout,
        )

    def expansion_problem(self, expanded: int, source_size: int) -> str | None:
        """Why ``expanded`` bytes of children from a ``source_size`` item are too many."""
        if expanded > self.max_expanded_bytes:
            return (
                f"expanded content exceeds {self.max_expanded_bytes // MIB} MiB "
                "(limit max_expanded_mb)"
            )
        if expanded > RATIO_GRACE_BYTES and expanded > self.max_expansion_ratio * max(
            source_size, 1
        ):
            return (
                f"expansion ratio exceeds {self.max_expansion_ratio:g} "
                "(limit max_expansion_ratio): a decompression bomb?"
            )
        return None
