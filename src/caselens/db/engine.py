"""Engines for the case database: SQLite in the data directory, or PostgreSQL to share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool, StaticPool

from caselens.config import Settings


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(settings: Settings, *, keep_connection: bool = False) -> Engine:
    """Build the engine for the configured database.

    SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across a process crash,
    consistent across a power cut) and every transaction starts ``BEGIN IMMEDIATE``, so two
    writers queue on the lock instead of failing half-way with a busy error.

    SQLite connections are opened per transaction unless ``keep_connection`` is set: a
    process that forks must not hold one. An ingest worker, which commits batch after
    batch and never forks, keeps one open, because the last connection to close
    checkpoints the whole write-ahead log into the database and flushes it to disk: once
    per batch, that cost more than writing the batch.
    """
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.resolved_home.mkdir(parents=True, exist_ok=True)
        pool = StaticPool if keep_connection else NullPool
        engine = create_engine(url, poolclass=pool, connect_args={"timeout": 60})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        # Bulk ingest touches several indexes per row: a 64 MiB page cache keeps them
        # in memory, and fewer, larger checkpoints keep the WAL from stalling commits.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
