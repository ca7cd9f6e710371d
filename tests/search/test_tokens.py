"""The tokenizer both engines index with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from caselens.search.tokens import MAX_TOKEN_CHARS, tokenize, tokens_with_offsets


def test_folds_case_diacritics_and_compatibility_forms() -> None:
    assert tokenize("Müller, JOSÉ e-mail: alice@x.test") == [
        "muller", "jose", "e", "mail", "alice", "x", "test",
    ]  # fmt: skip
    assert tokenize("ﬁne Straße café ½") == ["fine", "strasse", "cafe", "1", "2"]
    assert tokenize("Владимир ПУТИН") == ["владимир", "путин"]
    assert tokenize("cafe\u0301s") == ["cafes"]  # decomposed accents (macOS names)
    assert tokenize("Acme™ snake_case") == ["acme", "snake", "case"]
    assert tokenize("x" * (MAX_TOKEN_CHARS + 1) + " kept") == ["kept"]


def test_offsets_point_at_the_words_as_written() -> None:
    text = "Herr MÜLLER  paid ™ €9,500"
    found = list(tokens_with_offsets(text))
    assert [(t, text[s:e]) for t, s, e in found] == [
        ("herr", "Herr"), ("muller", "MÜLLER"), ("paid", "paid"), ("9", "9"), ("500", "500"),
    ]  # fmt: skip


@given(st.text(max_size=200))
def test_offsets_give_the_same_tokens(text: str) -> None:
    assert [token for token, _, _ in tokens_with_offsets(text)] == tokenize(text)
