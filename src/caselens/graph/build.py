"""Build a case's graph from its current entities and mentions (a few SQL queries).

Nodes are people, organisations and accounts (UserAccount, the LegalEntity of an e-mail
address, BankAccount), and selectors found in text (phone numbers, e-mail addresses,
IBANs, wallets, IMEIs, names) that no entity holds. A selector that an account holds
(``UserAccount.phone``, ``LegalEntity.email``) is that account's node, so a number
mentioned in a document joins the account that called it.

Edges: e-mails (emitter -> each recipient, to / cc / bcc kept as roles), messages
(senderAccount -> each recipientAccount), calls (caller_account -> receiver_account of
the context), ownership (owner -> UserAccount) and "appear together": nodes mentioned in
the same item, weighted by the number of items. An item that names more than
``max_per_item`` nodes (a mailing list of 500 addresses) pairs only its
``max_per_item`` most-mentioned ones (ties: first in node-key order), so one item adds
at most max_per_item * (max_per_item - 1) / 2 edges; ``stats`` counts the items cut.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rustworkx as rx
from sqlalchemy import Connection, func, select

from caselens.db.schema import entities, mentions, search_docs
from caselens.graph.model import (
    CALL,
    DIRECTED_KINDS,
    EMAIL,
    EVIDENCE_CAP,
    MESSAGE,
    OWNS,
    TOGETHER,
    CaseGraph,
    Edge,
    Node,
)

NODE_SCHEMATA = {
    "Person": "person",
    "Organization": "organisation",
    "Company": "organisation",
    "PublicBody": "organisation",
    "LegalEntity": "account",
    "UserAccount": "account",
    "BankAccount": "account",
    "CryptoWallet": "account",
}
EVENT_SCHEMATA = ("Email", "Message", "Call")
# Mention kinds that stand for someone or their account; URLs, domains, places do not.
SELECTOR_CATEGORY = {
    "phone": "account",
    "email": "account",
    "iban": "account",
    "card": "account",
    "btc": "account",
    "ltc": "account",
    "eth": "account",
    "trx": "account",
    "xmr": "account",
    "imei": "device",
    "person": "person",
    "organization": "organisation",
}
# Properties whose values are selectors of the entity, and the selector kind of each.
IDENTIFIER_PROPERTIES = {"email": "email", "phone": "phone", "iban": "iban"}
# Accounts win over people when both hold a selector: the account is what communicated.
_HOLDER_RANK = {"UserAccount": 0, "LegalEntity": 1, "BankAccount": 2, "CryptoWallet": 2}
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
DEFAULT_MAX_PER_ITEM = 25
_EVENT_PROPERTIES = (
    "date",
    "emitters",
    "recipients",
    "to",
    "cc",
    "bcc",
    "senderAccount",
    "recipientAccount",
    "callerNumber",
    "receiverNumber",
)


@dataclass
class _Draft:
    count: int = 0
    times: list[str] = field(default_factory=list)
    items: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)


@dataclass
class _Fragments:
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)


class _Builder:
    def __init__(self, max_per_item: int) -> None:
        self.max_per_item = max(2, max_per_item)
        self.nodes: list[Node] = []
        self.index: dict[str, int] = {}
        self.selectors: dict[tuple[str, str], int] = {}
        self.drafts: dict[tuple[int, int, str], _Draft] = {}
        self.stats: Counter[str] = Counter()

    def node(self, key: str, category: str, kind: str, label: str) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.nodes)
            self.nodes.append(Node(key, category, kind, label))
        return found

    def selector_node(self, kind: str, value: str) -> int:
        found = self.selectors.get((kind, value))
        if found is None:
            found = self.node(f"{kind}:{value}", SELECTOR_CATEGORY[kind], kind, value)
            self.selectors[(kind, value)] = found
            self.nodes[found].identifiers.append(f"{kind}:{value}")
        return found

    def link(
        self, source: int, target: int, kind: str, item_id: str, when: str | None, role: str = ""
    ) -> None:
        if source == target:
            self.stats["self_links_skipped"] += 1
            return
        if kind not in DIRECTED_KINDS and source > target:
            source, target = target, source
        draft = self.drafts.get((source, target, kind))
        if draft is None:
            draft = self.drafts[(source, target, kind)] = _Draft()
        draft.count += 1
        draft.items.add(item_id)
        if when:
            draft.times.append(when)
        if role:
            draft.roles.add(role)

    def finish(self) -> CaseGraph:
        edges = [
            Edge(
                source,
                target,
                kind,
                kind in DIRECTED_KINDS,
                draft.count,
                sorted(draft.times),
                sorted(draft.items)[:EVIDENCE_CAP],
                len(draft.items),
                sorted(draft.roles),
            )
            for (source, target, kind), draft in sorted(self.drafts.items())
        ]
        graph = rx.PyGraph(multigraph=False)
        graph.add_nodes_from(range(len(self.nodes)))
        pairs: dict[tuple[int, int], list[int]] = defaultdict(list)
        for number, edge in enumerate(edges):
            pairs[(min(edge.source, edge.target), max(edge.source, edge.target))].append(number)
        graph.add_edges_from([(first, second, ids) for (first, second), ids in pairs.items()])
        pair_nodes = np.array(list(pairs), dtype=np.uint64).reshape(-1, 2)
        pair_counts = np.fromiter(
            (sum(edges[i].count for i in ids) for ids in pairs.values()),
            dtype=np.float64,
            count=len(pairs),
        )
        self.stats["nodes"] = len(self.nodes)
        self.stats["edges"] = len(edges)
        return CaseGraph(
            self.nodes,
            edges,
            graph,
            self.index,
            self.selectors,
            dict(self.stats),
            pair_nodes,
            pair_counts,
        )


def build_graph(
    connection: Connection, case_id: str, *, max_per_item: int = DEFAULT_MAX_PER_ITEM
) -> CaseGraph:
    """The graph of a case's current (not superseded) entities and mentions."""
    builder = _Builder(max_per_item)
    fragments, events = _read_entities(connection, case_id, builder)
    _add_entity_nodes(builder, fragments)
    _add_events(builder, events, fragments)
    _add_together(builder, connection, case_id, events)
    return builder.finish()


def _read_entities(
    connection: Connection, case_id: str, builder: _Builder
) -> tuple[dict[str, _Fragments], list[tuple[str, str, str, dict[str, Any], Any]]]:
    query = select(
        entities.c.entity_id,
        entities.c.schema,
        entities.c.item_id,
        entities.c.properties,
        entities.c.context,
    ).where(
        entities.c.case_id == case_id,
        entities.c.superseded.is_(False),
        entities.c.schema.in_([*NODE_SCHEMATA, *EVENT_SCHEMATA]),
    )
    fragments: dict[str, _Fragments] = {}
    events: list[tuple[str, str, str, dict[str, Any], Any]] = []
    for row in connection.execute(query.execution_options(yield_per=5000)):
        properties = row.properties if isinstance(row.properties, dict) else {}
        if not isinstance(row.properties, dict):
            builder.stats["rows_unreadable"] += 1
        if row.schema in EVENT_SCHEMATA:
            # Only the parties and the date are kept: message bodies can be large.
            slim = {k: properties[k] for k in _EVENT_PROPERTIES if k in properties}
            events.append((row.entity_id, row.schema, row.item_id, slim, row.context))
            continue
        merged = fragments.setdefault(row.entity_id, _Fragments(row.schema))
        for name, values in properties.items():
            kept = merged.properties.setdefault(name, [])
            for value in _strings(values):
                if value not in kept:
                    kept.append(value)
        if row.schema == "Person" or merged.schema == "Person":
            continue
        # The owner link of an account comes as a fragment of its own.
        for owner in _strings(properties.get("owner")):
            events.append((row.entity_id, OWNS, row.item_id, {"owner": [owner]}, None))
    return fragments, events


def _add_entity_nodes(builder: _Builder, fragments: dict[str, _Fragments]) -> None:
    holders: dict[tuple[str, str], tuple[tuple[int, str], int]] = {}
    for key in sorted(fragments):
        found = fragments[key]
        props = found.properties
        label = next(
            iter(props.get("name", []) + props.get("username", []) + props.get("email", [])),
            key[:12],
        )
        number = builder.node(key, NODE_SCHEMATA[found.schema], found.schema, label)
        node = builder.nodes[number]
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for value in props.get(prop, []):
                normalized = value.lower() if kind == "email" else value
                node.identifiers.append(f"{kind}:{normalized}")
                rank = (_HOLDER_RANK.get(found.schema, 9), key)
                known = holders.get((kind, normalized))
                if known is None or rank < known[0]:
                    holders[(kind, normalized)] = (rank, number)
    for selector, (_, number) in holders.items():
        builder.selectors[selector] = number


def _add_events(
    builder: _Builder,
    events: list[tuple[str, str, str, dict[str, Any], Any]],
    fragments: dict[str, _Fragments],
) -> None:
    def party(entity_id: str, schema: str) -> int:
        kind = fragments[entity_id].schema if entity_id in fragments else schema
        return builder.node(entity_id, NODE_SCHEMATA.get(kind, "account"), kind, entity_id[:12])

    for entity_id, schema, item_id, props, context in events:
        when = _time(props.get("date"))
        if schema == "Email":
            _add_email(builder, party, item_id, props, when, fragments)
        elif schema == "Message":
            for sender in _strings(props.get("senderAccount"))[:1]:
                for recipient in _strings(props.get("recipientAccount")):
                    builder.link(
                        party(sender, "UserAccount"),
                        party(recipient, "UserAccount"),
                        MESSAGE,
                        item_id,
                        when,
                    )
        elif schema == "Call":
            context = context if isinstance(context, dict) else {}
            caller = _call_party(builder, party, context.get("caller_account"), props, "caller")
            receiver = _call_party(
                builder, party, context.get("receiver_account"), props, "receiver"
            )
            if caller is not None and receiver is not None:
                builder.link(caller, receiver, CALL, item_id, when)
        elif schema == OWNS:
            for owner in _strings(props.get("owner")):
                account = party(entity_id, "UserAccount")
                builder.link(party(owner, "Person"), account, OWNS, item_id, None)


def _add_email(
    builder: _Builder,
    party: Any,
    item_id: str,
    props: dict[str, Any],
    when: str | None,
    fragments: dict[str, _Fragments],
) -> None:
    headers = {role: " ".join(_strings(props.get(role))).lower() for role in ("to", "cc", "bcc")}
    for emitter in _strings(props.get("emitters"))[:1]:
        for recipient in dict.fromkeys(_strings(props.get("recipients"))):
            known = fragments.get(recipient)
            addresses = known.properties.get("email", []) if known else []
            role = next(
                (r for r, text in headers.items() if any(a.lower() in text for a in addresses)),
                "",
            )
            builder.link(
                party(emitter, "LegalEntity"),
                party(recipient, "LegalEntity"),
                EMAIL,
                item_id,
                when,
                role,
            )


def _call_party(
    builder: _Builder, party: Any, account: Any, props: dict[str, Any], prop: str
) -> int | None:
    if isinstance(account, str) and account:
        return int(party(account, "UserAccount"))
    for number in _strings(props.get(f"{prop}Number"))[:1]:
        known = builder.selectors.get(("phone", number))
        return known if known is not None else builder.selector_node("phone", number)
    return None


def _add_together(
    builder: _Builder,
    connection: Connection,
    case_id: str,
    events: list[tuple[str, str, str, dict[str, Any], Any]],
) -> None:
    per_item: dict[str, Counter[int]] = defaultdict(Counter)
    query = (
        select(mentions.c.item_id, mentions.c.kind, mentions.c.value, func.count().label("n"))
        .where(
            mentions.c.case_id == case_id,
            mentions.c.superseded.is_(False),
            mentions.c.kind.in_(sorted(SELECTOR_CATEGORY)),
        )
        .group_by(mentions.c.item_id, mentions.c.kind, mentions.c.value)
    )
    for row in connection.execute(query.execution_options(yield_per=5000)):
        number = builder.selectors.get((row.kind, row.value))
        if number is None:
            number = builder.selector_node(row.kind, row.value)
        per_item[row.item_id][number] += int(row.n)
    # The parties of an e-mail appear together with what its text mentions.
    for _, schema, item_id, props, _ in events:
        if schema == "Email":
            for key in _strings(props.get("emitters")) + _strings(props.get("recipients")):
                if key in builder.index:
                    per_item[item_id][builder.index[key]] += 1
    dates = _item_dates(connection, case_id)
    for item_id in sorted(per_item):
        counts = per_item[item_id]
        ranked = sorted(counts, key=lambda n: (-counts[n], builder.nodes[n].key))
        if len(ranked) > builder.max_per_item:
            builder.stats["together_items_capped"] += 1
            ranked = ranked[: builder.max_per_item]
        ranked.sort()
        when = dates.get(item_id)
        for position, first in enumerate(ranked):
            for second in ranked[position + 1 :]:
                builder.link(first, second, TOGETHER, item_id, when)


def _item_dates(connection: Connection, case_id: str) -> dict[str, str]:
    query = select(search_docs.c.item_id, search_docs.c.date).where(
        search_docs.c.case_id == case_id, search_docs.c.date.is_not(None)
    )
    return {row.item_id: row.date for row in connection.execute(query) if _TIME.match(row.date)}


def _strings(values: Any) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, list):
        return [value for value in values if isinstance(value, str) and value]
    return []


def _time(values: Any) -> str | None:
    for value in _strings(values):
        if _TIME.match(value):
            return value[:19]
    return None
