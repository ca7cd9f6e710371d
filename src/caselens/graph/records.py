"""Edge kinds, and the readable records of one node and one edge, made on demand from
the graph's arrays (``tables``)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

# Edge kinds. Communications and ownership have a direction; appearing together has none.
EMAIL, MESSAGE, CALL, PAYMENT = "email", "message", "call", "payment"
OWNS, TOGETHER = "owns", "together"
EDGE_KINDS = (EMAIL, MESSAGE, CALL, PAYMENT, OWNS, TOGETHER)
DIRECTED_KINDS = frozenset({EMAIL, MESSAGE, CALL, PAYMENT, OWNS})
# Ownership is a standing fact, not an event: a time window does not drop it.
TIMELESS_KINDS = frozenset({OWNS})
CATEGORIES = ("person", "organisation", "account", "device")
ROLES = ("bcc", "cc", "to")  # e-mail recipient roles; bit i of an edge's roles is ROLES[i]

EVIDENCE_CAP = 20  # item ids listed per edge; ``evidence_count`` gives the full number


@dataclass(slots=True)
class Node:
    """An entity of the case, or a selector (``kind:value``) that no entity holds."""

    key: str  # entity id, or "phone:+447700900123" for a selector node
    category: str  # person | organisation | account | device
    kind: str  # the FollowTheMoney schema, or the selector's kind
    label: str
    identifiers: list[str] = field(default_factory=list)  # "email:a@b", "phone:+44..."
    # The entities judged one with it (the canonical id first); empty when not merged.
    merged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "category": self.category,
            "kind": self.kind,
            "label": self.label,
            "identifiers": list(self.identifiers),
            "merged": list(self.merged),
        }


@dataclass(slots=True)
class Edge:
    """All links of one kind between two nodes: the events, their times and the items."""

    source: int
    target: int
    kind: str
    directed: bool
    count: int  # events (e-mails, messages, calls) or, for ``together``, items
    times: list[str]  # sorted ISO 8601 UTC times of the dated events
    evidence: list[str]  # the first EVIDENCE_CAP item ids, sorted
    evidence_count: int
    roles: list[str] = field(default_factory=list)  # e-mail: to / cc / bcc

    @property
    def first(self) -> str | None:
        return self.times[0] if self.times else None

    @property
    def last(self) -> str | None:
        return self.times[-1] if self.times else None

    def events_between(self, since: str | None, until: str | None) -> int:
        """Dated events inside [since, until]; ``until`` as a date includes that whole day."""
        low = bisect_left(self.times, since) if since else 0
        high = bisect_right(self.times, day_end(until)) if until else len(self.times)
        return max(0, high - low)


def day_end(until: str) -> str:
    # "2024-01-31" must include events on that day: times sort as strings.
    return until + "T23:59:59" if len(until) == 10 else until
