"""Name fingerprints: spellings, scripts, word order and company forms meet; nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselens.extract.fingerprint import display_name, name_fingerprint, to_ascii


@pytest.mark.parametrize(
    "spelling",
    [
        "Владимир Путин",
        "Vladimir Putin",
        "PUTIN, Vladimir",
        "Vladimir  Putin",
        "vladimir putin",
        "Mr. Vladimir Putin",
        "Vladimir Putin's",
        "Vladimir\nPutin",
        "Ｖｌａｄｉｍｉｒ Ｐｕｔｉｎ",  # fullwidth forms
    ],
)
def test_spellings_and_scripts_of_one_name_meet(spelling: str) -> None:
    assert name_fingerprint(spelling) == "putin vladimir"


@pytest.mark.parametrize(
    ("name", "fingerprint"),
    [
        ("José Müller", "jose muller"),
        ("Jose Muller", "jose muller"),
        ("Sławomir Mrożek", "mrozek slawomir"),
        ("Ørsted", "orsted"),
        ("Straße", "strasse"),
        ("Nguyễn Tấn Dũng", "dung nguyen tan"),
        ("İstanbul", "istanbul"),
        # Cyrillic by BGN/PCGN, the romanization of English-language sources
        ("Сергей Шойгу", "sergey shoygu"),
        ("Михаил Ходорковский", "khodorkovskiy mikhail"),
        ("Юлия Тимошенко", "timoshenko yuliya"),
        ("Иванов-Петров", "ivanov petrov"),
        # Greek by UNGEGN
        ("Αλέξης Τσίπρας", "alexis tsipras"),
        ("Κυριάκος Μητσοτάκης", "kyriakos mitsotakis"),
        # Arabic without vowels stays without vowels: it meets itself, not English forms
        ("فلاديمير بوتين", "bwtyn fladymyr"),
        ("习近平", "jin ping xi"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("J.P. Morgan", "jp morgan"),
        ("Jean-Pierre Dupont", "dupont jean pierre"),
        ("The Guardian", "guardian"),
        ("Barclays'", "barclays"),
    ],
)
def test_fingerprints(name: str, fingerprint: str) -> None:
    assert name_fingerprint(name) == fingerprint


def test_company_forms_are_written_one_way_but_kept() -> None:
    assert name_fingerprint("Deutsche Bank Aktiengesellschaft") == "ag bank deutsche"
    assert name_fingerprint("DEUTSCHE BANK AG") == "ag bank deutsche"
    assert name_fingerprint("Acme Limited") == name_fingerprint("ACME LTD") == "acme ltd"
    assert name_fingerprint("Acme Gesellschaft mit beschränkter Haftung") == "acme gmbh"
    assert name_fingerprint("ООО Газпром") == name_fingerprint("OOO Gazprom") == "gazprom ooo"
    # A company form tells legal entities apart: parent and subsidiary do not merge.
    assert name_fingerprint("Deutsche Bank") == "bank deutsche"
    assert name_fingerprint("Acme GmbH") != name_fingerprint("Acme Ltd")


def test_different_names_stay_apart() -> None:
    assert name_fingerprint("Yulia Tymoshenko") != name_fingerprint("Юлия Тимошенко")
    assert name_fingerprint("John Smith") != name_fingerprint("Jon Smith")
    assert name_fingerprint("Anna Karenina") != name_fingerprint("Anna")


@pytest.mark.parametrize("junk", ["", "   ", "---", "()", "' ’", "…", "\u200b"])
def test_nothing_left_gives_empty(junk: str) -> None:
    assert name_fingerprint(junk) == ""


def test_numbers_are_kept_as_written() -> None:
    assert name_fingerprint("7-Eleven") == "7 eleven"
    assert name_fingerprint("12345") == "12345"


def test_display_name_tidies_without_changing_the_name() -> None:
    assert display_name("  Vladimir\n  Putin's ") == "Vladimir Putin"
    assert display_name("«Газпром»") == "Газпром"
    assert display_name('"Acme Inc."') == "Acme Inc."
    assert display_name("PUTIN, Vladimir") == "PUTIN, Vladimir"
    assert display_name("ＡＣＭＥ") == "ACME"
    assert display_name("") == ""


def test_to_ascii_leaves_ascii_alone() -> None:
    text = "plain ASCII, with punctuation!"
    assert to_ascii(text) is text


NAME_WORDS = ["Anna", "Boris", "Chen", "Dmitri", "Elena", "Farah", "Gomez", "Hassan", "Ivanova"]


@given(st.permutations(NAME_WORDS).map(lambda words: words[:4]), st.randoms())
def test_word_order_does_not_matter(words: list[str], random: object) -> None:
    shuffled = list(words)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert name_fingerprint(" ".join(words)) == name_fingerprint(", ".join(shuffled))


@given(st.text(max_size=60))
def test_any_text_gives_sorted_lower_case_words(text: str) -> None:
    fingerprint = name_fingerprint(text)
    words = fingerprint.split(" ") if fingerprint else []
    assert words == sorted(words)
    assert all(word and "_" not in word and word == word.lower() for word in words)
    assert isinstance(display_name(text), str)


# The letters of Western European, Greek and Russian names all romanize to ASCII. (A letter
# ICU cannot romanize, such as Ʒ or Mahajani 𑅐, is kept, so it still meets itself.)
LETTERS = "".join(chr(c) for c in [*range(0xC0, 0x100), *range(0x391, 0x3CA), *range(0x401, 0x460)])


@given(st.text(st.sampled_from(LETTERS + " ,.-'"), max_size=40))
def test_common_letters_give_ascii(text: str) -> None:
    assert name_fingerprint(text).isascii()
