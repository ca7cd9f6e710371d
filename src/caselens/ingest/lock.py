"""One ingest per case at a time, across processes and (on PostgreSQL) across machines.

Both locks are released by the operating system or the database when the holder dies,
so a killed run never leaves a case locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

from caselens.errors import CaseBusy


@contextlib.contextmanager
def case_ingest_lock(
    locks_dir: Path, engine: Engine, case_id: str, reference: str
) -> Iterator[None]:
    locks_dir.mkdir(parents=True, exist_ok=True)
    lock_path = locks_dir / f"ingest-{case_id}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise CaseBusy(
                f"another ingest into case {reference} is running (process {holder}); "
                "wait for it to finish or stop it, then run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        with _database_lock(engine, case_id, reference):
            yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _database_lock(engine: Engine, case_id: str, reference: str) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    key = zlib.crc32(f"caselens-ingest:{case_id}".encode())
    with engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        connection.commit()
        if not taken:
            raise CaseBusy(f"another ingest into case {reference} is running on another machine")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
