"""Offline language detection (ISO 639-3) and the normalization of language codes and names."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselens.extract.language import (
    MIN_LETTERS,
    SAMPLE_CHARS,
    detect_language,
    normalize_language,
)

# Written for these tests: one instruction, as found in casework, in each language.
SENTENCES = [
    ("eng", "Please transfer the remaining funds to the usual account before Friday."),
    ("deu", "Bitte überweisen Sie den restlichen Betrag bis Freitag auf das übliche Konto."),
    ("fra", "Veuillez virer le reste des fonds sur le compte habituel avant vendredi."),
    ("spa", "Por favor transfiera los fondos restantes a la cuenta habitual antes del viernes."),
    ("ita", "Per favore trasferisci i fondi rimanenti sul solito conto entro venerdì."),
    ("nld", "Maak het resterende bedrag vóór vrijdag over naar de gebruikelijke rekening."),
    ("rus", "Пожалуйста, переведите оставшиеся средства на обычный счёт до пятницы."),
    ("ukr", "Будь ласка, переведіть решту коштів на звичайний рахунок до п'ятниці."),
    ("pol", "Proszę przelać pozostałe środki na zwykłe konto przed piątkiem."),
    ("tur", "Lütfen kalan parayı cuma gününden önce her zamanki hesaba aktarın."),
    ("ara", "يرجى تحويل الأموال المتبقية إلى الحساب المعتاد قبل يوم الجمعة."),
    ("zho", "请在星期五之前把剩下的钱转到平常的账户。"),
    ("ell", "Παρακαλώ μεταφέρετε τα υπόλοιπα χρήματα στον συνηθισμένο λογαριασμό."),
]


@pytest.mark.parametrize(("language", "text"), SENTENCES)
def test_detects_the_language_of_a_sentence(language: str, text: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "hello",  # too few letters to tell
        "Vladimir Putin",
        "0207 946 0958 / 12.03.2024 14:55 — 1,234,567.89 EUR",
        "+44 20 7946 0958 " * 500,  # long, but no letters
        "!!! ??? ... ### *** " * 50,
    ],
)
def test_no_language_for_too_little_text(text: str) -> None:
    assert detect_language(text) is None


def test_the_minimum_counts_letters_not_characters() -> None:
    assert MIN_LETTERS == 20
    assert detect_language("a b c d e f g h i j k l m n o p q r s") is None  # 19 letters


def test_a_short_ambiguous_line_gives_no_answer_rather_than_a_guess() -> None:
    # Russian that the model puts between Russian and Ukrainian (about 0.48 Ukrainian).
    assert detect_language("Ок, созвонимся завтра утром.") is None


def test_undecodable_bytes_kept_as_surrogates_do_not_break_detection() -> None:
    text = "Bitte überweisen Sie den restlichen Betrag \udcff\udcfe bis Freitag auf das Konto."
    assert detect_language(text) == "deu"


def test_a_long_text_is_judged_by_its_beginning_and_quickly() -> None:
    german = " ".join(text for code, text in SENTENCES if code == "deu")
    text = (german + "\n") * 200 + SENTENCES[0][1] * 20_000  # 1.4 MB, English after 16 kB
    assert len(text) > 100 * SAMPLE_CHARS
    began = time.perf_counter()
    assert detect_language(text) == "deu"
    assert time.perf_counter() - began < 1.0


def test_mixed_scripts_go_by_the_main_language() -> None:
    text = (
        "Встреча с Vladimir Ivanov и John Smith перенесена на четверг, документы отправлю по почте."
    )
    assert detect_language(text) == "rus"


@pytest.mark.parametrize(
    ("given_code", "code"),
    [
        ("en", "eng"),
        ("eng", "eng"),
        ("English", "eng"),
        ("  EN ", "eng"),
        ("en-GB", "eng"),
        ("de", "deu"),
        ("deu", "deu"),
        ("ger", "deu"),
        ("German", "deu"),
        ("fre", "fra"),
        ("ru", "rus"),
        ("Russian", "rus"),
        ("zh", "zho"),
        ("chi", "zho"),
        ("pt-BR", "por"),
        ("uk", "ukr"),
    ],
)
def test_normalize_language(given_code: str, code: str) -> None:
    assert normalize_language(given_code) == code


@pytest.mark.parametrize("junk", ["", "  ", "xx", "und", "zxx", "Klingonese", "12"])
def test_normalize_language_rejects_what_is_no_language(junk: str) -> None:
    assert normalize_language(junk) is None


@given(st.text(max_size=200))
def test_detect_language_never_fails(text: str) -> None:
    result = detect_language(text)
    assert result is None or (len(result) == 3 and result.isalpha() and result.islower())


def test_chinese_characters_count_as_more_than_letters() -> None:
    assert detect_language("我们明天在老地方见面，带上钱。") == "zho"  # 15 characters
    assert detect_language("明天见") is None
