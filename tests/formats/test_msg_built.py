"""The Outlook MSG ingestor on .msg files built here with the test OLE writer (MS-OXMSG)."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.mail import MsgIngestor
from caselens.ingest.harness import Extraction, extract, source_for
from tests.olewriter import Tree, write_ole

PT_LONG, PT_STRING8, PT_UNICODE, PT_SYSTIME, PT_BINARY = 0x3, 0x1E, 0x1F, 0x40, 0x102
PROPERTIES = "__properties_version1.0"
TOP_HEADER, EMBEDDED_HEADER, ROW_HEADER = 32, 24, 8


def stream(pid: int, kind: int) -> str:
    return f"__substg1.0_{pid:04X}{kind:04X}"


def text(pid: int, value: str) -> tuple[str, bytes]:
    return stream(pid, PT_UNICODE), value.encode("utf-16-le")


def filetime(moment: datetime) -> bytes:
    return struct.pack("<Q", round(moment.timestamp() * 10**7) + 116444736000000000)


def fixed(header: bytes, *entries: tuple[int, int, bytes]) -> bytes:
    """A properties stream: the header, then 16-byte entries (tag, flags, 8-byte value)."""
    rows = [
        struct.pack("<II", pid << 16 | kind, 0x6) + value.ljust(8, b"\0")
        for pid, kind, value in entries
    ]
    return header + b"".join(rows)


def top_header(recipients: int, attachments: int) -> bytes:
    return struct.pack("<8xIIII8x", recipients, attachments, recipients, attachments)


def recipient(name: str, address: str, kind: int) -> Tree:
    return {
        **dict([text(0x3001, name), text(0x39FE, address), text(0x3003, address)]),
        stream(0x3002, PT_UNICODE): "SMTP".encode("utf-16-le"),
        PROPERTIES: fixed(b"\0" * ROW_HEADER, (0x0C15, PT_LONG, struct.pack("<i", kind))),
    }


def mela(rtf: bytes) -> bytes:
    """Compressed RTF in its uncompressed form (MS-OXRTFCP 2.1.3.1: "MELA", CRC 0)."""
    return struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf


def lzfu_literals(rtf: bytes) -> bytes:
    """Compressed RTF ("LZFu") made of literal runs only, ended by the end-marker reference."""
    body = bytearray()
    for start in range(0, len(rtf), 8):
        run = rtf[start : start + 8]
        body += b"\0" + run
    position = (207 + len(rtf)) % 4096  # the dictionary write position after the text
    marker = struct.pack(">H", position << 4)
    if len(rtf) % 8:  # room in the last run: flag its next token as a reference
        body[-(len(rtf) % 8) - 1] = 1 << (len(rtf) % 8)
        body += marker
    else:
        body += b"\x01" + marker
    crc = zlib.crc32(bytes(body), 0xFFFFFFFF) ^ 0xFFFFFFFF  # MS-OXRTFCP CRC: init 0, no xor
    return struct.pack("<IIII", len(body) + 12, len(rtf), 0x75465A4C, crc) + bytes(body)


SENT = datetime(2024, 3, 5, 14, 30, 0, tzinfo=UTC)
HEADERS = (
    "Microsoft Mail Internet Headers Version 2.0\r\n"
    "Received: from mx.example.com by mail.example.com; Tue, 5 Mar 2024 16:30:05 +0200\r\n"
    "Date: Tue, 5 Mar 2024 16:30:00 +0200\r\n"
    "From: Alice Example <alice@example.com>\r\n"
    "To: Bob Builder <bob@example.com>\r\n"
    "Cc: Carol Singer <carol@example.com>\r\n"
    "Subject: Quarterly figures\r\n"
    "Message-ID: <q1@example.com>\r\n"
    "X-Mailer: Microsoft Outlook 16.0\r\n"
)
CSV = b"quarter,total\r\n1,100\r\n2,250\r\n"


def embedded_message() -> Tree:
    return {
        **dict(
            [
                text(0x0037, "Earlier note"),
                text(0x0C1A, "Bob Builder"),
                text(0x5D01, "bob@example.com"),
                text(0x1000, "Please send the figures."),
                text(0x1035, "<q0@example.com>"),
            ]
        ),
        PROPERTIES: fixed(
            b"\0" * EMBEDDED_HEADER,
            (0x0039, PT_SYSTIME, filetime(datetime(2024, 3, 4, 9, 0, 0, tzinfo=UTC))),
        ),
    }


def unicode_msg() -> bytes:
    return write_ole(
        {
            **dict(
                [
                    text(0x001A, "IPM.Note"),
                    text(0x0037, "Quarterly figures"),
                    text(0x0C1A, "Alice Example"),
                    text(0x5D01, "alice@example.com"),
                    text(0x0C1F, "/O=EXAMPLE/OU=FIRST/CN=RECIPIENTS/CN=ALICE"),
                    text(0x0E04, "Bob Builder"),
                    text(0x0E03, "Carol Singer"),
                    text(0x1000, "Hello Bob,\r\n\r\nThe figures are attached.\r\n"),
                    text(0x1035, "<q1@example.com>"),
                    text(0x1042, "<q0@example.com>"),
                    text(0x007D, HEADERS),
                ]
            ),
            stream(0x1013, PT_BINARY): b"<html><body><p>Hello Bob (HTML)</p></body></html>",
            PROPERTIES: fixed(top_header(2, 2), (0x0039, PT_SYSTIME, filetime(SENT))),
            "__recip_version1.0_#00000000": recipient("Bob Builder", "bob@example.com", 1),
            "__recip_version1.0_#00000001": recipient("Carol Singer", "Carol@Example.com", 2),
            "__attach_version1.0_#00000000": {
                **dict([text(0x3707, "figures.csv"), text(0x370E, "text/csv")]),
                stream(0x3701, PT_BINARY): CSV,
                PROPERTIES: fixed(b"\0" * ROW_HEADER, (0x3705, PT_LONG, struct.pack("<i", 1))),
            },
            "__attach_version1.0_#00000001": {
                **dict([text(0x3001, "Earlier note")]),
                stream(0x3701, 0x000D): embedded_message(),
                PROPERTIES: fixed(b"\0" * ROW_HEADER, (0x3705, PT_LONG, struct.pack("<i", 5))),
            },
        }
    )


def run(tmp_path: Path, name: str, data: bytes) -> Extraction:
    path = tmp_path / name
    path.write_bytes(data)
    return extract(MsgIngestor, path, tmp_path / "work")


def test_unicode_message_fields_recipients_and_attachments(tmp_path: Path) -> None:
    result = run(tmp_path, "figures.msg", unicode_msg())
    props = result.properties
    assert result.sink.document_schema == "Email"
    assert props["subject"] == ["Quarterly figures"]
    assert props["date"] == ["2024-03-05T14:30:00"]  # the Date header, in UTC
    assert props["messageId"] == ["q1@example.com"]
    assert props["inReplyTo"] == ["q0@example.com"]
    assert props["from"] == ["Alice Example <alice@example.com>"]
    assert props["to"] == ["Bob Builder <bob@example.com>"]
    assert props["cc"] == ["Carol Singer <carol@example.com>"]
    headers = json.loads(props["headers"][0])
    assert ["X-Mailer", "Microsoft Outlook 16.0"] in headers
    assert result.text == "Hello Bob,\n\nThe figures are attached."
    assert result.entities("LegalEntity") == [
        {"email": ["alice@example.com"], "name": ["Alice Example"]},
        {"email": ["bob@example.com"], "name": ["Bob Builder"]},
        {"email": ["carol@example.com"], "name": ["Carol Singer"]},
    ]
    assert result.child_paths == [b"figures.csv", b"Earlier note.eml"]
    assert result.child_bytes(b"figures.csv") == CSV
    assert result.sink.children[0].metadata == {"content_type": "text/csv"}
    assert result.sink.children[1].metadata == {
        "content_type": "message/rfc822",
        "reconstructed": True,
    }
    inner = message_from_bytes(result.child_bytes(b"Earlier note.eml"), policy=policy.default)
    assert inner["Subject"] == "Earlier note"
    assert inner["From"] == "Bob Builder <bob@example.com>"
    assert inner["Date"] == "Mon, 04 Mar 2024 09:00:00 +0000"
    assert inner["Message-ID"] == "<q0@example.com>"
    assert inner.get_content().strip() == "Please send the figures."
    assert result.sink.warnings == []


def test_8bit_strings_in_the_message_code_page(tmp_path: Path) -> None:
    def cp1251(pid: int, value: str) -> tuple[str, bytes]:
        return stream(pid, PT_STRING8), value.encode("cp1251")

    data = write_ole(
        {
            **dict(
                [
                    cp1251(0x0037, "Отчёт за квартал"),
                    cp1251(0x0C1A, "Анна Иванова"),
                    cp1251(0x5D01, "anna@example.ru"),
                    cp1251(0x0E04, "Борис Петров; Вера Сидорова"),
                    cp1251(0x1000, "Привет, Борис!\r\nСм. вложение.\r\n"),
                ]
            ),
            PROPERTIES: fixed(
                top_header(0, 0),
                (0x3FFD, PT_LONG, struct.pack("<i", 1251)),
                (0x0039, PT_SYSTIME, filetime(SENT)),
            ),
        }
    )
    result = run(tmp_path, "otchet.msg", data)
    props = result.properties
    assert props["subject"] == ["Отчёт за квартал"]
    assert props["date"] == ["2024-03-05T14:30:00"]  # PR_CLIENT_SUBMIT_TIME, UTC
    assert props["from"] == ["Анна Иванова <anna@example.ru>"]
    # No recipient table: the display list gives names only, so no entities for them.
    assert props["to"] == ["Борис Петров", "Вера Сидорова"]
    assert "messageId" not in props
    assert result.text == "Привет, Борис!\nСм. вложение."
    assert result.entities("LegalEntity") == [
        {"email": ["anna@example.ru"], "name": ["Анна Иванова"]}
    ]
    assert result.child_paths == []


@pytest.mark.parametrize("compress", [mela, lzfu_literals], ids=["MELA", "LZFu"])
def test_compressed_rtf_is_the_only_body(tmp_path: Path, compress: object) -> None:
    rtf = b"{\\rtf1\\ansi\\ansicpg1252\\deff0 {\\fonttbl {\\f0 Arial;}}\\pard Meeting moved "
    rtf += b"to Friday.\\par Caf\\'e9 at 10.\\par}"
    assert callable(compress)
    data = write_ole(
        {
            **dict([text(0x0037, "Meeting"), text(0x0C1A, "Alice Example")]),
            stream(0x1009, PT_BINARY): compress(rtf),
            PROPERTIES: fixed(top_header(0, 0)),
        }
    )
    result = run(tmp_path, "meeting.msg", data)
    assert result.properties["subject"] == ["Meeting"]
    assert result.properties["from"] == ["Alice Example"]
    assert result.text == "Meeting moved to Friday.\nCafé at 10."
    assert result.entities("LegalEntity") == []
    assert result.sink.warnings == []


def test_truncated_message_is_broken(tmp_path: Path) -> None:
    data = unicode_msg()
    with pytest.raises(BrokenFile):
        run(tmp_path, "cut.msg", data[: len(data) // 2])


def test_ole_file_without_mapi_streams_is_not_a_message(tmp_path: Path) -> None:
    path = tmp_path / "other.msg"
    path.write_bytes(write_ole({"WordDocument": b"\0" * 600, "\x05SummaryInformation": b"x"}))
    # The .msg extension makes it a candidate; the missing MAPI streams then refuse it.
    source, _ = source_for(path, tmp_path / "w")
    assert MsgIngestor.score(source) == MsgIngestor.base_score + 1
    with pytest.raises(NotMyFormat):
        extract(MsgIngestor, path, tmp_path / "work")
    # Without the extension nothing in the head says MAPI: not a candidate at all.
    renamed = tmp_path / "other.ole"
    renamed.write_bytes(path.read_bytes())
    source, _ = source_for(renamed, tmp_path / "w2")
    assert MsgIngestor.score(source) == 0
