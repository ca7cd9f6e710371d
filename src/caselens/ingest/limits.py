"""Limits against hostile input, handed to every ingestor with the item it reads."""

from __future__ import annotations

import resource
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


def address_space_bytes() -> int:
    """This process's virtual address space now (Linux ``VmSize``), or 0 where unknown."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def bound_address_space(parser_mb: int) -> None:
    """Let this process map at most ``parser_mb`` MiB more than it holds now.

    A forked worker inherits its parent's address space, which in a long-lived process
    (the test suite, a server that has loaded spaCy and CTranslate2) may already be
    gigabytes: an absolute limit would leave no room even for SQLite's shared memory.
    """
    limit = address_space_bytes() + parser_mb * MIB
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(
        resource.RLIMIT_AS, (limit, hard if hard != resource.RLIM_INFINITY else limit)
    )


def address_space_left() -> int | None:
    """Bytes this process may still map under its limit; None when it has none."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(soft - address_space_bytes(), 0)
