"""WhatsApp "Export chat" text files (the chat's ``.txt``, or ``_chat.txt`` from its zip).

Each message starts with a time stamp whose form depends on the phone and its locale:

    12/31/23, 9:41 PM - Alice: text              Android, US
    31/12/2023, 21:41 - Alice: text              Android, UK and most of Europe
    31.12.23, 21:41 - Alice: text                Android, German
    2023-12-31 21:41 - Alice: text               Android, ISO dates
    [31.12.23, 21:41:05] Alice: text             iOS

A line without such a start continues the message above it. The export says neither
the day/month order nor the time zone: the order is read from the whole file (a day
above 12 decides; failing that, the order that keeps the messages in time order; failing
that, the locale's habit, with a warning), and the times are the exhibit's local time
(``--timezone``), marked as assumed. People are named as the phone showed them (a
contact's name, or the number when unsaved); which of them is the phone's owner the
export does not say, so messages carry no direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from caselens.ingest.errors import NotMyFormat
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.times import from_local
from caselens.ingest.formats.textfile import GENERIC_TYPES, read_text_bytes
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

_DATE = r"(?P<date>\d{1,4}([./-])\d{1,2}\2\d{1,4})"
_HALF = r"(?:\s?(?P<half>[AaPp]\.?\s?[Mm]\.?))?"  # AM / PM, "p. m.", after a narrow space
_STARTS = (
    # iOS writes seconds; Android never does, which keeps log files ("2023-12-31
    # 21:41:05 - INFO: ...") from being taken for chats.
    re.compile(
        rf"\[{_DATE},?\s(?P<time>\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?){_HALF}\]\s(?P<rest>.*)"
    ),
    re.compile(rf"{_DATE},?\s(?P<time>\d{{1,2}}[:.]\d{{2}}){_HALF}\s[-–]\s(?P<rest>.*)"),
)
_MARKS = "\ufeff\u200e\u200f"  # BOM and the direction marks WhatsApp puts before its own words
_ATTACHED = re.compile(r"[\u200e\u200f]?<attached:\s*([^>]+)>")  # iOS, with media
_FILE_ATTACHED = re.compile(
    r"^[\u200e\u200f]?(\S.*?\.\w{1,5}) \((?:file attached|Datei angehängt|archivo adjunto|"
    r"fichier joint|file allegato|arquivo anexado)\)$"
)
_OMITTED = re.compile(
    r"^[\u200e\u200f]?(?:<Media omitted>|<Medien ausgeschlossen>|<Multimedia omitido>|"
    r"<Médias omis>|<Media omessi>|(?:image|video|audio|sticker|GIF|document|"
    r"Contact card) omitted)$"
)
_DELETED = frozenset(
    {
        "this message was deleted",
        "you deleted this message",
        "diese nachricht wurde gelöscht",
        "du hast diese nachricht gelöscht",
        "se eliminó este mensaje",
        "ce message a été supprimé",
    }
)
_CHAT_NAME = re.compile(r"^WhatsApp[ -]Chat (?:with|mit|con|avec|met|com|-) (.+?)\.txt$", re.I)
_QUOTES = '"“”«»„'
SENDER_MAX_CHARS = 80
SHOWN_LINES = 10


@dataclass
class _Entry:
    """One time-stamped line and the lines that continue it."""

    line: int
    date: tuple[str, ...]  # the three numbers as written
    separator: str
    time: str
    half: str | None  # "PM", "a. m."...
    rest: str
    bracketed: bool  # the iOS form
    more: list[str] = field(default_factory=list)


class WhatsAppExportIngestor(Ingestor):
    """A chat exported from WhatsApp as text, recognised by its time-stamped lines."""

    name = "whatsapp-export"
    version = "1"
    extensions: ClassVar[frozenset[str]] = frozenset({".txt"})
    base_score = 15  # above plain text (12), only when the lines are a chat's

    @classmethod
    def score(cls, source: Source) -> int:
        text_like = source.mime_type.startswith("text/") or source.mime_type in GENERIC_TYPES
        return cls.base_score if text_like and looks_like_export(source.head) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        data, _ = read_text_bytes(source, sink)
        decoded = decode_text(data)
        entries, stray = _entries(decoded.text)
        if not entries or stray > 5:
            raise NotMyFormat
        sink.set_document("PlainText", encoding=decoded.encoding)
        if not decoded.certain:
            sink.warn(f"character set guessed as {decoded.encoding}")
        order = _date_order(entries, sink)
        sink.document_context["date_order"] = order
        _Chat(source, sink, order).write(entries, decoded.text, stray)


def looks_like_export(head: bytes) -> bool:
    """The first line is a WhatsApp time stamp, and so is another one in a longer file."""
    lines = [line for line in _decode_head(head).splitlines() if line.strip()]
    if len(head) >= 4096:
        lines = lines[:-1]  # the last line may be cut short
    if not lines or _match(lines[0]) is None:
        return False
    # One time-stamped line could start a note; a short file is one message at most.
    return len(lines) <= 5 or sum(1 for line in lines[:200] if _match(line)) >= 2


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace")


def _match(line: str) -> re.Match[str] | None:
    stripped = line.lstrip(_MARKS)
    for pattern in _STARTS:
        found = pattern.fullmatch(stripped)
        if found is not None:
            return found
    return None


def _entries(text: str) -> tuple[list[_Entry], int]:
    """Time-stamped lines with their continuations; and how many lines came before any."""
    entries: list[_Entry] = []
    stray = 0
    for number, line in enumerate(text.splitlines(), start=1):
        found = _match(line)
        if found is None:
            if entries:
                entries[-1].more.append(line)
            elif line.strip(_MARKS + " \t"):
                stray += 1
            continue
        date = tuple(re.split(r"[./-]", found["date"]))
        entries.append(
            _Entry(
                number,
                date,
                found.group(2),
                found["time"],
                found["half"],
                found["rest"],
                found.re is _STARTS[0],
            )
        )
    return entries, stray


def _date_order(entries: list[_Entry], sink: Sink) -> str:
    """ "ymd", "dmy" or "mdy" for the whole file, with a warning when it had to be assumed."""
    dated = [e for e in entries if len(e.date[0]) < 4]
    if not dated:
        return "ymd"
    first_above = sum(1 for e in dated if int(e.date[0]) > 12)
    second_above = sum(1 for e in dated if int(e.date[1]) > 12)
    if first_above and second_above:
        order = "dmy" if first_above >= second_above else "mdy"
        sink.warn(
            f"dates disagree on the day/month order ({first_above} have a day first, "
            f"{second_above} a day second): {_ORDER_NAMES[order]} assumed"
        )
        return order
    if first_above or second_above:
        return "dmy" if first_above else "mdy"
    out_of_order = {order: _disorder(dated, order) for order in ("dmy", "mdy")}
    if out_of_order["dmy"] != out_of_order["mdy"]:
        order = min(out_of_order, key=lambda o: out_of_order[o])
        reason = "the order that keeps the messages in time order"
    else:
        twelve_hour = any(e.half for e in dated)
        order = "mdy" if twelve_hour and dated[0].separator == "/" else "dmy"
        reason = "the habit of exports written like these"
    sink.warn(
        f"day/month order is ambiguous (no day above 12): {_ORDER_NAMES[order]} assumed, {reason}"
    )
    return order


_ORDER_NAMES = {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year-month-day"}


def _disorder(entries: list[_Entry], order: str) -> int:
    """How many messages would come before the one above them, were the dates in ``order``."""
    count = 0
    previous: datetime | None = None
    for entry in entries:
        moment = _naive(entry, order)
        if moment is None:
            continue
        if previous is not None and moment < previous:
            count += 1
        previous = moment
    return count


def _naive(entry: _Entry, order: str) -> datetime | None:
    """The entry's wall-clock time, or None when the date or time is impossible."""
    first, second, third = (int(part) for part in entry.date)
    if len(entry.date[0]) == 4:
        year, month, day = first, second, third
    elif order == "mdy":
        month, day, year = first, second, third
    else:
        day, month, year = first, second, third
    if len(entry.date[2]) <= 2 and len(entry.date[0]) < 4:
        year += 2000  # WhatsApp began in 2009
    hour, minute, *seconds = (int(part) for part in re.split(r"[:.]", entry.time))
    if entry.half:
        if hour > 12 or hour == 0:
            return None
        hour = hour % 12 + (12 if entry.half.lower().startswith("p") else 0)
    try:
        return datetime(year, month, day, hour, minute, seconds[0] if seconds else 0)
    except ValueError:
        return None


class _Chat:
    """Writes the entries of one export through the Comms writer."""

    def __init__(self, source: Source, sink: Sink, order: str) -> None:
        self.source = source
        self.sink = sink
        self.order = order
        self.comms = Comms(sink, source, "whatsapp")
        found = _CHAT_NAME.match(source.name)
        self.thread = found.group(1) if found else None
        self.undated: list[int] = []

    def write(self, entries: list[_Entry], text: str, stray: int) -> None:
        if stray:
            lead = text.splitlines()[: entries[0].line - 1]
            self.sink.add_text("\n".join(lead) + "\n")
            self.sink.warn(
                f"{stray} lines before the first message are not messages (kept as text)"
            )
        parsed = [(entry, *_split(entry)) for entry in entries]
        senders = {sender for _, sender, _, system in parsed if sender and not system}
        if self.thread is None:
            # iOS writes the group's own notices under the group's name.
            names = {sender for _, sender, _, system in parsed if sender and system}
            self.thread = names.pop() if len(names) == 1 else None
        parties = {name: self._party(name) for name in sorted(senders)}
        for entry, sender, body, system in parsed:
            self._message(entry, None if system else sender, body, system, parties)
        if not self.source.timezone:
            self.sink.warn("no time zone given for the exhibit: local times read as UTC (assumed)")
        if self.undated:
            shown = ", ".join(str(n) for n in self.undated[:SHOWN_LINES])
            more = ", ..." if len(self.undated) > SHOWN_LINES else ""
            self.sink.warn(
                f"{len(self.undated)} messages have an impossible date or time, kept without "
                f"one: lines {shown}{more}"
            )

    def _party(self, name: str) -> Party | None:
        if normalize_phone(name, self.source.region):
            return self.comms.phone(name)
        return self.comms.account(name, name=name)

    def _message(
        self,
        entry: _Entry,
        sender: str | None,
        body: str,
        system: bool,
        parties: dict[str, Party | None],
    ) -> None:
        naive = _naive(entry, self.order)
        moment = from_local(naive, self.source.timezone) if naive else None
        if moment is None:
            self.undated.append(entry.line)
        attachments, omitted, body = _attachments(body)
        bare = body.strip(_MARKS + " .").lower()
        record = f"line {entry.line}"
        self.comms.message(
            record,
            sender=parties.get(sender) if sender else None,
            recipients=[party for name, party in parties.items() if name != sender],
            moment=moment,
            body=body.strip(_MARKS) if system else body,
            record=record,
            thread=self.thread,
            attachments=attachments,
            deleted=True if bare in _DELETED else None,
            media_omitted=True if omitted else None,
            system=True if system else None,
        )


def _split(entry: _Entry) -> tuple[str | None, str, bool]:
    """(sender, body, is a system notice) of one entry, the body with its continuations."""
    name, separator, first = entry.rest.partition(": ")
    if not separator and entry.rest.endswith(":"):
        name, separator, first = entry.rest[:-1], ":", ""
    body = "\n".join([first, *entry.more]) if separator else "\n".join([entry.rest, *entry.more])
    plausible = (
        bool(separator)
        and 0 < len(name) <= SENDER_MAX_CHARS
        and not any(quote in name for quote in _QUOTES)
    )
    if not plausible:
        return None, body, True
    own_words = entry.bracketed and first.startswith("\u200e")
    media = _ATTACHED.search(body) or _OMITTED.match(first) or _FILE_ATTACHED.match(first)
    deleted = first.strip(_MARKS + " .").lower() in _DELETED
    # iOS marks its own notices (group created, number changed) with a left-to-right mark.
    return name.strip(_MARKS), body, own_words and not media and not deleted


def _attachments(body: str) -> tuple[list[str], bool, str]:
    """Media named in the body (and whether media was left out); the body without them."""
    names = [name.strip() for name in _ATTACHED.findall(body)]
    body = _ATTACHED.sub("", body)
    first, _, rest = body.partition("\n")
    omitted = False
    if found := _FILE_ATTACHED.match(first):
        names.append(found.group(1))
        body = rest  # what follows the file's line is its caption
    elif _OMITTED.match(first):
        names.append(first.strip(_MARKS))
        omitted = True
        body = rest
    return names, omitted, body if body.strip(_MARKS + " \n") else ""
