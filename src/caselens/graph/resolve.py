"""Finding a node from what an investigator types: an entity id, ``kind:value``, an e-mail
address, a phone number, an IBAN, or a name shown on exactly one node."""

from __future__ import annotations

import re
from bisect import bisect_left

from caselens.errors import InvalidInput, NotFound
from caselens.graph.build import SELECTOR_CATEGORY
from caselens.graph.model import CaseGraph
from caselens.ingest.formats.phone.comms import normalize_phone

_HEX_PREFIX = re.compile(r"^[0-9a-f]{8,40}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def resolve(graph: CaseGraph, reference: str) -> int:
    """The node ``reference`` names; NotFound or, when it is ambiguous, InvalidInput."""
    text = reference.strip()
    if text in graph.index:
        return graph.index[text]
    for kind, value in _selector_forms(text):
        found = graph.selectors.get((kind, value))
        if found is not None:
            return found
    lowered = text.casefold()
    keys = graph.nodes.keys
    if _HEX_PREFIX.match(lowered):
        # Node numbers follow sorted keys: the keys with a prefix are one run.
        first = bisect_left(keys, lowered)
        matches = sum(1 for key in keys[first : first + 2] if key.startswith(lowered))
        if matches == 1:
            return first
        if matches == 0:
            # The id of an entity merged into another's node (identity judgements).
            merged = {node for key, node in graph.index.items() if key.startswith(lowered)}
            if len(merged) == 1:
                return merged.pop()
    named = [i for i, label in enumerate(graph.nodes.labels) if label.casefold() == lowered]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        shown = ", ".join(keys[i] for i in named[:5])
        raise InvalidInput(
            f"{reference!r} names {len(named)} nodes: give one of their ids ({shown})",
            reference=reference,
        )
    raise NotFound(f"nothing in the case's graph is {reference!r}", reference=reference)


def _selector_forms(text: str) -> list[tuple[str, str]]:
    forms: list[tuple[str, str]] = []
    kind, _, value = text.partition(":")
    if value and kind.lower() in SELECTOR_CATEGORY:
        forms.append((kind.lower(), value.strip()))
        text = value.strip()
    if "@" in text:
        forms.append(("email", text.lower()))
    phone = normalize_phone(text, None)
    if phone:
        forms.append(("phone", phone))
    compact = re.sub(r"\s", "", text).upper()
    if _IBAN.match(compact):
        forms.append(("iban", compact))
    return forms
