"""Transcripts of recorded statements: read one with its segments, and record a review.

A transcript is machine output until a person marks it reviewed, corrected or rejected;
that decision is kept on the transcript, in the audit log and in the item's custody chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from caselens.actor import Actor
from caselens.custody import chain
from caselens.db.schema import transcript_segments, transcripts
from caselens.errors import InvalidInput, NotFound
from caselens.services.access import purpose_for, require_member, require_open
from caselens.services.base import Service
from caselens.services.items import resolve_item

# "machine" is where every transcript starts; a person moves it to one of these.
REVIEW_STATES = ("reviewed", "corrected", "rejected")


class TranscriptService(Service):
    def show(self, actor: Actor, reference: str, item_ref: str) -> dict[str, Any]:
        """The current transcript of an item: model, language, review state and segments."""

        def body(connection: Connection, case: Row[Any]) -> dict[str, Any]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            item = resolve_item(connection, case.id, item_ref)
            found = _current(connection, item)
            segments = [
                dict(segment._mapping)
                for segment in connection.execute(
                    select(
                        transcript_segments.c.number,
                        transcript_segments.c.start,
                        transcript_segments.c.end,
                        transcript_segments.c.text,
                        transcript_segments.c.confidence,
                    )
                    .where(
                        transcript_segments.c.item_id == item.id,
                        transcript_segments.c.generation == found.generation,
                    )
                    .order_by(transcript_segments.c.number)
                )
            ]
            entry = chain.LogEntry(
                action="read",
                case_id=case.id,
                item_id=item.id,
                actor=actor.user,
                details={"purpose": purpose, "what": "transcript"},
            )
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit(
                connection, actor, "transcript.show", case=case, purpose=purpose, target=item.id
            )
            return {"item_id": item.id, "name": item.name, **_public(found), "segments": segments}

        return self._in_case(actor, "transcript.show", reference, body)

    def review(
        self, actor: Actor, reference: str, item_ref: str, state: str, note: str | None = None
    ) -> dict[str, Any]:
        """Record a person's judgement of the current transcript; returns it as now stored."""
        if state not in REVIEW_STATES:
            raise InvalidInput(
                f"unknown review state {state!r}; choose one of {', '.join(REVIEW_STATES)}",
                state=state,
            )

        def body(connection: Connection, case: Row[Any]) -> dict[str, Any]:
            require_member(connection, actor, case)  # every role may review, reviewers too
            require_open(case)
            purpose = purpose_for(actor, case)
            item = resolve_item(connection, case.id, item_ref)
            found = _current(connection, item)
            now = datetime.now(UTC)
            connection.execute(
                update(transcripts)
                .where(
                    transcripts.c.item_id == item.id,
                    transcripts.c.generation == found.generation,
                )
                .values(
                    review_state=state, reviewed_by=actor.user, reviewed_at=now, review_note=note
                )
            )
            details = {
                "generation": found.generation,
                "from": found.review_state,
                "to": state,
                "note": note,
                "model": found.model,
                "model_version": found.model_version,
            }
            entry = chain.LogEntry(
                action="transcript.reviewed",
                case_id=case.id,
                item_id=item.id,
                actor=actor.user,
                details={k: v for k, v in details.items() if v is not None},
            )
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit(
                connection,
                actor,
                "transcript.review",
                case=case,
                purpose=purpose,
                target=item.id,
                details=details,
            )
            return {"item_id": item.id, "name": item.name, **_public(_current(connection, item))}

        return self._in_case(actor, "transcript.review", reference, body)


def _current(connection: Connection, item: Row[Any]) -> Row[Any]:
    found = connection.execute(
        select(transcripts).where(
            transcripts.c.item_id == item.id, transcripts.c.generation == item.generation
        )
    ).first()
    if found is None:
        raise NotFound(f"item {item.id} has no transcript (not a recording, or not transcribed)")
    return found


def _public(row: Row[Any]) -> dict[str, Any]:
    return {key: value for key, value in row._mapping.items() if key != "item_id"}
