"""The timeline command: a case's dated facts in order, and the import of plaso output.

``caselens timeline REF [--from ISO] [--to ISO] [--kind K ...] [--entity X]`` lists the
events as a table, CSV or JSON; ``caselens timeline import-plaso REF FILE`` imports a
``psort -o json_line`` file (or an item already in the case) as events.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.errors import InvalidInput
from caselens.timeline.events import TimelinePage
from caselens.timeline.model import KINDS, TimelineEvent

CSV_COLUMNS = (
    "time",
    "kind",
    "summary",
    "parties",
    "time_zone",
    "time_zone_assumed",
    "source",
    "item_id",
    "entity_id",
    "details",
)
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


def timeline(
    ctx: typer.Context,
    words: Annotated[
        list[str], typer.Argument(metavar="[import-plaso] REF [FILE]", show_default=False)
    ],
    start: Annotated[
        str | None, typer.Option("--from", help="From this time (ISO 8601; UTC if no zone).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Up to this time, exclusive; a date alone includes that day."),
    ] = None,
    kinds: Annotated[
        list[str] | None, typer.Option("--kind", help=f"Only these kinds: {', '.join(KINDS)}.")
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(help="Only events involving this entity id, phone number, address, account."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    exhibit: Annotated[
        str | None, typer.Option(help="With import-plaso: the exhibit the file belongs to.")
    ] = None,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Dated facts of a case in time order (e-mails, messages, calls, calendar, pictures,
    recordings, transcripts, document and file times, custody, imported plaso events);
    "timeline import-plaso REF FILE" imports plaso's json_line output."""
    current = state(ctx)
    if csv_output and json_output:
        raise InvalidInput("choose one of --csv and --json")
    if words[:1] == ["import-plaso"]:
        if len(words) != 3:
            raise InvalidInput("usage: caselens timeline import-plaso REF FILE|ITEM")
        found = current.app.timeline.import_plaso(current.actor, words[1], words[2], exhibit)
        _print_import(found, json_output)
        return
    if len(words) != 1:
        raise InvalidInput("usage: caselens timeline REF (or: timeline import-plaso REF FILE)")
    if exhibit is not None:
        raise InvalidInput("--exhibit goes with: caselens timeline import-plaso REF FILE")
    page = current.app.timeline.events(
        current.actor,
        words[0],
        start=parse_bound(start, "--from"),
        end=parse_bound(end, "--to", end_of_day=True),
        kinds=kinds or (),
        entity=entity,
        limit=limit,
        offset=offset,
    )
    if json_output:
        render.print_json(page.as_dict())
    elif csv_output:
        write_csv(page.events)
    else:
        _print_table(words[0], page)


def parse_bound(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 time (UTC without a zone); a date alone is its midnight, or with
    ``end_of_day`` the next midnight, so that "--to 2026-01-19" includes that day."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{option}: not an ISO 8601 date or time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def write_csv(events: list[TimelineEvent]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        found = event.as_dict()
        found["parties"] = "; ".join(f"{p.role}:{p.label}" for p in event.parties)
        found["details"] = json.dumps(event.details, ensure_ascii=False, default=str)
        writer.writerow([_safe_cell(found[column]) for column in CSV_COLUMNS])


def _safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run: evidence text starting with = + - @ would be
    taken for a formula, so it gets a leading apostrophe (zone offsets are left alone)."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in "+-" and not _OFFSET.fullmatch(text)):
        return "'" + text
    return text


def _print_table(reference: str, page: TimelinePage) -> None:
    if not page.events:
        render.console.print(f"no events in {reference} for this selection")
        return
    render.table(
        f"timeline of {reference}",
        ["time (UTC)", "zone", "kind", "summary", "item"],
        [
            (
                event.time,
                _zone(event),
                event.kind,
                escape(event.summary),
                event.item_id or "",
            )
            for event in page.events
        ],
    )
    if page.more:
        render.console.print(f"more events follow: --offset {page.offset + page.limit}")


def _zone(event: TimelineEvent) -> str:
    if event.time_zone is None:
        return ""
    return event.time_zone + (" (assumed)" if event.time_zone_assumed else "")


def _print_import(found: Any, json_output: bool) -> None:
    if json_output:
        render.print_json(found)
        return
    render.console.print(
        f"{found.events} events imported from {found.name} ({found.item_id}): "
        f"{found.lines} lines, {found.bad_lines} not events, {found.undated} without a time"
        + (f", {found.replaced} earlier events replaced" if found.replaced else ""),
        highlight=False,
        markup=False,
    )
    for line, reason in found.problems[:20]:
        render.console.print(f"  line {line}: {reason}", highlight=False, markup=False)
