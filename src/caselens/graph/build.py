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

Rows are streamed with only the columns each step needs; entity ids are numbered as
they are met and every link is a row of integer arrays (``events.Links``), grouped
into edges by numpy at the end. Node numbers then follow the order of node keys.

Entities that analysts judged the same (``caselens judge``) are one node, keyed by the
canonical entity id, holding the links, identifiers and evidence of all of them; links
between two of them are dropped as self-links. A later "different" judgement splits them
again on the next build.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from caselens.db.schema import mentions
from caselens.extract.base import IDENTIFIER_PROPERTIES, identifier_value
from caselens.graph.builder import GraphBuilder
from caselens.graph.fragments import (
    NODE_SCHEMATA,
    EventRow,
    Fragments,
    item_dates,
    read_events,
    read_fragments,
    strings,
    time_of,
)
from caselens.graph.model import CALL, EMAIL, MESSAGE, OWNS, PAYMENT, TOGETHER, CaseGraph
from caselens.resolve.judged import case_merges

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
# Accounts win over people when both hold a selector: the account is what communicated.
_HOLDER_RANK = {"UserAccount": 0, "LegalEntity": 1, "BankAccount": 2, "CryptoWallet": 2}
DEFAULT_MAX_PER_ITEM = 25


def build_graph(
    connection: Connection, case_id: str, *, max_per_item: int = DEFAULT_MAX_PER_ITEM
) -> CaseGraph:
    """The graph of a case's current (not superseded) entities and mentions."""
    builder = GraphBuilder(case_merges(connection, case_id))
    fragments, owners, unreadable = read_fragments(connection, case_id)
    _add_entity_nodes(builder, fragments)
    links = _Links(builder, fragments)
    counted = [unreadable]
    for event in read_events(connection, case_id, counted):
        links.add(event)
    for account, item_id, owner in owners:
        builder.link(
            links.party(owner, "Person"), links.party(account, "UserAccount"), OWNS, item_id, None
        )
    if counted[0]:
        builder.stats["rows_unreadable"] = counted[0]
    _add_together(builder, connection, case_id, links.email_parties, max(2, max_per_item))
    return builder.finish()


def _add_entity_nodes(builder: GraphBuilder, fragments: dict[str, Fragments]) -> None:
    holders: dict[tuple[str, str], tuple[tuple[int, str], int]] = {}
    for key in sorted(fragments):
        found = fragments[key]
        props = found.properties
        label = next(
            iter(props.get("name", []) + props.get("username", []) + props.get("email", [])),
            key[:12],
        )
        number = builder.node(key, NODE_SCHEMATA[found.schema], found.schema, label)
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for value in props.get(prop, []):
                normalized = identifier_value(kind, value)
                builder.identifiers.setdefault(number, []).append(f"{kind}:{normalized}")
                rank = (_HOLDER_RANK.get(found.schema, 9), key)
                known = holders.get((kind, normalized))
                if known is None or rank < known[0]:
                    holders[(kind, normalized)] = (rank, number)
    for selector, (_, number) in holders.items():
        builder.selectors[selector] = number


class _Links:
    """Turns event rows into links between nodes."""

    def __init__(self, builder: GraphBuilder, fragments: dict[str, Fragments]) -> None:
        self.builder = builder
        self.fragments = fragments
        # The parties of each e-mail, which appear together with what its text mentions.
        self.email_parties: dict[str, list[str]] = defaultdict(list)

    def party(self, entity_id: str, schema: str) -> int:
        known = self.fragments.get(entity_id)
        kind = known.schema if known is not None else schema
        return self.builder.node(
            entity_id, NODE_SCHEMATA.get(kind, "account"), kind, entity_id[:12]
        )

    def add(self, event: EventRow) -> None:
        props, item_id = event.properties, event.item_id
        when = time_of(props.get("date"))
        if event.schema == "Message":
            for sender in strings(props.get("senderAccount"))[:1]:
                source = self.party(sender, "UserAccount")
                for recipient in strings(props.get("recipientAccount")):
                    target = self.party(recipient, "UserAccount")
                    self.builder.link(source, target, MESSAGE, item_id, when)
        elif event.schema == "Email":
            self._email(item_id, props, when)
        elif event.schema == "Call":
            caller = self._call_party(event.context.get("caller_account"), props, "caller")
            receiver = self._call_party(event.context.get("receiver_account"), props, "receiver")
            if caller is not None and receiver is not None:
                self.builder.link(caller, receiver, CALL, item_id, when)
        elif event.schema == "Payment":
            self._payment(item_id, props, when or time_of(props.get("startDate")))

    def _email(self, item_id: str, props: dict[str, Any], when: str | None) -> None:
        headers = {role: " ".join(strings(props.get(role))).lower() for role in ("to", "cc", "bcc")}
        emitters = strings(props.get("emitters"))[:1]
        recipients = list(dict.fromkeys(strings(props.get("recipients"))))
        for emitter in emitters:
            source = self.party(emitter, "LegalEntity")
            for recipient in recipients:
                known = self.fragments.get(recipient)
                addresses = known.properties.get("email", []) if known else []
                role = next(
                    (r for r, text in headers.items() if any(a.lower() in text for a in addresses)),
                    "",
                )
                target = self.party(recipient, "LegalEntity")
                self.builder.link(source, target, EMAIL, item_id, when, role)
        self.email_parties[item_id] += strings(props.get("emitters")) + strings(
            props.get("recipients")
        )

    def _call_party(self, account: Any, props: dict[str, Any], prop: str) -> int | None:
        if isinstance(account, str) and account:
            return self.party(account, "UserAccount")
        for number in strings(props.get(f"{prop}Number"))[:1]:
            known = self.builder.selectors.get(("phone", number))
            if known is not None:
                return known
            return self.builder.selector_node("phone", number, SELECTOR_CATEGORY["phone"])
        return None

    def _payment(self, item_id: str, props: dict[str, Any], when: str | None) -> None:
        # The accounts when the payment names them (money moves between accounts),
        # otherwise the parties.
        ends = []
        for account, party in (("payerAccount", "payer"), ("beneficiaryAccount", "beneficiary")):
            found = strings(props.get(account))[:1]
            schema = "BankAccount" if found else "LegalEntity"
            found = found or strings(props.get(party))[:1]
            ends.append(self.party(found[0], schema) if found else None)
        if ends[0] is not None and ends[1] is not None:
            self.builder.link(ends[0], ends[1], PAYMENT, item_id, when)


def _add_together(
    builder: GraphBuilder,
    connection: Connection,
    case_id: str,
    email_parties: dict[str, list[str]],
    max_per_item: int,
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
    for item_id, kind, value, count in connection.execute(query.execution_options(yield_per=5000)):
        number = builder.selectors.get((kind, value))
        if number is None:
            number = builder.selector_node(kind, value, SELECTOR_CATEGORY[kind])
        per_item[item_id][number] += int(count)
    for item_id, parties in email_parties.items():
        for key in parties:
            if key in builder.index:
                per_item[item_id][builder.index[key]] += 1
    dates = item_dates(connection, case_id)
    keys = builder.keys
    for item_id in sorted(per_item):
        counts = per_item[item_id]
        ranked = sorted(counts, key=lambda n: (-counts[n], keys[n]))
        if len(ranked) > max_per_item:
            builder.stats["together_items_capped"] += 1
            ranked = ranked[:max_per_item]
        ranked.sort()
        when = dates.get(item_id)
        for position, first in enumerate(ranked):
            for second in ranked[position + 1 :]:
                builder.link(first, second, TOGETHER, item_id, when)
