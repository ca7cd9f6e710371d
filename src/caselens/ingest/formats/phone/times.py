"""Times as phones and apps store them, turned into UTC with their source zone kept.

Every time a reader derives is a ``Moment``: the instant in UTC (what FollowTheMoney
stores), the zone the source wrote it in, and whether that zone was *assumed* (local
times without a zone take the exhibit's ``--timezone``; without one they are read as
UTC and say so). Values outside a plausible range are refused, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)  # Cocoa / Core Data reference date
EARLIEST = datetime(1985, 1, 1, tzinfo=UTC)  # before any phone kept a message log
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Moment:
    utc: datetime  # aware, in UTC
    zone: str  # "UTC" for epoch counts; the IANA zone or "+02:00" the source wrote
    assumed: bool = False  # the zone came from --timezone (or UTC for want of one)

    @property
    def iso(self) -> str:
        """ISO 8601 in UTC to the second, without a designator (FollowTheMoney's form)."""
        return self.utc.replace(tzinfo=None, microsecond=0).isoformat()

    def context(self) -> dict[str, Any]:
        found: dict[str, Any] = {"time_zone": self.zone}
        if self.assumed:
            found["time_zone_assumed"] = True
        return found


def _checked(moment: datetime) -> datetime | None:
    return moment if EARLIEST <= moment < LATEST else None


def from_unix(seconds: float | int | str | None) -> Moment | None:
    """Seconds since 1970 (Android call logs, Telegram, most Unix tools)."""
    value = _number(seconds)
    if value is None or value <= 0:
        return None
    try:
        moment = _checked(UNIX_EPOCH + timedelta(seconds=value))
    except OverflowError:
        return None
    return Moment(moment, "UTC") if moment else None


def from_unix_ms(milliseconds: float | int | str | None) -> Moment | None:
    """Milliseconds since 1970 (Android's SMS and contacts providers, WhatsApp)."""
    value = _number(milliseconds)
    return from_unix(value / 1000) if value is not None else None


def from_unix_auto(value: float | int | str | None) -> Moment | None:
    """Seconds, milliseconds or microseconds since 1970, told apart by magnitude."""
    number = _number(value)
    if number is None:
        return None
    if number > 1e14:
        number /= 1e6
    elif number > 1e11:
        number /= 1e3
    return from_unix(number)


def from_apple(value: float | int | str | None) -> Moment | None:
    """Seconds since 2001-01-01 UTC, or nanoseconds since then (iOS 11 and later)."""
    number = _number(value)
    if number is None or number <= 0:
        return None
    if number > 1e11:  # nanoseconds: seconds since 2001 stay below 1e11 until the year 5000
        number /= 1e9
    try:
        moment = _checked(APPLE_EPOCH + timedelta(seconds=number))
    except OverflowError:
        return None
    return Moment(moment, "UTC") if moment else None


def from_local(naive: datetime, timezone: str | None) -> Moment | None:
    """A wall-clock time written without a zone, in the exhibit's zone (assumed)."""
    if naive.tzinfo is not None:
        return from_aware(naive)
    zone = ZoneInfo(timezone) if timezone else UTC
    moment = _checked(naive.replace(tzinfo=zone).astimezone(UTC))
    return Moment(moment, timezone or "UTC", assumed=True) if moment else None


def from_aware(moment: datetime) -> Moment | None:
    """A time written with its zone or offset."""
    if moment.tzinfo is None:
        raise ValueError("from_aware needs a time with a zone")
    offset = moment.utcoffset() or timedelta(0)
    zone = getattr(moment.tzinfo, "key", None) or _offset_text(offset)
    utc = _checked(moment.astimezone(UTC))
    return Moment(utc, zone) if utc else None


def _offset_text(offset: timedelta) -> str:
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def _number(value: float | int | str | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
