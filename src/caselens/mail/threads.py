"""Conversation threads from Message-ID, In-Reply-To and References (JWZ's container method).

Every message id seen (as a message or only as a reference) gets a container; references
link containers parent to child unless that would make a loop; a message's own parent
is its last reference. Referenced messages that are not in the set stay as placeholders,
so a thread's root, and hence its id, does not change when a missing message turns up.
Only messages that carry no reference at all, yet whose subject says they are a reply or
a forward ("Re:", "AW:", "Fwd:"...), are placed in a thread by their subject.

Pure functions: records in, threads out; the result does not depend on input order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|ref|r|fw|fwd|wg|tr|rv|enc)(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[[^\]]*\]\s*)+",
    re.IGNORECASE,
)


_HAS_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)*(?:re|aw|sv|vs|antw|ref|r|fw|fwd|wg|tr|rv|enc)"
    r"(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """What threading needs of one message."""

    entity_id: str
    message_id: str | None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str | None = None
    date: str | None = None  # ISO 8601; compared as text

    @classmethod
    def from_properties(
        cls, entity_id: str, properties: Mapping[str, Sequence[str]]
    ) -> ThreadRecord:
        """A record from an Email entity's properties (References are read from its headers)."""
        references: list[str] = []
        for blob in properties.get("headers", []):
            try:
                pairs = json.loads(blob)
            except ValueError:
                continue
            for pair in pairs if isinstance(pairs, list) else []:
                if (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and str(pair[0]).lower() == "references"
                ):
                    references.extend(re.findall(r"<([^<>\s]+)>", str(pair[1])))
        return cls(
            entity_id=entity_id,
            message_id=next(iter(properties.get("messageId", [])), None),
            in_reply_to=tuple(properties.get("inReplyTo", [])),
            references=tuple(references),
            subject=next(iter(properties.get("subject", [])), None),
            date=next(iter(properties.get("date", [])), None),
        )


@dataclass(frozen=True, slots=True)
class ThreadLink:
    """Where one message sits: its thread and its parent (a message or a placeholder)."""

    entity_id: str
    thread_id: str
    parent_message_id: str | None  # None for a thread's root
    parent_entity_id: str | None  # None when the parent is a placeholder, or for a root
    by_subject: bool = False  # placed by its subject only (it carried no reference)


@dataclass
class Thread:
    thread_id: str
    root_message_id: str
    entity_ids: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # referenced, not in the set


@dataclass(eq=False)
class _Container:
    key: str  # the message id, or a made-up unique key for duplicates and id-less messages
    record: ThreadRecord | None = None
    parent: _Container | None = None
    children: list[_Container] = field(default_factory=list)

    def is_ancestor_of(self, other: _Container) -> bool:
        node: _Container | None = other
        while node is not None:
            if node is self:
                return True
            node = node.parent
        return False


def normalise_message_id(value: str) -> str:
    return value.strip().strip("<>").strip()


def base_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes or list tags, case-folded."""
    return " ".join(_REPLY_PREFIX.sub("", subject or "").split()).casefold()


def thread_id_for(root_key: str) -> str:
    return hashlib.sha256(root_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def build_threads(records: Iterable[ThreadRecord]) -> tuple[list[Thread], list[ThreadLink]]:
    """Threads (sorted by id) and one link per record (sorted by entity id)."""
    ordered = sorted(records, key=lambda r: (r.message_id or "", r.date or "", r.entity_id))
    containers: dict[str, _Container] = {}
    own: dict[str, _Container] = {}  # entity id -> its container
    for record in ordered:
        container = _own_container(record, containers)
        own[record.entity_id] = container
        chain = _reference_chain(record)
        previous: _Container | None = None
        for reference in chain:
            current = containers.setdefault(reference, _Container(reference))
            if (
                previous is not None
                and current.parent is None
                and not current.is_ancestor_of(previous)
            ):
                _link(previous, current)
            previous = current
        if (
            previous is not None
            and previous is not container
            and not container.is_ancestor_of(previous)
        ):
            if container.parent is not None:
                container.parent.children.remove(container)
                container.parent = None
            _link(previous, container)
    _attach_by_subject(ordered, own, containers)
    return _collect(containers, own)


def _own_container(record: ThreadRecord, containers: dict[str, _Container]) -> _Container:
    key = normalise_message_id(record.message_id or "")
    existing = containers.get(key) if key else None
    if key and (existing is None or existing.record is None):
        container = existing or containers.setdefault(key, _Container(key))
    else:
        # No id, or an id already taken by another message: a container of its own.
        key = f"{key or 'no-id'}\x00{record.entity_id}"
        container = containers.setdefault(key, _Container(key))
    container.record = record
    return container


def _reference_chain(record: ThreadRecord) -> list[str]:
    chain = [normalise_message_id(value) for value in record.references]
    replied = [normalise_message_id(value) for value in record.in_reply_to]
    # In-Reply-To names the direct parent; References may be cut or missing.
    if replied and (not chain or chain[-1] != replied[-1]):
        chain.append(replied[-1])
    own = normalise_message_id(record.message_id or "")
    return [value for value in dict.fromkeys(chain) if value and value != own]


def _message_id(container: _Container) -> str:
    if container.record is not None:  # a duplicate's or an id-less message's made-up key
        return normalise_message_id(container.record.message_id or "")
    return container.key


def _link(parent: _Container, child: _Container) -> None:
    child.parent = parent
    parent.children.append(child)


def _root(container: _Container) -> _Container:
    while container.parent is not None:
        container = container.parent
    return container


def _attach_by_subject(
    ordered: list[ThreadRecord], own: dict[str, _Container], containers: dict[str, _Container]
) -> None:
    """Put reference-less replies into the thread of the same base subject."""
    by_subject: dict[str, list[_Container]] = {}
    for record in sorted(ordered, key=lambda r: (r.date or "", r.entity_id)):
        subject = base_subject(record.subject)
        if subject:
            by_subject.setdefault(subject, []).append(own[record.entity_id])
    for record in ordered:
        container = own[record.entity_id]
        if record.references or record.in_reply_to or container.parent is not None:
            continue
        if not _HAS_REPLY_PREFIX.match(record.subject or ""):
            continue  # no reply or forward prefix: it starts its own thread
        for candidate in by_subject.get(base_subject(record.subject), []):
            root = _root(candidate)
            if root is not container and not container.is_ancestor_of(root):
                _link(root, container)
                break


def _collect(
    containers: dict[str, _Container], own: dict[str, _Container]
) -> tuple[list[Thread], list[ThreadLink]]:
    threads: dict[str, Thread] = {}
    links: list[ThreadLink] = []
    subject_linked = {
        id(container)
        for container in own.values()
        if container.parent is not None
        and container.record is not None
        and not container.record.references
        and not container.record.in_reply_to
    }
    for container in containers.values():
        root = _root(container)
        thread_id = thread_id_for(root.key)
        thread = threads.setdefault(thread_id, Thread(thread_id, _message_id(root)))
        if container.record is None:
            thread.placeholders.append(container.key)
            continue
        thread.entity_ids.append(container.record.entity_id)
        parent = container.parent
        links.append(
            ThreadLink(
                entity_id=container.record.entity_id,
                thread_id=thread_id,
                parent_message_id=_message_id(parent) if parent else None,
                parent_entity_id=parent.record.entity_id if parent and parent.record else None,
                by_subject=id(container) in subject_linked,
            )
        )
    for thread in threads.values():
        thread.entity_ids.sort()
        thread.placeholders.sort()
    return sorted(threads.values(), key=lambda t: t.thread_id), sorted(
        links, key=lambda link: link.entity_id
    )
