"""Reading a case's items: status, lists, one item in full, and its original bytes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, func, select

from caselens.actor import Actor
from caselens.custody import chain
from caselens.db.schema import entities, exhibits, item_texts, items, log_records
from caselens.errors import IntegrityError, InvalidInput, NotFound
from caselens.hashsets.queries import item_hash_matches, known_good_items
from caselens.hits.found import hit_counts
from caselens.media.thumbnails import ThumbnailError, make_thumbnail
from caselens.services.access import purpose_for, require_member
from caselens.services.base import Service
from caselens.store.hashing import CHUNK_SIZE, Digests, MultiHasher

ITEM_ID_LENGTH = 32


@dataclass(slots=True)
class CaseStatus:
    reference: str
    title: str
    status: str
    items: int
    bytes: int
    by_state: dict[str, int]
    by_format: dict[str, dict[str, int]]
    by_mime_type: dict[str, int]
    failures: list[dict[str, Any]]
    # Why items were not read, per format: (format, state, reason) with a count.
    reasons: list[dict[str, Any]] = field(default_factory=list)
    # Cross-case hits: in all, and not yet listed by a member (``caselens hits``).
    hits: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ItemDetail:
    item: dict[str, Any]
    exhibit: dict[str, Any] | None
    pages: list[dict[str, Any]]
    children: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    custody: list[dict[str, Any]] = field(default_factory=list)
    hash_matches: list[dict[str, Any]] = field(default_factory=list)  # hash lists that list it


LIST_COLUMNS = (
    items.c.id,
    items.c.path,
    items.c.name,
    items.c.parent_id,
    items.c.sha256,
    items.c.size,
    items.c.mime_type,
    items.c.format,
    items.c.state,
    items.c.error,
)


class ItemService(Service):
    def status(self, actor: Actor, reference: str, failure_limit: int = 50) -> CaseStatus:
        def body(connection: Connection, case: Row[Any]) -> CaseStatus:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            where = items.c.case_id == case.id
            by_state: dict[str, int] = dict(
                connection.execute(
                    select(items.c.state, func.count()).where(where).group_by(items.c.state)
                ).all()
            )
            by_format: dict[str, dict[str, int]] = {}
            for name, state, count in connection.execute(
                select(items.c.format, items.c.state, func.count())
                .where(where)
                .group_by(items.c.format, items.c.state)
            ):
                by_format.setdefault(name or "(none)", {})[state] = count
            by_mime: dict[str | None, int] = dict(
                connection.execute(
                    select(items.c.mime_type, func.count())
                    .where(where)
                    .group_by(items.c.mime_type)
                    .order_by(func.count().desc())
                ).all()
            )
            total_bytes = connection.execute(
                select(func.coalesce(func.sum(items.c.size), 0)).where(where)
            ).scalar_one()
            failures = [
                {"id": r.id, "path": r.path, "state": r.state, "reason": r.error}
                for r in connection.execute(
                    select(items.c.id, items.c.path, items.c.state, items.c.error)
                    .where(where, items.c.state.in_(["failed", "skipped", "encrypted"]))
                    .order_by(items.c.path)
                    .limit(failure_limit)
                )
            ]
            not_read = items.c.state.in_(["failed", "skipped", "encrypted"])
            reasons = [
                {"format": r.format or "(none)", "state": r.state, "reason": r.error, "items": r.n}
                for r in connection.execute(
                    select(items.c.format, items.c.state, items.c.error, func.count().label("n"))
                    .where(where, not_read)
                    .group_by(items.c.format, items.c.state, items.c.error)
                    .order_by(func.count().desc(), items.c.format)
                    .limit(failure_limit)
                )
            ]
            self._audit(connection, actor, "case.status", case=case, purpose=purpose)
            return CaseStatus(
                reference=case.reference,
                title=case.title,
                status=case.status,
                items=sum(by_state.values()),
                bytes=int(total_bytes),
                by_state=by_state,
                by_format=by_format,
                by_mime_type={str(k or "(unknown)"): v for k, v in by_mime.items()},
                failures=failures,
                reasons=reasons,
                hits=hit_counts(connection, case.id),
            )

        return self._in_case(actor, "case.status", reference, body)

    def list(
        self,
        actor: Actor,
        reference: str,
        *,
        state: str | None = None,
        mime_type: str | None = None,
        format_name: str | None = None,
        path_contains: str | None = None,
        limit: int = 100,
        offset: int = 0,
        hide_known_good: bool = False,
    ) -> list[dict[str, Any]]:
        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            query = select(*LIST_COLUMNS).where(items.c.case_id == case.id)
            if state:
                query = query.where(items.c.state == state)
            if mime_type:
                query = query.where(items.c.mime_type.like(mime_type.replace("*", "%")))
            if format_name:
                query = query.where(items.c.format == format_name)
            if path_contains:
                query = query.where(items.c.path.contains(path_contains, autoescape=True))
            if hide_known_good:  # operating-system and application files on a known-good list
                query = query.where(items.c.id.not_in(known_good_items(case.id)))
            query = query.order_by(items.c.path, items.c.id).limit(limit).offset(offset)
            rows = [dict(row._mapping) for row in connection.execute(query)]
            filters = {
                "state": state,
                "mime_type": mime_type,
                "format": format_name,
                "hide_known_good": hide_known_good,
            }
            self._audit(
                connection,
                actor,
                "item.list",
                case=case,
                purpose=purpose,
                details={"filters": {k: v for k, v in filters.items() if v}, "count": len(rows)},
            )
            return rows

        return self._in_case(actor, "item.list", reference, body)

    def show(self, actor: Actor, reference: str, item_ref: str) -> ItemDetail:
        """One item in full: metadata, acquisition, text per page, children, custody history."""

        def body(connection: Connection, case: Row[Any]) -> ItemDetail:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            row = resolve_item(connection, case.id, item_ref)
            item = {k: v for k, v in row._mapping.items() if k != "path_bytes"}
            exhibit = None
            if row.exhibit_id:
                found = connection.execute(
                    select(exhibits).where(exhibits.c.id == row.exhibit_id)
                ).first()
                exhibit = dict(found._mapping) if found else None
            pages = [
                {"page": p.page, "text": p.text}
                for p in connection.execute(
                    select(item_texts.c.page, item_texts.c.text)
                    .where(
                        item_texts.c.item_id == row.id,
                        item_texts.c.superseded.is_(False),
                    )
                    .order_by(item_texts.c.page)
                )
            ]
            children = [
                dict(child._mapping)
                for child in connection.execute(
                    select(*LIST_COLUMNS).where(items.c.parent_id == row.id).order_by(items.c.path)
                )
            ]
            entity_rows = [
                {
                    "id": e.entity_id,
                    "schema": e.schema,
                    "properties": e.properties,
                    "context": e.context,
                }
                for e in connection.execute(
                    select(entities).where(
                        entities.c.item_id == row.id, entities.c.superseded.is_(False)
                    )
                )
            ]
            custody = [
                {
                    "seq": r.seq,
                    "action": r.action,
                    "actor": r.actor,
                    "at": r.at,
                    "details": json.loads(r.record)["body"].get("details", {}),
                    "hash": r.hash,
                }
                for r in connection.execute(
                    select(log_records)
                    .where(
                        log_records.c.chain == chain.custody_chain(case.id),
                        log_records.c.item_id == row.id,
                    )
                    .order_by(log_records.c.seq)
                )
            ]
            entry = chain.LogEntry(
                action="read",
                case_id=case.id,
                item_id=row.id,
                actor=actor.user,
                details={"purpose": purpose, "what": "metadata and text"},
            )
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit(connection, actor, "item.show", case=case, purpose=purpose, target=row.id)
            matches = item_hash_matches(connection, case.id, row.id)
            return ItemDetail(item, exhibit, pages, children, entity_rows, custody, matches)

        return self._in_case(actor, "item.show", reference, body)

    def export(self, actor: Actor, reference: str, item_ref: str, destination: Path) -> Digests:
        """Write an item's original bytes to a new file; the hash is checked as they are copied."""

        def body(connection: Connection, case: Row[Any]) -> Digests:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            row = resolve_item(connection, case.id, item_ref)
            if not row.sha256:
                raise InvalidInput(f"item {row.id} has no content ({row.state}: {row.error})")
            target = destination / row.name if destination.is_dir() else destination
            if target.exists():
                raise InvalidInput(f"{target} exists; caselens never overwrites a file")
            digests = self._copy_checked(row, target)
            entry = chain.LogEntry(
                action="exported",
                case_id=case.id,
                item_id=row.id,
                actor=actor.user,
                details={"purpose": purpose, "to": str(target), "sha256": digests.sha256},
            )
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), [entry])
            self._audit(
                connection,
                actor,
                "item.export",
                case=case,
                purpose=purpose,
                target=row.id,
                details={"to": str(target)},
            )
            return digests

        return self._in_case(actor, "item.export", reference, body)

    def thumbnail(self, actor: Actor, reference: str, item_ref: str, max_side: int = 256) -> bytes:
        """A small JPEG of a picture item (upright, no metadata), cached in the data home.

        Previews are derived data: made from the verified blob on first use, kept under
        ``thumbnails/`` by content hash and size, and never part of the evidence store.
        """

        def body(connection: Connection, case: Row[Any]) -> bytes:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            row = resolve_item(connection, case.id, item_ref)
            if not row.sha256 or not (row.mime_type or "").startswith("image/"):
                raise InvalidInput(f"item {row.id} is not a picture ({row.mime_type})")
            preview = self._cached_thumbnail(row.sha256, max_side)
            self._audit(
                connection,
                actor,
                "item.thumbnail",
                case=case,
                purpose=purpose,
                target=row.id,
                details={"max_side": max_side},
            )
            return preview

        return self._in_case(actor, "item.thumbnail", reference, body)

    def _cached_thumbnail(self, sha256: str, max_side: int) -> bytes:
        if not 16 <= max_side <= 2048:
            raise InvalidInput("thumbnail size must be between 16 and 2048 pixels")
        folder = self.runtime.settings.resolved_home / "thumbnails" / sha256[:2]
        cached = folder / f"{sha256}-{max_side}.jpg"
        if cached.is_file():
            return cached.read_bytes()
        with self.runtime.blobs.open_verified(sha256) as handle:
            try:
                preview = make_thumbnail(handle.read(), max_side)
            except ThumbnailError as err:
                raise InvalidInput(f"no thumbnail: {err}") from err
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{cached.name}.{os.getpid()}"
        temp.write_bytes(preview)
        temp.replace(cached)  # atomic: a reader sees the whole preview or none
        return preview

    def _copy_checked(self, row: Row[Any], target: Path) -> Digests:
        source = self.runtime.blobs.path_for(row.sha256)
        temp = target.with_name(f".{target.name}.caselens-partial")
        hasher = MultiHasher()
        try:
            with source.open("rb") as reader, temp.open("xb") as writer:
                while chunk := reader.read(CHUNK_SIZE):
                    hasher.update(chunk)
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            digests = hasher.digests()
            if digests.sha256 != row.sha256 or digests.size != row.size:
                raise IntegrityError(
                    f"item {row.id}: stored content hashes to {digests.sha256}, recorded "
                    f"{row.sha256}; the blob has been altered and was not exported",
                    item=row.id,
                )
            temp.rename(target)
        except FileNotFoundError as err:
            raise IntegrityError(f"item {row.id}: its blob is missing from the store") from err
        finally:
            if temp.exists():
                temp.unlink()
        return digests


def resolve_item(connection: Connection, case_id: str, item_ref: str) -> Row[Any]:
    """An item by id, or by a prefix of its id or SHA-256 that names exactly one item."""
    ref = item_ref.strip().lower()
    if len(ref) < 6 or any(c not in "0123456789abcdef" for c in ref):
        raise InvalidInput(f"{item_ref!r} is neither an item id nor a SHA-256 prefix (6+ hex)")
    if len(ref) == ITEM_ID_LENGTH:
        row = connection.execute(
            select(items).where(items.c.case_id == case_id, items.c.id == ref)
        ).first()
        if row is not None:
            return row
    matches = connection.execute(
        select(items)
        .where(
            items.c.case_id == case_id,
            items.c.id.startswith(ref) | items.c.sha256.startswith(ref),
        )
        .limit(3)
    ).all()
    if not matches:
        raise NotFound(f"no item {item_ref} in this case")
    if len(matches) > 1:
        raise InvalidInput(f"{item_ref} matches several items; give more of the hash or the id")
    return matches[0]
