"""caselens hashsets: import known-good and alert lists, match a case, group near-duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import CliState, state
from caselens.hashsets.parsers import FORMATS
from caselens.hashsets.thresholds import MAX_THRESHOLD
from caselens.services.hashsets import DEFAULT_PDQ_THRESHOLD, HashSetInfo, HashSetService

hashsets_app = typer.Typer(
    help="Hash lists: known-good files to hide, alert material to flag, near-duplicate images.",
    no_args_is_help=True,
)


def _service(current: CliState) -> HashSetService:
    return current.app.hashsets


ThresholdOption = Annotated[
    int,
    typer.Option(
        "--threshold",
        min=0,
        max=MAX_THRESHOLD,
        help="Largest PDQ distance (bits of 256 that differ) that still counts as alike.",
    ),
]


@hashsets_app.command("import")
def import_list(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The list file.")],
    name: Annotated[str, typer.Option("--name", help="Name of the new set.")],
    kind: Annotated[str, typer.Option("--kind", help="alert or known-good.")],
    list_format: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"auto or one of {', '.join(FORMATS)}; a list of bare 64-hex lines is "
            "read as SHA-256 unless --format pdq is given.",
        ),
    ] = "auto",
    pdq_threshold: Annotated[
        int,
        typer.Option(
            "--pdq-threshold",
            min=0,
            max=MAX_THRESHOLD,
            help="Largest PDQ distance that matches this list (PDQ lists only).",
        ),
    ] = DEFAULT_PDQ_THRESHOLD,
    json_output: JsonOption = False,
) -> None:
    """Import a hash list for every case of the installation (admins only)."""
    current = state(ctx)
    info = _service(current).import_set(
        current.actor, name, kind, file, fmt=list_format, pdq_threshold=pdq_threshold
    )
    if json_output:
        render.print_json(info)
        return
    counts = ", ".join(f"{n} {algorithm}" for algorithm, n in sorted(info.counts.items()))
    render.console.print(
        f"imported {info.name} ({info.kind}, {info.format}): {info.entries} distinct hashes "
        f"({counts}) from {info.lines} lines of {info.source_name}, sha256 {info.source_sha256}"
    )
    if info.bad_lines:
        render.errors.print(f"{info.bad_lines} bad lines skipped:", highlight=False)
        for line, reason in info.problems[:20]:
            render.errors.print(f"  line {line}: {reason}", markup=False, highlight=False)
        if info.bad_lines > 20:
            render.errors.print(f"  … and {info.bad_lines - 20} more", highlight=False)


@hashsets_app.command("list")
def list_sets(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The installation's hash sets."""
    current = state(ctx)
    sets = _service(current).list_sets(current.actor)
    if json_output:
        render.print_json(sets)
        return
    render.table(
        "hash sets",
        ["name", "kind", "format", "hashes", "bad lines", "PDQ threshold", "imported", "by"],
        [_set_row(info) for info in sets],
    )


def _set_row(info: HashSetInfo) -> tuple[object, ...]:
    return (
        info.name,
        info.kind,
        info.format,
        info.entries,
        info.bad_lines,
        info.pdq_threshold,
        info.imported_at,
        info.imported_by,
    )


@hashsets_app.command("match")
def match(
    ctx: typer.Context,
    reference: str,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="Matches listed.")] = 1000,
    json_output: JsonOption = False,
) -> None:
    """Match the case's items against every list and list the matches, alerts first."""
    current = state(ctx)
    run = _service(current).match(current.actor, reference, limit=limit)
    if json_output:
        render.print_json(run)
        return
    render.console.print(
        f"{run.reference}: {run.total} matches on {run.sets} sets ({run.added} new, "
        f"{run.removed} no longer holding); {run.images} images with a PDQ hash"
        + (f", {run.unusable_images} without a usable one" if run.unusable_images else "")
    )
    for entry in run.by_set:
        colour = "red" if entry["kind"] == "alert" else "green"
        render.console.print(
            f"  [{colour}]{entry['kind']}[/{colour}] {entry['set']}: {entry['items']} items",
            highlight=False,
        )
    render.table(
        f"matches in {run.reference}",
        ["item", "path", "set", "kind", "hash", "distance", "label"],
        [
            (
                m["item_id"],
                m["path"],
                m["set"],
                m["kind"],
                m["algorithm"],
                m["distance"],
                m["label"],
            )
            for m in run.matches
        ],
    )
    if run.total > len(run.matches):
        render.console.print(f"… {run.total - len(run.matches)} more (--limit, --json)")


@hashsets_app.command("duplicates")
def duplicates(
    ctx: typer.Context,
    reference: str,
    threshold: ThresholdOption = DEFAULT_PDQ_THRESHOLD,
    json_output: JsonOption = False,
) -> None:
    """Group the case's images that look alike (PDQ hashes within the threshold)."""
    current = state(ctx)
    found = _service(current).near_duplicates(current.actor, reference, threshold)
    if json_output:
        render.print_json(found)
        return
    render.console.print(
        f"{found.reference}: {len(found.groups)} groups of near-duplicates among "
        f"{found.images} images (threshold {found.threshold} bits)"
        + (
            f"; {found.unusable_images} images without a usable PDQ hash"
            if found.unusable_images
            else ""
        )
    )
    for number, group in enumerate(found.groups, start=1):
        render.table(
            f"group {number}: {len(group)} images",
            ["item", "path", "quality", "nearest", "pdq"],
            [(m["item_id"], m["path"], m["quality"], m["nearest"], m["pdq"]) for m in group],
        )
