"""Turn a parsed query into SQL that either backend runs.

Every value of the query reaches the database as a bound parameter; the SQL text is
assembled only from fixed fragments and parameter names. Words go to the engine's own
full-text matching (an FTS5 MATCH string or a tsquery); filters and selectors become
plain SQL conditions on the index's tables. The largest parts of the query that are
words only go to the engine as one expression; the rest is joined in SQL, so a query
mixing words and facts keeps the meaning its tree says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from caselens.search.query import SELECTOR_FIELDS, And, Filter, Node, Not, Or, Text

# type: takes the FollowTheMoney schema (lower case) or one of these everyday names.
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "mail": ("email",),
    "pdf": ("pages",),
    "archive": ("package",),
    "zip": ("package",),
    "spreadsheet": ("workbook", "table"),
    "text": ("plaintext",),
    "html": ("hypertext",),
    "web": ("hypertext",),
    "image": ("image",),
    "photo": ("image",),
    "recording": ("audio", "video"),
    "calendar": ("calendar", "event"),
}


_BROAD = frozenset({"type", "lang", "date"})  # filters that may hold for most documents


def is_words(node: Node) -> bool:
    """Whether the engine alone can answer ``node`` (words only, and not a bare NOT)."""
    if isinstance(node, Text):
        return True
    if isinstance(node, Or):
        return all(is_words(child) for child in node.children)
    if isinstance(node, And):
        positive = [c for c in node.children if not isinstance(c, Not)]
        negative = [c.child for c in node.children if isinstance(c, Not)]
        return bool(positive) and all(map(is_words, positive)) and all(map(is_words, negative))
    return False


@dataclass(slots=True)
class Compiled:
    """The SQL of one query: an optional ranked match and further conditions."""

    match: str | None  # the engine expression that ranks, if any
    conditions: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    # A selector or has: condition must hold: its few documents are the best place to
    # start, rather than every document of the case.
    selective_filter: bool = False


class Compiler:
    """Compiles a tree for one backend, which supplies how words are written and matched.

    ``words`` renders a words-only tree in the engine's syntax; ``matches`` is the SQL
    condition that document ``d`` matches such an expression (bound as a parameter).
    """

    def __init__(
        self,
        words: Callable[[Node], str],
        matches: Callable[[str], str],
        selectors: Callable[[Filter], list[tuple[str, str]]],
        language: Callable[[str], str],
    ) -> None:
        self.words = words
        self.matches = matches
        self.selectors = selectors  # (kind, normalized value) pairs a selector field means
        self.language = language
        self.parameters: dict[str, Any] = {}

    def compile(self, node: Node) -> Compiled:
        self.parameters = {}
        conjuncts = list(node.children) if isinstance(node, And) else [node]
        ranked = [c for c in conjuncts if not isinstance(c, Not) and is_words(c)]
        rest = [c for c in conjuncts if c not in ranked]
        # Negated words join the ranked expression (FTS5's binary NOT needs a left side).
        negated = [c for c in rest if isinstance(c, Not) and is_words(c.child)]
        match = None
        if ranked:
            rest = [c for c in rest if c not in negated]
            match_node: Node = ranked[0] if len(ranked) == 1 else And(tuple(ranked))
            if negated:
                match_node = And((*ranked, *negated))
            match = self.words(match_node)
        conditions = [self.condition(child) for child in rest]
        selective = any(isinstance(c, Filter) and c.field not in _BROAD for c in rest)
        return Compiled(match, conditions, self.parameters, selective)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return f":{name}"

    def condition(self, node: Node) -> str:
        if is_words(node):
            return self.matches(self.bind(self.words(node)))
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, Not):
            return f"NOT ({self.condition(node.child)})"
        if isinstance(node, And):
            words = [c for c in node.children if not isinstance(c, Not) and is_words(c)]
            others = [c for c in node.children if c not in words]
            parts = []
            if words:
                group: Node = words[0] if len(words) == 1 else And(tuple(words))
                parts.append(self.matches(self.bind(self.words(group))))
            parts.extend(self.condition(child) for child in others)
            return "(" + " AND ".join(parts) + ")"
        assert isinstance(node, Or)
        return "(" + " OR ".join(self.condition(child) for child in node.children) + ")"

    def filter(self, node: Filter) -> str:
        if node.field == "type":
            value = node.value.lower()
            types = TYPE_ALIASES.get(value, (value,))
            return f"d.doc_type IN ({', '.join(self.bind(t) for t in types)})"
        if node.field == "lang":
            return f"COALESCE(d.lang, '') = {self.bind(self.language(node.value))}"
        if node.field == "date":
            parts = ["d.date IS NOT NULL"]
            if node.low:
                parts.append(f"d.date >= {self.bind(node.low)}")
            if node.high:
                parts.append(f"d.date <= {self.bind(node.high)}")
            return "(" + " AND ".join(parts) + ")"
        if node.field == "has":
            kinds = _has_kinds(node.value.lower())
            listed = ", ".join(self.bind(kind) for kind in kinds)
            return f"d.id IN (SELECT k.doc_id FROM search_kinds k WHERE k.kind IN ({listed}))"  # noqa: S608
        pairs = self.selectors(node)
        alternatives = " OR ".join(
            f"(s.kind = {self.bind(kind)} AND s.value = {self.bind(value)})"
            for kind, value in pairs
        )
        return f"d.id IN (SELECT s.doc_id FROM search_selectors s WHERE {alternatives})"  # noqa: S608


def _has_kinds(value: str) -> tuple[str, ...]:
    return SELECTOR_FIELDS.get(value, (value,))
