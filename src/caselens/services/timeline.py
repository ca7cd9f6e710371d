"""The case timeline: one chronological query over every dated fact of a case, and the
import of plaso timelines as events of an evidence item."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, delete

from caselens.actor import Actor
from caselens.custody import chain
from caselens.db.bulk import bulk_insert
from caselens.db.schema import timeline_events
from caselens.errors import InvalidInput
from caselens.extract.regions import region_of
from caselens.identity import exhibit_id, item_id
from caselens.services.access import WRITER_ROLES, purpose_for, require_member, require_open
from caselens.services.base import Service
from caselens.services.ingest import Acquisition, IngestService
from caselens.services.items import resolve_item
from caselens.timeline.events import TimelinePage, collect
from caselens.timeline.model import KINDS, Selection, bound_key
from caselens.timeline.parties import resolve_filter
from caselens.timeline.plaso import PlasoEvent, PlasoReport, read_events

MAX_LIMIT = 100_000
INSERT_BATCH = 2000
PROBLEMS_IN_LOGS = 20  # bad lines named in the custody and audit records


@dataclass(slots=True)
class PlasoImport:
    item_id: str
    name: str
    events: int
    lines: int
    blank: int
    bad_lines: int
    undated: int
    replaced: int  # events of an earlier import of the same item, now replaced
    problems: list[tuple[int, str]] = field(default_factory=list)


class TimelineService(Service):
    def events(
        self,
        actor: Actor,
        reference: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        kinds: Iterable[str] = (),
        entity: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> TimelinePage:
        """Dated facts of the case, oldest first: ``start`` inclusive, ``end`` exclusive
        (naive times are UTC), of the given kinds (all when none), involving ``entity``
        (an entity id, or a phone number, e-mail address or account name)."""
        chosen = _kinds(kinds)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise InvalidInput("offset must not be negative")
        if start is not None and end is not None and start >= end:
            raise InvalidInput("the window is empty: --from must come before --to")
        if entity is not None and not entity.strip():
            raise InvalidInput("give an entity id or a selector such as a phone number")

        def body(connection: Connection, case: Row[Any]) -> TimelinePage:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            party_ids, party_labels = None, frozenset[str]()
            if entity is not None:
                region = region_of(case.jurisdiction)
                party_ids, party_labels = resolve_filter(connection, case.id, entity, region)
            selection = Selection(
                start=bound_key(start) if start else None,
                end=bound_key(end) if end else None,
                kinds=chosen,
                party_ids=party_ids,
                party_labels=party_labels,
            )
            page = collect(connection, case.id, selection, limit=limit, offset=offset)
            self._audit(
                connection,
                actor,
                "timeline.events",
                case=case,
                purpose=purpose,
                details={
                    "from": selection.start,
                    "to": selection.end,
                    "kinds": sorted(chosen) if kinds else None,
                    "entity": entity,
                    "limit": limit,
                    "offset": offset,
                    "count": len(page.events),
                },
            )
            return page

        return self._in_case(actor, "timeline.events", reference, body)

    def import_plaso(
        self, actor: Actor, reference: str, path: str | Path, exhibit: str | None = None
    ) -> PlasoImport:
        """Import plaso's json_line output as timeline events of an item. ``path`` is a
        file, ingested into the case first (under ``exhibit``), or an item already in
        the case (its id, or a prefix of its id or SHA-256). The events are read from
        the stored, hash-checked copy; importing the same item again replaces them."""
        source = os.fsencode(path)
        if os.path.isfile(source):
            IngestService(self.runtime).ingest(
                actor, reference, [source], Acquisition(exhibit=exhibit)
            )
            item_ref: str | None = None
        elif exhibit is not None:
            raise InvalidInput(f"no such file: {os.fsdecode(source)} (--exhibit needs a file)")
        else:
            item_ref = os.fsdecode(source)

        def body(connection: Connection, case: Row[Any]) -> PlasoImport:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            purpose = purpose_for(actor, case)
            if item_ref is None:
                exhibit_key = exhibit_id(case.id, exhibit) if exhibit else None
                ingested = item_id(case.id, exhibit_key, None, os.path.abspath(source))
                item = resolve_item(connection, case.id, ingested)
            else:
                item = resolve_item(connection, case.id, item_ref)
            if item.sha256 is None:
                raise InvalidInput(f"item {item.id} ({item.name}) has no content to read")
            result = self._store(connection, case.id, item)
            details = {
                "what": "timeline events",
                "format": "plaso json_line",
                "events": result.events,
                "lines": result.lines,
                "bad_lines": result.bad_lines,
                "undated": result.undated,
                "replaced": result.replaced,
                "problems": [list(p) for p in result.problems[:PROBLEMS_IN_LOGS]],
            }
            entry = chain.LogEntry(
                action="derived", case_id=case.id, item_id=item.id, actor=actor.user,
                details=details,
            )  # fmt: skip
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit(
                connection,
                actor,
                "timeline.import_plaso",
                case=case,
                purpose=purpose,
                target=item.id,
                details=details,
            )
            return result

        return self._in_case(actor, "timeline.import_plaso", reference, body)

    def _store(self, connection: Connection, case_id: str, item: Row[Any]) -> PlasoImport:
        replaced = connection.execute(
            delete(timeline_events).where(timeline_events.c.item_id == item.id)
        ).rowcount
        report = PlasoReport()
        with self.runtime.blobs.open_verified(item.sha256) as handle:
            for batch in _batched(read_events(handle, report), INSERT_BATCH):
                rows = [_row(case_id, item.id, event) for event in batch]
                bulk_insert(connection, timeline_events, rows)
        return PlasoImport(
            item_id=item.id,
            name=item.name,
            events=report.events,
            lines=report.lines,
            blank=report.blank,
            bad_lines=report.bad,
            undated=report.undated,
            replaced=replaced or 0,
            problems=report.problems,
        )


def _kinds(kinds: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(kinds)
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise InvalidInput(
            f"unknown kind {', '.join(unknown)}; choose from {', '.join(KINDS)}", kinds=unknown
        )
    return chosen or frozenset(KINDS)


def _row(case_id: str, item: str, event: PlasoEvent) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "item_id": item,
        "line": event.line,
        "time": event.time,
        "timestamp_desc": event.timestamp_desc,
        "source": "plaso",
        "parser": event.parser,
        "data_type": event.data_type,
        "message": event.message,
        "display_name": event.display_name,
        "attributes": event.attributes,
    }


def _batched(events: Iterator[PlasoEvent], size: int) -> Iterator[list[PlasoEvent]]:
    while batch := list(islice(events, size)):
        yield batch
