"""The graph as GEXF (Gephi), GraphML (yEd, i2 imports, networkx) and Cypher (Neo4j).

Written with xml.etree so that names and labels are escaped by the XML writer; characters
XML 1.0 cannot carry (control characters from hostile sources) become U+FFFD, so the
files always parse back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from caselens.graph.model import EDGE_KINDS, CaseGraph

FORMATS = ("gexf", "graphml", "cypher")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NODE_ATTRIBUTES = ("category", "kind", "identifiers", "merged")
_EDGE_ATTRIBUTES = ("kind", "count", "first", "last", "evidence", "evidence_count", "roles")


def _clean(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def _node_values(graph: CaseGraph, index: int) -> dict[str, Any]:
    node = graph.nodes[index]
    return {
        "category": node.category,
        "kind": node.kind,
        "identifiers": node.identifiers,
        "merged": node.merged,
    }


def to_gexf(graph: CaseGraph) -> str:
    root = ET.Element("gexf", {"xmlns": "http://gexf.net/1.3", "version": "1.3"})
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "caselens"
    body = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    node_attributes = ET.SubElement(body, "attributes", {"class": "node"})
    for number, name in enumerate(_NODE_ATTRIBUTES):
        ET.SubElement(
            node_attributes, "attribute", {"id": str(number), "title": name, "type": "string"}
        )
    edge_attributes = ET.SubElement(body, "attributes", {"class": "edge"})
    for number, name in enumerate(_EDGE_ATTRIBUTES):
        kind = "integer" if name in ("count", "evidence_count") else "string"
        ET.SubElement(
            edge_attributes, "attribute", {"id": str(number), "title": name, "type": kind}
        )
    nodes = ET.SubElement(body, "nodes")
    for index, node in enumerate(graph.nodes):
        element = ET.SubElement(
            nodes, "node", {"id": _clean(node.key), "label": _clean(node.label)}
        )
        values = ET.SubElement(element, "attvalues")
        for number, (_, value) in enumerate(_node_values(graph, index).items()):
            ET.SubElement(values, "attvalue", {"for": str(number), "value": _clean(value)})
    edges = ET.SubElement(body, "edges")
    for number, edge in enumerate(graph.edges):
        data = graph.edge_dict(number)
        element = ET.SubElement(
            edges,
            "edge",
            {
                "id": str(number),
                "source": _clean(data["source"]),
                "target": _clean(data["target"]),
                "type": "directed" if edge.directed else "undirected",
                "weight": str(edge.count),
                "label": edge.kind,
            },
        )
        values = ET.SubElement(element, "attvalues")
        for index, name in enumerate(_EDGE_ATTRIBUTES):
            ET.SubElement(values, "attvalue", {"for": str(index), "value": _clean(data[name])})
    return _serialize(root)


def to_graphml(graph: CaseGraph) -> str:
    namespace = "http://graphml.graphdrawing.org/xmlns"
    root = ET.Element("graphml", {"xmlns": namespace})
    ET.SubElement(
        root, "key", {"id": "label", "for": "node", "attr.name": "label", "attr.type": "string"}
    )
    for name in _NODE_ATTRIBUTES:
        ET.SubElement(
            root, "key", {"id": name, "for": "node", "attr.name": name, "attr.type": "string"}
        )
    for name in _EDGE_ATTRIBUTES:
        kind = "int" if name in ("count", "evidence_count") else "string"
        ET.SubElement(
            root, "key", {"id": f"e_{name}", "for": "edge", "attr.name": name, "attr.type": kind}
        )
    body = ET.SubElement(root, "graph", {"id": "case", "edgedefault": "directed"})
    for index, node in enumerate(graph.nodes):
        element = ET.SubElement(body, "node", {"id": _clean(node.key)})
        ET.SubElement(element, "data", {"key": "label"}).text = _clean(node.label)
        for name, value in _node_values(graph, index).items():
            ET.SubElement(element, "data", {"key": name}).text = _clean(value)
    for number, edge in enumerate(graph.edges):
        data = graph.edge_dict(number)
        element = ET.SubElement(
            body,
            "edge",
            {
                "id": f"e{number}",
                "source": _clean(data["source"]),
                "target": _clean(data["target"]),
                "directed": "true" if edge.directed else "false",
            },
        )
        for name in _EDGE_ATTRIBUTES:
            ET.SubElement(element, "data", {"key": f"e_{name}"}).text = _clean(data[name])
    return _serialize(root)


def _serialize(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _cypher_string(value: Any) -> str:
    text = "" if value is None else str(value)
    escaped = (
        text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f"'{escaped}'"


def _cypher_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_string(v) for v in value) + "]"
    return "null" if value is None else _cypher_string(value)


def to_cypher(graph: CaseGraph) -> str:
    """MERGE statements, one a line: nodes labelled Entity, relationships named by kind."""
    lines = ["CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;"]
    for node in graph.nodes:
        lines.append(
            f"MERGE (n:Entity {{id: {_cypher_string(node.key)}}}) SET n.label = "
            f"{_cypher_string(node.label)}, n.category = {_cypher_string(node.category)}, "
            f"n.kind = {_cypher_string(node.kind)}, "
            f"n.identifiers = {_cypher_value(node.identifiers)}, "
            f"n.merged = {_cypher_value(node.merged)};"
        )
    for number, edge in enumerate(graph.edges):
        data = graph.edge_dict(number)
        relation = edge.kind.upper() if edge.kind in EDGE_KINDS else "LINK"
        values = ", ".join(
            f"r.{name} = {_cypher_value(data[name])}" for name in _EDGE_ATTRIBUTES[1:]
        )
        lines.append(
            f"MATCH (a:Entity {{id: {_cypher_string(data['source'])}}}), "
            f"(b:Entity {{id: {_cypher_string(data['target'])}}}) "
            f"MERGE (a)-[r:{relation}]->(b) SET {values};"
        )
    return "\n".join(lines) + "\n"


EXPORTERS: dict[str, Callable[[CaseGraph], str]] = {
    "gexf": to_gexf,
    "graphml": to_graphml,
    "cypher": to_cypher,
}
