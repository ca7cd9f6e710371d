"""Builds a small evidence tree with the awkward cases a real seizure has."""

from __future__ import annotations

import os
import socket
from pathlib import Path

LATIN1_TEXT = "Hélène Dubois a viré 6 000 EUR à Kieran Doyle, reçu à Lyon.\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
ODD_NAME = b"caf\xe9 \xff notes.txt"  # Latin-1 and an invalid byte: not UTF-8


def build_tree(root: Path) -> dict[str, Path]:
    """Regular files of several types, odd names, links and special files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sub").mkdir()
    files = {
        "text": root / "note.txt",
        "html": root / "page.html",
        "csv": root / "sub" / "payments.csv",
        "latin1": root / "memo.txt",
        "png": root / "sub" / "pixel.png",
        "empty": root / "empty.dat",
        "copy": root / "sub" / "note-copy.txt",
    }
    files["text"].write_text("Call +44 7700 900123 about the transfer.\n")
    files["html"].write_text(
        "<html><head><title>BlueHarbor</title><style>p{}</style></head>"
        "<body><h1>Profits</h1><p>Your balance: &pound;19,086</p><script>x()</script></body></html>"
    )
    files["csv"].write_text("date,amount,iban\n2026-01-02,100.00,GB06NGMB40127631926485\n")
    files["latin1"].write_bytes(LATIN1_TEXT.encode("latin-1"))
    files["png"].write_bytes(PNG_BYTES)
    files["empty"].write_bytes(b"")
    files["copy"].write_text("Call +44 7700 900123 about the transfer.\n")
    odd = os.path.join(os.fsencode(root), ODD_NAME)
    with open(odd, "wb") as handle:
        handle.write(b"odd name content\n")
    os.symlink("no-such-target", root / "broken-link")
    os.symlink("note.txt", root / "good-link")
    os.mkfifo(root / "a-fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "a-socket"))
    server.close()
    return files
