"""The tables around WhatsApp for iOS' messages: chats, group members and media."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from caselens.ingest.formats.phone.database import Schema, has_columns
from caselens.ingest.formats.phone.readers.ios.sqlrows import column, rows, text
from caselens.ingest.formats.phone.readers.values import integer
from caselens.ingest.sink import Sink

GROUP_DOMAIN = "@g.us"


@dataclass(frozen=True, slots=True)
class Session:
    """A chat: with one person, a group, or a broadcast list."""

    pk: int
    jid: str | None
    name: str | None  # the partner's name, or the group's subject

    @property
    def group(self) -> bool:
        return bool(self.jid and self.jid.endswith(GROUP_DOMAIN))


@dataclass(frozen=True, slots=True)
class Media:
    path: str | None  # where the app kept the file ("Media/…/a/b/….jpg")
    url: str | None
    title: str | None  # a caption, or a place's name
    position: tuple[float, float] | None  # latitude, longitude of a shared location


@dataclass
class MediaIndex:
    """Media items by the message that points at them or that they point at.

    Versions differ in which side holds the link (``ZWAMESSAGE.ZMEDIAITEM`` or
    ``ZWAMEDIAITEM.ZMESSAGE``); both are read.
    """

    by_message: dict[int, Media] = field(default_factory=dict)
    by_pk: dict[int, Media] = field(default_factory=dict)

    def for_message(self, message_pk: int, media_pk: int | None) -> Media | None:
        found = self.by_pk.get(media_pk) if media_pk else None
        return found or self.by_message.get(message_pk)


def load_sessions(db: sqlite3.Connection, sink: Sink) -> dict[int, Session]:
    found: dict[int, Session] = {}
    query = "SELECT * FROM ZWACHATSESSION ORDER BY Z_PK"
    for row in rows(db, query, sink, "ZWACHATSESSION", required=False):
        pk = integer(column(row, "Z_PK"))
        if pk is not None:
            found[pk] = Session(
                pk, text(column(row, "ZCONTACTJID")), text(column(row, "ZPARTNERNAME"))
            )
    return found


def load_members(
    db: sqlite3.Connection, schema: Schema, sink: Sink
) -> dict[int, dict[int, tuple[str, str | None]]]:
    """Group members per chat: member Z_PK -> (JID, the name the device had for them)."""
    found: dict[int, dict[int, tuple[str, str | None]]] = defaultdict(dict)
    if not has_columns(schema, "ZWAGROUPMEMBER", "Z_PK", "ZCHATSESSION", "ZMEMBERJID"):
        return found
    query = "SELECT * FROM ZWAGROUPMEMBER ORDER BY Z_PK"
    for row in rows(db, query, sink, "ZWAGROUPMEMBER", required=False):
        pk, session = integer(row["Z_PK"]), integer(row["ZCHATSESSION"])
        jid = text(row["ZMEMBERJID"])
        if pk is not None and session is not None and jid:
            found[session][pk] = (jid, text(column(row, "ZCONTACTNAME")))
    return found


def load_media(db: sqlite3.Connection, schema: Schema, sink: Sink) -> MediaIndex:
    index = MediaIndex()
    if not has_columns(schema, "ZWAMEDIAITEM", "Z_PK"):
        return index
    query = "SELECT * FROM ZWAMEDIAITEM ORDER BY Z_PK"
    for row in rows(db, query, sink, "ZWAMEDIAITEM", required=False):
        pk = integer(row["Z_PK"])
        if pk is None:
            continue
        media = Media(
            path=text(column(row, "ZMEDIALOCALPATH")),
            url=text(column(row, "ZMEDIAURL")),
            title=text(column(row, "ZTITLE")),
            position=_position(column(row, "ZLATITUDE"), column(row, "ZLONGITUDE")),
        )
        index.by_pk[pk] = media
        message = integer(column(row, "ZMESSAGE"))
        if message is not None:
            index.by_message.setdefault(message, media)
    return index


def _position(latitude: object, longitude: object) -> tuple[float, float] | None:
    try:
        point = (float(str(latitude)), float(str(longitude)))
    except ValueError:
        return None
    # 0, 0 is what the app stores for media that is not a place.
    if point == (0.0, 0.0) or not all(math.isfinite(value) for value in point):
        return None
    return point
