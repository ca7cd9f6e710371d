"""Plaso's ``psort -o json_line`` output: one JSON object per line, one event each.

The fields used: ``timestamp`` (microseconds since 1970 in UTC; 0 is plaso's "not set")
or else ``datetime`` (ISO 8601), ``timestamp_desc`` (what the time means), ``parser``,
``data_type``, ``message`` and ``display_name``; everything else is kept as written in
the event's attributes. A line that is not an event (not JSON, not an object, no usable
time, too long) is counted with its line number and the reading goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LINE = 4 * 1024 * 1024  # bytes; plaso's longest events are far shorter
MAX_PROBLEMS = 100  # problems kept with their line numbers; all are counted
COLUMNS = ("timestamp_desc", "parser", "data_type", "message", "display_name")


@dataclass(slots=True)
class PlasoEvent:
    line: int
    time: datetime  # aware, UTC
    timestamp_desc: str | None
    parser: str | None
    data_type: str | None
    message: str | None
    display_name: str | None
    attributes: dict[str, Any]


@dataclass(slots=True)
class PlasoReport:
    """What reading a file found: counts, and the first problems with their lines."""

    lines: int = 0
    events: int = 0
    blank: int = 0
    bad: int = 0  # lines that are not events
    undated: int = 0  # events without a time (not set, or unreadable)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def problem(self, line: int, reason: str, *, undated: bool = False) -> None:
        if undated:
            self.undated += 1
        else:
            self.bad += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, reason))


class _NotAnEvent(ValueError):
    """A line is no plaso event; the message says why."""


def read_events(stream: BinaryIO, report: PlasoReport) -> Iterator[PlasoEvent]:
    """The events of a json_line file, in file order; problems go to ``report``."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        report.lines += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            _skip_rest_of_line(stream)
            report.problem(number, f"line longer than {MAX_LINE} bytes")
            continue
        if not raw.strip():
            report.blank += 1
            continue
        try:
            event = _event(number, raw)
        except _NotAnEvent as reason:
            report.problem(number, str(reason))
            continue
        if event is None:
            report.problem(number, "no time (not set or unreadable)", undated=True)
            continue
        report.events += 1
        yield event


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while True:
        chunk = stream.readline(MAX_LINE)
        if not chunk or chunk.endswith(b"\n"):
            return


def _event(number: int, raw: bytes) -> PlasoEvent | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _NotAnEvent(f"not UTF-8 (byte {err.start})") from None
    try:
        found = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise _NotAnEvent(f"not JSON: {str(err)[:120]}") from None
    if not isinstance(found, dict):
        raise _NotAnEvent(f"not a JSON object but {type(found).__name__}")
    try:
        cleaned = _clean(found)
    except RecursionError:
        raise _NotAnEvent("nested too deeply") from None
    assert isinstance(cleaned, dict)
    moment = event_time(cleaned)
    if moment is None:
        return None
    columns = {name: _text(cleaned.pop(name, None)) for name in COLUMNS}
    return PlasoEvent(line=number, time=moment, attributes=cleaned, **columns)


def event_time(found: dict[str, Any]) -> datetime | None:
    """The event's time: ``timestamp`` when set, else ``datetime``; None when neither is."""
    stamp = found.get("timestamp")
    if isinstance(stamp, str):
        try:
            stamp = int(stamp.strip())
        except ValueError:
            stamp = None
    if isinstance(stamp, float) and stamp.is_integer():
        stamp = int(stamp)
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp != 0:
        try:
            return UNIX_EPOCH + timedelta(microseconds=stamp)
        except OverflowError:
            return None
    written = found.get("datetime")
    if not isinstance(written, str):
        return None
    try:
        moment = datetime.fromisoformat(written.strip())
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None if moment == UNIX_EPOCH else moment  # plaso writes "not set" as 0 too


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; the databases' JSON types refuse them.
    raise ValueError(f"{name} is not a JSON value")


def _clean(value: Any) -> Any:
    """Text that every database stores: NUL and lone surrogates written out visibly."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, list):
        return [_clean(part) for part in value]
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean(v) for k, v in value.items()}
    return value


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\\u0000")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
