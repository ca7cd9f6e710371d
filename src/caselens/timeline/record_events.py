"""Events from the case's own records: file-system times found at acquisition, the
custody chain, imported timelines (plaso) and transcript segments of dated recordings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from caselens.custody.chain import custody_chain
from caselens.db.schema import (
    entities,
    items,
    log_records,
    timeline_events,
    transcript_segments,
    transcripts,
)
from caselens.timeline.model import TimelineEvent, key_of_text, time_key
from caselens.timeline.reading import Reader, json_text, key_datetime

# The file-system times the walk records (ingest/walk.py) and archive members carry.
FILE_TIMES = ("modified", "accessed", "changed")


@dataclass(frozen=True, slots=True)
class FileTime:
    """One time of ``items.source_metadata`` (UTC text with a Z), in the order of its text."""

    name: str
    kind: str = "file"

    def read(self, reader: Reader) -> Iterator[TimelineEvent]:
        when = json_text(items.c.source_metadata, self.name)
        ordered = reader.ordered(when)
        query = select(items.c.id, items.c.path, when.label("when")).where(
            items.c.case_id == reader.case_id, when.is_not(None)
        )
        selection = reader.selection
        if selection.start is not None:
            query = query.where(ordered >= selection.start)
        if selection.end is not None:
            query = query.where(ordered < selection.end)
        for batch in reader.batches(query.order_by(ordered, items.c.id)):
            for row in batch:
                yield TimelineEvent(
                    key=key_of_text(row.when),
                    kind=self.kind,
                    summary=f"file {self.name}: {row.path}",
                    source=f"file.{self.name}",
                    item_id=row.id,
                    time_zone="UTC",  # file systems keep instants; none was assumed
                    time_zone_assumed=False,
                    details={"path": row.path},
                )


@dataclass(frozen=True, slots=True)
class CustodyEvents:
    """The case's custody chain: acquisition, ingest, derivation, reads, reviews."""

    kind: str = "custody"

    def read(self, reader: Reader) -> Iterator[TimelineEvent]:
        query = select(
            log_records.c.seq,
            log_records.c.item_id,
            log_records.c.action,
            log_records.c.actor,
            log_records.c.at,
            log_records.c.record,
        ).where(log_records.c.chain == custody_chain(reader.case_id))
        selection = reader.selection
        if selection.start is not None:
            query = query.where(log_records.c.at >= key_datetime(selection.start))
        if selection.end is not None:
            query = query.where(log_records.c.at < key_datetime(selection.end))
        for batch in reader.batches(query.order_by(log_records.c.at, log_records.c.seq)):
            for row in batch:
                details = _record_details(row.record)
                where = details.get("path")
                yield TimelineEvent(
                    key=time_key(row.at),
                    kind=self.kind,
                    summary=f"custody {row.action} by {row.actor or '?'}"
                    + (f": {where}" if isinstance(where, str) else ""),
                    source="custody",
                    item_id=row.item_id,
                    time_zone="UTC",
                    time_zone_assumed=False,
                    details={"seq": row.seq, **details},
                )


def _record_details(record: str) -> dict[str, Any]:
    try:
        body = json.loads(record).get("body", {})
    except (ValueError, AttributeError):
        return {}
    details = body.get("details") if isinstance(body, dict) else None
    return details if isinstance(details, dict) else {}


@dataclass(frozen=True, slots=True)
class ImportedEvents:
    """Events imported from plaso, in the order of their time."""

    kind: str = "plaso"

    def read(self, reader: Reader) -> Iterator[TimelineEvent]:
        table = timeline_events
        query = select(table).where(table.c.case_id == reader.case_id)
        selection = reader.selection
        if selection.start is not None:
            query = query.where(table.c.time >= key_datetime(selection.start))
        if selection.end is not None:
            query = query.where(table.c.time < key_datetime(selection.end))
        for batch in reader.batches(query.order_by(table.c.time, table.c.id)):
            for row in batch:
                attributes = row.attributes if isinstance(row.attributes, dict) else {}
                details = {
                    "timestamp_desc": row.timestamp_desc,
                    "parser": row.parser,
                    "data_type": row.data_type,
                    "display_name": row.display_name,
                    "hostname": attributes.get("hostname"),
                    "username": attributes.get("username"),
                    "line": row.line,
                }
                what = row.message or row.display_name or row.data_type or "(no message)"
                yield TimelineEvent(
                    key=time_key(row.time),
                    kind=self.kind,
                    summary=f"{row.timestamp_desc or 'event'}: {what}",
                    source=row.source,
                    item_id=row.item_id,
                    details={k: v for k, v in details.items() if v is not None},
                )


@dataclass(frozen=True, slots=True)
class TranscriptSegments:
    """Segments of the current transcripts of recordings whose creation time is known,
    placed at creation time + segment start. Recordings without one are left out: their
    words have no place in time. Read whole for the case and sorted here (segment times
    are sums, which SQL cannot order portably); a case holds few recordings."""

    kind: str = "transcript"

    def read(self, reader: Reader) -> Iterator[TimelineEvent]:
        created = json_text(entities.c.properties, "authoredAt", 0)
        query = (
            select(
                entities.c.entity_id,
                entities.c.item_id,
                entities.c.context,
                created.label("created"),
                transcripts.c.review_state,
                transcript_segments.c.number,
                transcript_segments.c.start,
                transcript_segments.c.end,
                transcript_segments.c.text,
                transcript_segments.c.confidence,
            )
            .join(items, items.c.id == entities.c.item_id)
            .join(
                transcripts,
                (transcripts.c.item_id == items.c.id)
                & (transcripts.c.generation == items.c.generation),
            )
            .join(
                transcript_segments,
                (transcript_segments.c.item_id == transcripts.c.item_id)
                & (transcript_segments.c.generation == transcripts.c.generation),
            )
            .where(
                entities.c.case_id == reader.case_id,
                entities.c.superseded.is_(False),
                entities.c.schema.in_(("Audio", "Video")),
                created.is_not(None),
            )
        )
        if reader.selection.end is not None:
            query = query.where(reader.ordered(created) < reader.selection.end)
        found = [event for row in reader.connection.execute(query) if (event := _segment(row))]
        found.sort(key=lambda event: (event.key, event.item_id or "", event.details["segment"]))
        yield from (event for event in found if reader.selection.in_window(event.key))


def _segment(row: Any) -> TimelineEvent | None:
    try:
        start = datetime.fromisoformat(row.created) + timedelta(seconds=float(row.start))
    except (ValueError, OverflowError):
        return None
    context = row.context if isinstance(row.context, dict) else {}
    created = context.get("created")
    made: dict[str, Any] = created if isinstance(created, dict) else {}
    zone = made.get("time_zone") if isinstance(made.get("time_zone"), str) else None
    return TimelineEvent(
        key=time_key(start),
        kind="transcript",
        summary=f"said: {row.text.strip()}",
        source="Transcript.segment",
        item_id=row.item_id,
        entity_id=row.entity_id,
        time_zone=zone,
        time_zone_assumed=bool(made.get("time_zone_assumed", False)) if zone else None,
        details={
            "segment": row.number,
            "start": row.start,
            "end": row.end,
            "confidence": row.confidence,
            "review_state": row.review_state,
        },
    )


RECORD_SOURCES: tuple[FileTime | CustodyEvents | ImportedEvents | TranscriptSegments, ...] = (
    *(FileTime(name) for name in FILE_TIMES),
    CustodyEvents(),
    ImportedEvents(),
    TranscriptSegments(),
)
