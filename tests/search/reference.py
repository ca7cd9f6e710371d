"""A plain-Python reading of the query language over search documents.

The tests hold both engines to it: whatever FTS5 or PostgreSQL return must be exactly
what this brute-force evaluator says the query means.
"""

from __future__ import annotations

from collections.abc import Callable

from caselens.search.compile import TYPE_ALIASES
from caselens.search.document import TEXT_COLUMNS, SearchDocument
from caselens.search.query import SELECTOR_FIELDS, And, Filter, Node, Not, Or, Text

Selectors = Callable[[Filter], list[tuple[str, str]]]


def matches(node: Node, doc: SearchDocument, selectors: Selectors) -> bool:
    if isinstance(node, Text):
        columns = [node.column] if node.column else list(TEXT_COLUMNS)
        return any(_has_phrase(doc.columns.get(c, "").split(), node) for c in columns)
    if isinstance(node, And):
        return all(matches(child, doc, selectors) for child in node.children)
    if isinstance(node, Or):
        return any(matches(child, doc, selectors) for child in node.children)
    if isinstance(node, Not):
        return not matches(node.child, doc, selectors)
    return _filter(node, doc, selectors)


def _has_phrase(tokens: list[str], phrase: Text) -> bool:
    size = len(phrase.tokens)
    for start in range(len(tokens) - size + 1):
        window = tokens[start : start + size]
        head_ok = window[:-1] == list(phrase.tokens[:-1])
        last = window[-1]
        last_ok = last.startswith(phrase.tokens[-1]) if phrase.prefix else last == phrase.tokens[-1]
        if head_ok and last_ok:
            return True
    return False


def _filter(node: Filter, doc: SearchDocument, selectors: Selectors) -> bool:
    if node.field == "type":
        return doc.doc_type in TYPE_ALIASES.get(node.value.lower(), (node.value.lower(),))
    if node.field == "lang":
        return doc.lang == node.value
    if node.field == "date":
        if doc.date is None:
            return False
        return (node.low is None or doc.date >= node.low) and (
            node.high is None or doc.date <= node.high
        )
    if node.field == "has":
        kinds = SELECTOR_FIELDS.get(node.value.lower(), (node.value.lower(),))
        return any(kind in kinds for kind, _ in doc.selectors)
    return any(pair in doc.selectors for pair in selectors(node))
