"""``caselens demo``: build the fictional demo case and show what it holds."""

from __future__ import annotations

from typing import Any

import typer

from caselens.actor import Actor
from caselens.cli import render
from caselens.cli.search import print_results
from caselens.cli.state import state
from caselens.demo.build import PURPOSE, REFERENCE, build_demo
from caselens.errors import NotFound
from caselens.finance.trace import TraceRequest
from caselens.finance.trace_ledger import Method
from caselens.services import Caselens

# A phrase in e-mails and on a PDF's page; a phone number however it was written; words
# spoken in the recorded statement, found at their time in the recording.
DEMO_QUERIES = (
    '"release fee" (type:email OR type:pdf)',
    'phone:"020 7946 0958"',
    # A name rather than a phrase such as "sort code": machine transcripts of the same
    # recording differ from one CPU to another (one heard "sought code"), names less so.
    "ellison type:audio",
)
# The victim's largest payment into the mule account, in the statement's rows.
DEMO_TRACE_ROW = 20
# The victim's mailbox and the mule account she paid into.
DEMO_PATH = ("maggie.ellison@example.com", "GB06NGMB40127631926485")


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
        "items (files found inside e-mails and archives under their parent)",
        ["id", "path", "type", "state"],
        [
            (
                r["id"],
                "  " * depth + ("└ " if depth else "") + _short(r["path"]),
                r["mime_type"],
                r["state"],
            )
            for r, depth in _tree(rows)
        ],
    )
    threads = current.app.mail.threads(actor, REFERENCE, min_messages=2)
    render.table(
        "e-mail threads (rebuilt from Message-ID, In-Reply-To and References)",
        ["messages", "first", "last", "subject"],
        [
            (
                len(t.messages),
                t.first,
                t.last,
                next((m.subject for m in t.messages if m.subject), ""),
            )
            for t in threads
        ],
    )
    render.table(
        "selectors (identifiers by the number of items they appear in)",
        ["kind", "value", "items", "mentions"],
        [
            (r["kind"], r["value"], r["items"], r["mentions"])
            for r in current.app.selectors.ranked(actor, REFERENCE, limit=12)
        ],
    )
    named = current.app.names.ranked(actor, REFERENCE, limit=10)
    if named:
        render.table(
            "names (people, organisations, places; spellings and scripts counted together)",
            ["kind", "name", "spellings", "items"],
            [(r["kind"], r["name"], r["spellings"], r["items"]) for r in named],
        )
    else:
        render.console.print("names: not looked for (pip install 'caselens[names]')")
    _show_links(current.app, actor)
    _show_hits(current.app, actor)
    for query in DEMO_QUERIES:
        render.console.print(f"[bold]caselens search {REFERENCE} {query!r}[/bold]")
        answer = current.app.search.search(actor, REFERENCE, query, size=5, facets=True)
        print_results(answer)
        types = ", ".join(f"{f['value']} {f['count']}" for f in answer["facets"]["type"])
        render.console.print(f"     [dim]by type: {types}[/dim]")
    pdf = next((r for r in rows if r["mime_type"] == "application/pdf"), None)
    if pdf is not None:
        detail = current.app.items.show(actor, REFERENCE, pdf["id"])
        first_lines = [page["text"].splitlines()[0] for page in detail.pages if page["text"]]
        render.console.print(
            f"PDF {_short(pdf['path'])}: {len(detail.pages)} pages of text; page 1 begins "
            f"{first_lines[0]!r}"
            if first_lines
            else f"PDF {_short(pdf['path'])}: no text"
        )
    _show_phone_evidence(current.app, actor, rows)
    _show_money(current.app, actor)
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


def _show_money(app: Caselens, actor: Actor) -> None:
    """The mule pattern the detectors found on the statement, and where one victim's
    largest payment went."""
    _total, found = app.alerts.list_alerts(actor, REFERENCE, limit=5)
    for alert in found:
        render.console.print(f"alert {alert.id} [bold]{alert.typology}[/bold]: {alert.explanation}")
    mule = next((alert for alert in found if alert.typology == "pass_through"), None)
    if mule is None:
        return
    _dataset, trace = app.tracing.trace(
        actor, REFERENCE, TraceRequest(row=DEMO_TRACE_ROW, method=Method.FIFO, hops=3)
    )
    render.table(
        f"caselens trace {REFERENCE} --row {DEMO_TRACE_ROW} (the victim's 12,000.00, FIFO)",
        ["hop", "time", "from", "to", "carried"],
        [(f.hop, f.time, f.payer, f.payee, f"{f.amount:,.2f} {f.currency}") for f in trace.flows],
    )


def _show_links(app: Caselens, actor: Actor) -> None:
    """The case's key players, and how the victim is linked to the mule account."""
    render.table(
        "key players (PageRank over mail, messages, calls and names found together)",
        ["entity", "kind", "links", "pagerank"],
        [
            (r["node"]["label"], r["node"]["kind"], r["degree"], f"{r['pagerank']:.3f}")
            for r in app.graph.key_players(actor, REFERENCE, limit=5)
        ],
    )
    found = app.graph.path(actor, REFERENCE, *DEMO_PATH)
    for hops in found.paths[:1]:
        steps = " -> ".join([hops[0]["from"]["label"], *(hop["to"]["label"] for hop in hops)])
        how = "; ".join(
            f"{edge['kind']} x{edge['count']} ({edge['evidence_count']} items)"
            for hop in hops
            for edge in hop["edges"]
        )
        render.console.print(f"path {DEMO_PATH[0]} to {DEMO_PATH[1]}: {steps} [{how}]")


def _show_hits(app: Caselens, actor: Actor) -> None:
    """What Tidewater's team learns of Kestrel: that it holds the same selectors, and
    whom to call; not its title, its evidence or its other selectors."""
    found = app.hits.list(actor, REFERENCE)
    render.table(
        f"cross-case hits (caselens hits {REFERENCE})",
        ["kind", "selector", "items here", "other case"],
        [(hit.kind, hit.value, hit.items, hit.notice) for hit in found],
    )


def _show_phone_evidence(app: Caselens, actor: Actor, rows: list[dict[str, Any]]) -> None:
    """The chat's messages, the photo's place and time, the statement's transcript."""
    for row in rows:
        if row["format"] not in {"whatsapp-export", "image", "media"}:
            continue
        detail = app.items.show(actor, REFERENCE, row["id"])
        if row["format"] == "whatsapp-export":
            messages = [e for e in detail.entities if e["schema"] == "Message"]
            zones = {str((e["context"] or {}).get("time_zone")) for e in messages}
            render.console.print(
                f"chat {_short(row['path'])}: {len(messages)} messages, times read in "
                f"{', '.join(sorted(zones))} (the exhibit's --timezone, marked assumed)"
            )
        elif row["format"] == "image":
            context: dict[str, Any] = next(
                (e["context"] for e in detail.entities if e["context"]), {}
            )
            gps, camera = context.get("gps") or {}, context.get("exif") or {}
            taken = (context.get("captured") or {}).get("utc")
            render.console.print(
                f"photo {_short(row['path'])}: {camera.get('make', '?')} {camera.get('model', '')}"
                f", taken {taken} UTC at {gps.get('latitude')}, {gps.get('longitude')}"
            )
        else:
            _show_transcript(app, actor, row)


def _show_transcript(app: Caselens, actor: Actor, row: dict[str, Any]) -> None:
    try:
        transcript = app.transcripts.show(actor, REFERENCE, row["id"])
    except NotFound:
        render.console.print(
            f"recording {_short(row['path'])}: not transcribed "
            "(pip install 'caselens[transcribe]' and apt-get install ffmpeg)"
        )
        return
    render.table(
        f"recording {_short(row['path'])}: machine transcript ({transcript['model']}, "
        f"{transcript['language']}, review state {transcript['review_state']})",
        ["from", "to", "confidence", "text"],
        [
            (f"{s['start']:.1f}s", f"{s['end']:.1f}s", f"{s['confidence'] or 0:.2f}", s["text"])
            for s in transcript["segments"]
        ],
    )


def _short(path: str) -> str:
    return path.rsplit("/evidence/", 1)[-1]


def _tree(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Rows in tree order: each item followed by the items found inside it."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    known = {row["id"] for row in rows}
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in known else None
        children.setdefault(parent, []).append(row)
    ordered: list[tuple[dict[str, Any], int]] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        ordered.append((row, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row["id"], [])))
    return ordered
