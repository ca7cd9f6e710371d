"""The caselens query language: parsed into a small tree both backends compile.

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          words side by side must all match
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | FIELD ":" value | "phrase" | word | word*

Operators are upper case (a lower-case "and" is a word). Text fields are subject
(alias title), from, to and body; ``field:(a OR b)`` applies a field to a group.
Filters (type, lang, has, date) and selector fields (phone, email, iban, ...) match
stored facts rather than words. Errors say what is wrong and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from caselens.errors import InvalidInput
from caselens.search.tokens import tokenize

TEXT_FIELDS = {"subject": "title", "title": "title", "from": "sender", "to": "recipients"}
TEXT_FIELDS["body"] = "body"
FILTER_FIELDS = frozenset({"type", "lang", "has", "date"})
# Selector fields search the normalized value of an identifier, so every spelling of
# it is found. Each field names the mention kinds it covers.
SELECTOR_FIELDS: dict[str, tuple[str, ...]] = {
    "phone": ("phone",),
    "email": ("email",),
    "iban": ("iban",),
    "bic": ("bic",),
    "card": ("card",),
    "imei": ("imei",),
    "btc": ("btc",),
    "ltc": ("ltc",),
    "trx": ("trx",),
    "eth": ("eth",),
    "xmr": ("xmr",),
    "wallet": ("btc", "ltc", "trx", "eth", "xmr"),
    "ip": ("ipv4", "ipv6"),
    "url": ("url",),
    "domain": ("domain",),
    "name": ("person", "organization", "location"),
    "person": ("person",),
    "org": ("organization",),
    "location": ("location",),
}
MIN_PREFIX_CHARS = 2
MAX_QUERY_CHARS = 4000
MAX_NODES = 200


class QueryError(InvalidInput):
    """A query that cannot be parsed; the message says what is wrong and where."""


@dataclass(frozen=True, slots=True)
class Text:
    """Words that must appear in this order (one word, or a phrase)."""

    tokens: tuple[str, ...]
    column: str | None = None  # title, sender, recipients, body; None: any
    prefix: bool = False  # the last token is a prefix


@dataclass(frozen=True, slots=True)
class Filter:
    """A condition on stored facts: document type, language, date, identifiers."""

    field: str  # type, lang, has, date, or a selector field
    value: str
    low: str | None = None  # date ranges: inclusive ISO bounds
    high: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Text | Filter | And | Or | Not

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<phrase>"[^"]*"\*?)
  | (?P<open_quote>")
  | (?P<field>[A-Za-z]+:(?!//))
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str
    text: str
    at: int


def parse(query: str) -> Node:
    """The tree of ``query``; QueryError for anything malformed."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    parser = _Parser(_lex(query), query)
    if not parser.lexemes:
        raise QueryError("the query is empty")
    node = parser.parse_or()
    if parser.position < len(parser.lexemes):
        extra = parser.lexemes[parser.position]
        if extra.kind == "rparen":
            raise QueryError(f'unmatched ")" at position {extra.at + 1}')
        raise QueryError(f'unexpected "{extra.text}" at position {extra.at + 1}')
    if parser.nodes > MAX_NODES:
        raise QueryError(f"the query has more than {MAX_NODES} terms")
    return node


def _lex(query: str, offset: int = 0) -> list[_Lexeme]:
    lexemes = []
    for match in _TOKEN_RE.finditer(query):
        kind = match.lastgroup or ""
        if kind == "space":
            continue
        if kind == "open_quote":
            raise QueryError(f"unclosed quote at position {offset + match.start() + 1}")
        lexemes.append(_Lexeme(kind, match.group(), offset + match.start()))
    return lexemes


class _Parser:
    def __init__(self, lexemes: list[_Lexeme], query: str) -> None:
        self.lexemes = lexemes
        self.query = query
        self.position = 0
        self.nodes = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.position] if self.position < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.position]
        self.position += 1
        return lexeme

    def is_operator(self, lexeme: _Lexeme | None, name: str) -> bool:
        return lexeme is not None and lexeme.kind == "word" and lexeme.text == name

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.is_operator(self.peek(), "OR"):
            operator = self.take()
            if self.peek() is None or self.peek_ends_group():
                raise QueryError(f'nothing after "OR" at position {operator.at + 1}')
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def peek_ends_group(self) -> bool:
        lexeme = self.peek()
        return lexeme is not None and lexeme.kind == "rparen"

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while True:
            lexeme = self.peek()
            if lexeme is None or lexeme.kind == "rparen" or self.is_operator(lexeme, "OR"):
                break
            if self.is_operator(lexeme, "AND"):
                self.take()
                if self.peek() is None or self.peek_ends_group():
                    raise QueryError(f'nothing after "AND" at position {lexeme.at + 1}')
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        lexeme = self.peek()
        assert lexeme is not None
        if self.is_operator(lexeme, "NOT"):
            self.take()
            if self.peek() is None or self.peek_ends_group():
                raise QueryError(f'nothing after "NOT" at position {lexeme.at + 1}')
            return Not(self.parse_unary())
        if lexeme.kind == "word" and lexeme.text.startswith("-"):
            # "-word", "-field:value", and "-" right before a "phrase" or a (group).
            self.take()
            rest = _lex(lexeme.text[1:], lexeme.at + 1)
            following = self.peek()
            adjacent = following is not None and following.at == lexeme.at + 1
            if not rest and not adjacent:
                raise QueryError(f'nothing after "-" at position {lexeme.at + 1}')
            self.lexemes[self.position : self.position] = rest
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        lexeme = self.take()
        if lexeme.kind == "lparen":
            return self.parse_group(lexeme)
        if lexeme.kind == "rparen":
            raise QueryError(f'unmatched ")" at position {lexeme.at + 1}')
        if lexeme.kind == "field":
            return self.parse_field(lexeme)
        if lexeme.kind == "word" and lexeme.text in ("AND", "OR"):
            raise QueryError(f'"{lexeme.text}" at position {lexeme.at + 1} has nothing before it')
        return self.text(lexeme, None)

    def parse_group(self, opening: _Lexeme) -> Node:
        if self.peek_ends_group():
            raise QueryError(f"empty parentheses at position {opening.at + 1}")
        if self.peek() is None:
            raise QueryError(f'unclosed "(" at position {opening.at + 1}')
        node = self.parse_or()
        closing = self.peek()
        if closing is None or closing.kind != "rparen":
            raise QueryError(f'unclosed "(" at position {opening.at + 1}')
        self.take()
        return node

    def parse_field(self, lexeme: _Lexeme) -> Node:
        name = lexeme.text[:-1].lower()
        value = self.peek()
        if value is None or value.kind in ("rparen", "field"):
            raise QueryError(f'"{lexeme.text}" at position {lexeme.at + 1} has no value')
        if name in TEXT_FIELDS:
            column = TEXT_FIELDS[name]
            if value.kind == "lparen":
                self.take()
                return _with_column(self.parse_group(value), column, lexeme)
            return self.text(self.take(), column)
        if name in FILTER_FIELDS or name in SELECTOR_FIELDS:
            if value.kind not in ("word", "phrase"):
                raise QueryError(
                    f'"{lexeme.text}" at position {lexeme.at + 1} takes one value, not a group'
                )
            self.take()
            self.nodes += 1
            raw = value.text.strip('"') if value.kind == "phrase" else value.text
            return _filter(name, raw, value.at)
        known = sorted(TEXT_FIELDS) + sorted(FILTER_FIELDS) + sorted(SELECTOR_FIELDS)
        raise QueryError(
            f'unknown field "{name}" at position {lexeme.at + 1}; fields are: {", ".join(known)}'
        )

    def text(self, lexeme: _Lexeme, column: str | None) -> Node:
        raw = lexeme.text
        prefix = raw.endswith("*")
        if lexeme.kind == "phrase":
            raw = raw[1:-2] if prefix else raw[1:-1]
        elif prefix:
            raw = raw.rstrip("*")
        tokens = tuple(tokenize(raw))
        if not tokens:
            raise QueryError(
                f'"{lexeme.text}" at position {lexeme.at + 1} has no letters or digits to search'
            )
        if prefix and len(tokens[-1]) < MIN_PREFIX_CHARS:
            raise QueryError(
                f'the prefix "{lexeme.text}" at position {lexeme.at + 1} is too short: '
                f"give at least {MIN_PREFIX_CHARS} letters or digits before *"
            )
        self.nodes += 1
        return Text(tokens, column, prefix)


def _with_column(node: Node, column: str, field: _Lexeme) -> Node:
    if isinstance(node, Text):
        return Text(node.tokens, column, node.prefix)
    if isinstance(node, And):
        return And(tuple(_with_column(c, column, field) for c in node.children))
    if isinstance(node, Or):
        return Or(tuple(_with_column(c, column, field) for c in node.children))
    if isinstance(node, Not):
        return Not(_with_column(node.child, column, field))
    raise QueryError(
        f'"{field.text}" at position {field.at + 1} applies to words only, not to "{node.field}:"'
    )


def _filter(name: str, value: str, at: int) -> Filter:
    if not value.strip():
        raise QueryError(f'"{name}:" at position {at + 1} has an empty value')
    if name == "date":
        low, high = parse_date_range(value, at)
        return Filter("date", value, low, high)
    if name == "has" and value.lower() not in HAS_KINDS:
        raise QueryError(
            f'unknown identifier kind "{value}" in has: at position {at + 1}; '
            f"kinds are: {', '.join(sorted(HAS_KINDS))}"
        )
    return Filter(name, value)


HAS_KINDS = frozenset(SELECTOR_FIELDS) | frozenset(k for ks in SELECTOR_FIELDS.values() for k in ks)

_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_date_range(value: str, at: int = 0) -> tuple[str | None, str | None]:
    """Inclusive ISO bounds of ``2001``, ``2001-05``, ``2001-05-03``, ``A..B`` (either
    side may be open), ``>=A``, ``>A``, ``<=B``, ``<B``."""
    for operator in (">=", "<=", ">", "<"):
        if value.startswith(operator):
            first, last = _date_bounds(value[len(operator) :], at)
            if operator == ">=":
                return first, None
            if operator == ">":
                return _after(last), None
            if operator == "<=":
                return None, last
            return None, _before(first)
    if ".." in value:
        low_text, _, high_text = value.partition("..")
        if not low_text and not high_text:
            raise QueryError(f'the date range at position {at + 1} has no bounds: "{value}"')
        low = _date_bounds(low_text, at)[0] if low_text else None
        high = _date_bounds(high_text, at)[1] if high_text else None
        if low and high and low > high:
            raise QueryError(f'the date range "{value}" at position {at + 1} ends before it starts')
        return low, high
    return _date_bounds(value, at)


def _date_bounds(text: str, at: int) -> tuple[str, str]:
    """First and last instant (ISO, second precision, UTC) of a year, month or day."""
    match = _DATE.match(text.strip())
    if not match:
        raise QueryError(
            f'"{text}" at position {at + 1} is not a date: write 2001, 2001-05 or 2001-05-03'
        )
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    try:
        if month is None:
            first, last = date(year, 1, 1), date(year, 12, 31)
        elif day is None:
            first = date(year, month, 1)
            last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
        else:
            first = last = date(year, month, day)
    except ValueError as err:
        raise QueryError(f'"{text}" at position {at + 1} is not a valid date: {err}') from None
    return f"{first.isoformat()}T00:00:00", f"{last.isoformat()}T23:59:59"


def _after(last: str) -> str:
    return (date.fromisoformat(last[:10]) + timedelta(days=1)).isoformat() + "T00:00:00"


def _before(first: str) -> str:
    return (date.fromisoformat(first[:10]) - timedelta(days=1)).isoformat() + "T23:59:59"
