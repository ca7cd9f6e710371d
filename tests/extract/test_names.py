"""Names with spaCy: real sentences, the junk filter, chunking and bounds on huge text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselens.extract.base import ExtractionContext, Mention
from caselens.extract.names import (
    CHUNK_CHARS,
    LABELS,
    MAX_TEXT_CHARS,
    MODELS,
    NameExtractor,
    chunks,
    clean_span,
    load_model,
    model_for,
    names_available,
)

pytestmark = pytest.mark.skipif(
    not names_available(), reason="the names extra (spaCy and its model) is not installed"
)

NO_REGION = ExtractionContext()


def found(text: str) -> list[Mention]:
    mentions = list(NameExtractor().find(text, NO_REGION))
    for m in mentions:
        assert text[m.start : m.end] == m.raw
        assert (m.extractor, m.version) == ("names", "1")
        assert m.kind in NameExtractor.kinds
    return mentions


def test_names_in_a_real_sentence() -> None:
    text = (
        "Vladimir Putin met Angela Merkel in Berlin on Tuesday, and Deutsche Bank AG "
        "confirmed the payment."
    )
    assert found(text) == [
        Mention("person", "putin vladimir", "Vladimir Putin", 0, 14, "names", "1",
                {"label": "PERSON"}),
        Mention("person", "angela merkel", "Angela Merkel", 19, 32, "names", "1",
                {"label": "PERSON"}),
        Mention("location", "berlin", "Berlin", 36, 42, "names", "1", {"label": "GPE"}),
        Mention("organization", "ag bank deutsche", "Deutsche Bank AG", 59, 75, "names", "1",
                {"label": "ORG"}),
    ]  # fmt: skip


def test_cyrillic_and_latin_spellings_share_a_fingerprint() -> None:
    latin = found("Vladimir Putin arrived in Moscow late on Monday evening.")
    cyrillic = found("Владимир Путин встретился с министрами.")
    assert [(m.kind, m.value, m.raw) for m in latin if m.kind == "person"] == [
        ("person", "putin vladimir", "Vladimir Putin")
    ]
    assert [(m.kind, m.value, m.raw) for m in cyrillic] == [
        ("person", "putin vladimir", "Владимир Путин")
    ]


def test_possessive_and_leading_article_are_not_part_of_the_name() -> None:
    text = "Barclays's lawyers wrote to Putin's office about the Alps."
    assert [(m.kind, m.raw, m.value) for m in found(text)] == [
        ("organization", "Barclays", "barclays"),
        ("person", "Putin", "putin"),
        ("location", "Alps", "alps"),
    ]


def test_dates_amounts_and_nationalities_are_not_names() -> None:
    text = "On 12 March 2024 the Russian buyer paid $4.5 million, about 30 percent up front."
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\n\t ",
        "1234 5678 9012 3456\n020 7946 0958\n2024-03-12 14:55",
        "!!! ... ??? --- ***",
        "\udcff\udcfe\x00\x01",
    ],
)
def test_no_names_in_text_without_words(text: str) -> None:
    assert found(text) == []


def test_a_name_is_not_taken_across_a_line_break() -> None:
    text = "Regards,\nJohn Smith\nAcme Ltd\n\nFrom: Kenneth Lay"
    names = [(m.kind, m.raw) for m in found(text)]
    assert ("person", "John Smith") in names
    assert ("person", "Kenneth Lay") in names
    assert all("\n" not in raw for _, raw in names)


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("the Golden Gate Bridge", (0, 22), (4, 22)),
        ("The Hague", (0, 9), (0, 9)),  # capital: may be part of the name
        ("Barclays's", (0, 10), (0, 8)),
        ("Barclays’ ", (0, 10), (0, 8)),
        ('"Acme Inc."', (0, 11), (1, 10)),
        ("Acme (UK)", (0, 9), (0, 9)),
        ("Acme (UK", (0, 8), (0, 8)),
        ("(Acme)", (0, 6), (1, 5)),
        ("  Jane Doe, ", (0, 12), (2, 10)),
    ],
)
def test_clean_span_trims(text: str, span: tuple[int, int], expected: tuple[int, int]) -> None:
    assert clean_span(text, *span) == expected


@pytest.mark.parametrize(
    "text",
    [
        "J",  # one letter
        "42",
        "--",
        "@jsmith",  # a handle: the identifier extractors' business
        "#Enron",
        "https://example.com",
        "John\nSmith",
        "John\tSmith",
        "meet obama",  # all lower case: a common word taken for a name
        "A B C D E F G H I J",  # more than eight words
        "X" * 101,
    ],
)
def test_clean_span_rejects_junk(text: str) -> None:
    assert clean_span(text, 0, len(text)) is None


def test_clean_span_keeps_names_in_uncased_scripts() -> None:
    assert clean_span("习近平", 0, 3) == (0, 3)
    assert clean_span("محمد بن سلمان", 0, 13) == (0, 13)


def test_chunks_cover_the_text_and_cut_between_paragraphs() -> None:
    paragraph = "Jane Doe wrote to John Roe about the shipment. " * 30  # ~1,400 characters
    text = "\n\n".join([paragraph] * 20)
    pieces = list(chunks(text, size=5_000))
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert all(len(piece) <= 5_000 for _, piece in pieces)
    assert all(piece.endswith("\n\n") for _, piece in pieces[:-1])


def test_chunks_cut_a_text_without_breaks_at_a_space_or_anywhere() -> None:
    words = "word " * 5_000
    assert all(piece.endswith(" ") for _, piece in list(chunks(words, size=1_000))[:-1])
    solid = "x" * 25_000
    assert [len(piece) for _, piece in chunks(solid, size=10_000)] == [10_000, 10_000, 5_000]
    assert list(chunks("", size=10)) == []


def test_offsets_are_exact_in_every_chunk_of_a_long_text() -> None:
    paragraph = "The invoice was approved by Margaret Thatcher in London.\n\n"
    text = paragraph * (3 * CHUNK_CHARS // len(paragraph))
    mentions = found(text)
    assert len(text) > 2 * CHUNK_CHARS
    people = [m for m in mentions if m.kind == "person"]
    assert len(people) == text.count("Margaret Thatcher")
    assert {m.value for m in people} == {"margaret thatcher"}
    assert people[-1].start > 2 * CHUNK_CHARS


def test_only_the_first_part_of_a_huge_text_is_read() -> None:
    filler = "Nothing to see in this line of the report.\n"
    text = filler * (MAX_TEXT_CHARS // len(filler) - 10)
    text += "Gordon Brown signed.\n" + filler * 200 + "Tony Blair signed.\n"
    assert len(text) > MAX_TEXT_CHARS
    people = [m.raw for m in found(text) if m.kind == "person"]
    assert people == ["Gordon Brown"]


def test_a_language_without_its_own_model_is_read_by_the_english_one() -> None:
    assert model_for("deu") is model_for("eng") is model_for(None)
    text = "Der Vorstand der Deutschen Bank traf Angela Merkel gestern in Frankfurt."
    assert ("person", "Angela Merkel") in [(m.kind, m.raw) for m in found(text)]
    assert [m.raw for m in NameExtractor(language="deu").find(text, NO_REGION)] == [
        m.raw for m in found(text)
    ]


def test_the_model_is_loaded_once_with_only_its_recognizer() -> None:
    model = load_model(MODELS["eng"])
    assert load_model(MODELS["eng"]) is model
    assert model.pipe_names == ["ner"]
    assert set(LABELS) <= set(model.get_pipe("ner").labels)  # type: ignore[attr-defined]


def test_undecodable_bytes_neither_break_the_model_nor_enter_a_name() -> None:
    text = "Jane Doe \udcff\udcfe paid John Roe in London.\x00 Then Jo\udcffhn Smith left."
    assert [(m.kind, m.raw, m.start) for m in found(text)] == [
        ("person", "Jane Doe", 0),
        ("person", "John Roe", 17),
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["Jane Doe", "Acme Ltd", "Paris", "Владимир Путин", "\n", "'s"]),
            st.text(max_size=12),
        ),
        max_size=12,
    ).map(" ".join)
)
def test_any_text_gives_exact_offsets_and_never_fails(text: str) -> None:
    found(text)
