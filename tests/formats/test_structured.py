"""CSV/TSV, HTML, XML, JSON, vCard and iCalendar on fixtures written here, and on the corpus."""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.calendar import CalendarIngestor
from caselens.ingest.formats.contacts import VCardIngestor
from caselens.ingest.formats.contentlines import read_components, unescape
from caselens.ingest.formats.fallback import FallbackIngestor
from caselens.ingest.formats.structured import JsonIngestor, XmlIngestor
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.harness import Extraction, extract, source_for
from caselens.ingest.limits import Limits
from caselens.ingest.registry import Ingestor, candidates
from tests.conftest import CORPUS, needs_corpus

# The order the lead registers them in: specific types before plain text.
REGISTERED: list[type[Ingestor]] = [
    XmlIngestor,
    JsonIngestor,
    VCardIngestor,
    CalendarIngestor,
    TextIngestor,
    FallbackIngestor,
]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def run(
    ingestor: type[Ingestor], tmp_path: Path, name: str, data: bytes, **options: object
) -> Extraction:
    path = tmp_path / name
    path.write_bytes(data)
    return extract(ingestor, path, tmp_path / "work", **options)  # type: ignore[arg-type]


def best(tmp_path: Path, name: str, data: bytes) -> type[Ingestor]:
    path = tmp_path / name
    path.write_bytes(data)
    source, _ = source_for(path, tmp_path / "work")
    return candidates(REGISTERED, source)[0]


# --- registration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "winner"),
    [
        ("a.xml", b"<?xml version='1.0'?><a/>", XmlIngestor),
        ("a.kml", b"<kml/>", XmlIngestor),  # detected as text/plain
        ("a.svg", b"<svg/>", TextIngestor),  # an image: left to whoever reads images
        ("a.json", b'{"a": 1}', JsonIngestor),
        ("a.jsonl", b'{"a": 1}\n{"a": 2}\n', JsonIngestor),  # detected as text/plain
        ("a.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n", VCardIngestor),
        ("a.vcf", "BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n".encode("utf-16"), VCardIngestor),
        ("a.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", CalendarIngestor),
        ("a.vcs", b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n", CalendarIngestor),
        ("a.csv", b"a,b\n1,2\n", TextIngestor),
        ("a.txt", b"just words", TextIngestor),
    ],
)
def test_the_specific_ingestor_wins(tmp_path: Path, name: str, data: bytes, winner: type) -> None:
    assert best(tmp_path, name, data) is winner


def test_unclaimed_xml_and_json_types(tmp_path: Path) -> None:
    path = tmp_path / "feed"
    path.write_bytes(b"<rss><channel><title>News</title></channel></rss>")
    source, _ = source_for(path, tmp_path / "work")
    rss = dataclasses.replace(source, mime_type="application/rss+xml")
    assert candidates(REGISTERED, rss)[0] is XmlIngestor
    assert XmlIngestor.score(rss) == XmlIngestor.base_score  # below anyone naming the type
    geo = dataclasses.replace(source, mime_type="application/geo+json")
    assert candidates(REGISTERED, geo)[0] is JsonIngestor


# --- CSV / TSV -------------------------------------------------------------------------


def test_semicolon_csv_in_windows_1252_becomes_rows(tmp_path: Path) -> None:
    data = (
        "Name;Straße;Betrag\r\n"
        "Jürgen Müller;Königsallee 1;1.234,50 €\r\n"
        '"Hélène ""Léna"" Dubois";"Rue de l\'Église\r\n2e étage";99,00 €\r\n'
        "Zoë Ångström;;\r\n"
        "ragged row with one cell\r\n"
        "\r\n"
        "extra;cells;here;and;more\r\n"
    ).encode("cp1252")
    result = run(TextIngestor, tmp_path, "zahlungen.csv", data)
    assert result.sink.document_schema == "Table"
    assert result.properties == {
        "encoding": ["cp1252"],
        "columns": ['["Name", "Straße", "Betrag"]'],
        "rowCount": ["5"],
    }
    assert result.text == (
        "Name\tStraße\tBetrag\n"
        "Jürgen Müller\tKönigsallee 1\t1.234,50 €\n"
        'Hélène "Léna" Dubois\tRue de l\'Église 2e étage\t99,00 €\n'
        "Zoë Ångström\t\t\n"
        "ragged row with one cell\n"
        "extra\tcells\there\tand\tmore"
    )
    assert result.sink.warnings == ["character set guessed as cp1252"]


def test_tsv_in_koi8_r(tmp_path: Path) -> None:
    rows = [
        ("Фамилия", "Имя", "Город"),
        ("Иванов", "Сергей", "Москва"),
        ("Петрова", "Анна", "Санкт-Петербург"),
        ("Смирнов", "Дмитрий", "Новосибирск"),
    ]
    text = "".join("\t".join(row) + "\n" for row in rows)
    result = run(TextIngestor, tmp_path, "people.tsv", text.encode("koi8_r"))
    assert result.properties["encoding"] == ["koi8_r"]
    assert result.properties["columns"] == ['["Фамилия", "Имя", "Город"]']
    assert result.text == text.rstrip("\n")


def test_broken_quote_keeps_the_rest_as_written(tmp_path: Path) -> None:
    data = b'id,note\n1,fine\n2,"stray "quote here\n3,after\n'
    result = run(TextIngestor, tmp_path, "broken.csv", data)
    assert result.text == 'id\tnote\n1\tfine\n2,"stray "quote here\n3,after\n'
    assert result.sink.warnings == [
        "table is malformed at line 3: ',' expected after '\"'; the rest kept as written"
    ]


def test_unclosed_quote_loses_no_row(tmp_path: Path) -> None:
    data = b'id,note\n1,"never closed\n2,two\n3,three\n'
    result = run(TextIngestor, tmp_path, "open.csv", data)
    assert result.text == 'id\tnote\n1,"never closed\n2,two\n3,three\n'
    assert result.sink.warnings == [
        "table is malformed at line 4: unexpected end of data; the rest kept as written"
    ]


def test_nul_bytes_are_dropped_with_a_warning(tmp_path: Path) -> None:
    result = run(TextIngestor, tmp_path, "nul.csv", b"a,b\n1,\x002\n")
    assert result.text == "a\tb\n1\t2"
    assert result.sink.warnings == ["NUL bytes in the table were removed"]


def test_table_text_is_cut_at_the_limit(tmp_path: Path) -> None:
    data = b"n,square\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(1, 200))
    result = run(TextIngestor, tmp_path, "squares.csv", data, limits=Limits(max_text_chars=50))
    assert result.text == "n\tsquare\n1\t1\n2\t4\n3\t9\n4\t16\n5\t25\n6\t36\n7\t49\n8\t64\n9\t81"
    assert len(result.text) == 50
    assert result.sink.warnings == [
        "only the first 200 bytes were read (limit max_text_chars)",
        "text cut at 50 characters (limit max_text_chars)",
    ]
    assert "rowCount" not in result.properties  # the table was not read to its end


# --- HTML ------------------------------------------------------------------------------


def test_html_metadata_and_inline_image(tmp_path: Path) -> None:
    image = base64.b64encode(JPEG).decode()
    page = (
        '<!DOCTYPE html><html lang="de-CH"><head><meta charset="utf-8">'
        "<title>Überweisungen 2021</title>"
        '<meta name="Author" content="Anna  Keller">'
        '<meta name="description" content="Liste der Zahlungen">'
        '<meta name="keywords" content="Zahlungen, Konto ,Bank">'
        '<meta name="generator" content="Hugo 0.92">'
        "</head><body><p>Konto CH93 0076 2011 6238 5295 7</p>"
        f'<img alt="scan" src="data:image/jpeg;base64,{image[:10]}\n{image[10:]}">'
        "</body></html>"
    )
    result = run(TextIngestor, tmp_path, "page.html", page.encode())
    assert result.sink.document_schema == "HyperText"
    assert result.properties == {
        "encoding": ["utf-8"],
        "title": ["Überweisungen 2021"],
        "author": ["Anna Keller"],
        "summary": ["Liste der Zahlungen"],
        "keywords": ["Zahlungen", "Konto", "Bank"],
        "generator": ["Hugo 0.92"],
        "language": ["de-CH"],
    }
    assert result.text == "Konto CH93 0076 2011 6238 5295 7"
    assert result.child_paths == [b"inline-image-1.jpg"]
    assert result.child_bytes(b"inline-image-1.jpg") == JPEG


# --- XML -------------------------------------------------------------------------------


def test_xml_text_in_document_order(tmp_path: Path) -> None:
    data = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<accounts xml:lang="fr" bank="Cr\xe9dit Mutuel">\n'
        b'  <account iban="FR7630006000011234567890189" holder="Ren\xe9 Dupont">'
        b"Compte <b>courant</b> principal<!-- note --> fin</account>\n"
        b"  <?pi ignored?>\n"
        b"  <empty/>\n"
        b"</accounts>\n"
    )
    result = run(XmlIngestor, tmp_path, "accounts.xml", data)
    assert result.sink.document_schema == "Document"
    assert result.properties == {"language": ["fr"]}
    assert result.text == (
        "fr Crédit Mutuel\nFR7630006000011234567890189 René Dupont Compte\ncourant\nprincipal fin\n"
    )
    assert result.sink.warnings == []


def test_xxe_reads_nothing_from_this_machine(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    uri = secret.as_uri()
    documents = [
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><r>a &x; b</r>',
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]><r>a b</r>',
        f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{uri}"><r>a b</r>',
        f'<r xmlns:xi="http://www.w3.org/2001/XInclude">a b<xi:include href="{uri}" '
        'parse="text"/></r>',
    ]
    texts = [
        run(XmlIngestor, tmp_path, f"xxe{number}.xml", document.encode()).text
        for number, document in enumerate(documents)
    ]
    assert texts == ["a b\n", "a b\n", "a b\n", f"a b\n{uri} text\n"]


def test_billion_laughs_is_not_expanded(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]><r>&l9;</r>'
    started = time.monotonic()
    result = run(XmlIngestor, tmp_path, "lol.xml", data.encode())
    assert time.monotonic() - started < 5
    assert result.text == ""


def test_broken_xml_is_recovered_with_a_warning(tmp_path: Path) -> None:
    data = b"<report><title>Q1 payments</title><item>Transfer to &undeclared; Acme</report>"
    result = run(XmlIngestor, tmp_path, "broken.xml", data)
    assert result.text == "Q1 payments\nTransfer to Acme\n"
    assert result.sink.warnings == [
        "XML is not well-formed; text recovered (line 1: Entity 'undeclared' not defined)"
    ]


def test_not_xml_at_all_is_broken(tmp_path: Path) -> None:
    with pytest.raises(BrokenFile, match="not XML: line 1: Start tag expected"):
        run(XmlIngestor, tmp_path, "notes.xml", b"just some words, no markup")


def test_word_2003_properties_and_embedded_image(tmp_path: Path) -> None:
    image = base64.b64encode(JPEG).decode()
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><?mso-application progid="Word.Document"?>'
        '<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office">'
        "<o:DocumentProperties><o:Title>Memo</o:Title><o:Author>Jane Roe</o:Author>"
        "<o:Created>2016-04-27T17:49:00Z</o:Created><o:LastSaved>2016-04-27T17:57:05Z"
        "</o:LastSaved></o:DocumentProperties>"
        "<w:body><w:p><w:r><w:t>Pay the </w:t></w:r><w:r><w:t>invoice</w:t></w:r></w:p>"
        f'<w:binData w:name="wordml://02000001.jpg">{image}</w:binData></w:body>'
        "</w:wordDocument>"
    )
    result = run(XmlIngestor, tmp_path, "memo.xml", data.encode())
    assert result.properties == {
        "title": ["Memo"],
        "author": ["Jane Roe"],
        "createdAt": ["2016-04-27T17:49:00"],
        "modifiedAt": ["2016-04-27T17:57:05"],
    }
    assert result.text == (
        "Memo\nJane Roe\n2016-04-27T17:49:00Z\n2016-04-27T17:57:05Z\n"
        "Pay the\ninvoice\nwordml://02000001.jpg\n"
    )
    assert result.child_paths == [b"02000001.jpg"]
    assert result.child_bytes(b"02000001.jpg") == JPEG


# --- JSON ------------------------------------------------------------------------------


def test_json_values_with_their_paths(tmp_path: Path) -> None:
    document = {
        "customer": {"name": "Jürgen Müller", "iban": "DE89370400440532013000"},
        "payments": [{"amount": 120.5, "to": "Acme"}, {"amount": 3, "to": None}],
        "first name": True,
        "tags": [],
    }
    result = run(JsonIngestor, tmp_path, "export.json", json.dumps(document).encode())
    assert result.sink.document_schema == "Document"
    assert result.properties == {"encoding": ["utf-8"]}
    assert result.text == (
        "customer.name: Jürgen Müller\n"
        "customer.iban: DE89370400440532013000\n"
        "payments[0].amount: 120.5\n"
        "payments[0].to: Acme\n"
        "payments[1].amount: 3\n"
        "payments[1].to: null\n"
        '["first name"]: true\n'
        "tags: []"
    )
    assert result.sink.warnings == []


def test_json_lines_keep_bad_lines_as_text(tmp_path: Path) -> None:
    data = b'{"from": "a@x.org", "to": ["b@y.org"]}\n\nnot json here\n{"from": "c@z.org"}\n'
    for name in ("mails.jsonl", "mails.json"):  # JSON Lines under a .json name too
        result = run(JsonIngestor, tmp_path, name, data)
        assert result.text == "from: a@x.org\nto[0]: b@y.org\n\nnot json here\nfrom: c@z.org"
        assert result.sink.warnings == ["1 lines are not valid JSON and were kept as text: 3"]


def test_invalid_json_falls_back_to_text(tmp_path: Path) -> None:
    result = run(JsonIngestor, tmp_path, "cut.json", b'{"account": "12345", "owner": "Ann')
    assert result.text == '{"account": "12345", "owner": "Ann'
    assert result.sink.warnings == [
        "not valid JSON (line 1 column 31: Unterminated string starting at); kept as text"
    ]


def test_deep_json_is_refused_not_crashed(tmp_path: Path) -> None:
    very_deep = b"[" * 100_000 + b"]" * 100_000
    result = run(JsonIngestor, tmp_path, "deep.json", very_deep)
    assert result.text == very_deep.decode()
    assert result.sink.warnings[0].startswith("JSON could not be parsed (RecursionError")
    deep = json.dumps({"k": json.loads("[" * 600 + '"hidden"' + "]" * 600), "top": 1})
    result = run(JsonIngestor, tmp_path, "deep2.json", deep.encode())
    assert result.text == "top: 1"
    assert result.sink.warnings == ["JSON nested deeper than 500 levels: deeper values skipped"]


# --- vCard -----------------------------------------------------------------------------

VCARD_21 = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:2.1\r\n"
    b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;Karl;Dr.;\r\n"
    b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dr. J=C3=BCrgen Karl M=C3=BCller\r\n"
    b"ADR;HOME;CHARSET=windows-1252;ENCODING=QUOTED-PRINTABLE:;;K=F6nigsallee =\r\n"
    b"12;D=FCsseldorf;;40212;Deutschland\r\n"
    b"TEL;CELL;VOICE:+49 170 1234567\r\n"
    b"TEL;WORK:0211 / 555-0\r\n"
    b"EMAIL;INTERNET:j.mueller@example.de\r\n"
    b"ORG:M\xc3\xbcller & S\xc3\xb6hne GmbH;Einkauf\r\n"
    b"TITLE:Gesch\xc3\xa4ftsf\xc3\xbchrer\r\n"
    b"BDAY:19700415\r\n"
    b"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=windows-1252:Caf=E9 am Rhein=0D=0A2. Zeile\r\n"
    b"PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n"
    b" " + base64.b64encode(JPEG)[:20] + b"\r\n"
    b" " + base64.b64encode(JPEG)[20:] + b"\r\n"
    b"\r\n"
    b"END:VCARD\r\n"
)


def test_vcard_21_quoted_printable_and_charsets(tmp_path: Path) -> None:
    result = run(VCardIngestor, tmp_path, "contacts.vcf", VCARD_21)
    (person,) = result.entities("Person")
    proof = person.pop("proof")
    assert proof == [result.sink.document_id]
    assert person == {
        "name": ["Dr. Jürgen Karl Müller"],
        "lastName": ["Müller"],
        "firstName": ["Jürgen"],
        "middleName": ["Karl"],
        "title": ["Dr."],
        "address": ["Königsallee 12, Düsseldorf, 40212, Deutschland"],
        "phone": ["+49 170 1234567", "0211 / 555-0"],
        "email": ["j.mueller@example.de"],
        "position": ["Geschäftsführer"],
        "birthDate": ["1970-04-15"],
        "notes": ["Café am Rhein\n2. Zeile"],
    }
    (organization,) = result.entities("Organization")
    assert organization["name"] == ["Müller & Söhne GmbH"]
    (employment,) = result.entities("Employment")
    people = [e for e in result.sink.entities if e.schema.name == "Person"]
    assert employment["employee"] == [people[0].id]
    assert employment["role"] == ["Geschäftsführer"]
    assert result.child_paths == [b"card-1-photo.jpg"]
    assert result.child_bytes(b"card-1-photo.jpg") == JPEG
    assert result.text == (
        "Name: Dr. Jürgen Karl Müller\n"
        "Address (home): Königsallee 12, Düsseldorf, 40212, Deutschland\n"
        "Phone (cell, voice): +49 170 1234567\n"
        "Phone (work): 0211 / 555-0\n"
        "E-mail: j.mueller@example.de\n"
        "Organization: Müller & Söhne GmbH, Einkauf\n"
        "Title: Geschäftsführer\n"
        "Birthday: 19700415\n"
        "Note: Café am Rhein\n2. Zeile\n"
        "Photo (jpeg): embedded, kept as card-1-photo.jpg\n\n"
    )
    assert result.sink.warnings == []


def test_vcard_3_folded_and_4_organisation(tmp_path: Path) -> None:
    data = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        "N:O'Neil;Siobhán;;;\r\n"
        "FN:Siobhán O'Neil of the very long\r\n  name that was folded\r\n"
        "EMAIL;TYPE=INTERNET,WORK:Siobhan.ONeil@Example.IE\r\n"
        "TEL;TYPE=HOME:+353 1 555 0199\r\n"
        "NOTE:Met at the bank\\, Dublin\\nsecond line\r\n"
        "NICKNAME:Shiv,Vonnie\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:org\r\n"
        "FN:Globex Corporation\r\nORG:Globex Corporation\r\n"
        "TEL;VALUE=uri;TYPE=work:tel:+1-555-555-0100\r\n"
        "URL:https://globex.example.com/\r\n"
        "END:VCARD\r\n"
    ).encode()
    result = run(VCardIngestor, tmp_path, "two.vcf", data)
    (person,) = result.entities("Person")
    assert person["name"] == ["Siobhán O'Neil of the very long name that was folded"]
    assert person["email"] == ["Siobhan.ONeil@example.ie"]
    assert person["phone"] == ["+353 1 555 0199"]
    assert person["notes"] == ["Met at the bank, Dublin\nsecond line"]
    assert person["alias"] == ["Shiv", "Vonnie"]
    (organization,) = result.entities("Organization")
    assert organization["name"] == ["Globex Corporation"]
    assert organization["phone"] == ["+1-555-555-0100"]
    assert organization["website"] == ["https://globex.example.com/"]
    assert result.entities("Employment") == []


def test_vcard_in_windows_1252_without_charset(tmp_path: Path) -> None:
    data = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dubois;Hélène;;;\r\nFN:Hélène Dubois\r\n"
        "ADR;TYPE=WORK:;;12 rue de l'Église;Orléans;;45000;France\r\n"
        "NOTE:Reçu à Orléans\\, café payé en espèces\r\nEND:VCARD\r\n"
    ).encode("cp1252")
    result = run(VCardIngestor, tmp_path, "helene.vcf", data)
    (person,) = result.entities("Person")
    assert person["name"] == ["Hélène Dubois"]
    assert person["address"] == ["12 rue de l'Église, Orléans, 45000, France"]
    assert person["notes"] == ["Reçu à Orléans, café payé en espèces"]
    assert result.properties == {"encoding": ["cp1252"]}
    assert result.sink.warnings == ["character set guessed as cp1252"]


def test_utf16_and_truncated_vcards(tmp_path: Path) -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Олег Смирнов\r\nTEL:+7 495 555-01-02\r\n"
    result = run(VCardIngestor, tmp_path, "oleg.vcf", card.encode("utf-16"))
    (person,) = result.entities("Person")
    assert person["name"] == ["Олег Смирнов"] and person["phone"] == ["+7 495 555-01-02"]
    assert result.sink.warnings == ["card 1 has no END:VCARD: the file is truncated or malformed"]
    assert result.text == "Name: Олег Смирнов\nPhone: +7 495 555-01-02\n\n"


def test_vcard_21_with_koi8_r_charset_parameter(tmp_path: Path) -> None:
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        + "N;CHARSET=KOI8-R:Петров;Иван\r\n".encode("koi8_r")
        + "FN;CHARSET=KOI8-R:Иван Петров\r\n".encode("koi8_r")
        + "ADR;WORK;CHARSET=KOI8-R:;;ул. Ленина 5;Москва;;101000;Россия\r\n".encode("koi8_r")
        + b"TEL;HOME:8 (495) 555-12-34\r\nEND:VCARD\r\n"
    )
    result = run(VCardIngestor, tmp_path, "ivan.vcf", data)
    (person,) = result.entities("Person")
    assert person["name"] == ["Иван Петров"]
    assert person["lastName"] == ["Петров"] and person["firstName"] == ["Иван"]
    assert person["address"] == ["ул. Ленина 5, Москва, 101000, Россия"]
    assert person["phone"] == ["8 (495) 555-12-34"]
    assert result.text == (
        "Name: Иван Петров\n"
        "Address (work): ул. Ленина 5, Москва, 101000, Россия\n"
        "Phone (home): 8 (495) 555-12-34\n\n"
    )


def test_a_vcf_without_cards_is_kept_as_text(tmp_path: Path) -> None:
    result = run(VCardIngestor, tmp_path, "empty.vcf", b"nothing here\n")
    assert result.text == "nothing here\n"
    assert result.sink.warnings == ["no BEGIN:VCARD found: kept as text"]


TEXT_VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"))


@given(TEXT_VALUES, st.integers(min_value=1, max_value=30))
def test_escaped_folded_values_round_trip(value: str, width: int) -> None:
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    escaped = escaped.replace("\n", "\\n")
    line = f"NOTE:{escaped}"
    folded = "\r\n ".join(line[i : i + width] for i in range(0, len(line), width))
    card = f"BEGIN:VCARD\r\nVERSION:3.0\r\n{folded}\r\nEND:VCARD\r\n".encode()
    (root,), _, _ = read_components(card)
    assert unescape(root.text("NOTE")) == value


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_any_bytes_read_as_content_lines_without_error(data: bytes) -> None:
    read_components(b"BEGIN:VCARD\r\n" + data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT_VALUES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(TEXT_VALUES, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=50, deadline=None)
@given(JSON_VALUES)
def test_every_json_string_is_in_the_text(
    tmp_path_factory: pytest.TempPathFactory, value: object
) -> None:
    tmp_path = tmp_path_factory.mktemp("json")
    result = run(JsonIngestor, tmp_path, "v.json", json.dumps(value).encode())
    strings: list[str] = []
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            # The text is trimmed of newlines at its very end, so a value's own may go.
            strings.append(current.rstrip("\n"))
        elif isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    assert all(string in result.text for string in strings)
    assert result.sink.warnings == []


# --- iCalendar -------------------------------------------------------------------------

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Outlook 16.0//EN\r\n"
    "X-WR-CALNAME:Finance team\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Custom Central European\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-1@example.com\r\n"
    "SUMMARY:Übergabe des Bargelds\r\n"
    "DTSTART;TZID=Europe/Berlin:20210715T143000\r\n"
    "DTEND;TZID=Europe/Berlin:20210715T153000\r\n"
    "LOCATION:Café Central\\, Wien\r\n"
    "DESCRIPTION:Bring the envelope\\nand the USB stick\r\n"
    "ORGANIZER;CN=Anna Keller:mailto:Anna.Keller@Example.com\r\n"
    "ATTENDEE;CN=Bob Stone;ROLE=REQ-PARTICIPANT:mailto:bob@example.org\r\n"
    "ATTENDEE:mailto:carol@example.net\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=4\r\n"
    "CATEGORIES:Cash,Handover\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-2@example.com\r\nSUMMARY:Winter call\r\n"
    "DTSTART;TZID=Custom Central European:20211215T090000\r\nDURATION:PT1H30M\r\n"
    "ORGANIZER;CN=Anna K.:mailto:anna.keller@example.com\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-3\r\nSUMMARY:Outlook zone\r\n"
    "DTSTART;TZID=W. Europe Standard Time:20210101T100000\r\n"
    "DTEND:20210101T100000Z\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20211224\r\n"
    "DTEND;VALUE=DATE:20211227\r\nEND:VEVENT\r\n"
    "BEGIN:VTODO\r\nSUMMARY:Shred the ledgers\r\nDUE:20211231T230000Z\r\nEND:VTODO\r\n"
    "END:VCALENDAR\r\n"
)


def test_icalendar_events_in_utc_with_people(tmp_path: Path) -> None:
    result = run(CalendarIngestor, tmp_path, "team.ics", ICS.encode())
    assert result.properties == {
        "encoding": ["utf-8"],
        "title": ["Finance team"],
        "generator": ["-//Example Corp//Outlook 16.0//EN"],
    }
    events = result.entities("Event")
    assert len(events) == 4
    for event in events:
        assert event.pop("proof") == [result.sink.document_id]
    anna, bob, carol = (e for e in result.sink.entities if e.schema.name == "LegalEntity")
    # the same id the mail ingestor gives a sender or recipient with that address
    assert anna.id == result.sink.make_entity("LegalEntity", "anna.keller@example.com").id
    assert events[0] == {
        "name": ["Übergabe des Bargelds"],
        "description": ["Bring the envelope\nand the USB stick"],
        "location": ["Café Central, Wien"],
        "recordId": ["meeting-1@example.com"],
        "startDate": ["2021-07-15T12:30:00"],  # CEST is UTC+2
        "endDate": ["2021-07-15T13:30:00"],
        "keywords": ["Cash", "Handover"],
        "notes": ["Repeats: FREQ=WEEKLY;COUNT=4"],
        "organizer": [anna.id],
        "involved": [bob.id, carol.id],
    }
    assert events[1]["startDate"] == ["2021-12-15T08:00:00"]  # the file's own zone, CET
    assert events[1]["endDate"] == ["2021-12-15T09:30:00"]  # DURATION:PT1H30M
    assert events[1]["organizer"] == [anna.id]  # the same address is one entity
    assert events[2]["startDate"] == ["2021-01-01T09:00:00"]  # a Windows zone name
    assert events[2]["endDate"] == ["2021-01-01T10:00:00"]
    assert events[3]["startDate"] == ["2021-12-24"] and events[3]["endDate"] == ["2021-12-27"]
    assert result.entities("LegalEntity") == [
        {"email": ["anna.keller@example.com"], "name": ["Anna Keller", "Anna K."]},
        {"email": ["bob@example.org"], "name": ["Bob Stone"]},
        {"email": ["carol@example.net"], "name": ["carol@example.net"]},
    ]
    assert result.text.startswith(
        "Event\nUID: meeting-1@example.com\nSummary: Übergabe des Bargelds\n"
        "Start: 2021-07-15T12:30:00Z (2021-07-15T14:30:00 Europe/Berlin)\n"
        "End: 2021-07-15T13:30:00Z (2021-07-15T15:30:00 Europe/Berlin)\n"
        "Location: Café Central, Wien\n"
        "Description: Bring the envelope\nand the USB stick\n"
        "Organizer: Anna Keller <Anna.Keller@Example.com>\n"
        "Attendee: Bob Stone <bob@example.org>\n"
        "Attendee: carol@example.net\n"
        "Repeats: FREQ=WEEKLY;COUNT=4\n"
        "Categories: Cash,Handover\n\n"
    )
    assert result.text.endswith("To-do\nSummary: Shred the ledgers\nDue: 2021-12-31T23:00:00Z\n\n")
    assert result.sink.warnings == []


def test_vcalendar_1_with_offset_and_quoted_printable(tmp_path: Path) -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nTZ:-05:00\r\n"
        b"BEGIN:VEVENT\r\nDTSTART:20121201T210000\r\nDTEND:20121201T220000\r\n"
        b"SUMMARY;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Caf=E9 =\r\nconcert\r\n"
        b"ATTENDEE;ROLE=ATTENDEE:John Smith <jsmith@host.example>\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = run(CalendarIngestor, tmp_path, "old.vcs", data)
    (event,) = result.entities("Event")
    assert event["name"] == ["Café concert"]
    assert event["startDate"] == ["2012-12-02T02:00:00"]
    assert event["endDate"] == ["2012-12-02T03:00:00"]
    assert result.entities("LegalEntity") == [
        {"email": ["jsmith@host.example"], "name": ["John Smith"]}
    ]


def test_floating_times_and_truncated_calendar(tmp_path: Path) -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Lunch\r\n"
        b"DTSTART:20200301T120000\r\nDTEND;TZID=Mars/Olympus:20200301T130000\r\n"
        b"ATTACH;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=menu.jpg:"
        + base64.b64encode(JPEG)
        + b"\r\n"
    )
    result = run(CalendarIngestor, tmp_path, "cut.ics", data)
    (event,) = result.entities("Event")
    assert event["startDate"] == ["2020-03-01T12:00:00"]
    assert event["endDate"] == ["2020-03-01T13:00:00"]
    assert result.child_paths == [b"menu.jpg"] and result.child_bytes(b"menu.jpg") == JPEG
    assert result.sink.warnings == [
        "calendar ends inside VEVENT: the file is truncated or malformed",
        "times without a time zone were kept as written, not converted to UTC",
        "unknown time zone 'Mars/Olympus': its times kept as written",
    ]
    assert "Start: 2020-03-01T12:00:00 (no time zone)\n" in result.text


# --- the shared corpus -----------------------------------------------------------------

CORPUS_FILES = [
    ("documents/tika/testCSV.csv", TextIngestor, "Number\tSquare"),
    ("documents/tika/foo.csv", TextIngestor, "456\tqwertyuiop\t98765"),
    ("documents/tika/test-columnar.csv", TextIngestor, "This is row 3 of 10"),
    ("documents/tika/testHTML_metadata.html", TextIngestor, "All meta information"),
    ("documents/tika/testHTML.html", TextIngestor, "Test Indexation Html"),
    ("documents/tika/tika434.html", TextIngestor, ""),
    ("documents/tika/testHTML_embedded_img.html", TextIngestor, "some content"),
    ("documents/tika/testXML.xml", XmlIngestor, "Rida Benjelloun"),
    ("documents/tika/testTEI.xml", XmlIngestor, "Bi-criteria Algorithm"),
    ("documents/tika/testEXCEL2003.xml", XmlIngestor, "String tika_hyperlink"),
    ("documents/tika/testWORD2003.xml", XmlIngestor, "before"),
    ("documents/tika/undeclared_entity.xml", XmlIngestor, "An entity here is invalid!"),
    ("documents/tika/testXXE.xml", XmlIngestor, ""),
    ("documents/tika/testICalendar.ics", CalendarIngestor, "Susi Hyldgaard"),
    ("documents/tika/testVCalendar.vcs", CalendarIngestor, "Battleme"),
    ("ftm/yente/t1/index.json", JsonIngestor, "datasets[0].updated_at: "),
    ("ftm/yente/t1/entities.ftm.json", JsonIngestor, "schema: "),
]


@needs_corpus
@pytest.mark.parametrize(("relative", "ingestor", "expected"), CORPUS_FILES)
def test_corpus_files_yield_text(
    tmp_path: Path, relative: str, ingestor: type[Ingestor], expected: str
) -> None:
    path = CORPUS / relative
    source, _ = source_for(path, tmp_path / "probe")
    assert candidates(REGISTERED, source)[0] is ingestor
    result = extract(ingestor, path, tmp_path / "work")
    assert expected in result.text
    assert "root:" not in result.text  # nothing read from /etc/passwd or alike


@needs_corpus
def test_every_corpus_file_of_these_formats_is_read(tmp_path: Path) -> None:
    """Each tika CSV/HTML/XML/ICS/VCS file: the right ingestor, text, no exception."""
    index = CORPUS / "documents" / "tika-index.csv"
    with index.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["category"] in CATEGORIES]
    assert len(rows) == 23
    empty = []
    for number, row in enumerate(rows):
        path = CORPUS / "documents" / "tika" / row["file"]
        source, _ = source_for(path, tmp_path / f"probe{number}")
        ingestor = candidates(REGISTERED, source)[0]
        assert ingestor.name == CATEGORIES[row["category"]], row["file"]
        if not extract(ingestor, path, tmp_path / f"work{number}").text.strip():
            empty.append(row["file"])
    assert empty == ["testXXE.xml"]  # an empty root element: nothing to read


CATEGORIES = {
    "csv": "text",
    "html": "text",
    "xml": "xml",
    "ics": "calendar",
    "vcs": "calendar",
    "mhtml": "text",  # message/rfc822: the mail ingestor's once registered
}


@needs_corpus
def test_corpus_calendar_fields(tmp_path: Path) -> None:
    tika = CORPUS / "documents" / "tika"
    result = extract(CalendarIngestor, tika / "testICalendar.ics", tmp_path)
    (event,) = result.entities("Event")
    assert event["name"] == ["Susi Hyldgaard - Festival International de Jazz de Montréal"]
    assert event["startDate"] == ["2001-07-01T21:30:00"]
    assert event["endDate"] == ["2001-07-01T22:30:00"]
    assert event["location"] == ["Banque Nationale Stage ()"]
    result = extract(CalendarIngestor, tika / "testVCalendar.vcs", tmp_path / "vcs")
    (event,) = result.entities("Event")
    assert event["name"] == ["Battleme, My Goodness, the Ax"]
    assert event["location"] == ["Mississippi Studios (3939 N Mississippi Ave., Portland, OR)"]
    assert event["startDate"] == ["2012-12-01T21:00:00"]  # floating: kept as written
    assert result.sink.warnings[0] == (
        "calendar ends inside VEVENT: the file is truncated or malformed"
    )
