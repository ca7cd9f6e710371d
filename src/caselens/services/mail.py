"""E-mail across a case: conversation threads rebuilt from the stored Email entities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from caselens.actor import Actor
from caselens.db.schema import entities
from caselens.mail.threads import ThreadRecord, build_threads
from caselens.services.access import purpose_for, require_member
from caselens.services.base import Service


@dataclass(slots=True)
class ThreadMessage:
    item_id: str
    entity_id: str
    message_id: str | None
    subject: str | None
    date: str | None
    sender: list[str]
    parent_entity_id: str | None
    parent_message_id: str | None  # also set when the parent is not in the case
    by_subject: bool


@dataclass(slots=True)
class ConversationThread:
    thread_id: str
    root_message_id: str
    first: str | None
    last: str | None
    messages: list[ThreadMessage] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # referenced, not in the case


class MailService(Service):
    def threads(
        self, actor: Actor, reference: str, *, min_messages: int = 1, limit: int = 100
    ) -> list[ConversationThread]:
        """The case's e-mail threads, largest first (then most recent)."""

        def body(connection: Connection, case: Row[Any]) -> list[ConversationThread]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            rows = connection.execute(
                select(entities.c.entity_id, entities.c.item_id, entities.c.properties).where(
                    entities.c.case_id == case.id,
                    entities.c.schema == "Email",
                    entities.c.superseded.is_(False),
                )
            ).all()
            result = _threads(rows, min_messages)[:limit]
            self._audit(
                connection,
                actor,
                "mail.threads",
                case=case,
                purpose=purpose,
                details={"threads": len(result)},
            )
            return result

        return self._in_case(actor, "mail.threads", reference, body)


def _threads(rows: Sequence[Any], min_messages: int) -> list[ConversationThread]:
    by_entity: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for row in rows:
        # One Email entity may come in fragments (several rows): merge their properties.
        item_id, properties = by_entity.setdefault(row.entity_id, (row.item_id, {}))
        for name, values in (row.properties or {}).items():
            properties.setdefault(name, []).extend(values)
    records = [ThreadRecord.from_properties(eid, props) for eid, (_, props) in by_entity.items()]
    threads, links = build_threads(records)
    link_of = {link.entity_id: link for link in links}
    result = []
    for thread in threads:
        if len(thread.entity_ids) < min_messages:
            continue
        messages = []
        for entity_id in thread.entity_ids:
            item_id, properties = by_entity[entity_id]
            link = link_of[entity_id]
            messages.append(
                ThreadMessage(
                    item_id=item_id,
                    entity_id=entity_id,
                    message_id=_first(properties, "messageId"),
                    subject=_first(properties, "subject"),
                    date=_first(properties, "date"),
                    sender=properties.get("from", []) or properties.get("sender", []),
                    parent_entity_id=link.parent_entity_id,
                    parent_message_id=link.parent_message_id,
                    by_subject=link.by_subject,
                )
            )
        messages.sort(key=lambda m: (m.date or "", m.entity_id))
        dates = [m.date for m in messages if m.date]
        result.append(
            ConversationThread(
                thread_id=thread.thread_id,
                root_message_id=thread.root_message_id,
                first=min(dates) if dates else None,
                last=max(dates) if dates else None,
                messages=messages,
                missing=thread.placeholders,
            )
        )
    result.sort(key=lambda t: (-len(t.messages), -_sortable(t.last), t.thread_id))
    return result


def _first(properties: dict[str, list[str]], name: str) -> str | None:
    values = properties.get(name)
    return values[0] if values else None


def _sortable(date: str | None) -> float:
    digits = "".join(ch for ch in (date or "")[:19] if ch.isdigit())
    return float(digits or 0)
