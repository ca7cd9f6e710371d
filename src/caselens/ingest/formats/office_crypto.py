"""Password-protected Office files, opened with msoffcrypto-tool.

Encrypted OOXML (DOCX/XLSX/PPTX saved with a password) is an OLE file holding
``EncryptionInfo`` and ``EncryptedPackage``; legacy DOC/XLS/PPT are encrypted in place
(RC4 / RC4 CryptoAPI). The passwords supplied with the item are tried in order, after
Excel's built-in default password ("VelvetSweatshop", used for workbooks that are only
write-protected: opening them needs no user password). The decrypted file becomes a
child item, so the OOXML or legacy ingestor reads it like any other file.
"""

from __future__ import annotations

import enum
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, ClassVar

import defusedxml.ElementTree  # type: ignore[import-untyped]
import msoffcrypto  # type: ignore[import-untyped]
import msoffcrypto.exceptions  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, NotMyFormat
from caselens.ingest.formats.ole_common import (
    OLE_SIGNATURE,
    OleKind,
    add_summary_metadata,
    ole_kind,
    open_ole,
    read_stream,
)
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

# Excel's documented built-in password, public knowledge, not a secret.
DEFAULT_PASSWORD = "VelvetSweatshop"  # noqa: S105
OOXML_EXTENSIONS = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".pptm", ".potx", ".ppsx"}
)
ENCRYPTION_INFO_LIMIT = 1024 * 1024
# What msoffcrypto raises on damaged input besides its own exceptions.
CRYPTO_FAILURES = (
    msoffcrypto.exceptions.FileFormatError,
    msoffcrypto.exceptions.ParseError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    OSError,
    AttributeError,
    AssertionError,
    ArithmeticError,
    EOFError,
    struct.error,
    RecursionError,
)


class Opened(enum.Enum):
    DEFAULT_PASSWORD = "default"  # noqa: S105  write-protection only: no user password
    USER_PASSWORD = "user"  # noqa: S105  one of the supplied passwords


def decrypt(path: Path, passwords: Sequence[str], target: BinaryIO, description: str) -> Opened:
    """Decrypt the Office file at ``path`` into ``target``.

    EncryptedFile when no password opens it (or its encryption method is not supported),
    BrokenFile when its encryption records are damaged.
    """
    candidates = [(DEFAULT_PASSWORD, Opened.DEFAULT_PASSWORD)]
    candidates += [(password, Opened.USER_PASSWORD) for password in passwords]
    with path.open("rb") as handle:
        for password, opened in candidates:
            try:
                handle.seek(0)
                office = msoffcrypto.OfficeFile(handle)
                if office.format == "ooxml":
                    office.load_key(password=password, verify_password=True)
                else:
                    office.load_key(password=password)
                target.seek(0)
                target.truncate()
                office.decrypt(target)
            except msoffcrypto.exceptions.InvalidKeyError:
                continue  # wrong password: try the next
            except msoffcrypto.exceptions.DecryptionError as err:
                raise EncryptedFile(f"{description}; it cannot be decrypted: {err}") from err
            except CRYPTO_FAILURES as err:
                raise BrokenFile(f"encryption records are damaged: {err}") from err
            return opened
    supplied = "no password was supplied" if not passwords else "no supplied password opens it"
    raise EncryptedFile(f"{description}: {supplied}")


def ooxml_encryption_name(encryption_info: bytes) -> str:
    """ "agile", "standard" or "extensible", from the EncryptionInfo version."""
    if len(encryption_info) < 4:
        raise BrokenFile("the EncryptionInfo stream is truncated")
    major, minor = (
        int.from_bytes(encryption_info[0:2], "little"),
        int.from_bytes(encryption_info[2:4], "little"),
    )
    if (major, minor) == (4, 4):
        # Checked here with entity expansion and DTDs forbidden before msoffcrypto's own
        # parser (minidom) sees the XML.
        try:
            defusedxml.ElementTree.fromstring(encryption_info[8:])
        except Exception as err:  # defusedxml's refusals and ParseError alike
            raise BrokenFile(f"the agile EncryptionInfo XML is refused: {err}") from err
        return "agile"
    if minor == 2:
        return "standard"
    if minor == 3:
        return "extensible"
    return f"version {major}.{minor}"


def ooxml_extension(source: Source, decrypted: Path) -> str:
    """The decrypted package's extension: the item's own, else from the package's parts."""
    if source.extension in OOXML_EXTENSIONS:
        return source.extension
    try:
        with zipfile.ZipFile(decrypted) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return ".zip"
    for prefix, extension in (("word/", ".docx"), ("xl/", ".xlsx"), ("ppt/", ".pptx")):
        if any(name.startswith(prefix) for name in names):
            return extension
    return ".zip"


class EncryptedOoxmlIngestor(Ingestor):
    """DOCX/XLSX/PPTX saved with a password (an OLE file around the encrypted package)."""

    name = "office-encrypted"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/encrypted"})
    signatures: ClassVar[tuple[bytes, ...]] = (OLE_SIGNATURE,)
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        return cls.base_score + 5 if ole_kind(source) is OleKind.ENCRYPTED_OOXML else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        if ole_kind(source) is not OleKind.ENCRYPTED_OOXML:
            raise NotMyFormat("not an encrypted OOXML package")
        ole = open_ole(source.path)
        try:
            sink.set_document("Document")
            add_summary_metadata(ole, sink)
            info = read_stream(ole, "EncryptionInfo", ENCRYPTION_INFO_LIMIT)
        finally:
            ole.close()
        method = ooxml_encryption_name(info)
        description = f"{source.name} is password-protected ({method} encryption)"
        with source.scratch() as folder:
            decrypted = folder / "decrypted"
            with decrypted.open("w+b") as target:
                opened = decrypt(source.path, source.passwords, target, description)
            extension = ooxml_extension(source, decrypted)
            note_opened(opened, sink)
            with decrypted.open("rb") as stream:
                sink.add_child(f"decrypted{extension}".encode(), stream, encryption=method)


def note_opened(opened: Opened, sink: Sink) -> None:
    if opened is Opened.USER_PASSWORD:
        sink.decrypted = True
    else:
        sink.warn(
            "encrypted with Excel's default password (write-protection only): "
            "opened without a user password"
        )
