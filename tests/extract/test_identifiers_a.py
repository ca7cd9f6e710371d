"""Phone, e-mail, IBAN, BIC, card and IMEI extractors: valid, invalid and tricky values."""

from __future__ import annotations

import pytest

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers import extract_identifiers
from caselens.extract.identifiers.banking import BicExtractor, IbanExtractor
from caselens.extract.identifiers.cards import CardExtractor
from caselens.extract.identifiers.email import EmailExtractor
from caselens.extract.identifiers.imei import ImeiExtractor
from caselens.extract.identifiers.phone import PhoneExtractor

NO_REGION = ExtractionContext()


def found(
    extractor: type[Extractor], text: str, context: ExtractionContext = NO_REGION
) -> list[Mention]:
    mentions = list(extractor().find(text, context))
    for m in mentions:
        assert text[m.start : m.end] == m.raw
        assert m.extractor == extractor.name and m.version == extractor.version
    return mentions


def values(
    extractor: type[Extractor], text: str, context: ExtractionContext = NO_REGION
) -> list[str]:
    return [m.value for m in found(extractor, text, context)]


# IBAN


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB29NWBK60161331926819", "GB29NWBK60161331926819"),
        ("fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
        ("NO93-8601-1117-947", "NO9386011117947"),
        ("BE68.5390.0754.7034", "BE68539007547034"),
        ("MT84 MALT 0110 0001 2345 MTLC AST0 01S", "MT84MALT011000012345MTLCAST001S"),
    ],
)
def test_iban_valid(text: str, value: str) -> None:
    [m] = found(IbanExtractor, text)
    assert (m.value, m.raw, m.detail["country"]) == (value, text, value[:2])


def test_iban_split_across_lines_and_in_a_sentence() -> None:
    text = "Please pay to GB29 NWBK\n6016 1331 9268 19. Thanks."
    [m] = found(IbanExtractor, text)
    assert m.value == "GB29NWBK60161331926819"
    assert m.raw == "GB29 NWBK\n6016 1331 9268 19"


@pytest.mark.parametrize(
    "text",
    [
        "GB28 NWBK 6016 1331 9268 19",  # wrong check digits
        "DE89 3704 0044 0532 0130 01",  # wrong checksum
        "DE89 3704 0044 0532 0130 001",  # one digit too many
        "DE89 3704 0044 0532 0130 0",  # one digit too few
        "ZZ12 3456 7890 1234 5678 90",  # no such country
        "XDE89370400440532013000",  # glued to a word
    ],
)
def test_iban_invalid(text: str) -> None:
    assert found(IbanExtractor, text) == []


# BIC


def test_bic_valid_and_rule() -> None:
    text = "BIC: DEUTDEFF; also NWBKGB2L and DEUTDEFF500, swift code bofaus3n."
    assert values(BicExtractor, text) == ["DEUTDEFF", "NWBKGB2L", "DEUTDEFF500", "BOFAUS3N"]


@pytest.mark.parametrize(
    "text",
    [
        "THE DOCUMENT WAS SIGNED",  # DOCU ME NT: no digit, no keyword
        "DEUTDEFF",  # letters only, no keyword: missed on purpose
        "ABCDXQ2L",  # XQ is no country
        "deutdeff500",  # lower case without keyword
        "BIC: DEUTDEFF50",  # ten characters
        "BIC: NWBKGBLO",  # letter O as second location character
    ],
)
def test_bic_invalid(text: str) -> None:
    assert found(BicExtractor, text) == []


# Cards


@pytest.mark.parametrize(
    ("text", "value", "issuer"),
    [
        ("4111 1111 1111 1111", "4111111111111111", "visa"),
        ("4222222222222", "4222222222222", "visa"),
        ("5555-5555-5555-4444", "5555555555554444", "mastercard"),
        ("2223 0000 4840 0011", "2223000048400011", "mastercard"),
        ("3782 822463 10005", "378282246310005", "amex"),
        ("6011 0009 9013 9424", "6011000990139424", "discover"),
        ("3530 1113 3330 0000", "3530111333300000", "jcb"),
        ("3056 930902 5904", "30569309025904", "diners"),
        ("6200 0000 0000 0005", "6200000000000005", "unionpay"),
    ],
)
def test_card_valid(text: str, value: str, issuer: str) -> None:
    [m] = found(CardExtractor, text)
    assert (m.value, m.raw, m.detail["issuer"]) == (value, text, issuer)


def test_card_split_across_lines_after_other_digits() -> None:
    text = "card no. 12 4111 1111\n1111 1111, exp 12/27"
    [m] = found(CardExtractor, text)
    assert m.raw == "4111 1111\n1111 1111"


@pytest.mark.parametrize(
    "text",
    [
        "9999 9999 9999 9995",  # Luhn-valid, but no issuer starts with 9
        "3782 8224 6310 0058",  # Luhn-valid 16 digits with an Amex prefix
        "4111 1111 1111 1112",  # Luhn fails
        "12 34 56 78 90 12 34 5",  # not grouped like a card
        "41111111111111111111",  # twenty digits
    ],
)
def test_card_invalid(text: str) -> None:
    assert found(CardExtractor, text) == []


# IMEI


def test_imei_with_keyword_layout_and_svn() -> None:
    text = "IMEI: 49015420323751 8; label 35-209900-176148-1; IMEISV 3520990017614823"
    mentions = found(ImeiExtractor, text)
    assert [m.value for m in mentions] == ["490154203237518", "352099001761481", "3520990017614823"]
    assert mentions[2].detail["svn"] == "23"


@pytest.mark.parametrize(
    "text",
    [
        "order 490154203237518",  # Luhn-valid, no keyword, no layout
        "IMEI 490154203237519",  # Luhn fails
        "3520990017614823",  # sixteen digits without IMEISV
        "IMEI 4901542032375",  # too short
    ],
)
def test_imei_invalid(text: str) -> None:
    assert found(ImeiExtractor, text) == []


# E-mail


def test_email_valid_and_normalized() -> None:
    text = "Write to John.Doe+tag@Example.ORG. or <a.b-c@mail.example.co.uk>, x@bücher.example!"
    mentions = found(EmailExtractor, text)
    assert [m.value for m in mentions] == [
        "john.doe+tag@example.org",
        "a.b-c@mail.example.co.uk",
        "x@bücher.example",
    ]
    assert mentions[0].raw == "John.Doe+tag@Example.ORG"


@pytest.mark.parametrize(
    "text",
    [
        "a..b@example.com",
        "foo@bar",
        "cid:image001.png@01D4A5B3.6C0F4F20",
        "user@-bad-.com",
        "user@example.c",
        "@example.com",
        "user.@example.com",
    ],
)
def test_email_invalid(text: str) -> None:
    assert found(EmailExtractor, text) == []


# Phone


def test_phone_national_needs_a_region() -> None:
    text = "Call 020 7946 0018 today"
    assert values(PhoneExtractor, text) == []
    [m] = found(PhoneExtractor, text, ExtractionContext("GB"))
    assert (m.value, m.raw, m.detail["region"], m.detail["type"]) == (
        "+442079460018",
        "020 7946 0018",
        "GB",
        "fixed_line",
    )


def test_phone_international_without_region_and_split() -> None:
    text = "mobile +44 7911\n123456, Paris +33 6 12 34 56 78."
    assert values(PhoneExtractor, text) == ["+447911123456", "+33612345678"]


def test_phone_country_hints_first_region_wins() -> None:
    text = "Handy 0176 12345678"
    context = ExtractionContext("GB", ("DE",))
    [m] = found(PhoneExtractor, text, context)
    assert (m.value, m.detail["type"]) == ("+4917612345678", "mobile")


@pytest.mark.parametrize("region", ["GB", "DE", "US", "FR"])
def test_dates_and_amounts_are_not_phones(region: str) -> None:
    text = "On 2024-03-05 (05.03.2024, 03/05/2024) we paid 1,234,567.89 and 1.234.567,89 EUR."
    assert values(PhoneExtractor, text, ExtractionContext(region)) == []


# Together


ALL: list[type[Extractor]] = [
    PhoneExtractor,
    EmailExtractor,
    IbanExtractor,
    BicExtractor,
    CardExtractor,
    ImeiExtractor,
]


def test_containment_drops_phone_inside_iban_and_card() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, tel +49 30 12345678"
    context = ExtractionContext("DE")
    phones = values(PhoneExtractor, text, context)
    assert "+493012345678" in phones
    mentions = extract_identifiers(text, context, ALL)
    assert [(m.kind, m.value) for m in mentions] == [
        ("iban", "DE89370400440532013000"),
        ("card", "4111111111111111"),
        ("phone", "+493012345678"),
    ]


def test_containment_of_imei_inside_card_is_not_needed_for_distinct_numbers() -> None:
    text = "IMEI 35-209900-176148-1 and SWIFT NWBKGB2L"
    mentions = extract_identifiers(text, NO_REGION, ALL)
    assert [(m.kind, m.value) for m in mentions] == [
        ("imei", "352099001761481"),
        ("bic", "NWBKGB2L"),
    ]


def test_long_input_is_linear() -> None:
    text = ("a" * 5000 + "@") * 20 + "1 " * 20000 + "x.y-" * 5000
    for extractor in ALL:
        assert found(extractor, text) == []
