"""A trace as a graph file: GEXF (Gephi) or GraphML (yEd, i2, networkx).

Nodes are accounts with the traced money in and out; edges are payments that carried
traced money, one edge per payment (parallel edges kept), with the amount carried. The
case graph's exporters (``caselens.graph.export``) write entities and evidence; this one
writes amounts, so the two stay separate. Values go through the XML writer, so account
keys from hostile sources are escaped; characters XML 1.0 cannot hold become U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caselens.errors import InvalidInput
from caselens.finance.trace_result import TraceResult

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# (name, GEXF type, GraphML type) of each attribute.
NODE_ATTRIBUTES = (
    ("first_hop", "integer", "int"),
    ("traced_in", "double", "double"),
    ("traced_out", "double", "double"),
    ("unexplained", "double", "double"),
    ("currency", "string", "string"),
    ("followed", "boolean", "boolean"),
)
EDGE_ATTRIBUTES = (
    ("row", "long", "long"),
    ("tx_id", "string", "string"),
    ("time", "string", "string"),
    ("amount", "double", "double"),
    ("currency", "string", "string"),
    ("share", "double", "double"),
    ("hops", "string", "string"),
)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return _NOT_XML.sub("\ufffd", str(value))


def _rows(result: TraceResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [node.as_dict() for node in sorted(result.nodes.values(), key=lambda n: n.account)]
    return nodes, [edge.as_dict() for edge in result.edges()]


def to_gexf(result: TraceResult) -> str:
    root = ET.Element("gexf", {"xmlns": "http://gexf.net/1.3", "version": "1.3"})
    ET.SubElement(ET.SubElement(root, "meta"), "creator").text = "caselens trace"
    body = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    for kind, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        declared = ET.SubElement(body, "attributes", {"class": kind})
        for name, gexf_type, _ in attributes:
            ET.SubElement(declared, "attribute", {"id": name, "title": name, "type": gexf_type})
    nodes, edges = _rows(result)
    node_list = ET.SubElement(body, "nodes")
    for node in nodes:
        element = ET.SubElement(
            node_list, "node", {"id": _text(node["account"]), "label": _text(node["account"])}
        )
        values = ET.SubElement(element, "attvalues")
        for name, _, _ in NODE_ATTRIBUTES:
            ET.SubElement(values, "attvalue", {"for": name, "value": _text(node[name])})
    edge_list = ET.SubElement(body, "edges")
    for edge in edges:
        element = ET.SubElement(
            edge_list,
            "edge",
            {
                "id": f"r{edge['row']}",
                "source": _text(edge["from"]),
                "target": _text(edge["to"]),
                "weight": repr(float(edge["amount"])),
            },
        )
        values = ET.SubElement(element, "attvalues")
        for name, _, _ in EDGE_ATTRIBUTES:
            ET.SubElement(values, "attvalue", {"for": name, "value": _text(edge[name])})
    return _serialized(root)


def to_graphml(result: TraceResult) -> str:
    root = ET.Element("graphml", {"xmlns": "http://graphml.graphdrawing.org/xmlns"})
    for kind, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, _, graphml_type in attributes:
            ET.SubElement(
                root,
                "key",
                {"id": f"{kind}_{name}", "for": kind, "attr.name": name, "attr.type": graphml_type},
            )
    body = ET.SubElement(
        root, "graph", {"id": "trace", "edgedefault": "directed", "parse.edges": "multi"}
    )
    nodes, edges = _rows(result)
    for node in nodes:
        element = ET.SubElement(body, "node", {"id": _text(node["account"])})
        for name, _, _ in NODE_ATTRIBUTES:
            ET.SubElement(element, "data", {"key": f"node_{name}"}).text = _text(node[name])
    for edge in edges:
        element = ET.SubElement(
            body,
            "edge",
            {"id": f"r{edge['row']}", "source": _text(edge["from"]), "target": _text(edge["to"])},
        )
        for name, _, _ in EDGE_ATTRIBUTES:
            ET.SubElement(element, "data", {"key": f"edge_{name}"}).text = _text(edge[name])
    return _serialized(root)


def _serialized(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


EXPORTERS: dict[str, Callable[[TraceResult], str]] = {"gexf": to_gexf, "graphml": to_graphml}


def export_format(path: Path) -> str:
    """The graph format a file name asks for (``.gexf`` or ``.graphml``)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in EXPORTERS:
        raise InvalidInput(f"{path.name}: a trace graph is written as .gexf or .graphml")
    return suffix


def write_graph(result: TraceResult, path: Path) -> str:
    """Write the trace's graph to ``path`` in the format its suffix names; return it."""
    chosen = export_format(path)
    path.write_text(EXPORTERS[chosen](result), encoding="utf-8")
    return chosen
