"""Base58 (Bitcoin alphabet), base58check and bech32/bech32m decoding, shared by wallets."""

from __future__ import annotations

import hashlib

from caselens.extract.identifiers._keccak import keccak256

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {char: index for index, char in enumerate(BECH32_CHARSET)}
BECH32_CONSTANT = 1  # BIP-173, witness version 0
BECH32M_CONSTANT = 0x2BC830A3  # BIP-350, witness versions 1 to 16


def base58_decode(text: str) -> bytes | None:
    """The bytes ``text`` encodes, or None if it holds a character outside the alphabet."""
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def base58check_payload(text: str) -> bytes | None:
    """The payload (version byte first) of a base58check string whose checksum holds."""
    raw = base58_decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def monero_decode(text: str) -> bytes | None:
    """Monero's block base58: 11 characters per 8 bytes, the last block shorter."""
    block_sizes = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}
    decoded = bytearray()
    for block_start in range(0, len(text), 11):
        block = text[block_start : block_start + 11]
        size = block_sizes.get(len(block))
        number = 0
        for char in block:
            digit = _BASE58_INDEX.get(char)
            if digit is None:
                return None
            number = number * 58 + digit
        if size is None or number >= 1 << (8 * size):
            return None
        decoded.extend(number.to_bytes(size, "big"))
    return bytes(decoded)


def monero_checksum_ok(decoded: bytes) -> bool:
    return len(decoded) > 4 and keccak256(decoded[:-4])[:4] == decoded[-4:]


def _bech32_polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(generators):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> list[int] | None:
    """Regroup 5-bit words into bytes; None on non-zero or over-long padding."""
    accumulator = bits = 0
    result: list[int] = []
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (accumulator << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return result


def segwit_decode(address: str, hrps: frozenset[str]) -> tuple[str, int, bytes] | None:
    """(hrp, witness version, program) of a valid segwit address (BIP-173 and BIP-350)."""
    if len(address) > 90 or (address.lower() != address and address.upper() != address):
        return None
    address = address.lower()
    hrp, separator, data_part = address.rpartition("1")
    if not separator or hrp not in hrps or len(data_part) < 7:
        return None
    data = [_BECH32_INDEX.get(char, -1) for char in data_part]
    if -1 in data:
        return None
    constant = _bech32_polymod(_hrp_expand(hrp) + data)
    version = data[0]
    expected = BECH32_CONSTANT if version == 0 else BECH32M_CONSTANT
    if version > 16 or constant != expected:
        return None
    program = _convert_bits(data[1:-6], 5, 8)
    if program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    return hrp, version, bytes(program)
