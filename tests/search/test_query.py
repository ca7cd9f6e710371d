"""The query language: what each form means, and what a malformed query is told."""

from __future__ import annotations

import pytest

from caselens.search.query import And, Filter, Not, Or, QueryError, Text, parse, parse_date_range


def test_words_phrases_prefixes_and_operators() -> None:
    assert parse("wire transfer") == And((Text(("wire",)), Text(("transfer",))))
    assert parse('"wire transfer"') == Text(("wire", "transfer"))
    assert parse('"wire tran"*') == Text(("wire", "tran"), prefix=True)
    assert parse("invoic*") == Text(("invoic",), prefix=True)
    assert parse("a OR b c") == Or((Text(("a",)), And((Text(("b",)), Text(("c",))))))
    assert parse("a AND (b OR c)") == And((Text(("a",)), Or((Text(("b",)), Text(("c",))))))
    assert parse("NOT a") == Not(Text(("a",)))
    assert parse("a -b") == And((Text(("a",)), Not(Text(("b",)))))
    assert parse('a -"b c"') == And((Text(("a",)), Not(Text(("b", "c")))))
    # Lower-case operators are words; a word that splits is a phrase.
    assert parse("this and that") == And((Text(("this",)), Text(("and",)), Text(("that",))))
    assert parse("e-mail") == Text(("e", "mail"))
    assert parse("Müller") == Text(("muller",))
    assert parse("http://x.test/a") == Text(("http", "x", "test", "a"))


def test_fields_filters_and_selectors() -> None:
    assert parse("from:alice") == Text(("alice",), "sender")
    assert parse("SUBJECT:invoice") == Text(("invoice",), "title")
    assert parse("to:(bob OR carol)") == Or(
        (Text(("bob",), "recipients"), Text(("carol",), "recipients"))
    )
    assert parse("-from:alice") == Not(Text(("alice",), "sender"))
    assert parse("type:email") == Filter("type", "email")
    assert parse("has:iban") == Filter("has", "iban")
    assert parse('phone:"020 7946 0958"') == Filter("phone", "020 7946 0958")
    assert parse("date:2001-05") == Filter(
        "date", "2001-05", "2001-05-01T00:00:00", "2001-05-31T23:59:59"
    )


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        ("2001", ("2001-01-01T00:00:00", "2001-12-31T23:59:59")),
        ("2000-02", ("2000-02-01T00:00:00", "2000-02-29T23:59:59")),
        ("2001-12-31", ("2001-12-31T00:00:00", "2001-12-31T23:59:59")),
        ("2001..2002-06", ("2001-01-01T00:00:00", "2002-06-30T23:59:59")),
        ("..2001", (None, "2001-12-31T23:59:59")),
        ("2001-12..", ("2001-12-01T00:00:00", None)),
        (">=2001-03", ("2001-03-01T00:00:00", None)),
        (">2001-03", ("2001-04-01T00:00:00", None)),
        ("<=2001-03-04", (None, "2001-03-04T23:59:59")),
        ("<2001", (None, "2000-12-31T23:59:59")),
    ],
)
def test_date_ranges(value: str, bounds: tuple[str | None, str | None]) -> None:
    assert parse_date_range(value) == bounds


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        ("   ", "the query is empty"),
        ('"wire transfer', "unclosed quote at position 1"),
        ("(a OR b", 'unclosed "(" at position 1'),
        ("a OR b)", 'unmatched ")" at position 7'),
        ("a OR", 'nothing after "OR" at position 3'),
        ("a AND", 'nothing after "AND" at position 3'),
        ("NOT", 'nothing after "NOT" at position 1'),
        ("OR a", '"OR" at position 1 has nothing before it'),
        ("()", "empty parentheses at position 1"),
        ("a - b", 'nothing after "-" at position 3'),
        ("frm:alice", 'unknown field "frm" at position 1; fields are: body, from'),
        ("from:", '"from:" at position 1 has no value'),
        ("has:telex", 'unknown identifier kind "telex" in has: at position 5'),
        ("date:2001-13", '"2001-13" at position 6 is not a valid date: month must be in 1..12'),
        ("date:yesterday", '"yesterday" at position 6 is not a date: write 2001, 2001-05'),
        ("date:2002..2001", 'the date range "2002..2001" at position 6 ends before it starts'),
        ("a*", 'the prefix "a*" at position 1 is too short'),
        ("!!!", '"!!!" at position 1 has no letters or digits to search'),
        ("type:(a OR b)", '"type:" at position 1 takes one value, not a group'),
        ("from:(a OR has:iban)", '"from:" at position 1 applies to words only, not to "has:"'),
        ("x " * 2001, "the query is longer than 4000 characters"),
        ("x " * 201, "the query has more than 200 terms"),
    ],
)
def test_malformed_queries_say_what_is_wrong(query: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert str(raised.value).startswith(message)
