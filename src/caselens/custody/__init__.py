"""Chain of custody and audit: append-only, hash-chained, signed logs."""
