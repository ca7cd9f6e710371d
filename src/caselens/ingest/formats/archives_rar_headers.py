"""RAR 3/4 archives whose headers are encrypted (``rar -hp``): a copy with clear headers.

unar 1.10 cannot parse such archives at all, and libarchive cannot decrypt RAR. So the
headers and the file data are decrypted here (AES-128-CBC with RAR 3's SHA-1 key
derivation, from rarfile), every header checked against its CRC (a wrong password fails
there), and written to a copy in the scratch folder with the encryption flags and salts
taken out; unar then unpacks that copy, checking each member's CRC. The evidence itself
is never touched.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from rarfile import rar3_s2k  # type: ignore[import-untyped]

RAR3_MARKER = b"Rar!\x1a\x07\x00"
BLOCK_HEADER = struct.Struct("<HBHH")  # CRC, type, flags, size
MAIN_BLOCK = 0x73
FILE_BLOCK = 0x74
END_BLOCK = 0x7B
FILE_ENCRYPTED = 0x0004
FILE_LARGE = 0x0100  # 64-bit sizes follow the attributes
FILE_SALT = 0x0400
MAIN_ENCRYPTED_HEADERS = 0x0080
LONG_BLOCK = 0x8000  # a data area follows the header; its size is the next 4 bytes
SALT_SIZE = 8
AES_BLOCK = 16
MAX_HEADER = 64 * 1024  # RAR's own header size field is 16 bits


class WrongPassword(Exception):
    pass


def has_encrypted_headers(path: Path) -> bool:
    with path.open("rb") as handle:
        start = handle.read(len(RAR3_MARKER) + BLOCK_HEADER.size)
    if not start.startswith(RAR3_MARKER) or len(start) < len(RAR3_MARKER) + BLOCK_HEADER.size:
        return False
    _, kind, flags, _ = BLOCK_HEADER.unpack_from(start, len(RAR3_MARKER))
    return kind == MAIN_BLOCK and bool(flags & MAIN_ENCRYPTED_HEADERS)


def write_clear_headers(path: Path, password: str, target: Path) -> None:
    """Copy the archive to ``target`` with its headers decrypted.

    WrongPassword when the password does not decrypt the first header; ValueError when
    the archive is cut short or malformed.
    """
    keys: dict[bytes, tuple[bytes, bytes]] = {}
    with path.open("rb") as source, target.open("wb") as out:
        if source.read(len(RAR3_MARKER)) != RAR3_MARKER:
            raise ValueError("not a RAR 3/4 archive")
        out.write(RAR3_MARKER)
        main = _read_exact(source, BLOCK_HEADER.size)
        _, kind, flags, size = BLOCK_HEADER.unpack(main)
        main += _read_exact(source, size - BLOCK_HEADER.size)
        out.write(
            _with_crc(main[:3] + struct.pack("<H", flags & ~MAIN_ENCRYPTED_HEADERS) + main[5:])
        )
        first = True
        while True:
            salt = source.read(SALT_SIZE)
            if not salt:
                break  # no end-of-archive block: older writers end here
            if len(salt) < SALT_SIZE:
                raise ValueError("the archive is cut short")
            if salt not in keys:
                keys[salt] = rar3_s2k(password, salt)
            header = _decrypt_header(source, *keys[salt])
            if header is None:
                if first:
                    raise WrongPassword
                raise ValueError("a header does not decrypt: the archive is damaged")
            first = False
            _, kind, flags, _ = BLOCK_HEADER.unpack_from(header)
            data_size = (
                struct.unpack_from("<I", header, BLOCK_HEADER.size)[0] if flags & LONG_BLOCK else 0
            )
            if kind == FILE_BLOCK and flags & FILE_ENCRYPTED and flags & FILE_SALT:
                header, file_salt = _without_salt(header)
                if file_salt not in keys:
                    keys[file_salt] = rar3_s2k(password, file_salt)
                out.write(header)
                _copy_decrypted(source, out, data_size, *keys[file_salt])
                continue
            out.write(header)
            if kind == END_BLOCK:
                break
            _copy(source, out, data_size)


def _decrypt_header(source: BinaryIO, key: bytes, iv: bytes) -> bytes | None:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    start = decryptor.update(_read_exact(source, AES_BLOCK))
    crc, _, _, size = BLOCK_HEADER.unpack_from(start)
    if size < BLOCK_HEADER.size or size > MAX_HEADER:
        return None
    padded = -(-size // AES_BLOCK) * AES_BLOCK
    rest = decryptor.update(_read_exact(source, padded - AES_BLOCK)) if padded > AES_BLOCK else b""
    header = (start + rest)[:size]
    if zlib.crc32(header[2:]) & 0xFFFF != crc:
        return None
    return header


def _without_salt(header: bytes) -> tuple[bytes, bytes]:
    """The file header with its encryption flag and salt taken out, and the salt."""
    _, kind, flags, size = BLOCK_HEADER.unpack_from(header)
    (name_size,) = struct.unpack_from("<H", header, 26)
    salt_at = 32 + (8 if flags & FILE_LARGE else 0) + name_size
    salt = header[salt_at : salt_at + SALT_SIZE]
    if len(salt) != SALT_SIZE:
        raise ValueError("a file header is too short for its salt")
    rest = header[:salt_at] + header[salt_at + SALT_SIZE :]
    clear = BLOCK_HEADER.pack(0, kind, flags & ~(FILE_ENCRYPTED | FILE_SALT), size - SALT_SIZE)
    return _with_crc(clear + rest[BLOCK_HEADER.size :]), salt


def _copy_decrypted(source: BinaryIO, out: BinaryIO, size: int, key: bytes, iv: bytes) -> None:
    if size % AES_BLOCK:
        raise ValueError("encrypted file data is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    while size > 0:
        chunk = source.read(min(size, 1 << 20))
        if not chunk or (len(chunk) % AES_BLOCK and len(chunk) < size):
            raise ValueError("the archive is cut short")
        out.write(decryptor.update(chunk))
        size -= len(chunk)


def _with_crc(header: bytes) -> bytes:
    return struct.pack("<H", zlib.crc32(header[2:]) & 0xFFFF) + header[2:]


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise ValueError("the archive is cut short")
    return data


def _copy(source: BinaryIO, out: BinaryIO, size: int) -> None:
    while size > 0:
        chunk = source.read(min(size, 1 << 20))
        if not chunk:
            raise ValueError("the archive is cut short")
        out.write(chunk)
        size -= len(chunk)
