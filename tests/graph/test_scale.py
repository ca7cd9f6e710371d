"""The array-built graph against a plain aggregation of the same rows, the cache of
built graphs, and payments as edges."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from caselens.graph.model import EVIDENCE_CAP
from caselens.services import Caselens
from caselens.services.graph import edge_filter
from tests.conftest import ADMIN
from tests.graph.rows import CaseRows
from tests.graph.test_graph import MAIL_1, MAIL_2, graph_of, service

Expected = dict[tuple[str, str, str], tuple[int, list[str], list[str]]]


def random_case(app: Caselens, case: str, seed: int) -> Expected:
    """Messages between random accounts over several items, some superseded, some
    undated, some to oneself; returns what each edge must hold, worked out link by link."""
    rng = random.Random(seed)
    rows = CaseRows(app, case)
    item_ids = [rows.item(f"phone-{n}.db") for n in range(30)]
    accounts = [rows.account(f"acct-{n:03d}", item_ids[0]) for n in range(40)]
    links: dict[tuple[str, str, str], list[tuple[str, str | None]]] = defaultdict(list)
    for number in range(1500):
        sender, recipient = rng.choice(accounts), rng.choice(accounts)
        item = rng.choice(item_ids)
        when = None if rng.random() < 0.1 else f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}"
        when = when + "T10:00:00" if when and rng.random() < 0.5 else when
        superseded = rng.random() < 0.1
        properties = {"senderAccount": sender, "recipientAccount": recipient}
        if when:
            properties["date"] = when
        rows.entity(f"msg-{number}", "Message", item, superseded=superseded, **properties)
        if not superseded and sender != recipient:
            links[(sender, recipient, "message")].append((item, when))
    rows.save()
    expected: Expected = {}
    for key, found in links.items():
        times = sorted(when for _, when in found if when)
        evidence = sorted({item for item, _ in found})
        expected[key] = (len(found), times, evidence)
    return expected


def test_array_build_equals_a_plain_aggregation(app: Caselens, case: str) -> None:
    expected = random_case(app, case, seed=5)
    graph = graph_of(app, case)
    built = {(graph.nodes[e.source].key, graph.nodes[e.target].key, e.kind): e for e in graph.edges}
    assert set(built) == set(expected)
    for key, (count, times, evidence) in expected.items():
        edge = built[key]
        assert (edge.count, edge.times, edge.evidence_count) == (count, times, len(evidence))
        assert edge.evidence == evidence[:EVIDENCE_CAP]
    # Node numbers follow keys; each pair's edges are its own and its weight their sum.
    assert graph.nodes.keys == sorted(graph.nodes.keys) and len(graph.nodes) == 40
    for pair, (first, second) in enumerate(graph.pair_nodes.tolist()):
        ids = range(int(graph.pair_start[pair]), int(graph.pair_start[pair + 1]))
        ends = {frozenset((graph.edges[i].source, graph.edges[i].target)) for i in ids}
        assert ends == {frozenset((first, second))}
        assert graph.pair_counts[pair] == sum(graph.edges[i].count for i in ids)
        assert graph.edge_ids(second, first) == list(ids)
    # Adjacency lists every pair at both ends.
    for node in range(len(graph.nodes)):
        around = set(graph.adjacency.neighbours_of(node))
        linked = {b for a, b in graph.pair_nodes.tolist() if a == node}
        linked |= {a for a, b in graph.pair_nodes.tolist() if b == node}
        assert around == linked
    one = min(expected)
    count, times, evidence = expected[one]
    number = next(
        i
        for i, e in enumerate(graph.edges)
        if (graph.nodes[e.source].key, graph.nodes[e.target].key, e.kind) == one
    )
    assert graph.edge_dict(number) == {
        "source": one[0],
        "target": one[1],
        "kind": "message",
        "directed": True,
        "count": count,
        "first": times[0] if times else None,
        "last": times[-1] if times else None,
        "evidence": evidence[:EVIDENCE_CAP],
        "evidence_count": len(evidence),
        "roles": [],
    }


def test_a_window_counts_only_its_events(app: Caselens, case: str) -> None:
    expected = random_case(app, case, seed=11)
    graphs = service(app)
    key, (count, times, _) = max(expected.items(), key=lambda item: item[1][0])
    inside = sum(1 for when in times if "2024-03-01" <= when <= "2024-05-31T23:59:59")
    found = graphs.neighbours(
        ADMIN, case, [key[0]], flt=edge_filter(since="2024-03-01", until="2024-05-31")
    )
    edges = [e for e in found.edges if (e["source"], e["target"], e["kind"]) == key]
    assert [e["count"] for e in edges] == ([count] if inside else [])
    # Every edge shown has an event inside the window (and shows all its events).
    assert found.edges
    for edge in found.edges:
        _, times, _ = expected[(edge["source"], edge["target"], edge["kind"])]
        assert any("2024-03-01" <= when <= "2024-05-31T23:59:59" for when in times)
        assert (edge["first"], edge["last"]) == (times[0], times[-1])


def test_graph_is_built_once_and_again_after_new_ingest(
    app: Caselens, case: str, tmp_path: Path
) -> None:
    evidence = tmp_path / "first"
    evidence.mkdir()
    (evidence / "1.eml").write_text(MAIL_1)
    app.ingest.ingest(ADMIN, case, [str(evidence)])
    graphs = app.graph
    before = graphs.neighbours(ADMIN, case, ["bob@example.com"])
    again = graphs.neighbours(ADMIN, case, ["bob@example.com"])
    assert graphs.graphs.builds == 1 and again.edges == before.edges
    assert not [
        e for e in before.edges if e["source"].startswith("email:") is False and e["count"] == 2
    ]
    later = tmp_path / "second"
    later.mkdir()
    (later / "2.eml").write_text(MAIL_2)
    app.ingest.ingest(ADMIN, case, [str(later)])
    after = graphs.neighbours(ADMIN, case, ["bob@example.com"])
    assert graphs.graphs.builds == 2
    # Bob's reply is a new e-mail edge, bob -> alice.
    ids = {n["label"]: n["id"] for n in after.nodes}
    replies = [
        e
        for e in after.edges
        if e["kind"] == "email"
        and (e["source"], e["target"]) == (ids["Bob Jones"], ids["Alice Smith"])
    ]
    assert [(e["count"], e["first"]) for e in replies] == [(1, "2024-01-02T09:30:00")]
    assert len(after.edges) > len(before.edges)
    # Rows written without an ingest (an import, a tool) are seen too.
    rows = CaseRows(app, case)
    item = rows.item("late.db")
    rows.account("late", item)
    rows.save()
    graphs.neighbours(ADMIN, case, ["late"])
    assert graphs.graphs.builds == 3


def test_payments_are_edges_between_accounts(app: Caselens, case: str) -> None:
    rows = CaseRows(app, case)
    item = rows.item("statement.csv")
    rows.entity("acc-a", "BankAccount", item, iban="GB33BUKB20201555555555")
    rows.entity("acc-b", "BankAccount", item, iban="DE89370400440532013000")
    rows.entity("p-c", "Person", item, name="Carol")
    rows.entity(
        "pay-1",
        "Payment",
        item,
        payerAccount="acc-a",
        beneficiaryAccount="acc-b",
        payer="p-c",
        date="2024-02-01",
        amount="100",
    )
    rows.entity("pay-2", "Payment", item, payer="p-c", beneficiary="acc-b", startDate="2024-02-03")
    rows.save()
    graph = graph_of(app, case)
    kinds = sorted(
        (graph.nodes[e.source].key, graph.nodes[e.target].key, e.kind, e.times) for e in graph.edges
    )
    assert kinds == [
        ("acc-a", "acc-b", "payment", ["2024-02-01"]),
        ("p-c", "acc-b", "payment", ["2024-02-03"]),
    ]
    found = service(app).path(ADMIN, case, "GB33BUKB20201555555555", "Carol")
    assert found.shortest == 2
