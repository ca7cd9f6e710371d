"""The tx commands: import transaction files into a case, list its datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.finance.importers import FORMATS
from caselens.services.transactions import Dataset

tx_app = typer.Typer(help="Bulk transactions: import and list datasets.", no_args_is_help=True)

SHOWN_REFUSED = 10  # refused rows printed after an import (all are in --json and the report)


@tx_app.command("import")
def import_command(
    ctx: typer.Context,
    reference: str,
    file: Annotated[Path, typer.Argument(help="The transactions file.")],
    format_name: Annotated[
        str, typer.Option("--format", help=f"One of: {', '.join(sorted(FORMATS))}.")
    ],
    mapping: Annotated[
        Path | None, typer.Option(help="YAML column mapping (csv format: CSV or XLSX).")
    ] = None,
    exhibit: Annotated[str | None, typer.Option(help="Exhibit reference of the file.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Import a transactions file: the file becomes an item of the case, its rows a
    Parquet dataset. Bad rows are refused with their line and reason; the rest is kept."""
    current = state(ctx)
    dataset = current.app.transactions.import_file(
        current.actor, reference, file, format_name, mapping=mapping, exhibit=exhibit
    )
    if json_output:
        render.print_json(dataset.as_dict())
        return
    what = "already imported, unchanged" if dataset.already else "imported"
    render.console.print(
        f"{dataset.name}: {what} as dataset {dataset.id} ({dataset.format}): "
        f"{dataset.rows} rows, {dataset.bad_rows} bad rows"
    )
    if dataset.first_time and dataset.last_time:
        render.console.print(f"time span: {dataset.first_time} .. {dataset.last_time}")
    if dataset.attempts:
        render.console.print(f"labelled laundering attempts: {dataset.attempts}")
    for warning in dataset.warnings:
        render.console.print(f"warning: {warning}", highlight=False, markup=False)
    if dataset.refused:
        render.table(
            f"refused rows (first {min(SHOWN_REFUSED, len(dataset.refused))} "
            f"of {dataset.bad_rows})",
            ["line", "reason"],
            [(bad.line, bad.reason) for bad in dataset.refused[:SHOWN_REFUSED]],
        )


@tx_app.command("list")
def list_command(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """The transaction datasets of a case."""
    current = state(ctx)
    found = current.app.transactions.datasets(current.actor, reference)
    if json_output:
        render.print_json([dataset.as_dict() for dataset in found])
        return
    if not found:
        render.console.print(f"no transaction datasets in {reference}")
        return
    render.table(
        f"transaction datasets of {reference}",
        ["id", "file", "format", "rows", "bad", "from", "to", "imported"],
        [_row(dataset) for dataset in found],
    )


def _row(dataset: Dataset) -> tuple[object, ...]:
    return (
        dataset.id[:12],
        dataset.name,
        dataset.format,
        dataset.rows,
        dataset.bad_rows,
        dataset.first_time,
        dataset.last_time,
        f"{dataset.imported_at:%Y-%m-%d %H:%M} {dataset.imported_by}",
    )
