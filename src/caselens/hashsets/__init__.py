"""Hash sets: known-good and alert lists of cryptographic and PDQ hashes, and matching."""
