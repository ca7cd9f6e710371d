"""Commands that read across a case: e-mail threads and selectors."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.errors import InvalidInput


def threads(
    ctx: typer.Context,
    reference: str,
    min_messages: Annotated[
        int, typer.Option("--min", min=1, help="Only threads with at least this many messages.")
    ] = 2,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """E-mail threads rebuilt from Message-ID, In-Reply-To and References, largest first."""
    current = state(ctx)
    found = current.app.mail.threads(
        current.actor, reference, min_messages=min_messages, limit=limit
    )
    if json_output:
        render.print_json(found)
        return
    if not found:
        render.console.print(f"no threads of {min_messages} or more messages")
        return
    for thread in found:
        subject = next((m.subject for m in thread.messages if m.subject), "(no subject)")
        render.table(
            f"thread {thread.thread_id[:12]}: {subject} ({len(thread.messages)} messages, "
            f"{thread.first or '?'} to {thread.last or '?'})",
            ["date", "item", "subject", "reply to"],
            [
                (
                    m.date or "",
                    m.item_id,
                    m.subject or "",
                    ("by subject: " if m.by_subject else "") + (m.parent_message_id or ""),
                )
                for m in thread.messages
            ],
        )
        if thread.missing:
            render.console.print(f"  referenced but not in the case: {', '.join(thread.missing)}")


def selectors(
    ctx: typer.Context,
    reference: str,
    kind: Annotated[
        str | None, typer.Option(help="phone, email, iban, bic, card, imei, btc, eth, url...")
    ] = None,
    value: Annotated[
        str | None, typer.Option(help="Show where this (normalized) value appears.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Identifiers ranked by the number of items they appear in; --kind and --value drill down."""
    current = state(ctx)
    if value is not None:
        if kind is None:
            raise InvalidInput("give --kind with --value (e.g. --kind phone --value +447700900123)")
        rows = current.app.selectors.items(current.actor, reference, kind, value, limit=limit)
        print_places(f"{kind} {value} in {reference}", rows, json_output)
        return
    ranked = current.app.selectors.ranked(current.actor, reference, kind=kind, limit=limit)
    if json_output:
        render.print_json(ranked)
        return
    render.table(
        f"selectors of {reference}",
        ["kind", "value", "items", "mentions"],
        [(r["kind"], r["value"], r["items"], r["mentions"]) for r in ranked],
    )


def print_places(title: str, rows: list[dict[str, Any]], json_output: bool) -> None:
    """Where a selector or a name appears, one mention a row."""
    if json_output:
        render.print_json(rows)
        return
    render.table(
        title,
        ["item", "path", "page", "offset", "as written"],
        [(r["item_id"], r["path"], r["page"], r["start"], r["raw"]) for r in rows],
    )
