"""iCalendar 2.0 and vCalendar 1.0: one Event per VEVENT with its times in UTC.

To-dos, journals and free/busy blocks are kept as text. Time zones: a TZID that names an
IANA or Windows zone is converted with the zone database (it knows the history of the
rules); other TZIDs with the file's own VTIMEZONE definition; vCalendar 1.0 with its TZ
offset. Times with no zone at all ("floating") cannot be converted and are kept as written.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parseaddr
from typing import ClassVar

import icalendar
from followthemoney.proxy import EntityProxy
from icalendar.timezone import tzp

from caselens.ingest.formats.contentlines import (
    Component,
    ContentLine,
    read_item_components,
    split_escaped,
    unescape,
)
from caselens.ingest.formats.textfile import TextFormatIngestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

_DATE_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?\S*?(Z)?)?$")
_DURATION = re.compile(r"([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-./ ()]{1,100}")
MACHINE_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # not evidence's zones
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")
BLOCKS = {"VEVENT": "Event", "VTODO": "To-do", "VJOURNAL": "Journal", "VFREEBUSY": "Free/busy"}
LABELS = {
    "SUMMARY": "Summary",
    "DESCRIPTION": "Description",
    "LOCATION": "Location",
    "DTSTART": "Start",
    "DTEND": "End",
    "DUE": "Due",
    "DURATION": "Duration",
    "ORGANIZER": "Organizer",
    "ATTENDEE": "Attendee",
    "RRULE": "Repeats",
    "RDATE": "Also on",
    "EXDATE": "Except on",
    "RECURRENCE-ID": "Occurrence of",
    "CATEGORIES": "Categories",
    "STATUS": "Status",
    "UID": "UID",
    "CREATED": "Created",
    "LAST-MODIFIED": "Modified",
    "DTSTAMP": "Stamped",
    "COMPLETED": "Completed",
    "ATTACH": "Attachment",
    "URL": "Web address",
}
TIMES = frozenset({"DTSTART", "DTEND", "DUE", "CREATED", "LAST-MODIFIED", "DTSTAMP", "COMPLETED"})
RECURRENCE = ("RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID")
NOT_SHOWN = frozenset({"VERSION", "PRODID", "CALSCALE", "METHOD", "SEQUENCE"})


@dataclass(frozen=True)
class Moment:
    value: str  # as FollowTheMoney keeps it: UTC without suffix, a date, or floating
    shown: str  # for the text, saying which
    instant: datetime | None = None  # aware, when the time zone is known


class CalendarIngestor(TextFormatIngestor):
    name = "calendar"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"text/calendar", "text/x-vcalendar", "application/ics"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".ics", ".ical", ".ifb", ".vcs"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"BEGIN:VCALENDAR", b"\xef\xbb\xbfBEGIN:VCALENDAR")
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        data, roots = read_item_components(source, sink)
        calendars = [c for c in roots if c.name == "VCALENDAR"]
        if not calendars and any(c.name in BLOCKS for c in roots):
            calendars = [Component("VCALENDAR", children=roots, closed=True)]  # no wrapper
        if not calendars:
            sink.warn("no BEGIN:VCALENDAR found: kept as text")
            sink.add_text(decode_text(data).text)
            return
        reader = _CalendarReader(sink)
        for number, calendar in enumerate(calendars, start=1):
            reader.read(number, calendar)
        for address, party in reader.parties.items():
            if not party.has("name"):
                party.add("name", address)
            sink.emit(party)


class _CalendarReader:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.parties: dict[str, EntityProxy] = {}  # by e-mail address, one entity each
        self.zones = _Zones(Component("VCALENDAR"), sink)
        self.attachments = 0

    def read(self, number: int, calendar: Component) -> None:
        sink = self.sink
        self.zones = _Zones(calendar, sink)
        sink.add_property("title", unescape(calendar.text("X-WR-CALNAME")).strip() or None)
        sink.add_property("summary", unescape(calendar.text("X-WR-CALDESC")).strip() or None)
        sink.add_property("generator", unescape(calendar.text("PRODID")).strip() or None)
        for index, block in enumerate(calendar.children, start=1):
            if block.name not in BLOCKS:
                continue
            if not block.closed or not calendar.closed:
                sink.warn(f"calendar ends inside {block.name}: the file is truncated or malformed")
            key = (str(number), str(index))
            lines: list[str | None] = [BLOCKS[block.name]]
            lines.extend(self._describe(line, key) for line in block.lines)
            sink.add_text("\n".join(line for line in lines if line) + "\n\n")
            if block.name == "VEVENT":
                sink.emit(self._event(key, block))

    def _event(self, key: tuple[str, str], block: Component) -> EntityProxy:
        event = self.sink.make_entity("Event", self.sink.item_id, "calendar", *key)
        event.add("name", unescape(block.text("SUMMARY")).strip() or "(no summary)")
        event.add("description", unescape(block.text("DESCRIPTION")).strip() or None)
        event.add("location", unescape(block.text("LOCATION")).strip() or None, quiet=True)
        event.add("recordId", unescape(block.text("UID")).strip() or None)
        start = self._moment(block.first("DTSTART"))
        end = self._moment(block.first("DTEND")) or _end_by_duration(start, block)
        event.add("startDate", start.value if start else None)
        event.add("endDate", end.value if end else None)
        for name, prop in (("CREATED", "createdAt"), ("LAST-MODIFIED", "modifiedAt")):
            moment = self._moment(block.first(name))
            event.add(prop, moment.value if moment else None)
        for line in block.all("CATEGORIES"):
            event.add("keywords", [v for v in split_escaped(line.text, ",") if v])
        for name in RECURRENCE:
            for line in block.all(name):
                event.add("notes", f"{LABELS.get(name, name)}: {line.text.strip()}")
        for line in block.all("ORGANIZER"):
            event.add("organizer", self._party(line))
        for line in block.all("ATTENDEE"):
            event.add("involved", self._party(line))
        event.add("proof", self.sink.document_id)
        return event

    def _party(self, line: ContentLine) -> str | None:
        """The organiser or attendee as a LegalEntity keyed by its e-mail address."""
        name, written = _name_and_address(line)
        address = written.strip().strip("<>").strip().lower()
        if "@" not in address:
            return None
        entity = self.parties.get(address)
        if entity is None:
            # Keyed as the mail ingestor keys senders and recipients: one entity per address
            # across the case, whether it was met in a message or in an invitation.
            entity = self.sink.make_entity("LegalEntity", address)
            self.parties[address] = entity
            entity.add("email", address, quiet=True)
        if name and name.lower() != address:
            entity.add("name", name)
        return entity.id

    def _moment(self, line: ContentLine | None) -> Moment | None:
        if line is None:
            return None
        text = line.text.strip().split(",")[0]
        match = _DATE_TIME.match(text)
        try:
            if match is None:
                return None
            day = date(int(match[1]), int(match[2]), int(match[3]))
            if match[4] is None:
                return Moment(day.isoformat(), day.isoformat())
            written = datetime.combine(day, datetime.min.time()).replace(
                hour=int(match[4]), minute=int(match[5]), second=int(match[6] or 0)
            )
        except ValueError:  # month 13, hour 25...
            self.sink.warn(f"{line.name} is not a valid time: {text[:40]}")
            return None
        zone, zone_name = self.zones.for_line(line, utc=bool(match[7]))
        if zone is None:
            self.sink.warn("times without a time zone were kept as written, not converted to UTC")
            return Moment(written.isoformat(), f"{written.isoformat()} (no time zone)")
        try:
            instant = written.replace(tzinfo=zone).astimezone(UTC)
        except (OverflowError, ValueError):  # past year 9999 in UTC
            self.sink.warn(f"{line.name} is out of range in UTC: {text[:40]}")
            return Moment(written.isoformat(), f"{written.isoformat()} ({zone_name or 'local'})")
        value = instant.replace(tzinfo=None).isoformat()
        shown = f"{value}Z" + (f" ({written.isoformat()} {zone_name})" if zone_name else "")
        return Moment(value, shown, instant)

    def _describe(self, line: ContentLine, key: tuple[str, str]) -> str | None:
        if line.name in NOT_SHOWN:
            return None
        label = LABELS.get(line.name, line.name.title())
        if line.name in TIMES:
            moment = self._moment(line)
            value = moment.shown if moment else line.text.strip()
        elif line.name in ("ORGANIZER", "ATTENDEE"):
            name, address = _name_and_address(line)
            value = f"{name} <{address}>" if name and address else name or address
        elif line.name == "ATTACH" and line.binary is not None:
            value = self._add_attachment(line, key)
        else:
            value = unescape(line.text).strip()
        return f"{label}: {value}" if value else None

    def _add_attachment(self, line: ContentLine, key: tuple[str, str]) -> str:
        """A file inside an invitation (ATTACH;ENCODING=BASE64) becomes a child item."""
        self.attachments += 1
        name = line.param("X-FILENAME") or line.param("FILENAME")
        name = name or f"calendar-{key[0]}-item-{key[1]}-attachment-{self.attachments}.bin"
        self.sink.add_child(name.encode(), line.binary or b"")
        return f"embedded, kept as {name}"


class _Zones:
    """Time zones of one calendar: by TZID, or the vCalendar 1.0 TZ offset."""

    def __init__(self, calendar: Component, sink: Sink) -> None:
        self.sink = sink
        self.definitions = {
            unescape(block.text("TZID")).strip(): block
            for block in calendar.children
            if block.name == "VTIMEZONE"
        }
        self.default = _fixed_offset(calendar.text("TZ"))
        self.cache: dict[str, tzinfo | None] = {}

    def for_line(self, line: ContentLine, utc: bool) -> tuple[tzinfo | None, str]:
        if utc:
            return UTC, ""
        tzid = (line.param("TZID") or "").strip()
        if not tzid:
            return self.default, ""
        if tzid not in self.cache:
            self.cache[tzid] = self._resolve(tzid)
            if self.cache[tzid] is None:
                self.sink.warn(f"unknown time zone {tzid!r}: its times kept as written")
        return self.cache[tzid], tzid

    def _resolve(self, tzid: str) -> tzinfo | None:
        zone = _named_zone(tzid)
        if zone is not None or tzid not in self.definitions:
            return zone
        text = self.definitions[tzid].source().decode("utf-8", errors="replace")
        try:
            definition = icalendar.Timezone.from_ical(text)
            if isinstance(definition, icalendar.Timezone):
                defined: tzinfo = definition.to_tz()
                return defined
        except Exception as err:  # icalendar raises many kinds on a damaged definition
            self.sink.warn(f"time zone {tzid!r} could not be read: {err}")
        return None


def _named_zone(tzid: str) -> tzinfo | None:
    """An IANA or Windows zone by name; never this machine's own zone, never a path."""
    if not _ZONE_NAME.fullmatch(tzid) or ".." in tzid:
        return None
    with warnings.catch_warnings():  # icalendar warns when it guesses a vendor prefix away
        warnings.simplefilter("ignore")
        try:
            zone: tzinfo | None = tzp.timezone(tzid)
        except (OSError, ValueError):  # a directory name, a name too long
            return None
    return None if str(zone) in MACHINE_ZONES else zone


def _fixed_offset(text: str) -> tzinfo | None:
    match = _OFFSET.fullmatch(text.strip())
    if not match or int(match[2]) > 14:
        return None
    offset = timedelta(hours=int(match[2]), minutes=int(match[3] or 0))
    return timezone(-offset if match[1] == "-" else offset)


def _end_by_duration(start: Moment | None, block: Component) -> Moment | None:
    duration_text = block.text("DURATION").strip()
    if start is None or start.instant is None or not duration_text:
        return None
    duration = _duration(duration_text)
    try:
        end = start.instant + duration if duration is not None else None
    except OverflowError:
        end = None
    if end is None:
        return None
    value = end.astimezone(UTC).replace(tzinfo=None).isoformat()
    return Moment(value, f"{value}Z", end)


def _duration(text: str) -> timedelta | None:
    """An RFC 5545 duration (P1W, PT1H30M, -P1DT2H)."""
    match = _DURATION.fullmatch(text.upper())
    if not match or not any(match.groups()[1:]):
        return None
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups()[1:])
    try:
        duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        return None
    return -duration if match[1] == "-" else duration


def _name_and_address(line: ContentLine) -> tuple[str, str]:
    value = unescape(line.text).strip()
    name = (line.param("CN") or "").strip()
    if value.lower().startswith("mailto:"):
        return name, value[len("mailto:") :].strip()
    parsed_name, address = parseaddr(value)  # vCalendar 1.0: "John Smith <js@host>"
    return name or parsed_name, address
