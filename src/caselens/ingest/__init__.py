"""Ingest: walk sources, store blobs, detect types, run format ingestors, record results."""
