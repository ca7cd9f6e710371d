"""The entity graph of a case: neighbours, paths, common contacts, key players,
communities and exports. Every call is audited as a read. The graph is built from the
case's current entities once and kept in ``self.graphs`` (``graph.cache``) until an
ingest or any new entity or mention row changes what it was built from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row

from caselens.actor import Actor
from caselens.errors import CaselensError, InvalidInput, NotFound
from caselens.graph import centrality
from caselens.graph.build import build_graph
from caselens.graph.cache import GraphCache
from caselens.graph.export import EXPORTERS, FORMATS
from caselens.graph.filters import EdgeFilter, check_kinds
from caselens.graph.model import CaseGraph
from caselens.graph.queries import PathResult, Subgraph, common_contacts, neighbourhood, paths
from caselens.graph.resolve import resolve
from caselens.graph.temporal import time_respecting_path
from caselens.runtime import Runtime
from caselens.services.access import purpose_for, require_member
from caselens.services.base import Service

T = TypeVar("T")
MAX_HOPS = 6


def edge_filter(
    kinds: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    min_weight: int = 1,
) -> EdgeFilter:
    """A filter from user input; InvalidInput for an unknown kind or an unreadable time."""
    try:
        checked = check_kinds(kinds)
    except ValueError as err:
        raise InvalidInput(str(err), kinds=kinds) from err
    return EdgeFilter(checked, _moment(since, "since"), _moment(until, "until"), min_weight)


def _moment(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(f"--{name} {value!r} is not an ISO 8601 date or time") from err
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if len(value.strip()) == 10:
        return parsed.date().isoformat()
    return parsed.isoformat(timespec="seconds")


class GraphService(Service):
    def __init__(self, runtime: Runtime, *, cached_graphs: int = 2) -> None:
        super().__init__(runtime)
        self.graphs = GraphCache(build_graph, cached_graphs)

    def _read(
        self,
        actor: Actor,
        reference: str,
        action: str,
        query: Callable[[CaseGraph], T],
        details: Callable[[T], dict[str, Any]],
    ) -> T:
        # A look-up of something the case does not hold is audited too (what was sought
        # is itself worth recording), so its error is raised after the record is saved.
        def body(connection: Connection, case: Row[Any]) -> tuple[T | None, CaselensError | None]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            graph = self.graphs.graph(connection, case.id)
            try:
                result = query(graph)
            except (NotFound, InvalidInput) as error:
                self._audit(
                    connection,
                    actor,
                    action,
                    case=case,
                    purpose=purpose,
                    details={"error": error.message, **error.details},
                )
                return None, error
            self._audit(
                connection, actor, action, case=case, purpose=purpose, details=details(result)
            )
            return result, None

        result, error = self._in_case(actor, action, reference, body)
        if error is not None:
            raise error
        return result  # type: ignore[return-value]

    def neighbours(
        self,
        actor: Actor,
        reference: str,
        refs: list[str],
        *,
        hops: int = 1,
        flt: EdgeFilter | None = None,
        max_nodes: int = 200,
    ) -> Subgraph:
        """Nodes within ``hops`` of the named entities, at most ``max_nodes``."""
        if not refs:
            raise InvalidInput("name at least one entity")
        hops = _bounded(hops, "hops", 1, MAX_HOPS)
        max_nodes = _bounded(max_nodes, "max nodes", 1, 100000)

        def query(graph: CaseGraph) -> Subgraph:
            starts = [resolve(graph, ref) for ref in refs]
            return neighbourhood(
                graph, starts, hops=hops, flt=flt or EdgeFilter(), max_nodes=max_nodes
            )

        return self._read(
            actor,
            reference,
            "graph.neighbours",
            query,
            lambda r: {"refs": refs, "hops": hops, "nodes": len(r.nodes), "truncated": r.truncated},
        )

    def path(
        self,
        actor: Actor,
        reference: str,
        source: str,
        target: str,
        *,
        flt: EdgeFilter | None = None,
        extra_hops: int = 0,
        max_paths: int = 20,
        max_hops: int = MAX_HOPS,
        time_respecting: bool = False,
        follow_direction: bool = False,
    ) -> PathResult:
        """Shortest paths (and up to ``extra_hops`` longer); with ``time_respecting`` the
        fewest-hop path whose events follow one another in time."""
        max_hops = _bounded(max_hops, "max hops", 1, 10)
        max_paths = _bounded(max_paths, "max paths", 1, 1000)
        extra_hops = _bounded(extra_hops, "extra hops", 0, 3)

        def query(graph: CaseGraph) -> PathResult:
            first, second = resolve(graph, source), resolve(graph, target)
            walk = flt or EdgeFilter()
            if not time_respecting:
                return paths(
                    graph,
                    first,
                    second,
                    flt=walk,
                    extra_hops=extra_hops,
                    max_paths=max_paths,
                    max_hops=max_hops,
                )
            found = time_respecting_path(
                graph,
                first,
                second,
                flt=walk,
                max_hops=max_hops,
                follow_direction=follow_direction,
            )
            result = PathResult(
                graph.nodes[first].key, graph.nodes[second].key, None, [], False, True
            )
            if found:
                result.shortest = len(found)
                result.paths = [
                    [
                        {
                            "from": graph.nodes[hop.source].as_dict(),
                            "to": graph.nodes[hop.target].as_dict(),
                            "time": hop.time,
                            "edges": [graph.edge_dict(hop.edge_id)],
                        }
                        for hop in found
                    ]
                ]
            return result

        return self._read(
            actor,
            reference,
            "graph.path",
            query,
            lambda r: {
                "source": source,
                "target": target,
                "time_respecting": time_respecting,
                "shortest": r.shortest,
                "paths": len(r.paths),
            },
        )

    def common(
        self,
        actor: Actor,
        reference: str,
        refs: list[str],
        *,
        flt: EdgeFilter | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Contacts that every one of two or more named entities is linked to."""
        if len(set(refs)) < 2:
            raise InvalidInput("name two or more entities")

        def query(graph: CaseGraph) -> list[dict[str, Any]]:
            members = list(dict.fromkeys(resolve(graph, ref) for ref in refs))
            if len(members) < 2:
                raise InvalidInput("the entities named are one and the same")
            return common_contacts(graph, members, flt=flt or EdgeFilter(), limit=limit)

        return self._read(
            actor, reference, "graph.common", query, lambda r: {"refs": refs, "count": len(r)}
        )

    def key_players(
        self,
        actor: Actor,
        reference: str,
        *,
        order_by: str = "pagerank",
        flt: EdgeFilter | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Nodes ranked by degree, weighted degree, betweenness or PageRank."""

        def query(graph: CaseGraph) -> list[dict[str, Any]]:
            try:
                return centrality.key_players(
                    graph, flt=flt or EdgeFilter(), limit=limit, order_by=order_by
                )
            except ValueError as err:
                raise InvalidInput(str(err)) from err

        return self._read(
            actor,
            reference,
            "graph.key_players",
            query,
            lambda r: {"order_by": order_by, "count": len(r)},
        )

    def communities(
        self,
        actor: Actor,
        reference: str,
        *,
        method: str = "louvain",
        flt: EdgeFilter | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """Communities (Louvain or Leiden), largest first."""

        def query(graph: CaseGraph) -> dict[str, Any]:
            try:
                return centrality.communities(
                    graph, flt=flt or EdgeFilter(), method=method, limit=limit
                )
            except ValueError as err:
                raise InvalidInput(str(err)) from err

        return self._read(
            actor,
            reference,
            "graph.communities",
            query,
            lambda r: {"method": method, "count": len(r["communities"])},
        )

    def export(self, actor: Actor, reference: str, format: str) -> str:
        """The whole graph as GEXF, GraphML or Cypher text."""
        if format not in EXPORTERS:
            raise InvalidInput(f"unknown format {format!r}: use {', '.join(FORMATS)}")
        return self._read(
            actor,
            reference,
            "graph.export",
            EXPORTERS[format],
            lambda text: {"format": format, "characters": len(text)},
        )


def _bounded(value: int, name: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value
