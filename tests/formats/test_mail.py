"""E-mail ingestors: fixtures written with the email package, plus the corpus in place."""

from __future__ import annotations

import json
import mailbox
import os
import plistlib
import tarfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from caselens.ingest.detect import detect_mime
from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.mail import (
    EmlIngestor,
    EmlxIngestor,
    MboxIngestor,
    MsgIngestor,
    PstIngestor,
)
from caselens.ingest.formats.mail.rtf import decompress_rtf, rtf_body_text
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.harness import Extraction, extract, source_for
from caselens.ingest.registry import Ingestor, candidates
from tests.conftest import CORPUS, needs_corpus

TIKA = CORPUS / "documents" / "tika"
MAIL = CORPUS / "mail"
MAIL_INGESTORS: list[type[Ingestor]] = [
    EmlIngestor,
    EmlxIngestor,
    MboxIngestor,
    MsgIngestor,
    PstIngestor,
    TextIngestor,
]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(ingestor: type[Ingestor], path: Path, tmp_path: Path) -> Extraction:
    return extract(ingestor, path, tmp_path / f"work-{path.name}")


def full_message() -> EmailMessage:
    """multipart/mixed: alternative (plain + HTML), a PDF, an inline image, a message."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Jörg Müller <Joerg.Mueller@Example.COM>"
    message["To"] = "Anna Smith <anna@example.org>, bob@example.net"
    message["Cc"] = '"Doe, Jane" <jane@example.org>'
    message["Subject"] = "Überweisung 2020 – Konto"
    message["Date"] = "Tue, 14 Jan 2020 10:30:00 +0100"
    message["Message-ID"] = "<msg-3@example.com>"
    message["In-Reply-To"] = "<msg-2@example.com>"
    message["References"] = "<msg-1@example.com> <msg-2@example.com>"
    message["Thread-Topic"] = "Überweisung"
    message["Received"] = (
        "from relay.example.com by mx.example.org; Tue, 14 Jan 2020 10:31:00 +0100"
    )
    message.set_content("Hallo Anna,\nbitte überweisen.\n")
    message.add_alternative("<html><body><p>HTML version</p></body></html>", subtype="html")
    message.add_attachment(b"%PDF-1.4 fake", "application", "pdf", filename="konto.pdf")
    inner = EmailMessage()
    inner["From"] = "bank@example.com"
    inner["Subject"] = "Statement"
    inner.set_content("Balance: 10 EUR\n")
    message.add_attachment(inner)
    image = EmailMessage()
    image.set_content(b"\x89PNG\r\n\x1a\nfake", "image", "png", disposition="inline")
    message.attach(image)
    return message


def test_eml_headers_parties_text_and_children(tmp_path: Path) -> None:
    path = write(tmp_path, "full.eml", full_message().as_bytes())
    result = run(EmlIngestor, path, tmp_path)
    props = result.properties
    assert result.sink.document_schema == "Email"
    assert props["subject"] == ["Überweisung 2020 – Konto"]
    assert props["date"] == ["2020-01-14T09:30:00"]
    assert props["messageId"] == ["msg-3@example.com"]
    assert props["inReplyTo"] == ["msg-2@example.com"]
    assert props["threadTopic"] == ["Überweisung"]
    assert props["from"] == ["Jörg Müller <joerg.mueller@example.com>"]
    assert props["to"] == ["Anna Smith <anna@example.org>", "bob@example.net"]
    assert props["cc"] == ["Doe, Jane <jane@example.org>"]
    headers = dict((name, value) for name, value in json.loads(props["headers"][0]))
    assert headers["References"] == "<msg-1@example.com> <msg-2@example.com>"
    assert headers["Received"].startswith("from relay.example.com by mx.example.org;")
    people = {p["email"][0]: p["name"] for p in result.entities("LegalEntity")}
    assert people == {
        "joerg.mueller@example.com": ["Jörg Müller"],
        "anna@example.org": ["Anna Smith"],
        "bob@example.net": ["bob@example.net"],
        "jane@example.org": ["Doe, Jane"],
    }
    emitter_ids = {
        e.id for e in result.sink.entities if e.get("email") == ["joerg.mueller@example.com"]
    }
    assert set(props["emitters"]) == emitter_ids
    assert len(props["recipients"]) == 3
    assert result.text == "Hallo Anna,\nbitte überweisen."
    assert result.child_paths == [b"konto.pdf", b"attachment-2.eml", b"attachment-3.png"]
    assert result.child_bytes(b"konto.pdf") == b"%PDF-1.4 fake"
    assert result.child_bytes(b"attachment-3.png") == b"\x89PNG\r\n\x1a\nfake"
    assert result.sink.children[0].metadata == {
        "content_type": "application/pdf",
        "disposition": "attachment",
    }
    inner = result.child_bytes(b"attachment-2.eml")
    assert b"Subject: Statement" in inner and b"Balance: 10 EUR" in inner
    assert result.sink.warnings == []


def test_html_only_latin1_body(tmp_path: Path) -> None:
    data = (
        b"From: a@example.com\nTo: b@example.com\nSubject: caf\xe9\nDate: 1 Feb 2021 08:00:00 GMT\n"
        b"MIME-Version: 1.0\nContent-Type: text/html; charset=iso-8859-1\n\n"
        b"<html><body><h1>Caf\xe9 cr\xe8me</h1><p>Prix: 3&euro;</p></body></html>\n"
    )
    result = run(EmlIngestor, write(tmp_path, "latin.eml", data), tmp_path)
    assert result.text == "Café crème\n\nPrix: 3€"
    assert result.properties["subject"] == ["café"]  # raw 8-bit header, not UTF-8: detected
    assert result.properties["date"] == ["2021-02-01T08:00:00"]


def test_koi8r_body_and_encoded_subject(tmp_path: Path) -> None:
    subject = (
        "=?koi8-r?B?" + __import__("base64").b64encode("Привет".encode("koi8-r")).decode() + "?="
    )
    data = (
        f"From: =?koi8-r?Q?=F0=C5=D4=D2?= <petr@example.ru>\nTo: x@example.ru\nSubject: {subject}\n"
        "Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n"
    ).encode() + "Привет, мир!\n".encode("koi8-r")
    result = run(EmlIngestor, write(tmp_path, "koi8.eml", data), tmp_path)
    assert result.properties["subject"] == ["Привет"]
    assert result.properties["from"] == ["Петр <petr@example.ru>"]
    assert result.text == "Привет, мир!"


def test_broken_and_unknown_charsets_and_encoded_words(tmp_path: Path) -> None:
    data = (
        b"From: x@example.com\nSubject: =?x-nonsense?Q?caf=C3=A9?= and =?utf-8?B?!!!?=\n"
        b"Date: someday soon\nContent-Type: text/plain; charset=x-broken-charset\n\n"
        + "déjà vu\n".encode()
    )
    result = run(EmlIngestor, write(tmp_path, "broken.eml", data), tmp_path)
    assert result.properties["subject"] == ["café and =?utf-8?B?!!!?="]
    assert "date" not in result.properties
    assert result.text == "déjà vu"
    assert "unreadable date kept only as written: 'someday soon'" in result.sink.warnings
    assert "undecodable encoded word kept as written: =?utf-8?B?!!!?=" in result.sink.warnings
    headers = json.loads(result.properties["headers"][0])
    assert ["Date", "someday soon"] in headers  # the raw value is kept


def test_missing_headers_crlf_and_leading_blank_line(tmp_path: Path) -> None:
    data = (
        b"\r\nSubject: only a subject\r\nX-Mailer: test\r\nMIME-Version: 1.0\r\n\r\n"
        b"line one\r\nline two\r\n"
    )
    result = run(EmlIngestor, write(tmp_path, "bare", data), tmp_path)
    assert result.properties["subject"] == ["only a subject"]
    assert "from" not in result.properties and "emitters" not in result.properties
    assert result.text == "line one\nline two"
    assert result.entities("LegalEntity") == []


def test_eml_not_a_message(tmp_path: Path) -> None:
    with pytest.raises(NotMyFormat):
        run(EmlIngestor, write(tmp_path, "noise.eml", b"\x00\x01 just bytes"), tmp_path)


def test_rfc822_scores_above_text_and_sniffs_binaryish_mail(tmp_path: Path) -> None:
    mail = write(tmp_path, "1", b"From: a@b.c\nTo: d@e.f\nSubject: s\n\nbody \x04\x10 x\n")
    source, _ = source_for(mail, tmp_path / "w")
    assert candidates(MAIL_INGESTORS, source)[0] is EmlIngestor


def build_mbox(tmp_path: Path) -> Path:
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for number in range(1, 4):
        message = EmailMessage()
        message["From"] = f"sender{number}@example.com"
        message["Subject"] = f"message {number}"
        message.set_content(f"From here on, number {number}.\nend\n")
        box.add(message)
    box.flush()
    box.close()
    return path


def test_mbox_splits_into_children_and_unquotes(tmp_path: Path) -> None:
    path = build_mbox(tmp_path)
    assert detect_mime(path.read_bytes()[:65536], ".mbox") == "application/mbox"
    result = run(MboxIngestor, path, tmp_path)
    assert result.sink.document_schema == "Folder"
    assert result.child_paths == [b"message-00001.eml", b"message-00002.eml", b"message-00003.eml"]
    second = result.child_bytes(b"message-00002.eml")
    assert second.startswith(b"From: sender2@example.com\n")
    # mailbox quoted the body line as ">From here"; reading undoes it (mboxrd rule).
    assert b"\n\nFrom here on, number 2.\nend\n" in second
    assert not second.endswith(b"\n\n")  # the separator line belongs to the mbox
    assert result.sink.children[0].metadata["envelope"].startswith("From MAILER-DAEMON ")
    child = run(EmlIngestor, write(tmp_path, "m2.eml", second), tmp_path)
    assert child.properties["subject"] == ["message 2"]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_mbox_crlf_and_bare_cr(tmp_path: Path, newline: bytes) -> None:
    lines = [
        b"From alice@example.com Mon Jan  1 00:00:00 2001",
        b"Subject: one",
        b"",
        b"first",
        b"",
        b"From bob@example.com Tue Jan  2 00:00:00 2001",
        b"Subject: two",
        b"",
        b">From the quoted line",
        b">>From a line quoted twice",
        b"",
    ]
    result = run(MboxIngestor, write(tmp_path, "x.mbox", newline.join(lines)), tmp_path)
    assert (
        result.child_bytes(b"message-00001.eml")
        == newline.join([b"Subject: one", b"", b"first"]) + newline
    )
    assert (
        result.child_bytes(b"message-00002.eml")
        == newline.join(
            [b"Subject: two", b"", b"From the quoted line", b">From a line quoted twice"]
        )
        + newline
    )


def test_mbox_long_lines_stream_in_pieces(tmp_path: Path) -> None:
    body = b"x" * (3 * 1024 * 1024) + b" From not-a-separator Mon Jan 1 2001"
    data = b"From a@b Mon Jan  1 00:00:00 2001\nSubject: big\n\n" + body + b"\n"
    result = run(MboxIngestor, write(tmp_path, "big.mbox", data), tmp_path)
    assert result.child_paths == [b"message-00001.eml"]
    assert result.child_bytes(b"message-00001.eml") == b"Subject: big\n\n" + body + b"\n"


def test_mbox_without_envelope_is_not_mine(tmp_path: Path) -> None:
    with pytest.raises(NotMyFormat):
        run(MboxIngestor, write(tmp_path, "plain.mbox", b"just text\nno envelope\n"), tmp_path)


def emlx_bytes(message: bytes, flags: int, cut: int = 0) -> bytes:
    trailer = plistlib.dumps({"flags": flags, "subject": "x"}, fmt=plistlib.FMT_XML)
    return str(len(message) + cut).encode() + b"\n" + message + trailer


def test_emlx_message_and_flags(tmp_path: Path) -> None:
    message = (
        b"From: Tim <tim@example.com>\nTo: ann@example.com\nSubject: apple\n\nHello from Mail.app\n"
    )
    result = run(EmlxIngestor, write(tmp_path, "1.emlx", emlx_bytes(message, 0b10101)), tmp_path)
    assert result.properties["subject"] == ["apple"]
    assert result.properties["keywords"] == [
        "apple-mail:read",
        "apple-mail:answered",
        "apple-mail:flagged",
    ]
    assert result.text == "Hello from Mail.app"


def test_emlx_truncated_and_hostile_plist(tmp_path: Path) -> None:
    message = b"From: tim@example.com\nSubject: cut\n\nshort"
    data = str(len(message) + 500).encode() + b"\n" + message
    result = run(EmlxIngestor, write(tmp_path, "2.emlx", data), tmp_path)
    assert result.properties["subject"] == ["cut"]
    assert (
        f"message cut short: {len(message)} of {len(message) + 500} bytes" in result.sink.warnings
    )
    xxe = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><plist><dict><key>flags</key><string>&x;</string></dict></plist>'
    data = str(len(message)).encode() + b"\n" + message + xxe
    result = run(EmlxIngestor, write(tmp_path, "3.emlx", data), tmp_path)
    assert "keywords" not in result.properties
    assert any(w.startswith("Apple Mail property list unreadable") for w in result.sink.warnings)


def test_rtf_decompression_spec_example() -> None:
    # MS-OXRTFCP 3.1.1: the compressed form of a small RTF document.
    data = bytes.fromhex(
        "2d0000002b0000004c5a4675f1c5c7a703000a00726370673132354232"
        "0af32068656c090020627705b06c647d0a800fa0"
    )
    rtf = decompress_rtf(data)
    assert rtf == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    assert rtf_body_text(rtf) == "hello world"
    encapsulated = (
        b"{\\rtf1\\ansi\\fromhtml1{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Caf\\'e9 "
        b"\\u8364?}{\\*\\htmltag72 </p>}}"
    )
    assert rtf_body_text(encapsulated) == "Café €"


@needs_corpus
def test_msg_plain_body_and_recipients(tmp_path: Path) -> None:
    result = run(MsgIngestor, TIKA / "testMSG.msg", tmp_path)
    props = result.properties
    assert result.sink.document_schema == "Email"
    assert props["subject"] == ["MIME registry use cases"]
    assert props["from"] == ["Jukka Zitting <jukka.zitting@gmail.com>"]
    assert props["to"] == ["tika-dev@lucene.apache.org"]
    assert props["date"] == ["2009-01-29T19:16:40"]
    assert props["messageId"] == ["510143ac0901291116s5f368dfby9d6423ce61acc36a@mail.gmail.com"]
    assert result.text.startswith(
        "Hi,\n\nAs discussed, I've been working on making the type detection code more\n"
    )
    assert json.loads(props["headers"][0])[0][0] == "Received"


@needs_corpus
def test_msg_attachments_and_embedded_message(tmp_path: Path) -> None:
    result = run(MsgIngestor, TIKA / "testMSG_att_msg.msg", tmp_path)
    assert result.properties["subject"] == ["test email"]
    assert result.text == "Test email with 1 msg attachment, 1 pdf"
    assert result.child_paths == [b"Test Attachment.eml", b"smbprn.00009008.KdcPjl.pdf"]
    assert result.sink.children[0].metadata == {
        "content_type": "message/rfc822",
        "reconstructed": True,
    }
    assert result.child_bytes(b"smbprn.00009008.KdcPjl.pdf").startswith(b"%PDF-")
    embedded = write(tmp_path, "embedded.eml", result.child_bytes(b"Test Attachment.eml"))
    inner = run(EmlIngestor, embedded, tmp_path)
    assert inner.properties["subject"] == ["Test Attachment"]
    assert inner.properties["from"] == ["Nick Booth <nick.booth@pof.com.au>"]
    assert inner.text == "Blah blah blah"


@needs_corpus
def test_msg_unicode_and_rtf_fallback(tmp_path: Path) -> None:
    result = run(MsgIngestor, TIKA / "testMSG_chinese.msg", tmp_path)
    assert result.properties["subject"] == ["Alfresco MSG format testing ( MSG 格式測試 )"]
    assert result.text.startswith("Alfresco MSG format testing ( MSG 格式測試 ) 中文測試\n")


@needs_corpus
def test_msg_generic_ole_detection_and_broken(tmp_path: Path) -> None:
    source, _ = source_for(TIKA / "test-outlook2003.msg", tmp_path / "w")
    assert source.mime_type == "application/x-ole-storage"
    assert candidates(MAIL_INGESTORS, source)[0] is MsgIngestor
    result = run(MsgIngestor, TIKA / "test-outlook2003.msg", tmp_path)
    assert result.properties["from"] == ["Microsoft Outlook 2003 Team <olteam@microsoft.com>"]
    assert result.child_paths[:3] == [b"1.jpg", b"2.jpg", b"3.jpg"]
    truncated = write(tmp_path, "cut.msg", (TIKA / "testMSG.msg").read_bytes()[:1500])
    with pytest.raises(BrokenFile):
        run(MsgIngestor, truncated, tmp_path)
    with pytest.raises(NotMyFormat):
        run(MsgIngestor, TIKA / "testComment.doc", tmp_path)


@needs_corpus
def test_pst_messages_rebuilt_and_attachments(tmp_path: Path) -> None:
    result = run(PstIngestor, TIKA / "testPST_variousBodyTypes.pst", tmp_path)
    assert result.sink.document_schema == "Package"
    folder = b"Top of Outlook data file/Inbox/tmp/"
    assert result.child_paths == [folder + f"message-0000{n}.eml".encode() for n in range(1, 5)]
    assert all(child.metadata["reconstructed"] for child in result.sink.children)
    first = write(tmp_path, "first.eml", result.child_bytes(folder + b"message-00001.eml"))
    message = run(EmlIngestor, first, tmp_path)
    assert message.properties["subject"] == ["original email"]
    assert message.properties["from"][0].startswith("Allison, Timothy B.")
    assert message.text.strip() != ""
    truncated = write(tmp_path, "cut.pst", (TIKA / "testPST.pst").read_bytes()[:2048])
    with pytest.raises(BrokenFile):
        run(PstIngestor, truncated, tmp_path)


@needs_corpus
def test_enron_maildir_files_are_detected_as_mail(tmp_path: Path) -> None:
    checked = 0
    with tarfile.open(MAIL / "enron-maildir-a.tar.gz") as archive:
        for member in archive:
            if not member.isfile() or "/inbox/" not in member.name:
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            path = write(tmp_path, f"m{checked}", handle.read())
            source, _ = source_for(path, tmp_path / f"w{checked}")
            assert candidates(MAIL_INGESTORS, source)[0] is EmlIngestor, member.name
            if checked < 20:
                result = run(EmlIngestor, path, tmp_path)
                assert result.properties.get("from") and result.text
            checked += 1
            if checked == 300:
                break
    assert checked == 300


def corpus_mail_files(tmp_path: Path) -> list[Path]:
    files = [TIKA / name for name in sorted(os.listdir(TIKA)) if _is_mail_name(name)]
    files += sorted((MAIL / "mailparser-malformed").iterdir())
    tmp_path.mkdir()
    with tarfile.open(MAIL / "sisimai.tar.gz") as archive:
        for number, member in enumerate(archive):
            # mailbox/size-0, -1, -2 are 0 to 3 bytes long: nothing to read by design.
            if member.isfile() and "/mail" in member.name and "/size-" not in member.name:
                handle = archive.extractfile(member)
                assert handle is not None
                files.append(
                    write(tmp_path, f"sisimai-{number}-{Path(member.name).name}", handle.read())
                )
    return files


def _is_mail_name(name: str) -> bool:
    return name.endswith((".eml", ".emlx", ".msg", ".mbox", ".pst")) or name.startswith(
        "testRFC822"
    )


@needs_corpus
def test_corpus_mail_parses_and_yields_text(tmp_path: Path) -> None:
    outcomes: dict[str, list[str]] = {}
    for path in corpus_mail_files(tmp_path / "files"):
        source, _ = source_for(path, tmp_path / "probe")
        for ingestor in candidates(MAIL_INGESTORS, source):
            try:
                result = run(ingestor, path, tmp_path)
            except NotMyFormat:
                continue
            except BrokenFile as err:
                outcomes.setdefault(f"{ingestor.name}: broken", []).append(f"{path.name}: {err}")
                break
            has_text = bool(result.text.strip()) or bool(result.child_paths)
            outcomes.setdefault(f"{ingestor.name}: {'text' if has_text else 'no text'}", []).append(
                path.name
            )
            break
        else:
            outcomes.setdefault("unclaimed", []).append(path.name)
    print(json.dumps({key: len(value) for key, value in sorted(outcomes.items())}, indent=1))
    assert "unclaimed" not in outcomes
    assert not any(key.endswith("broken") for key in outcomes), outcomes
    without_text = [
        name for key, names in outcomes.items() if key.endswith("no text") for name in names
    ]
    assert without_text == [], without_text
    assert len(outcomes["eml: text"]) > 800


def nested_multipart(levels: int) -> bytes:
    parts = [b"From: a@b.c\nTo: d@e.f\nSubject: deep\n"]
    for level in range(levels):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level))
    parts.append(b"Content-Type: text/plain\n\nhello\n")
    parts.extend(b"--b%d--\n" % level for level in reversed(range(levels)))
    return b"".join(parts)


def test_deeply_nested_mime_is_bounded(tmp_path: Path) -> None:
    result = run(EmlIngestor, write(tmp_path, "deep.eml", nested_multipart(150)), tmp_path)
    assert result.properties["subject"] == ["deep"]
    assert result.text == ""
    assert "more than 10000 MIME parts or 100 levels: the rest were not read" in (
        result.sink.warnings
    )
    with pytest.raises(BrokenFile, match="MIME parts nested too deeply to parse"):
        run(EmlIngestor, write(tmp_path, "deeper.eml", nested_multipart(3000)), tmp_path)
