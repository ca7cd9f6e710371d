"""What every service needs: settings, database, evidence store and the signing key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from caselens.config import Settings
from caselens.custody.signing import HeadSigner
from caselens.db import migrate
from caselens.db.engine import make_engine
from caselens.errors import ConfigurationError, StorageError
from caselens.store.blobs import BlobStore


@dataclass
class Runtime:
    settings: Settings
    # Ingest workers skip the schema check: their coordinator has just made it.
    check_schema: bool = True
    # One SQLite connection for the life of the process (see make_engine): workers only.
    keep_connection: bool = False

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings, keep_connection=self.keep_connection)
        if not self.check_schema:
            return engine
        try:
            migrate.upgrade(engine)
        except OperationalError as err:
            raise ConfigurationError(f"cannot open the case database: {err.orig}") from err
        return engine

    @cached_property
    def blobs(self) -> BlobStore:
        store = BlobStore(self.settings.blob_root)
        store.ensure()
        return store

    @cached_property
    def signer(self) -> HeadSigner:
        return HeadSigner.load_or_create(self.settings.keys_dir)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction; database failures become one clear StorageError."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except DBAPIError as err:
            raise StorageError(
                f"database error, nothing of this step was saved: {_first_line(err.orig)}"
            ) from err

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error and str(error).strip() else "unknown"
