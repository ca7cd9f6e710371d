"""caselens trace: follow money through a case's transaction dataset."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.cli.timeline import parse_bound
from caselens.errors import InvalidInput
from caselens.finance.trace import MAX_HOPS, Direction, TraceRequest
from caselens.finance.trace_export import export_format, write_graph
from caselens.finance.trace_ledger import Method
from caselens.finance.trace_result import TraceResult

SHOWN_FLOWS = 30  # flows printed; all are in --json and --flows-csv
FLOW_COLUMNS = [
    "hop",
    "row",
    "tx_id",
    "time",
    "from",
    "to",
    "amount",
    "currency",
    "share",
    "origin",
]


def trace(
    ctx: typer.Context,
    reference: str,
    account: Annotated[
        str | None, typer.Option(help="Start from this account's payments (its key).")
    ] = None,
    row: Annotated[int | None, typer.Option(help="Start from this transaction (its row).")] = None,
    backward: Annotated[
        bool, typer.Option("--backward", help="Where the money came from, not where it went.")
    ] = False,
    method: Annotated[
        str, typer.Option(help="How an account's outgoing money is matched: fifo, lifo, pro-rata.")
    ] = "fifo",
    hops: Annotated[int, typer.Option(help=f"Payments in a chain, 1 to {MAX_HOPS}.")] = 5,
    min_amount: Annotated[
        float, typer.Option(help="Stop a chain where it carries less than this.")
    ] = 0.0,
    since: Annotated[str | None, typer.Option(help="Window start (ISO 8601, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end (ISO 8601, UTC).")] = None,
    dataset: Annotated[
        str | None, typer.Option(help="Dataset id or prefix (when the case has several).")
    ] = None,
    flows_csv: Annotated[
        Path | None, typer.Option("--flows-csv", help="Write the flow table to this CSV file.")
    ] = None,
    graph: Annotated[
        Path | None, typer.Option(help="Write the trace graph (.gexf or .graphml).")
    ] = None,
    bring: Annotated[
        bool,
        typer.Option(
            "--bring", help="Bring the traced payments and accounts into the case's entities."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Follow funds forward or backward through up to N hops in time order, allocating
    each account's money by FIFO, LIFO or pro rata; print the flows and the accounts.
    With --bring, the traced payments become Payment entities of the case."""
    try:
        chosen = Method(method)
    except ValueError:
        raise InvalidInput(
            f"--method must be one of: {', '.join(m.value for m in Method)}"
        ) from None
    if graph is not None:
        export_format(graph)  # refuse a wrong suffix before the trace runs
    request = TraceRequest(
        account=account,
        row=row,
        direction=Direction.BACKWARD if backward else Direction.FORWARD,
        method=chosen,
        hops=hops,
        min_amount=min_amount,
        since=parse_bound(since, "--since"),
        until=parse_bound(until, "--until", end_of_day=True),
    )
    current = state(ctx)
    brought: dict[str, int] | None = None
    if bring:
        dataset_id, result, brought = current.app.tracing.bring_into_case(
            current.actor, reference, request, dataset
        )
    else:
        dataset_id, result = current.app.tracing.trace(current.actor, reference, request, dataset)
    if flows_csv is not None:
        _write_flows(result, flows_csv)
    if graph is not None:
        write_graph(result, graph)
    if json_output:
        extra = {"brought": brought} if brought is not None else {}
        render.print_json({"dataset": dataset_id, **result.as_dict(), **extra})
        return
    _print(result, dataset_id)
    if brought is not None:
        render.console.print(
            f"brought into the case: {brought['accounts']} accounts, "
            f"{brought['payments']} payments ({brought['new_entities']} new entities)"
        )


def _write_flows(result: TraceResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FLOW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flow.as_dict() for flow in result.flows)


def _print(result: TraceResult, dataset_id: str) -> None:
    stats = result.stats
    render.console.print(
        f"dataset {dataset_id[:12]}: {len(result.seeds)} starting payments, "
        f"{len(result.flows)} flows through {len(result.nodes)} accounts, "
        f"{stats.get('rows_read', 0)} rows read"
    )
    if stats.get("truncated"):
        render.console.print("warning: a limit was reached; the trace is incomplete")
    shown = result.flows[:SHOWN_FLOWS]
    render.table(
        f"flows (first {len(shown)} of {len(result.flows)})",
        ["hop", "row", "time", "from", "to", "amount", "of payment", "origin"],
        [
            (
                f.hop,
                f.row,
                f.time,
                f.payer,
                f.payee,
                f"{f.amount:,.2f} {f.currency}",
                f"{f.share:.0%}",
                f.origin,
            )
            for f in shown
        ],
    )
    render.table(
        "accounts",
        ["account", "first hop", "traced in", "traced out", "unexplained", "followed"],
        [
            (
                n.account,
                n.first_hop,
                f"{n.traced_in:,.2f}",
                f"{n.traced_out:,.2f}",
                f"{n.unexplained:,.2f}",
                "yes" if n.followed else "no",
            )
            for n in sorted(result.nodes.values(), key=lambda n: (n.first_hop, n.account))
        ],
    )
