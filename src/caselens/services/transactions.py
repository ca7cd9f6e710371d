"""Transaction import into a case: the file as evidence, its rows as a Parquet dataset.

The source file (and any file its format reads beside it) is acquired as an item of the
case with the same records as any ingested file: a blob in the store, an item row, and
"acquired" and "ingested" custody events, written by the ingest writer. The rows are then
read from the stored, hash-checked copy (never from the original path, which may change),
written as Parquet into the store as a blob derived from the item, and recorded in
``tx_datasets`` with a "derived" custody event and an audit record. Importing the same
file again finds its dataset and changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from sqlalchemy import Connection, Row, insert, select

from caselens.actor import Actor
from caselens.custody import chain
from caselens.db.bulk import prepare_insert
from caselens.db.schema import blobs, items, tx_datasets
from caselens.db.types import utcnow
from caselens.errors import InvalidInput, NotFound
from caselens.finance.datasets import report_document, store_table
from caselens.finance.importers import Imported, TransactionFormat, format_for
from caselens.finance.transactions import BadRow
from caselens.identity import display_path, item_id
from caselens.ingest.rows import BASE_COLUMNS, blob_row, record_result
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.walk import WalkEntry, walk
from caselens.ingest.worker import custody_entries
from caselens.ingest.writer import Batch, commit_batch
from caselens.services.access import (
    WRITER_ROLES,
    purpose_for,
    require_member,
    require_open,
)
from caselens.services.base import Service
from caselens.services.ingest import Acquisition, IngestService
from caselens.store.blobs import StoredBlob

REFUSED_IN_LOGS = 20  # refused rows named in the custody and audit records


@dataclass(slots=True)
class Dataset:
    """One imported transaction dataset of a case."""

    id: str
    item_id: str
    name: str  # the source file's name
    format: str
    rows: int
    bad_rows: int
    first_time: datetime | None
    last_time: datetime | None
    parquet_sha256: str
    imported_by: str
    imported_at: datetime
    refused: list[BadRow] = field(default_factory=list)  # the first refused rows
    warnings: list[str] = field(default_factory=list)
    attempts: int = 0  # labelled laundering attempts read with it
    already: bool = False  # imported before: nothing was changed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_id": self.item_id,
            "name": self.name,
            "format": self.format,
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "first_time": self.first_time.isoformat() if self.first_time else None,
            "last_time": self.last_time.isoformat() if self.last_time else None,
            "parquet_sha256": self.parquet_sha256,
            "imported_by": self.imported_by,
            "imported_at": self.imported_at.isoformat(),
            "refused": [{"line": bad.line, "reason": bad.reason} for bad in self.refused],
            "warnings": self.warnings,
            "attempts": self.attempts,
            "already": self.already,
        }


@dataclass(frozen=True, slots=True)
class _Source:
    """A file acquired for the import: its item row and stored blob."""

    entry: WalkEntry
    base: dict[str, Any]
    blob: StoredBlob
    known: bool  # the item was in the case already (ingested, or imported before)


def dataset_id(case_id: str, source_item: str, format_name: str) -> str:
    key = "\x00".join(("tx_dataset", case_id, source_item, format_name)).encode()
    return hashlib.sha256(key).hexdigest()[:32]


class TransactionService(Service):
    def import_file(
        self,
        actor: Actor,
        reference: str,
        path: str | Path,
        format: str,
        mapping: str | Path | None = None,
        exhibit: str | None = None,
    ) -> Dataset:
        """Import a transactions file into a case as an item and a Parquet dataset."""
        kind = format_for(format)
        if mapping is not None and not kind.takes_mapping:
            raise InvalidInput(f"the {kind.name} format takes no mapping file")
        mapping_path = Path(mapping) if mapping is not None else None
        if mapping_path is not None and not mapping_path.is_file():
            raise InvalidInput(f"no such mapping file: {mapping_path}")
        source_path = Path(os.path.abspath(path))
        if not source_path.is_file():
            raise InvalidInput(f"no such file: {source_path}")

        def access(connection: Connection, case: Row[Any]) -> tuple[Row[Any], str, str | None]:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            purpose = purpose_for(actor, case)
            # Exhibits are made as ingest makes them, with the same identity.
            exhibit_key = IngestService(self.runtime)._exhibit(
                connection, case, Acquisition(exhibit=exhibit)
            )
            return case, purpose, exhibit_key

        case, purpose, exhibit_key = self._in_case(actor, "tx.import", reference, access)
        paths = [source_path, *kind.companions(source_path)]
        sources = [self._acquire(case, exhibit_key, p) for p in paths]
        main = sources[0]
        identifier = dataset_id(case.id, main.base["id"], kind.name)
        with self._transaction() as connection:
            existing = connection.execute(
                select(tx_datasets).where(tx_datasets.c.id == identifier)
            ).first()
        if existing is not None:
            return self._again(actor, case, purpose, existing, main, mapping_path)
        try:
            with self._stored_copies(sources) as copies:
                imported = kind.read(copies[0], mapping_path)
        except InvalidInput as err:
            self._record_items(actor, case, sources, kind, error=err.message)
            with self._transaction() as connection:
                self._audit(
                    connection,
                    actor,
                    "tx.import.failed",
                    case=case,
                    purpose=purpose,
                    target=main.base["id"],
                    details={"format": kind.name, "path": main.base["path"], "reason": err.message},
                )
            raise
        parquet = store_table(
            self.runtime,
            imported.table,
            {"format": kind.name, "source_sha256": main.blob.digests.sha256},
        )
        self._record_items(actor, case, sources, kind)
        return self._record_dataset(actor, case, purpose, identifier, main, kind, imported, parquet)

    def datasets(self, actor: Actor, reference: str) -> list[Dataset]:
        """The transaction datasets of a case, oldest first."""

        def body(connection: Connection, case: Row[Any]) -> list[Dataset]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            rows = connection.execute(
                select(tx_datasets, items.c.name)
                .join(items, items.c.id == tx_datasets.c.item_id)
                .where(tx_datasets.c.case_id == case.id)
                .order_by(tx_datasets.c.imported_at, tx_datasets.c.id)
            ).all()
            self._audit(
                connection,
                actor,
                "tx.datasets",
                case=case,
                purpose=purpose,
                details={"count": len(rows)},
            )
            return [_dataset(row, row.name) for row in rows]

        return self._in_case(actor, "tx.datasets", reference, body)

    def _acquire(self, case: Row[Any], exhibit_key: str | None, path: Path) -> _Source:
        """Copy one file into the store (hashing it); its item row as ingest would make it."""
        entry = next(walk([os.fsencode(path)]))
        if not entry.readable:
            raise InvalidInput(f"{path}: {entry.problem or 'not a regular file'}")
        identifier = item_id(case.id, exhibit_key, None, entry.path)
        with open(entry.path, "rb") as stream:
            blob = self.runtime.blobs.put_stream(stream)
        with self._transaction() as connection:
            known = connection.execute(
                select(items.c.sha256).where(items.c.id == identifier)
            ).first()
        if known is not None and known.sha256 not in (None, blob.digests.sha256):
            raise InvalidInput(
                f"{path} was acquired in case {case.reference} before with SHA-256 "
                f"{known.sha256}; its content has changed since (now {blob.digests.sha256}). "
                "Import the new version under another --exhibit."
            )
        # The columns of a top-level item, in the order the ingest writer declares them.
        values = (
            identifier,
            case.id,
            exhibit_key,
            None,
            0,
            display_path(entry.path),
            entry.path,
            display_path(os.path.basename(entry.path)),
            entry.kind,
            entry.metadata,
            utcnow(),
        )
        base = dict(zip(BASE_COLUMNS, values, strict=True))
        return _Source(entry, base, blob, known is not None)

    @contextmanager
    def _stored_copies(self, sources: list[_Source]) -> Iterator[list[Path]]:
        """The stored blobs, hash-checked, under their original names in a scratch folder
        (readers find companion files by name beside the source)."""
        work = self.runtime.settings.work_dir
        work.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-tx-", dir=work))
        try:
            copies = []
            for source in sources:
                sha256 = source.blob.digests.sha256
                problem = self.runtime.blobs.check(sha256, source.blob.digests)
                if problem:
                    raise InvalidInput(f"{source.base['path']}: {problem}")
                copy = folder / source.base["name"]
                copy.symlink_to(self.runtime.blobs.path_for(sha256))
                copies.append(copy)
            yield copies
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _record_items(
        self,
        actor: Actor,
        case: Row[Any],
        sources: list[_Source],
        kind: TransactionFormat,
        error: str | None = None,
    ) -> None:
        """New items, their blobs and custody, committed by the ingest writer."""
        batch = Batch()
        for source in sources:
            if source.known:
                continue
            task = Task(
                source.base["id"],
                source.base["name"],
                source_path=source.entry.path,
                actor=actor.user,
                base=source.base,
                acquired=True,
            )
            result = ItemResult(
                source.base["id"],
                "failed" if error and source is sources[0] else "ingested",
                digests=source.blob.digests,
                format=f"tx.{kind.name}",
                error=error if source is sources[0] else None,
            )
            result.custody = custody_entries(case.id, task, result)
            record_result(batch, task, result, case.id, self.runtime.settings.max_depth)
        commit_batch(self.runtime, case.id, batch)

    def _record_dataset(
        self,
        actor: Actor,
        case: Row[Any],
        purpose: str,
        identifier: str,
        main: _Source,
        kind: TransactionFormat,
        imported: Imported,
        parquet: StoredBlob,
    ) -> Dataset:
        table = imported.table
        first, last = (None, None)
        if table.num_rows:
            bounds = pc.min_max(table.column("time"))
            first, last = bounds["min"].as_py(), bounds["max"].as_py()
        row = {
            "id": identifier,
            "case_id": case.id,
            "item_id": main.base["id"],
            "parquet_sha256": parquet.digests.sha256,
            "format": kind.name,
            "rows": imported.report.rows,
            "bad_rows": imported.report.bad_rows,
            "first_time": first,
            "last_time": last,
            "report": report_document(imported),
            "imported_by": actor.user,
            "imported_at": utcnow(),
        }
        details = {
            "what": "transaction dataset",
            "format": kind.name,
            "dataset": identifier,
            "parquet_sha256": parquet.digests.sha256,
            "parquet_size": parquet.digests.size,
            "rows": imported.report.rows,
            "bad_rows": imported.report.bad_rows,
            "refused": [[bad.line, bad.reason] for bad in imported.report.listed[:REFUSED_IN_LOGS]],
            "attempts": len(imported.attempts),
            "options": imported.options or None,
        }
        blob_insert = prepare_insert(
            self.runtime.engine.dialect.name,
            blobs,
            [blob_row(parquet.digests)],
            conflict=["sha256"],
        )
        self.runtime.blobs.sync()
        with self._transaction() as connection:
            blob_insert.execute(connection)
            connection.execute(insert(tx_datasets).values(**row))
            entry = chain.LogEntry(
                action="derived", case_id=case.id, item_id=main.base["id"], actor=actor.user,
                details={k: v for k, v in details.items() if v is not None},
            )  # fmt: skip
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit_import(connection, actor, case, purpose, main, details)
            stored = connection.execute(
                select(tx_datasets).where(tx_datasets.c.id == identifier)
            ).one()
        return _dataset(stored, main.base["name"])

    def _again(
        self,
        actor: Actor,
        case: Row[Any],
        purpose: str,
        existing: Row[Any],
        main: _Source,
        mapping: Path | None,
    ) -> Dataset:
        """A file imported before: its dataset as it is, unless the mapping differs."""
        recorded = (existing.report or {}).get("options", {}).get("mapping_sha256")
        given = hashlib.sha256(mapping.read_bytes()).hexdigest() if mapping else None
        if recorded != given:
            raise InvalidInput(
                f"{main.base['path']} was imported before with another mapping "
                f"(SHA-256 {recorded}); a dataset is read one way only. Import it under "
                "another --exhibit to read it differently."
            )
        with self._transaction() as connection:
            details = {"dataset": existing.id, "already": True}
            self._audit_import(connection, actor, case, purpose, main, details)
        dataset = _dataset(existing, main.base["name"])
        dataset.already = True
        return dataset

    def _audit_import(
        self,
        connection: Connection,
        actor: Actor,
        case: Row[Any],
        purpose: str,
        main: _Source,
        details: dict[str, Any],
        failed: bool = False,
    ) -> None:
        action = "tx.import.failed" if failed else "tx.import"
        self._audit(
            connection, actor, action, case=case, purpose=purpose, target=main.base["id"],
            details=details,
        )  # fmt: skip


def _dataset(row: Row[Any], name: str) -> Dataset:
    report = row.report or {}
    return Dataset(
        id=row.id,
        item_id=row.item_id,
        name=name,
        format=row.format,
        rows=int(row.rows),
        bad_rows=int(row.bad_rows),
        first_time=row.first_time,
        last_time=row.last_time,
        parquet_sha256=row.parquet_sha256,
        imported_by=row.imported_by,
        imported_at=row.imported_at,
        refused=[BadRow(int(bad["line"]), bad["reason"]) for bad in report.get("refused", [])],
        warnings=list(report.get("warnings", [])),
        attempts=len(report.get("attempts", [])),
    )


def dataset_row(connection: Connection, case_id: str, wanted: str | None) -> Row[Any]:
    """The case's dataset whose id starts with ``wanted``, or its only one when None."""
    query = select(tx_datasets).where(tx_datasets.c.case_id == case_id)
    if wanted:
        query = query.where(tx_datasets.c.id.startswith(wanted, autoescape=True))
    found = connection.execute(query.order_by(tx_datasets.c.imported_at)).all()
    if not found:
        if wanted:
            raise NotFound(f"no transaction dataset {wanted!r} in this case", dataset=wanted)
        raise NotFound("this case has no transaction datasets (caselens tx import first)")
    if len(found) > 1:
        listed = ", ".join(str(row.id)[:12] for row in found)
        raise InvalidInput(f"several transaction datasets match; name one with --dataset: {listed}")
    return found[0]
