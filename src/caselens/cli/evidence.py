"""Commands on a case's evidence: ingest, status, items, show, export, verify, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.progress import IngestProgress
from caselens.cli.state import state
from caselens.errors import InvalidInput
from caselens.ingest.pipeline import IngestSummary
from caselens.services.ingest import Acquisition

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"give a time zone with --seized-at (e.g. {value}Z or {value}+01:00)")
    return moment.astimezone(UTC)


PasswordsOption = Annotated[
    Path | None,
    typer.Option(
        "--passwords",
        help="File of passwords to try on encrypted items, one per line (never logged).",
    ),
]


def read_passwords(path: Path | None) -> list[str]:
    """One password a line, exactly as written (spaces count); blank lines skipped."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot read the password file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"the password file {path} is not UTF-8 text") from None
    return [line for line in text.splitlines() if line]


def ingest(
    ctx: typer.Context,
    reference: str,
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to ingest.")],
    exhibit: Annotated[str | None, typer.Option(help="Exhibit reference, e.g. ABC/1.")] = None,
    description: Annotated[str | None, typer.Option(help="What the exhibit is.")] = None,
    seized_by: Annotated[str | None, typer.Option(help="Who seized it.")] = None,
    seized_at: Annotated[str | None, typer.Option(help="When, ISO 8601 with zone.")] = None,
    seized_from: Annotated[str | None, typer.Option(help="From where or whom.")] = None,
    notes: Annotated[str | None, typer.Option(help="Acquisition notes.")] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA zone of the exhibit's clock (e.g. Europe/London), for sources that "
            "store local times without a zone; needs --exhibit."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Parser processes (default: cores).")] = None,
    passwords: PasswordsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ingest files and directories into a case (idempotent and resumable)."""
    current = state(ctx)
    acquisition = Acquisition(
        exhibit=exhibit,
        description=description,
        seized_by=seized_by,
        seized_at=_parse_time(seized_at),
        seized_from=seized_from,
        notes=notes,
        timezone=timezone,
    )
    with IngestProgress(enabled=not json_output) as progress:
        summary = current.app.ingest.ingest(
            current.actor,
            reference,
            [str(p) for p in paths],
            acquisition,
            workers=workers,
            progress=progress,
            passwords=read_passwords(passwords),
        )
    _report(summary, json_output)


def reprocess(
    ctx: typer.Context,
    reference: str,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only items that failed or were encrypted.")
    ] = False,
    mime_type: Annotated[str | None, typer.Option("--type", help="MIME type, * allowed")] = None,
    format_name: Annotated[str | None, typer.Option("--format", help="Ingestor name")] = None,
    workers: Annotated[int | None, typer.Option(help="Parser processes (default: cores).")] = None,
    passwords: PasswordsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run the ingestors again on stored items; earlier results are kept as superseded."""
    current = state(ctx)
    with IngestProgress(enabled=not json_output) as progress:
        summary = current.app.ingest.reprocess(
            current.actor,
            reference,
            failed_only=failed,
            mime_type=mime_type,
            format_name=format_name,
            workers=workers,
            progress=progress,
            passwords=read_passwords(passwords),
        )
    _report(summary, json_output)


def _report(summary: IngestSummary, json_output: bool) -> None:
    if json_output:
        render.print_json(summary.as_dict())
    else:
        print_ingest_summary(summary)
    if summary.interrupted:
        render.errors.print("interrupted: run the same command again to finish")
        raise typer.Exit(130)


def print_ingest_summary(summary: IngestSummary) -> None:
    seconds = max(summary.seconds, 1e-9)
    states = ", ".join(f"{count} {name}" for name, count in sorted(summary.states.items()))
    render.console.print(
        f"{summary.files_seen} files seen, {summary.already_present} already in the case, "
        f"{summary.processed} processed ({states or 'none'}) in {summary.seconds:.1f} s: "
        f"{summary.processed / seconds:,.0f} files/s, "
        f"{summary.bytes_read / seconds / 1e6:,.1f} MB/s"
    )
    for path, reason in summary.failures[:20]:
        render.console.print(f"  [red]failed[/red] {path}: {reason}")
    if len(summary.failures) > 20:
        render.console.print(f"  … and {len(summary.failures) - 20} more (caselens status)")


def status(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """Counts by state, format and type; failures with their reasons."""
    current = state(ctx)
    report = current.app.items.status(current.actor, reference)
    if json_output:
        render.print_json(report)
        return
    render.console.print(
        f"[bold]{report.reference}[/bold] {report.title} ({report.status}): "
        f"{report.items} items, {render.human_bytes(report.bytes)}"
    )
    if report.hits.get("total"):
        render.console.print(
            f"cross-case hits: {report.hits['total']}, [bold]{report.hits['new']} new[/bold] "
            f"(caselens hits {report.reference})"
        )
    render.table("by state", ["state", "items"], sorted(report.by_state.items()))
    render.table(
        "by format",
        ["format", "states"],
        [
            (name, ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
            for name, states in sorted(report.by_format.items())
        ],
    )
    render.table("by type", ["MIME type", "items"], list(report.by_mime_type.items())[:25])
    if report.reasons:
        render.table(
            "reasons by format",
            ["format", "state", "items", "reason"],
            [(r["format"], r["state"], r["items"], r["reason"]) for r in report.reasons],
        )
    if report.failures:
        render.table(
            "not read, with reasons",
            ["item", "path", "state", "reason"],
            [(f["id"], f["path"], f["state"], f["reason"]) for f in report.failures],
        )


def items(
    ctx: typer.Context,
    reference: str,
    state_filter: Annotated[str | None, typer.Option("--state", help="e.g. failed")] = None,
    mime_type: Annotated[str | None, typer.Option("--type", help="MIME type, * allowed")] = None,
    format_name: Annotated[str | None, typer.Option("--format", help="Ingestor name")] = None,
    path: Annotated[str | None, typer.Option(help="Part of the path")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    hide_known_good: Annotated[
        bool,
        typer.Option(
            "--hide-known-good", help="Leave out items on a known-good hash list (OS files)."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List a case's items, filtered."""
    current = state(ctx)
    rows = current.app.items.list(
        current.actor,
        reference,
        state=state_filter,
        mime_type=mime_type,
        format_name=format_name,
        path_contains=path,
        limit=limit,
        offset=offset,
        hide_known_good=hide_known_good,
    )
    if json_output:
        render.print_json(rows)
        return
    render.table(
        f"items of {reference}",
        ["id", "path", "type", "size", "state", "sha256"],
        [
            (r["id"], r["path"], r["mime_type"], r["size"], r["state"], (r["sha256"] or "")[:16])
            for r in rows
        ],
    )


def show(
    ctx: typer.Context,
    reference: str,
    item: Annotated[str, typer.Argument(help="Item id or a unique SHA-256 prefix.")],
    json_output: JsonOption = False,
) -> None:
    """One item: metadata, acquisition, text per page, children and custody history."""
    current = state(ctx)
    detail = current.app.items.show(current.actor, reference, item)
    if json_output:
        render.print_json(detail)
        return
    fields = [(k, v) for k, v in detail.item.items() if v not in (None, "", [])]
    render.table(f"item {detail.item['id']}", ["field", "value"], fields)
    if detail.exhibit:
        render.table(
            "exhibit", ["field", "value"], [(k, v) for k, v in detail.exhibit.items() if v]
        )
    for page in detail.pages:
        text = page["text"]
        shown = text if len(text) <= 3000 else text[:3000] + f"\n… ({len(text)} characters)"
        render.console.rule(f"page {page['page']}")
        render.console.print(shown, markup=False, highlight=False)
    if detail.children:
        render.table(
            "children",
            ["id", "path", "type", "state"],
            [(c["id"], c["path"], c["mime_type"], c["state"]) for c in detail.children],
        )
    if detail.hash_matches:
        render.table(
            "hash lists",
            ["set", "kind", "hash", "distance", "label"],
            [
                (m["set"], m["kind"], m["algorithm"], m["distance"], m["label"])
                for m in detail.hash_matches
            ],
        )
    render.table(
        "custody",
        ["seq", "event", "by", "at", "hash"],
        [(c["seq"], c["action"], c["actor"], c["at"], c["hash"][:16]) for c in detail.custody],
    )


def export_item(
    ctx: typer.Context,
    reference: str,
    item: Annotated[str, typer.Argument(help="Item id or a unique SHA-256 prefix.")],
    destination: Annotated[Path, typer.Argument(help="File to create, or a directory.")],
) -> None:
    """Write an item's original bytes to a new file, hash checked, and log the export."""
    current = state(ctx)
    digests = current.app.items.export(current.actor, reference, item, destination)
    render.console.print(f"exported {digests.size} bytes, sha256 {digests.sha256} (checked)")


def thumbnail(
    ctx: typer.Context,
    reference: str,
    item: Annotated[str, typer.Argument(help="Item id or a unique SHA-256 prefix.")],
    destination: Annotated[Path, typer.Argument(help="JPEG file to create.")],
    size: Annotated[int, typer.Option(help="Longest side in pixels.")] = 256,
) -> None:
    """Write a small JPEG preview of a picture (upright, without its metadata)."""
    current = state(ctx)
    if destination.exists():
        raise InvalidInput(f"{destination} exists; caselens never overwrites a file")
    preview = current.app.items.thumbnail(current.actor, reference, item, size)
    with destination.open("xb") as handle:
        handle.write(preview)
    render.console.print(f"thumbnail of {len(preview)} bytes written to {destination}")


def verify(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """Re-hash every blob and check every log chain; exit 0 only when all is intact."""
    current = state(ctx)
    report = current.app.verify.verify(current.actor, reference)
    if json_output:
        render.print_json(report.as_dict())
    else:
        for chain_report in report.chains:
            head = chain_report.head
            head_text = f"head {head.seq} {head.hash}" if head else "no head"
            mark = "[green]ok[/green]" if chain_report.ok else "[red]FAILED[/red]"
            render.console.print(
                f"{mark} {chain_report.chain}: {chain_report.records} records, {head_text}"
            )
            for problem in chain_report.problems:
                render.console.print(f"   {problem}", markup=False)
        mark = "[green]ok[/green]" if not report.problems else "[red]FAILED[/red]"
        render.console.print(
            f"{mark} blobs: {report.blobs_checked} re-hashed for {report.items_checked} items"
        )
        for problem in report.problems:
            render.console.print(f"   {problem}", markup=False)
    if not report.ok:
        raise typer.Exit(4)


def audit(
    ctx: typer.Context,
    reference: Annotated[
        str | None, typer.Argument(help="Case reference; omit for the installation log.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 200,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. item.show")] = None,
    json_output: JsonOption = False,
) -> None:
    """The audit log of a case (auditors and its lead) or of the installation."""
    current = state(ctx)
    if reference:
        records = current.app.audit.case_log(current.actor, reference, limit=limit, action=action)
    else:
        records = current.app.audit.installation_log(current.actor, limit=limit, action=action)
    if json_output:
        render.print_json(records)
        return
    render.table(
        f"audit log of {reference or 'the installation'}",
        ["seq", "at", "user", "action", "purpose", "object"],
        [
            (
                r["seq"],
                r["at"],
                r["actor"],
                r["action"],
                r["details"].get("purpose"),
                r["details"].get("object"),
            )
            for r in records
        ],
    )
