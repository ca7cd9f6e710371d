"""Storing a parsed list: entries in batches, through the driver, each hash once per set."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection

from caselens.db.bulk import prepare_insert
from caselens.db.schema import hash_set_entries
from caselens.hashsets.entries import HashEntry, UnreadableList
from caselens.hashsets.parsers import HashList

INSERT_BATCH = 20_000


def store_entries(connection: Connection, set_id: int, hash_list: HashList) -> int:
    """Insert the list's entries in batches; a hash listed twice is stored once."""
    stored = 0
    for batch in batches(hash_list.entries()):
        rows = [
            {
                "algorithm": str.__str__(entry.algorithm),  # plain str, for the driver
                "value": entry.value,
                "set_id": set_id,
                "quality": entry.quality,
                "label": entry.label,
            }
            for entry in batch
        ]
        prepared = prepare_insert(
            connection.dialect.name,
            hash_set_entries,
            rows,
            conflict=("algorithm", "value", "set_id"),
        )
        result = connection.exec_driver_sql(prepared.sql, prepared.parameters)
        stored += max(result.rowcount, 0)
    return stored


def batches(entries: Iterator[HashEntry]) -> Iterator[list[HashEntry]]:
    batch: list[HashEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError as err:
        raise UnreadableList(f"cannot read {path}: {err.strerror or err}") from err
    return digest.hexdigest()
