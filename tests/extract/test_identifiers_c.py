"""Fixes found by the corpus gold set (benchmarks/gold/identifiers_corpus.jsonl): one test each.

The texts are written here after the shapes met in the corpus; no corpus text is copied.
"""

from __future__ import annotations

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers import extract_identifiers
from caselens.extract.identifiers.email import EmailExtractor
from caselens.extract.identifiers.network import DomainExtractor, IpExtractor, UrlExtractor
from caselens.extract.identifiers.phone import PhoneExtractor

US = ExtractionContext("US")
DE = ExtractionContext("DE")


def found(extractor: type[Extractor], text: str, context: ExtractionContext = US) -> list[Mention]:
    mentions = list(extractor().find(text, context))
    for m in mentions:
        assert text[m.start : m.end] == m.raw
        assert m.version == extractor.version
    return mentions


def pairs(
    extractor: type[Extractor], text: str, context: ExtractionContext = US
) -> list[tuple[str, str]]:
    return [(m.raw, m.value) for m in found(extractor, text, context)]


# Phone


def test_one_number_per_line_is_not_read_as_one_long_number() -> None:
    text = "Room numbers:\n3259 is 713 345 1585\n3371 is 713 345  1586\n"
    assert pairs(PhoneExtractor, text) == [
        ("713 345 1585", "+17133451585"),
        ("713 345  1586", "+17133451586"),
    ]


def test_signature_lines_each_hold_a_number() -> None:
    text = "Jane Roe\n713 853-0429\n713 858-2618 cell\n"
    assert pairs(PhoneExtractor, text) == [
        ("713 853-0429", "+17138530429"),
        ("713 858-2618", "+17138582618"),
    ]


def test_a_number_broken_after_its_area_code_is_still_found() -> None:
    text = "notify us by fax at  (713)\n552-9403, and confirm"
    assert pairs(PhoneExtractor, text) == [("(713)\n552-9403", "+17135529403")]


def test_area_code_with_only_its_closing_bracket() -> None:
    text = "Scenic Co.\n713) 533-9149\n713) 629-0485 - fax\n"
    assert pairs(PhoneExtractor, text) == [
        ("713) 533-9149", "+17135339149"),
        ("713) 629-0485", "+17136290485"),
    ]


def test_international_number_without_plus_after_a_keyword() -> None:
    text = "tel: 44 207 783 5424\nfax: 44 207 783 8287\nroom 44 207 783 5424"
    assert pairs(PhoneExtractor, text) == [
        ("44 207 783 5424", "+442077835424"),
        ("44 207 783 8287", "+442077838287"),
    ]


def test_plusless_number_needs_its_country_code_first() -> None:
    # 99 is no country calling code; 1 is, but "1 207 783" is too short for NANP.
    assert found(PhoneExtractor, "phone: 99 207 783 5424, fax 1 207 783") == []


def test_tail_of_a_time_is_not_a_phone() -> None:
    text = "Received: (qmail invoked by alias); 21 Nov 2012 20:11:35 -0000\nat 20:11:36.0285"
    assert found(PhoneExtractor, text, DE) == []


# E-mail


def test_quotes_around_an_address_are_not_part_of_it() -> None:
    text = "To:\t'Ken.Lay@example.com'; 'jeff.stewart@example.org'"
    assert pairs(EmailExtractor, text) == [
        ("Ken.Lay@example.com", "ken.lay@example.com"),
        ("jeff.stewart@example.org", "jeff.stewart@example.org"),
    ]


def test_message_identifiers_are_not_addresses() -> None:
    text = (
        "From: Joe <joe@football.example.com>\n"
        "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
        "References: <a1@mail.example.org>\n <b2@mail.example.org>\n"
        "> In-Reply-To: <c3@example.net>\n"
        "UID:20141020T130403Z@jazzfest.example.com\n"
        "Reply-To: desk@example.net\n"
    )
    assert pairs(EmailExtractor, text) == [
        ("joe@football.example.com", "joe@football.example.com"),
        ("desk@example.net", "desk@example.net"),
    ]


# Network


def test_exchange_server_id_is_not_an_address() -> None:
    text = (
        "from mx9.example.net (192.0.2.229) by mx8\n (192.0.2.228) with SMTP Server id 8.2.222.2;"
    )
    assert pairs(IpExtractor, text) == [
        ("192.0.2.229", "192.0.2.229"),
        ("192.0.2.228", "192.0.2.228"),
    ]


def test_quoted_printable_soft_break_ends_a_url() -> None:
    text = "subject to http://docs.example.com/info/terms/=\r\n=20\nor http://example.com/?a="
    assert pairs(UrlExtractor, text) == [
        ("http://docs.example.com/info/terms/", "http://docs.example.com/info/terms/"),
        ("http://example.com/?a=", "http://example.com/?a="),
    ]


def test_smtp_reply_code_before_a_host_is_dropped() -> None:
    text = (
        "refused to talk to me:\n    554-mail.com (mx2) not available\n"
        "Diagnostic-Code: smtp; 554-mail.com (mx2)\nbuy at 123-reg.co.uk"
    )
    assert pairs(DomainExtractor, text) == [
        ("mail.com", "mail.com"),
        ("mail.com", "mail.com"),
        ("123-reg.co.uk", "123-reg.co.uk"),
    ]


def test_bounce_line_with_all_kinds_together() -> None:
    text = "<neko@mail.example.jp>: host mx01.mail.example.com[192.0.2.22] said: 550 5.1.1"
    assert [(m.kind, m.value) for m in extract_identifiers(text, US)] == [
        ("email", "neko@mail.example.jp"),
        ("domain", "mx01.mail.example.com"),
        ("ipv4", "192.0.2.22"),
    ]


def test_international_numbers_in_a_text_are_hints_for_its_national_ones() -> None:
    text = "Munich office +49 89 2180 0, or ask the desk on 089 2180 1234."
    found = list(PhoneExtractor().find(text, ExtractionContext("GB")))
    assert [(m.raw, m.value) for m in found] == [
        ("+49 89 2180 0", "+498921800"),
        ("089 2180 1234", "+498921801234"),
    ]
    # Without a German number written internationally, the national one is not read
    # (as a GB number it is not valid).
    alone = list(PhoneExtractor().find("ask the desk on 089 2180 1234.", ExtractionContext("GB")))
    assert alone == []
