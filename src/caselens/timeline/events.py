"""The case timeline: every source of dated facts, merged into one chronological stream.

Each source yields its events in time order, reading its rows from the database in
batches already ordered and filtered by the window (and, for communications, by the
entity filter); the sources are merged lazily and the merge stops once the page is full.
A page at offset O with limit L thus reads at most about O + L rows from each source,
plus the database's own cost of ordering a source's rows (dates inside JSON have no
index: a scan of the case's rows of that kind).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection

from caselens.timeline.entity_events import ENTITY_SOURCES
from caselens.timeline.model import KINDS_WITH_PARTIES, Selection, TimelineEvent
from caselens.timeline.reading import Reader
from caselens.timeline.record_events import RECORD_SOURCES


class EventSource(Protocol):
    @property
    def kind(self) -> str: ...

    def read(self, reader: Reader) -> Iterator[TimelineEvent]: ...


# Every source, in the order events with the same time are listed.
SOURCES: tuple[EventSource, ...] = (*ENTITY_SOURCES, *RECORD_SOURCES)


@dataclass(slots=True)
class TimelinePage:
    events: list[TimelineEvent]
    offset: int
    limit: int
    more: bool  # events follow this page
    kinds: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "offset": self.offset,
            "limit": self.limit,
            "more": self.more,
            "kinds": self.kinds,
            "events": [event.as_dict() for event in self.events],
        }


def collect(
    connection: Connection, case_id: str, selection: Selection, *, limit: int, offset: int
) -> TimelinePage:
    """One page of the case's timeline, oldest first."""
    reader = Reader(connection, case_id, selection, need=offset + limit + 1)
    chosen = [
        source
        for source in SOURCES
        if source.kind in selection.kinds
        and (selection.party_ids is None or source.kind in KINDS_WITH_PARTIES)
    ]
    merged = heapq.merge(*(source.read(reader) for source in chosen), key=lambda e: e.key)
    page = list(itertools.islice(merged, offset, offset + limit + 1))
    return TimelinePage(
        events=page[:limit],
        offset=offset,
        limit=limit,
        more=len(page) > limit,
        kinds=sorted({source.kind for source in chosen}),
    )
