"""Type detection and text decoding."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselens.ingest.detect import detect_mime
from caselens.text.decode import decode_text
from caselens.text.html import html_to_text


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


@given(st.text())
def test_utf8_text_round_trips(text: str) -> None:
    decoded = decode_text(text.encode("utf-8"))
    assert decoded.text == text and decoded.encoding == "utf-8" and decoded.certain


def test_boms_and_declared_charsets() -> None:
    assert decode_text("Grüße".encode("utf-16")).text == "Grüße"
    assert decode_text(b"\xef\xbb\xbfhello").text == "hello"
    assert decode_text("Grüße".encode("latin-1"), declared="iso-8859-1").text == "Grüße"
    guessed = decode_text("Hélène Dubois à Lyon, reçu".encode("latin-1"))
    assert guessed.text == "Hélène Dubois à Lyon, reçu" and not guessed.certain


@pytest.mark.parametrize(
    ("head", "name", "mime"),
    [
        (b"%PDF-1.7\n", "x.bin", "application/pdf"),
        (b"<!DOCTYPE html><html>", "x", "text/html"),
        (b"<?xml version='1.0'?><a/>", "x", "text/xml"),
        (b"a,b\n1,2\n", "x.csv", "text/csv"),
        (
            b"Return-Path: <a@b>\nReceived: x\nFrom: a@b\nSubject: hi\n\nbody",
            "1.",
            "message/rfc822",
        ),
        (
            b"From a@b Sat Jan  3 01:05:34 1996\nFrom: a@b\nSubject: x\n\n",
            "box",
            "application/mbox",
        ),
        (b"just words\n", "notes", "text/plain"),
        (_zip_bytes(), "x.zip", "application/zip"),
        (b"", "empty", "application/x-empty"),
    ],
)
def test_detect_mime(head: bytes, name: str, mime: str) -> None:
    extension = "." + name.rsplit(".", 1)[1] if "." in name else ""
    assert detect_mime(head, extension) == mime


def test_html_to_text_drops_scripts_and_keeps_title() -> None:
    text, title = html_to_text(
        "<html><head><title> The  Title </title><script>var x;</script></head>"
        "<body><p>One &amp; two</p><table><tr><td>a</td><td>b</td></tr></table></body></html>"
    )
    assert title == "The Title"
    assert text == "One & two\n\na\tb"


def test_nul_characters_never_reach_the_stored_text() -> None:
    from caselens.ingest.limits import Limits
    from caselens.ingest.sink import Sink

    sink = Sink("case", "item", Limits(), lambda stream: pytest.fail("no children"))
    sink.add_text("a\x00b")
    assert sink.pages == {1: "a\ufffdb"}  # PostgreSQL's text type cannot hold NUL
