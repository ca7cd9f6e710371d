"""PDQ distance limits, apart from the numpy code that compares hashes (imported on use)."""

from __future__ import annotations

BITS = 256
MAX_THRESHOLD = 128  # beyond half the bits two hashes are further apart than chance
