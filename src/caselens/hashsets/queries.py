"""Queries on hash sets and their matches, for the service and for other listings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, select

from caselens.db.schema import entities, hash_matches, hash_set_entries, hash_sets, items
from caselens.hashsets.entries import PDQ_HEX_LENGTH, Algorithm, clean_hex
from caselens.identity import entity_id

KNOWN_GOOD = "known-good"
ALERT = "alert"
KINDS = (KNOWN_GOOD, ALERT)
EXACT = (
    (Algorithm.MD5, items.c.md5),
    (Algorithm.SHA1, items.c.sha1),
    (Algorithm.SHA256, items.c.sha256),
)
MATCH_KEY = ("case_id", "item_id", "set_id", "algorithm")


def known_good_items(case_id: str) -> Select[tuple[str]]:
    """Ids of the case's items that a known-good list matched and no alert list did.

    For listings that hide operating-system and application files, as
    ``items.c.id.not_in(known_good_items(case.id))``: an item on an alert list is never
    hidden, whatever else lists it.
    """
    alerted = (
        select(hash_matches.c.item_id)
        .join(hash_sets, hash_sets.c.id == hash_matches.c.set_id)
        .where(hash_matches.c.case_id == case_id, hash_sets.c.kind == ALERT)
    )
    return (
        select(hash_matches.c.item_id)
        .join(hash_sets, hash_sets.c.id == hash_matches.c.set_id)
        .where(
            hash_matches.c.case_id == case_id,
            hash_sets.c.kind == KNOWN_GOOD,
            hash_matches.c.item_id.not_in(alerted),
        )
        .distinct()
    )


def known_good_item_ids(connection: Connection, case_id: str) -> set[str]:
    """The ids of ``known_good_items`` as a set (for lists filtered in Python)."""
    return {str(item_id) for (item_id,) in connection.execute(known_good_items(case_id))}


def item_hash_matches(connection: Connection, case_id: str, item_id: str) -> list[dict[str, Any]]:
    """The lists that matched one item: set, kind, which hash, distance for PDQ, label."""
    query = (
        match_rows(case_id)
        .where(hash_matches.c.item_id == item_id)
        .order_by(hash_sets.c.kind, hash_sets.c.name, hash_matches.c.algorithm)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def match_rows(case_id: str) -> Select[Any]:
    """Matches of a case with the set's name and kind and the list entry's label."""
    entry = and_(
        hash_set_entries.c.algorithm == hash_matches.c.algorithm,
        hash_set_entries.c.value == hash_matches.c.value,
        hash_set_entries.c.set_id == hash_matches.c.set_id,
    )
    return (
        select(
            hash_matches.c.item_id,
            items.c.path,
            hash_sets.c.name.label("set"),
            hash_sets.c.kind,
            hash_matches.c.algorithm,
            hash_matches.c.item_value,
            hash_matches.c.value.label("list_value"),
            hash_matches.c.distance,
            hash_set_entries.c.label,
            hash_matches.c.matched_at,
        )
        .join(items, items.c.id == hash_matches.c.item_id)
        .join(hash_sets, hash_sets.c.id == hash_matches.c.set_id)
        .outerjoin(hash_set_entries, entry)
        .where(hash_matches.c.case_id == case_id)
    )


@dataclass(frozen=True, slots=True)
class CaseImage:
    """An image of a case with the PDQ hash its ingestor computed."""

    item_id: str
    path: str
    pdq: str
    quality: int | None


def case_images(connection: Connection, case_id: str) -> tuple[list[CaseImage], int]:
    """The case's images with a PDQ hash, and how many images had an unusable one.

    The hash is in the context of the item's own Image entity, as the image ingestor
    stores it: {"pdq": {"hash": "<64 hex>", "quality": <0-100>}}.
    """
    query = (
        select(entities.c.item_id, entities.c.entity_id, entities.c.context, items.c.path)
        .join(items, items.c.id == entities.c.item_id)
        .where(
            entities.c.case_id == case_id,
            entities.c.schema == "Image",
            entities.c.superseded.is_(False),
        )
        .order_by(items.c.path, items.c.id)
    )
    images: list[CaseImage] = []
    seen: set[str] = set()
    unusable = 0
    for row in connection.execute(query):
        if row.item_id in seen or row.entity_id != entity_id(case_id, "item", row.item_id):
            continue  # an Image the item mentions, not the item itself
        seen.add(row.item_id)
        image = _image(row.item_id, row.path, row.context)
        if image is None:
            unusable += 1
        else:
            images.append(image)
    return images, unusable


def _image(item_id: str, path: str, context: object) -> CaseImage | None:
    pdq = context.get("pdq") if isinstance(context, dict) else None
    if not isinstance(pdq, dict):
        return None
    raw = pdq.get("hash")
    value = clean_hex(raw) if isinstance(raw, str) else None
    if value is None or len(value) != PDQ_HEX_LENGTH:
        return None
    quality = pdq.get("quality")
    if isinstance(quality, bool) or not isinstance(quality, int):
        quality = None
    return CaseImage(item_id, path, value, quality)


@dataclass(frozen=True, slots=True)
class PdqList:
    set_id: int
    threshold: int
    values: list[str]


def pdq_lists(connection: Connection) -> list[PdqList]:
    """Every set's PDQ hashes with the set's threshold."""
    lists: dict[int, PdqList] = {}
    thresholds = dict(connection.execute(select(hash_sets.c.id, hash_sets.c.pdq_threshold)).all())
    query = select(hash_set_entries.c.set_id, hash_set_entries.c.value).where(
        hash_set_entries.c.algorithm == Algorithm.PDQ.value
    )
    for set_id, value in connection.execute(query):
        found = lists.get(set_id)
        if found is None:
            found = lists[set_id] = PdqList(set_id, int(thresholds.get(set_id) or 0), [])
        found.values.append(value)
    return list(lists.values())


def existing_pdq_matches(
    connection: Connection, case_id: str
) -> dict[tuple[str, int], tuple[str, str, int | None]]:
    """The case's PDQ flags: (item, set) -> (list hash, item hash, distance)."""
    query = select(
        hash_matches.c.item_id,
        hash_matches.c.set_id,
        hash_matches.c.value,
        hash_matches.c.item_value,
        hash_matches.c.distance,
    ).where(hash_matches.c.case_id == case_id, hash_matches.c.algorithm == Algorithm.PDQ.value)
    return {
        (r.item_id, r.set_id): (r.value, r.item_value, r.distance)
        for r in connection.execute(query)
    }


def delete_pdq_matches(
    connection: Connection, case_id: str, keys: Iterable[tuple[str, int]]
) -> None:
    for item_id, set_id in keys:
        connection.execute(
            hash_matches.delete().where(
                hash_matches.c.case_id == case_id,
                hash_matches.c.item_id == item_id,
                hash_matches.c.set_id == set_id,
                hash_matches.c.algorithm == Algorithm.PDQ.value,
            )
        )
