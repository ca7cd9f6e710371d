"""The entity graph: built from ingested mail and chat and from inserted rows; neighbours,
caps, paths (time-respecting too), common contacts, key players, communities, exports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select

from caselens.cli.app import app as cli_app
from caselens.cli.app import main
from caselens.db.schema import cases, items, log_records
from caselens.errors import InvalidInput, NotFound
from caselens.graph.build import build_graph
from caselens.graph.model import CaseGraph
from caselens.graph.resolve import resolve
from caselens.services import Caselens
from caselens.services.graph import GraphService, edge_filter
from tests.conftest import ADMIN
from tests.graph.rows import CaseRows

MAIL_1 = """From: Alice Smith <alice@example.com>
To: Bob Jones <bob@example.com>, carol@example.com
Cc: Dave <dave@example.com>
Subject: The transfer
Date: Mon, 01 Jan 2024 10:00:00 +0000
Message-ID: <m1@example.com>

Send it to eve@example.org today.
"""
MAIL_2 = """From: Bob Jones <bob@example.com>
To: Alice Smith <alice@example.com>
Subject: Re: The transfer
Date: Tue, 02 Jan 2024 09:30:00 +0000
Message-ID: <m2@example.com>
In-Reply-To: <m1@example.com>

Done. Ask eve@example.org to confirm.
"""
CHAT = """02/01/2024, 10:00 - Bob: did she pay
02/01/2024, 10:05 - +44 7700 900456: yes
02/01/2024, 10:06 - Bob: good
"""


def service(app: Caselens) -> GraphService:
    return GraphService(app.runtime)


def graph_of(app: Caselens, reference: str) -> CaseGraph:
    with app.runtime.transaction() as connection:
        case_id = connection.execute(
            select(cases.c.id).where(cases.c.reference == reference)
        ).scalar_one()
        return build_graph(connection, case_id)


@pytest.fixture
def ingested(app: Caselens, case: str, tmp_path: Path) -> str:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "1.eml").write_text(MAIL_1)
    (evidence / "2.eml").write_text(MAIL_2)
    (evidence / "WhatsApp Chat with Bob.txt").write_text(CHAT)
    summary = app.ingest.ingest(ADMIN, case, [str(evidence)])
    assert summary.states["ingested"] == 3
    return case


def test_mail_and_chat_become_nodes_and_edges(app: Caselens, ingested: str) -> None:
    graphs = service(app)
    around = graphs.neighbours(ADMIN, ingested, ["alice@example.com"], hops=1)
    labels = {node["label"] for node in around.nodes}
    assert labels == {"Alice Smith", "Bob Jones", "carol@example.com", "Dave", "eve@example.org"}
    assert not around.truncated
    with app.runtime.transaction() as connection:
        mail_1 = connection.execute(select(items.c.id).where(items.c.name == "1.eml")).scalar_one()
    ids = {node["label"]: node["id"] for node in around.nodes}
    to_dave = [e for e in around.edges if e["target"] == ids["Dave"] and e["kind"] == "email"]
    assert to_dave == [
        {
            "source": ids["Alice Smith"],
            "target": ids["Dave"],
            "kind": "email",
            "directed": True,
            "count": 1,
            "first": "2024-01-01T10:00:00",
            "last": "2024-01-01T10:00:00",
            "evidence": [mail_1],
            "evidence_count": 1,
            "roles": ["cc"],
        }
    ]
    # Both e-mails mention eve: she appears together with Alice in two items.
    together = [
        e
        for e in around.edges
        if e["kind"] == "together"
        and {e["source"], e["target"]} == {ids["Alice Smith"], "email:eve@example.org"}
    ]
    assert [(e["count"], e["evidence_count"]) for e in together] == [(2, 2)]
    # The chat: a phone number typed with spaces finds the account that wrote.
    around_phone = graphs.neighbours(ADMIN, ingested, ["+44 7700 900456"])
    messages = [e for e in around_phone.edges if e["kind"] == "message"]
    assert sorted(e["count"] for e in messages) == [1, 2]
    assert {node["label"] for node in around_phone.nodes} == {"+447700900456", "Bob"}


def test_exports_parse_back(app: Caselens, ingested: str) -> None:
    graphs = service(app)
    graph = graph_of(app, ingested)
    gexf = ET.fromstring(graphs.export(ADMIN, ingested, "gexf").encode())
    namespace = {"g": "http://gexf.net/1.3"}
    assert len(gexf.findall(".//g:node", namespace)) == len(graph.nodes)
    assert len(gexf.findall(".//g:edge", namespace)) == len(graph.edges)
    graphml = ET.fromstring(graphs.export(ADMIN, ingested, "graphml").encode())
    ns = {"m": "http://graphml.graphdrawing.org/xmlns"}
    edges = graphml.findall(".//m:edge", ns)
    assert len(edges) == len(graph.edges)
    node_ids = {node.get("id") for node in graphml.findall(".//m:node", ns)}
    assert all(edge.get("source") in node_ids and edge.get("target") in node_ids for edge in edges)
    cypher = graphs.export(ADMIN, ingested, "cypher").splitlines()
    assert len(cypher) == 1 + len(graph.nodes) + len(graph.edges)
    assert sum(line.startswith("MATCH") and ":EMAIL]" in line for line in cypher) == 4
    with pytest.raises(InvalidInput):
        graphs.export(ADMIN, ingested, "dot")


def test_hostile_labels_still_make_valid_xml(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("bad.txt")
    rows.account("a", item, name="Mallory \x01\x1b<\"'&>\\ end")
    rows.account("b", item)
    rows.message("a", "b", "2024-01-01T00:00:00", item)
    rows.message("a", "b", "not a date", item)
    rows.entity("broken", "Message", item, senderAccount=["a"], recipientAccount=[])
    rows.save()
    graphs = service(app)
    for form in ("gexf", "graphml"):
        parsed = ET.fromstring(graphs.export(ADMIN, case, form).encode())
        assert "Mallory" in ET.tostring(parsed, encoding="unicode")
    graph = graph_of(app, case)
    (edge,) = graph.edges
    assert (edge.count, edge.times) == (2, ["2024-01-01T00:00:00"])
    cypher = graphs.export(ADMIN, case, "cypher")
    assert "'Mallory \x01\x1b<\"\\'&>" in cypher


def two_clusters(app: Caselens, case: str) -> None:
    """Accounts a0..a4 all message each other, b0..b4 too; a0 - b0 is the only bridge."""
    rows = CaseRows(app, case)
    item = rows.item("phone.db")
    for side in "ab":
        members = [rows.account(f"{side}{n}", item) for n in range(5)]
        for first in members:
            for second in members:
                if first < second:
                    rows.message(first, second, "2024-03-01T12:00:00", item)
                    rows.message(second, first, "2024-03-02T12:00:00", item)
    rows.message("a0", "b0", "2024-03-05T08:00:00", item)
    rows.save()


def test_communities_and_key_players(app: Caselens, case: str) -> None:
    two_clusters(app, case)
    graphs = service(app)
    for method in ("louvain", "leiden"):
        found = graphs.communities(ADMIN, case, method=method)
        groups = sorted(sorted(m["id"] for m in c["members"]) for c in found["communities"])
        assert groups == [[f"a{n}" for n in range(5)], [f"b{n}" for n in range(5)]], method
        assert found["modularity"] > 0.4
    by_betweenness = graphs.key_players(ADMIN, case, order_by="betweenness", limit=3)
    assert [r["node"]["id"] for r in by_betweenness[:2]] == ["a0", "b0"]
    assert by_betweenness[0]["degree"] == 5
    assert by_betweenness[0]["weighted_degree"] == 9  # 8 within a, 1 to b0
    assert by_betweenness[0]["betweenness"] > by_betweenness[2]["betweenness"]
    by_degree = graphs.key_players(ADMIN, case, order_by="degree", limit=2)
    assert {r["node"]["id"] for r in by_degree} == {"a0", "b0"}
    with pytest.raises(InvalidInput):
        graphs.key_players(ADMIN, case, order_by="fame")


def test_neighbourhood_is_capped_strongest_first(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("hub.db")
    rows.account("hub", item)
    for n in range(30):
        rows.account(f"n{n:02d}", item)
        for _ in range(1 + (n >= 25) * 5):  # n25..n29 are the strongest links
            rows.message("hub", f"n{n:02d}", "2024-01-01T00:00:00", item)
    rows.save()
    graphs = service(app)
    capped = graphs.neighbours(ADMIN, case, ["hub"], max_nodes=6)
    assert capped.truncated
    assert [n["id"] for n in capped.nodes] == ["hub", "n25", "n26", "n27", "n28", "n29"]
    assert {e["count"] for e in capped.edges} == {6}
    whole = graphs.neighbours(ADMIN, case, ["hub"], max_nodes=31)
    assert not whole.truncated and len(whole.nodes) == 31
    heavy = graphs.neighbours(ADMIN, case, ["hub"], flt=edge_filter(min_weight=2))
    assert len(heavy.nodes) == 6 and not heavy.truncated
    other_kind = graphs.neighbours(ADMIN, case, ["hub"], flt=edge_filter(kinds=["call"]))
    assert [n["id"] for n in other_kind.nodes] == ["hub"]
    with pytest.raises(InvalidInput):
        edge_filter(kinds=["gossip"])
    with pytest.raises(NotFound):
        graphs.neighbours(ADMIN, case, ["nobody@example.com"])
    with app.runtime.transaction() as connection:
        last = connection.execute(
            select(log_records.c.action, log_records.c.record)
            .where(log_records.c.chain.like("audit:%"))
            .order_by(log_records.c.id.desc())
            .limit(1)
        ).one()
    assert last.action == "graph.neighbours" and "nobody@example.com" in last.record


def test_mailing_list_pairs_are_capped(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    big = rows.item("list.txt")
    for n in range(500):
        rows.mention(big, "email", f"member{n:03d}@example.com")
    rows.mention(big, "email", "member000@example.com")  # the most mentioned is kept
    small = rows.item("note.txt")
    rows.mention(small, "email", "member499@example.com")
    rows.mention(small, "phone", "+447700900123")
    rows.mention(small, "url", "https://example.com")  # not a node
    rows.save()
    graph = graph_of(app, case)
    assert graph.stats["together_items_capped"] == 1
    assert len(graph.edges) == 25 * 24 // 2 + 1
    assert "email:member000@example.com" in graph.index
    assert "url:https://example.com" not in graph.index
    pair = graph.edge_ids(
        graph.index["email:member499@example.com"], graph.index["phone:+447700900123"]
    )
    assert [graph.edges[i].evidence for i in pair] == [[small]]


def chain(app: Caselens, case: str, second_hop: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("chat.db")
    for name in ("x", "y", "z", "w"):
        rows.account(name, item)
    rows.message("x", "y", "2024-01-02T10:00:00", item)
    rows.message("y", "z", second_hop, item)
    rows.message("x", "w", "2024-01-01T00:00:00", item)
    rows.message("w", "z", "2024-01-01T01:00:00", item)  # a shortcut that is earlier still
    rows.save()


def test_time_respecting_path_refuses_a_hop_back_in_time(app: Caselens, case: str) -> None:
    chain(app, case, "2024-01-01T09:00:00")
    graphs = service(app)
    plain = graphs.path(ADMIN, case, "y", "w", flt=edge_filter(kinds=["message"]))
    assert plain.shortest == 2
    # y -> x happened on the 2nd, x -> w on the 1st: going on from x means going back in time.
    timed = graphs.path(ADMIN, case, "y", "w", time_respecting=True, max_hops=2)
    assert timed.paths == [] and timed.shortest is None
    # Through z too: y - z at 09:00 on the 1st, then z - w at 01:00 that day, earlier.
    assert graphs.path(ADMIN, case, "y", "w", time_respecting=True).paths == []
    forward = graphs.path(ADMIN, case, "w", "y", time_respecting=True)
    assert forward.shortest == 2
    hops = forward.paths[0]
    assert [(h["from"]["id"], h["to"]["id"], h["time"]) for h in hops] == [
        ("w", "z", "2024-01-01T01:00:00"),
        ("z", "y", "2024-01-01T09:00:00"),
    ]


def test_paths_and_common_contacts(app: Caselens, case: str) -> None:
    chain(app, case, "2024-01-03T10:00:00")
    graphs = service(app)
    shortest = graphs.path(ADMIN, case, "x", "z")
    assert shortest.shortest == 2
    routes = sorted([h["to"]["id"] for h in p] for p in shortest.paths)
    assert routes == [["w", "z"], ["y", "z"]]
    assert all(hop["edges"] for p in shortest.paths for hop in p)
    one = graphs.path(ADMIN, case, "x", "z", max_paths=1)
    assert one.shortest == 2 and len(one.paths) == 1
    longer = graphs.path(ADMIN, case, "x", "y", extra_hops=2)
    assert [len(p) for p in longer.paths] == [1, 3] and not longer.truncated
    cut = graphs.path(ADMIN, case, "x", "y", extra_hops=2, max_paths=1)
    assert [len(p) for p in cut.paths] == [1] and cut.truncated  # the shortest is kept
    timed = graphs.path(ADMIN, case, "x", "z", time_respecting=True)
    assert [h["to"]["id"] for h in timed.paths[0]] == ["w", "z"]  # earliest arrival
    window = graphs.path(
        ADMIN, case, "x", "z", time_respecting=True, flt=edge_filter(since="2024-01-02")
    )
    assert [h["to"]["id"] for h in window.paths[0]] == ["y", "z"]
    common = graphs.common(ADMIN, case, ["x", "z"])
    assert sorted(r["node"]["id"] for r in common) == ["w", "y"]
    assert {len(r["edges"]) for r in common} == {2}
    assert graphs.common(ADMIN, case, ["x", "y"]) == []
    with pytest.raises(InvalidInput):
        graphs.common(ADMIN, case, ["x"])


def test_entities_judged_the_same_are_one_node_until_judged_different(
    app: Caselens, case: str
) -> None:
    rows = CaseRows(app, case)
    item = rows.item("chat.db")
    for name in ("handle-a", "handle-b", "x", "y"):
        rows.account(name, item)
    rows.message("x", "handle-a", "2024-01-01T10:00:00", item)
    rows.message("handle-b", "y", "2024-01-01T11:00:00", item)
    rows.message("handle-a", "handle-b", "2024-01-01T12:00:00", item)  # one person's two phones
    rows.save()
    assert app.graph.path(ADMIN, case, "x", "y").shortest == 3
    app.resolution.judge(ADMIN, case, "handle-b", "handle-a", "same", "one SIM swapped")
    merged = app.graph.path(ADMIN, case, "x", "y")  # the cached graph is rebuilt
    assert merged.shortest == 2
    assert [h["to"]["id"] for h in merged.paths[0]] == ["handle-a", "y"]
    around = app.graph.neighbours(ADMIN, case, ["handle-b"])  # a merged id finds its node
    node = next(n for n in around.nodes if n["id"] == "handle-a")
    assert node["merged"] == ["handle-a", "handle-b"]
    assert sorted(n["id"] for n in around.nodes) == ["handle-a", "x", "y"]
    kept = app.graph.graphs.kept(rows.case_id)
    assert kept is not None and kept.stats["entities_merged"] == 1
    app.resolution.judge(ADMIN, case, "handle-a", "handle-b", "different")
    assert app.graph.path(ADMIN, case, "x", "y").shortest == 3
    split = app.graph.neighbours(ADMIN, case, ["handle-b"])
    assert sorted(n["id"] for n in split.nodes) == ["handle-a", "handle-b", "y"]
    assert all(n["merged"] == [] for n in split.nodes)


def test_a_merged_entity_is_found_by_a_prefix_of_its_id(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("chat.db")
    first, second = "a" * 39 + "1", "b" * 39 + "2"
    rows.account(first, item)
    rows.account(second, item)
    rows.account("x", item)
    rows.message(second, "x", "2024-01-01T10:00:00", item)
    rows.save()
    app.resolution.judge(ADMIN, case, first, second, "same")
    graph = graph_of(app, case)
    assert resolve(graph, "bbbbbbbb") == resolve(graph, first) == graph.index[first]
    with pytest.raises(NotFound):
        resolve(graph, "cccccccc")


def test_superseded_rows_and_ownership(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("contacts.db")
    rows.entity("p1", "Person", item, name="Jane Roe", phone="+447700900999")
    rows.account("acc", item, phone="+447700900999")
    rows.entity("acc", "UserAccount", item, owner="p1")
    rows.account("old", item)
    rows.entity(
        "gone", "Message", item, superseded=True, senderAccount="acc", recipientAccount="old"
    )
    rows.entity(
        "c1",
        "Call",
        item,
        context={"caller_account": "acc", "receiver_account": None},
        callerNumber="+447700900999",
        receiverNumber="+447700900111",
        date="2024-05-01T10:00:00",
    )
    rows.save()
    graph = graph_of(app, case)
    kinds = sorted(
        (graph.nodes[e.source].key, graph.nodes[e.target].key, e.kind) for e in graph.edges
    )
    assert kinds == [("acc", "phone:+447700900111", "call"), ("p1", "acc", "owns")]
    graphs = service(app)
    # The phone number names the account, not the person holding the same number.
    found = graphs.neighbours(ADMIN, case, ["07700 900999".replace("0", "+44", 1)])
    assert found.nodes[0]["id"] == "acc"
    assert graphs.neighbours(ADMIN, case, ["Jane Roe"]).nodes[0]["id"] == "p1"
    window = graphs.neighbours(ADMIN, case, ["acc"], flt=edge_filter(until="2024-04-30"))
    assert {n["id"] for n in window.nodes} == {"acc", "p1"}  # ownership has no time
    with pytest.raises(InvalidInput):
        edge_filter(since="yesterday")


def test_cli_key_players_and_export(
    app: Caselens,
    case: str,
    cli_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "graph" not in {group.name for group in cli_app.registered_groups}:
        pytest.skip("caselens graph is not registered in cli/app.py yet")
    two_clusters(app, case)
    assert (
        main(["--as", "admin", "graph", "key-players", case, "--by", "betweenness", "--json"]) == 0
    )
    assert '"a0"' in capsys.readouterr().out
    target = tmp_path / "case.graphml"
    assert (
        main(["--as", "admin", "graph", "export", case, "--format", "graphml", "-o", str(target)])
        == 0
    )
    assert ET.parse(target).getroot().tag.endswith("graphml")
    assert main(["--as", "admin", "graph", "path", case, "a1", "b1", "--json"]) == 0
    assert '"shortest": 3' in capsys.readouterr().out


def test_two_ended_search_finds_shortest_paths_like_rustworkx() -> None:
    import itertools
    import random

    import numpy as np
    import rustworkx as rx

    from caselens.graph.adjacency import Adjacency

    rng = random.Random(3)
    for trial in range(200):
        size = rng.randrange(2, 60)
        walk = rx.undirected_gnp_random_graph(size, rng.uniform(0.02, 0.2), seed=trial)
        source, target = rng.randrange(size), rng.randrange(size)
        if source == target:
            continue
        expected = rx.dijkstra_shortest_paths(walk, source, target=target)
        pairs = sorted({(min(a, b), max(a, b)) for a, b in walk.edge_list()})
        adjacency = Adjacency.from_pairs(size, np.array(pairs, dtype=np.uint64).reshape(-1, 2))
        route = adjacency.shortest_route(source, target, 60)
        if target not in expected:
            assert route is None
            continue
        assert route is not None and (route[0], route[-1]) == (source, target)
        assert len(route) == len(expected[target])
        assert all(walk.has_edge(a, b) for a, b in itertools.pairwise(route))
