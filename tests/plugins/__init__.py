"""Ingestor plugins that misbehave on purpose, loaded by worker processes in tests."""
