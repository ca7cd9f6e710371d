"""The evidence store: content-addressed blobs."""
