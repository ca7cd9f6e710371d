"""A timeline event, the filters of a timeline query, and the times both are written in.

Times come from many sources in many forms: FollowTheMoney dates ("2026-01-19T16:22:05",
or a date alone), file-system times with nanoseconds and a Z, database timestamps. Each
event carries one ``key``: the UTC time as ISO 8601 without a designator, the fraction
as precise as the source kept it. Such keys sort chronologically as plain text (a date
alone sorts at the start of its day), which is what lets each source be read in order
from the database and the sources be merged without loading them whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The kinds of event, in the order the help lists them.
KINDS = (
    "email",
    "message",
    "call",
    "calendar",
    "picture",
    "recording",
    "transcript",
    "document",
    "file",
    "custody",
    "plaso",
)
# Kinds whose events have parties: an entity filter can only ever select these.
KINDS_WITH_PARTIES = frozenset({"email", "message", "call", "calendar"})


@dataclass(frozen=True, slots=True)
class Party:
    """Someone on an event: the entity (when there is one) and how it is shown."""

    role: str  # from, to, caller, receiver, organizer, involved
    entity_id: str | None
    label: str


@dataclass(slots=True)
class TimelineEvent:
    key: str = field(repr=False)  # sort key: UTC ISO 8601 without a designator
    kind: str
    summary: str
    source: str  # where the time was read: "Email.date", "file.modified", "custody"...
    item_id: str | None = None
    entity_id: str | None = None
    parties: list[Party] = field(default_factory=list)
    time_zone: str | None = None  # the zone the source wrote the time in, when known
    time_zone_assumed: bool | None = None  # True: the zone was not in the source
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def time(self) -> str:
        """The time as shown: UTC with a Z, or a date alone as the source had it."""
        return self.key + "Z" if "T" in self.key else self.key

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"time": self.time}
        found.update(
            {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "key"}
        )
        found["parties"] = [dataclasses.asdict(party) for party in self.parties]
        return found


@dataclass(frozen=True, slots=True)
class Selection:
    """What a timeline query asks for: a window (start inclusive, end exclusive, as keys),
    kinds, and parties (entity ids, and labels such as phone numbers without an entity)."""

    start: str | None = None
    end: str | None = None
    kinds: frozenset[str] = frozenset(KINDS)
    party_ids: frozenset[str] | None = None  # None: no entity filter
    party_labels: frozenset[str] = frozenset()

    def in_window(self, key: str) -> bool:
        return (self.start is None or key >= self.start) and (self.end is None or key < self.end)

    def involves(self, event: TimelineEvent) -> bool:
        if self.party_ids is None:
            return True
        return any(
            (p.entity_id is not None and p.entity_id in self.party_ids)
            or p.label in self.party_labels
            for p in event.parties
        )

    def keeps(self, event: TimelineEvent) -> bool:
        return self.in_window(event.key) and self.involves(event)


def bound_key(moment: datetime) -> str:
    """A window bound's key (a naive datetime is taken as UTC). Midnight becomes the date
    alone, so that a window from a day includes the facts known only by their date."""
    utc = _utc(moment)
    if utc.hour == utc.minute == utc.second == utc.microsecond == 0:
        return utc.date().isoformat()
    return utc.replace(tzinfo=None).isoformat()


def time_key(moment: datetime) -> str:
    """The key of a stored datetime (a naive one is taken as UTC)."""
    return _utc(moment).replace(tzinfo=None).isoformat()


def key_of_text(value: str) -> str:
    """The key of a stored ISO 8601 UTC text: a final "Z" or "+00:00" is dropped."""
    text = value.strip()
    if text.endswith("Z"):
        return text[:-1]
    if text.endswith("+00:00"):
        return text[:-6]
    return text


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
