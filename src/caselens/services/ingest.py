"""Ingest into a case: exhibits with their acquisition details, then the pipeline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Row, insert, select, update

from caselens.actor import Actor
from caselens.db.schema import exhibits, items
from caselens.db.types import utcnow
from caselens.errors import AccessDenied, InvalidInput
from caselens.extract.regions import region_of
from caselens.hits.found import announce, find_hits
from caselens.identity import exhibit_id
from caselens.ingest.pipeline import (
    FINAL_STATES,
    IngestCoordinator,
    IngestJob,
    IngestSummary,
    ProgressListener,
)
from caselens.search.engines import index_for
from caselens.search.facets import shared_cache
from caselens.services.access import (
    WRITER_ROLES,
    case_row,
    purpose_for,
    require_member,
    require_open,
)
from caselens.services.base import Service


@dataclass(frozen=True, slots=True)
class Acquisition:
    """Where evidence came from: the exhibit and how it was seized."""

    exhibit: str | None = None
    description: str | None = None
    seized_by: str | None = None
    seized_at: datetime | None = None
    seized_from: str | None = None
    notes: str | None = None
    timezone: str | None = None  # IANA zone of the exhibit's clock


class IngestService(Service):
    def ingest(
        self,
        actor: Actor,
        reference: str,
        paths: Sequence[str | bytes],
        acquisition: Acquisition | None = None,
        *,
        workers: int | None = None,
        progress: ProgressListener | None = None,
        passwords: Sequence[str] = (),
    ) -> IngestSummary:
        acquisition = acquisition or Acquisition()
        _check_timezone(acquisition)
        raw_paths = [os.fsencode(p) for p in paths]
        if not raw_paths:
            raise InvalidInput("give at least one file or directory to ingest")
        for raw in raw_paths:
            if not os.path.lexists(raw):
                raise InvalidInput(f"no such file or directory: {os.fsdecode(raw)}")
        try:
            with self._transaction() as connection:
                case = case_row(connection, reference)
                require_member(connection, actor, case, WRITER_ROLES)
                require_open(case)
                purpose = purpose_for(actor, case)
                exhibit = self._exhibit(connection, case, acquisition)
                timezones = _exhibit_timezones(connection, case.id)
                self._audit(
                    connection,
                    actor,
                    "ingest.start",
                    case=case,
                    purpose=purpose,
                    details={
                        "paths": [os.fsdecode(p) for p in raw_paths],
                        "exhibit": acquisition.exhibit,
                        "timezone": acquisition.timezone,
                        # How many, never which: passwords stay out of every log.
                        "passwords_supplied": len(passwords),
                    },
                )
        except AccessDenied as denied:
            self._record_refusal(actor, "ingest.start", reference, denied)
            raise
        job = self._job(actor, case, workers, passwords, exhibit, acquisition.exhibit)
        job = replace(job, timezones=timezones)
        summary = IngestCoordinator(self.runtime, job, progress).run(raw_paths)
        self._finish(actor, "ingest.finish", case, purpose, summary)
        return summary

    def reprocess(
        self,
        actor: Actor,
        reference: str,
        *,
        failed_only: bool = False,
        mime_type: str | None = None,
        format_name: str | None = None,
        workers: int | None = None,
        progress: ProgressListener | None = None,
        passwords: Sequence[str] = (),
    ) -> IngestSummary:
        """Run the ingestors again on stored items; earlier results are kept, superseded.

        ``failed_only`` takes the items that failed or were encrypted; ``mime_type`` (``*``
        allowed) and ``format_name`` (the ingestor that handled them) narrow the choice.
        """
        filters = {"failed": failed_only, "type": mime_type, "format": format_name}
        try:
            with self._transaction() as connection:
                case = case_row(connection, reference)
                require_member(connection, actor, case, WRITER_ROLES)
                require_open(case)
                purpose = purpose_for(actor, case)
                query = select(items).where(
                    items.c.case_id == case.id,
                    items.c.sha256.is_not(None),
                    items.c.state.in_(FINAL_STATES),
                    # Containers nested past the limit stay closed unless it is raised.
                    items.c.depth <= self.runtime.settings.max_depth,
                )
                if failed_only:
                    query = query.where(items.c.state.in_(["failed", "encrypted"]))
                if mime_type:
                    query = query.where(items.c.mime_type.like(mime_type.replace("*", "%")))
                if format_name:
                    query = query.where(items.c.format == format_name)
                selected = connection.execute(query.order_by(items.c.depth, items.c.id)).all()
                timezones = _exhibit_timezones(connection, case.id)
                self._audit(
                    connection,
                    actor,
                    "reprocess.start",
                    case=case,
                    purpose=purpose,
                    details={
                        "filters": {k: v for k, v in filters.items() if v},
                        "items": len(selected),
                        "passwords_supplied": len(passwords),
                    },
                )
        except AccessDenied as denied:
            self._record_refusal(actor, "reprocess.start", reference, denied)
            raise
        job = replace(self._job(actor, case, workers, passwords), timezones=timezones)
        summary = IngestCoordinator(self.runtime, job, progress).reprocess(selected)
        self._finish(actor, "reprocess.finish", case, purpose, summary)
        return summary

    def _job(
        self,
        actor: Actor,
        case: Row[Any],
        workers: int | None,
        passwords: Sequence[str],
        exhibit_id: str | None = None,
        exhibit_reference: str | None = None,
    ) -> IngestJob:
        return IngestJob(
            case_id=case.id,
            case_reference=case.reference,
            actor=actor.user,
            exhibit_id=exhibit_id,
            exhibit_reference=exhibit_reference,
            workers=workers or self.runtime.settings.workers,
            passwords=tuple(passwords),
            default_region=region_of(case.jurisdiction),
        )

    def _finish(
        self, actor: Actor, action: str, case: Row[Any], purpose: str, summary: IngestSummary
    ) -> None:
        with self._transaction() as connection:
            index_for(connection.dialect.name).refresh_statistics(connection)
            if self.runtime.settings.index_text:
                # Bring the case's facet copy up to date now (reading only the documents
                # it lacks), so that the first faceted search after the run need not.
                shared_cache(self.runtime.settings.facet_cache_dir).columns(connection, case.id)
            # The run's selectors are in the index now: record hits in other cases.
            find_hits(connection, case.id)
            announce(connection, self.runtime.signer, actor)
            self._audit(
                connection,
                actor,
                action,
                case=case,
                purpose=purpose,
                details={k: v for k, v in summary.as_dict().items() if k != "failures"},
            )

    def _exhibit(
        self, connection: Connection, case: Row[Any], acquisition: Acquisition
    ) -> str | None:
        if not acquisition.exhibit:
            return None
        identifier = exhibit_id(case.id, acquisition.exhibit)
        existing = connection.execute(select(exhibits).where(exhibits.c.id == identifier)).first()
        if existing is not None and acquisition.timezone:
            if existing.timezone and existing.timezone != acquisition.timezone:
                raise InvalidInput(
                    f"exhibit {acquisition.exhibit} was ingested with time zone "
                    f"{existing.timezone}; its clock cannot be {acquisition.timezone} as well"
                )
            if not existing.timezone:
                connection.execute(
                    update(exhibits)
                    .where(exhibits.c.id == identifier)
                    .values(timezone=acquisition.timezone)
                )
        if existing is None:
            connection.execute(
                insert(exhibits).values(
                    id=identifier,
                    case_id=case.id,
                    reference=acquisition.exhibit,
                    description=acquisition.description,
                    seized_by=acquisition.seized_by,
                    seized_at=acquisition.seized_at,
                    seized_from=acquisition.seized_from,
                    notes=acquisition.notes,
                    timezone=acquisition.timezone,
                    created_at=utcnow(),
                )
            )
        return identifier


def _check_timezone(acquisition: Acquisition) -> None:
    if acquisition.timezone is None:
        return
    if not acquisition.exhibit:
        raise InvalidInput("--timezone belongs to an exhibit's clock: give --exhibit as well")
    try:
        ZoneInfo(acquisition.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {acquisition.timezone!r}; use an IANA name such as "
            "Europe/London or America/New_York"
        ) from None


def _exhibit_timezones(connection: Connection, case_id: str) -> tuple[tuple[str, str], ...]:
    rows = connection.execute(
        select(exhibits.c.id, exhibits.c.timezone).where(
            exhibits.c.case_id == case_id, exhibits.c.timezone.is_not(None)
        )
    ).all()
    return tuple((row.id, row.timezone) for row in rows)
