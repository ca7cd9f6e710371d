"""Commands on a case's e-mail: conversation threads."""

from __future__ import annotations

from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state


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
