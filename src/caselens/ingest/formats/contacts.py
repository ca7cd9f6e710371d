"""vCard 2.1, 3.0 and 4.0: one Person (or Organization) per card, with phones and e-mails."""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from followthemoney.proxy import EntityProxy

from caselens.ingest.formats.contentlines import (
    Component,
    ContentLine,
    date_text,
    read_item_components,
    split_escaped,
    structured,
    unescape,
)
from caselens.ingest.formats.textfile import TextFormatIngestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text


class VCardIngestor(TextFormatIngestor):
    name = "vcard"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"text/vcard", "text/x-vcard", "text/directory"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".vcf", ".vcard"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"BEGIN:VCARD", b"\xef\xbb\xbfBEGIN:VCARD")
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        data, roots = read_item_components(source, sink)
        cards = [c for c in roots if c.name == "VCARD"]
        for number, card in enumerate(cards, start=1):
            if not card.closed:
                sink.warn(f"card {number} has no END:VCARD: the file is truncated or malformed")
            _add_card(number, card, sink)
        if not cards:
            sink.warn("no BEGIN:VCARD found: kept as text")
            sink.add_text(decode_text(data).text)


LABELS = {
    "FN": "Name",
    "N": "Structured name",
    "NICKNAME": "Nickname",
    "EMAIL": "E-mail",
    "TEL": "Phone",
    "ADR": "Address",
    "LABEL": "Address label",
    "ORG": "Organization",
    "TITLE": "Title",
    "ROLE": "Role",
    "BDAY": "Birthday",
    "ANNIVERSARY": "Anniversary",
    "NOTE": "Note",
    "URL": "Web site",
    "GENDER": "Gender",
    "CATEGORIES": "Categories",
    "IMPP": "Messaging",
    "REV": "Revised",
    "PHOTO": "Photo",
    "LOGO": "Logo",
}
NOT_SHOWN = frozenset({"VERSION", "PRODID"})
EMBEDDED = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
GENDERS = {"M": "male", "F": "female", "O": "other"}


def _add_card(number: int, card: Component, sink: Sink) -> None:
    """The card's lines as text, and its person (or organisation) as entities."""
    hidden = NOT_SHOWN | ({"N"} if card.text("FN").strip() else set())  # N repeats FN
    lines = [_describe(line, number, sink) for line in card.lines if line.name not in hidden]
    sink.add_text("\n".join(line for line in lines if line) + "\n\n")
    fn = unescape(card.text("FN")).strip()
    n = structured(card.text("N")) + [""] * 5  # family; given; additional; prefix; suffix
    org = [part for part in structured(card.text("ORG")) if part]
    kind = card.text("KIND").strip().lower()
    show_as = card.text("X-ABSHOWAS").strip().upper()
    is_organization = kind in ("org", "organization") or show_as == "COMPANY"
    is_organization |= not fn and not any(n) and bool(org)
    schema = "Organization" if is_organization else "Person"
    entity = sink.make_entity(schema, sink.item_id, "vcard", str(number))
    natural_name = " ".join(part for part in (n[3], n[1], n[2], n[0], n[4]) if part)
    if is_organization:
        entity.add("name", org[0] if org else fn or natural_name)
    else:
        entity.add("name", fn or natural_name)
        entity.add("lastName", n[0] or None)
        entity.add("firstName", n[1] or None)
        entity.add("middleName", n[2] or None)
        entity.add("title", n[3] or None)
        entity.add("nameSuffix", n[4] or None)
    _add_contact_details(entity, card, is_organization)
    if not entity.has("name"):  # a card with only an address or a number
        entity.add("name", (entity.get("email") or entity.get("phone") or [f"card {number}"])[0])
    entity.add("proof", sink.document_id)
    sink.emit(entity)
    if org and not is_organization:
        _add_employer(number, entity, org[0], card, sink)


def _add_contact_details(entity: EntityProxy, card: Component, is_organization: bool) -> None:
    for line in card.lines:
        text = unescape(line.text).strip()
        if not text:
            continue
        if line.name == "EMAIL":
            entity.add("email", text.removeprefix("mailto:"), quiet=True)
        elif line.name == "TEL":  # as written: normalising numbers is a later step
            entity.add("phone", text.removeprefix("tel:"), cleaned=True)
        elif line.name == "ADR":
            entity.add("address", ", ".join(part for part in structured(line.text) if part))
        elif line.name == "URL":
            entity.add("website", text, quiet=True)
        elif line.name == "NOTE":
            entity.add("notes", text)
        elif line.name == "CATEGORIES":
            entity.add("keywords", [v for v in split_escaped(line.text, ",") if v])
        elif is_organization:
            continue
        elif line.name == "NICKNAME":
            entity.add("alias", [v for v in split_escaped(line.text, ",") if v])
        elif line.name in ("TITLE", "ROLE"):
            entity.add("position", text)
        elif line.name == "BDAY":
            entity.add("birthDate", date_text(text), quiet=True)
        elif line.name == "GENDER":
            entity.add("gender", GENDERS.get(structured(line.text)[0].upper()), quiet=True)


def _add_employer(number: int, person: EntityProxy, name: str, card: Component, sink: Sink) -> None:
    organization = sink.make_entity("Organization", sink.item_id, "vcard", str(number), "org")
    organization.add("name", name)
    organization.add("proof", sink.document_id)
    sink.emit(organization)
    employment = sink.make_entity("Employment", sink.item_id, "vcard", str(number), "employment")
    employment.add("employee", person.id)
    employment.add("employer", organization.id)
    for line in card.all("TITLE") + card.all("ROLE"):
        employment.add("role", unescape(line.text).strip() or None)
    employment.add("proof", sink.document_id)
    sink.emit(employment)


def _describe(line: ContentLine, number: int, sink: Sink) -> str | None:
    """A readable line for the text: ``Phone (cell, voice): +49 170 1234567``."""
    label = LABELS.get(line.name, line.name.title())
    types = [t for t in line.types if t not in ("pref", "internet")]
    if types:
        label += f" ({', '.join(types)})"
    if line.name in EMBEDDED:
        return f"{label}: {_add_embedded(line, number, sink)}"
    if line.name in ("N", "ADR", "ORG"):
        value = ", ".join(part for part in structured(line.text) if part)
    else:
        value = unescape(line.text).strip()
    return f"{label}: {value}" if value else None


def _add_embedded(line: ContentLine, number: int, sink: Sink) -> str:
    """A photo or logo inside the card becomes a child item; the text says which."""
    data, media_type = line.binary, (line.param("TYPE") or "").lower()
    if data is None and line.text.startswith("data:"):  # vCard 4: a data: URI
        header, _, payload = line.text[5:].partition(",")
        media_type = header.split(";")[0].split("/")[-1].lower()
        try:
            data = base64.b64decode(payload, validate=False) if ";base64" in header else None
        except (binascii.Error, ValueError) as err:
            sink.warn(f"card {number}: {line.name} is not base64: {err}")
    if not data:
        return unescape(line.text).strip() or "(empty)"
    extension = {"jpeg": "jpg", "": "bin"}.get(media_type, media_type)
    name = f"card-{number}-{line.name.lower()}.{extension}"
    sink.add_child(name.encode(), data)
    return f"embedded, kept as {name}"
