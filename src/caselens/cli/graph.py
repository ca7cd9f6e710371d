"""The graph commands: neighbours, paths, common contacts, key players, communities, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.graph.filters import EdgeFilter
from caselens.services.graph import edge_filter

graph_app = typer.Typer(help="Who is connected to whom, how, and when.", no_args_is_help=True)

KindOption = Annotated[
    list[str] | None,
    typer.Option("--kind", help="Edge kind: email, message, call, owns, together (repeatable)."),
]
SinceOption = Annotated[str | None, typer.Option(help="Only events from this UTC date/time.")]
UntilOption = Annotated[str | None, typer.Option(help="Only events up to this UTC date/time.")]
MinWeightOption = Annotated[
    int, typer.Option(min=1, help="Only edges with at least this many events.")
]


def _filter(
    kind: list[str] | None, since: str | None, until: str | None, weight: int
) -> EdgeFilter:
    return edge_filter(kind, since, until, weight)


def _node_id(node: dict[str, Any]) -> str:
    merged = len(node.get("merged") or ()) - 1
    return f"{node['id']} (+{merged} judged the same)" if merged > 0 else str(node["id"])


def _edge_text(edge: dict[str, Any]) -> str:
    arrow = "->" if edge["directed"] else "--"
    when = f" {edge['first']} .. {edge['last']}" if edge["first"] else ""
    return f"{edge['kind']} {arrow} x{edge['count']}{when} ({edge['evidence_count']} items)"


@graph_app.command("neighbours")
def neighbours(
    ctx: typer.Context,
    reference: str,
    entities: Annotated[list[str], typer.Argument(help="Entity ids, e-mails, phone numbers.")],
    hops: Annotated[int, typer.Option(min=1, max=6)] = 1,
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_weight: MinWeightOption = 1,
    max_nodes: Annotated[int, typer.Option(min=1, max=100000)] = 200,
    json_output: JsonOption = False,
) -> None:
    """Entities within --hops of the named ones, strongest links first."""
    current = state(ctx)
    found = current.app.graph.neighbours(
        current.actor,
        reference,
        entities,
        hops=hops,
        flt=_filter(kind, since, until, min_weight),
        max_nodes=max_nodes,
    )
    if json_output:
        render.print_json(found)
        return
    labels = {node["id"]: node["label"] for node in found.nodes}
    render.table(
        f"within {hops} hops in {reference}" + (" (cut at --max-nodes)" if found.truncated else ""),
        ["hops", "label", "kind", "id"],
        [(found.hops[n["id"]], n["label"], n["kind"], _node_id(n)) for n in found.nodes],
    )
    render.table(
        "links",
        ["from", "to", "link"],
        [(labels[e["source"]], labels[e["target"]], _edge_text(e)) for e in found.edges],
    )


@graph_app.command("path")
def path(
    ctx: typer.Context,
    reference: str,
    source: str,
    target: str,
    extra_hops: Annotated[
        int, typer.Option(min=0, max=3, help="Also paths this many hops longer.")
    ] = 0,
    max_paths: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    max_hops: Annotated[int, typer.Option(min=1, max=10)] = 6,
    time_respecting: Annotated[
        bool, typer.Option(help="Each hop must use an event after the hop before.")
    ] = False,
    follow_direction: Annotated[
        bool, typer.Option(help="With --time-respecting: walk messages sender to receiver.")
    ] = False,
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_weight: MinWeightOption = 1,
    json_output: JsonOption = False,
) -> None:
    """Shortest paths between two entities (optionally time-respecting)."""
    current = state(ctx)
    found = current.app.graph.path(
        current.actor,
        reference,
        source,
        target,
        flt=_filter(kind, since, until, min_weight),
        extra_hops=extra_hops,
        max_paths=max_paths,
        max_hops=max_hops,
        time_respecting=time_respecting,
        follow_direction=follow_direction,
    )
    if json_output:
        render.print_json(found)
        return
    if not found.paths:
        what = "time-respecting path" if time_respecting else "path"
        render.console.print(f"no {what} within {max_hops} hops")
        return
    for number, hops in enumerate(found.paths, start=1):
        render.table(
            f"path {number} ({len(hops)} hops)",
            ["from", "to", "links"],
            [
                (
                    hop["from"]["label"],
                    hop["to"]["label"],
                    (f"at {hop['time']}: " if "time" in hop else "")
                    + "; ".join(_edge_text(e) for e in hop["edges"]),
                )
                for hop in hops
            ],
        )
    if found.truncated:
        render.console.print(f"more paths than --max-paths {max_paths}")


@graph_app.command("common")
def common(
    ctx: typer.Context,
    reference: str,
    entities: Annotated[list[str], typer.Argument(help="Two or more entities.")],
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_weight: MinWeightOption = 1,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 100,
    json_output: JsonOption = False,
) -> None:
    """Contacts shared by all the named entities."""
    current = state(ctx)
    rows = current.app.graph.common(
        current.actor,
        reference,
        entities,
        flt=_filter(kind, since, until, min_weight),
        limit=limit,
    )
    if json_output:
        render.print_json(rows)
        return
    render.table(
        f"common contacts in {reference}",
        ["label", "kind", "weight", "id"],
        [(r["node"]["label"], r["node"]["kind"], r["weight"], _node_id(r["node"])) for r in rows],
    )


@graph_app.command("key-players")
def key_players(
    ctx: typer.Context,
    reference: str,
    by: Annotated[
        str, typer.Option(help="pagerank, betweenness, degree or weighted_degree.")
    ] = "pagerank",
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_weight: MinWeightOption = 1,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 20,
    json_output: JsonOption = False,
) -> None:
    """Entities ranked by centrality."""
    current = state(ctx)
    rows = current.app.graph.key_players(
        current.actor,
        reference,
        order_by=by,
        flt=_filter(kind, since, until, min_weight),
        limit=limit,
    )
    if json_output:
        render.print_json(rows)
        return
    sampled = any(r["betweenness_sampled"] for r in rows)
    render.table(
        f"key players of {reference} by {by}" + (" (betweenness sampled)" if sampled else ""),
        ["label", "kind", "degree", "events", "betweenness", "pagerank", "id"],
        [
            (
                r["node"]["label"],
                r["node"]["kind"],
                r["degree"],
                r["weighted_degree"],
                f"{r['betweenness']:.4f}",
                f"{r['pagerank']:.4f}",
                _node_id(r["node"]),
            )
            for r in rows
        ],
    )


@graph_app.command("communities")
def communities(
    ctx: typer.Context,
    reference: str,
    method: Annotated[str, typer.Option(help="louvain or leiden.")] = "louvain",
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_weight: MinWeightOption = 1,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Groups of entities more linked to each other than to the rest."""
    current = state(ctx)
    found = current.app.graph.communities(
        current.actor,
        reference,
        method=method,
        flt=_filter(kind, since, until, min_weight),
        limit=limit,
    )
    if json_output:
        render.print_json(found)
        return
    render.table(
        f"communities of {reference} ({method}, modularity {found['modularity']:.3f})",
        ["#", "size", "members"],
        [
            (c["community"], c["size"], ", ".join(m["label"] for m in c["members"][:10]))
            for c in found["communities"]
        ],
    )


@graph_app.command("export")
def export(
    ctx: typer.Context,
    reference: str,
    format: Annotated[str, typer.Option("--format", help="gexf, graphml or cypher.")] = "gexf",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """The case's graph for Gephi (GEXF), yEd / i2 (GraphML) or Neo4j (Cypher)."""
    current = state(ctx)
    text = current.app.graph.export(current.actor, reference, format)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    if json_output:
        render.print_json({"format": format, "path": str(output), "characters": len(text)})
    else:
        render.console.print(f"wrote {format} to {output} ({len(text)} characters)")
