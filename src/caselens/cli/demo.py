"""``caselens demo``: build the fictional demo case and show what it holds."""

from __future__ import annotations

import typer

from caselens.cli import render
from caselens.cli.state import state
from caselens.demo.build import PURPOSE, REFERENCE, build_demo


def demo(ctx: typer.Context) -> None:
    """Build the demo case (Operation Tidewater) from shipped evidence and summarise it."""
    current = state(ctx)
    actor = current.actor
    if not actor.purpose:
        actor = type(actor)(actor.user, PURPOSE, actor.os_user)
    summaries = build_demo(current.app, actor)
    home = current.app.settings.resolved_home
    render.console.print(f"[bold]Demo case {REFERENCE}[/bold] in {home}")
    render.table(
        "exhibits ingested",
        ["exhibit", "files", "new", "already there", "states"],
        [
            (
                ref,
                s.files_seen,
                s.processed,
                s.already_present,
                ", ".join(f"{n} {k}" for k, n in sorted(s.states.items())) or "-",
            )
            for ref, s in summaries.items()
        ],
    )
    rows = current.app.items.list(actor, REFERENCE, limit=1000)
    render.table(
        "items",
        ["id", "path", "type", "state"],
        [
            (r["id"], r["path"].rsplit("/evidence/", 1)[-1], r["mime_type"], r["state"])
            for r in rows
        ],
    )
    report = current.app.verify.verify(actor, REFERENCE)
    verdict = "[green]intact[/green]" if report.ok else "[red]FAILED[/red]"
    render.console.print(
        f"verify: {verdict}: {report.blobs_checked} blobs re-hashed, "
        + ", ".join(f"{c.chain.split(':')[0]} chain {c.records} records" for c in report.chains)
    )
    render.console.print(
        f"next: caselens status {REFERENCE} · caselens show {REFERENCE} ITEM · "
        f"caselens audit {REFERENCE}"
    )
