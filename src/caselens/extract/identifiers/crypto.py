"""Cryptocurrency addresses: Bitcoin, Ethereum, Litecoin, Tron and Monero.

Patterns only find runs of the right alphabet standing alone; every address is then
decoded and its checksum verified (double SHA-256 for base58check, the BCH code of
bech32/bech32m, Keccak-256 for EIP-55 and Monero). Repetitions are bounded and
possessive so that a 20 MB page cannot make the patterns backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers._base58 import (
    base58check_payload,
    monero_checksum_ok,
    monero_decode,
    segwit_decode,
)
from caselens.extract.identifiers._keccak import keccak256

_ALONE_BEFORE = r"(?<![0-9A-Za-z])"
_ALONE_AFTER = r"(?![0-9A-Za-z])"
_BASE58_RUN = re.compile(_ALONE_BEFORE + r"[1-9A-HJ-NP-Za-km-z]{25,35}+" + _ALONE_AFTER)
_SEGWIT_RUN = re.compile(
    _ALONE_BEFORE + r"(?:bc|tb|ltc|tltc)1[02-9ac-hj-np-z]{6,87}+" + _ALONE_AFTER, re.IGNORECASE
)
_ETHEREUM_RUN = re.compile(_ALONE_BEFORE + r"0x[0-9a-fA-F]{40}+" + _ALONE_AFTER)
# 95 characters: a standard address (4…) or subaddress (8…); 106 for integrated ones.
_BASE58_CHAR = "[1-9A-HJ-NP-Za-km-z]"
_MONERO_RUN = re.compile(
    _ALONE_BEFORE + "[48]" + _BASE58_CHAR + "{94}+(?:" + _BASE58_CHAR + "{11})?+" + _ALONE_AFTER
)

# Base58check version byte -> (kind, network, script type).
_BASE58_VERSIONS: dict[int, tuple[str, str, str]] = {
    0x00: ("btc", "mainnet", "p2pkh"),
    0x05: ("btc", "mainnet", "p2sh"),
    0x6F: ("btc", "testnet", "p2pkh"),
    0xC4: ("btc", "testnet", "p2sh"),
    0x30: ("ltc", "mainnet", "p2pkh"),
    0x32: ("ltc", "mainnet", "p2sh"),
    0x41: ("trx", "mainnet", "account"),
}
_SEGWIT_HRPS: dict[str, tuple[str, str]] = {
    "bc": ("btc", "mainnet"),
    "tb": ("btc", "testnet"),
    "ltc": ("ltc", "mainnet"),
    "tltc": ("ltc", "testnet"),
}
_MONERO_NETWORKS = {18: "standard", 42: "subaddress", 19: "integrated"}


class _WalletExtractor(Extractor):
    """Base58check and segwit addresses whose version says which kind they are."""

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _BASE58_RUN.finditer(text):
            mention = self._base58(text, match)
            if mention is not None:
                yield mention
        for match in _SEGWIT_RUN.finditer(text):
            mention = self._segwit(text, match)
            if mention is not None:
                yield mention

    def _base58(self, text: str, match: re.Match[str]) -> Mention | None:
        address = match.group()
        if len(address) < 26:
            return None
        payload = base58check_payload(address)
        if payload is None or len(payload) != 21:
            return None
        kind, network, script = _BASE58_VERSIONS.get(payload[0], ("", "", ""))
        if kind not in self.kinds:
            return None
        if kind == "trx" and len(address) != 34:
            return None
        return self.mention(
            kind, address, text, match.start(), match.end(), network=network, type=script
        )

    def _segwit(self, text: str, match: re.Match[str]) -> Mention | None:
        decoded = segwit_decode(match.group(), frozenset(_SEGWIT_HRPS))
        if decoded is None:
            return None
        hrp, version, program = decoded
        kind, network = _SEGWIT_HRPS[hrp]
        if kind not in self.kinds:
            return None
        script = {(0, 20): "p2wpkh", (0, 32): "p2wsh", (1, 32): "p2tr"}.get(
            (version, len(program)), f"witness_v{version}"
        )
        return self.mention(
            kind,
            match.group().lower(),
            text,
            match.start(),
            match.end(),
            network=network,
            type=script,
            encoding="bech32" if version == 0 else "bech32m",
        )


class BitcoinExtractor(_WalletExtractor):
    """Legacy and P2SH base58check addresses, bech32 (v0) and bech32m (v1+, taproot)."""

    name = "bitcoin"
    version = "1"
    kinds: ClassVar[frozenset[str]] = frozenset({"btc"})


class LitecoinExtractor(_WalletExtractor):
    """L… and M… base58check addresses and ltc1 segwit addresses.

    Old Litecoin P2SH addresses (3…) share Bitcoin's version byte and are reported as btc.
    """

    name = "litecoin"
    version = "1"
    kinds: ClassVar[frozenset[str]] = frozenset({"ltc"})


class TronExtractor(_WalletExtractor):
    """T… base58check addresses, version byte 0x41, 34 characters."""

    name = "tron"
    version = "1"
    kinds: ClassVar[frozenset[str]] = frozenset({"trx"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _BASE58_RUN.finditer(text):
            mention = self._base58(text, match)
            if mention is not None:
                yield mention


def eip55_checksummed(hex_address: str) -> str:
    """The EIP-55 spelling of a 40-digit hex address (without its 0x)."""
    lower = hex_address.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "".join(
        char.upper() if char.isalpha() and int(digest[index], 16) >= 8 else char
        for index, char in enumerate(lower)
    )


class EthereumExtractor(Extractor):
    """0x and 40 hex digits; mixed case must be the EIP-55 checksum, one case is unchecked."""

    name = "ethereum"
    version = "1"
    kinds: ClassVar[frozenset[str]] = frozenset({"eth"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _ETHEREUM_RUN.finditer(text):
            digits = match.group()[2:]
            if digits in (digits.lower(), digits.upper()):
                checksum = "none"
            elif eip55_checksummed(digits) == digits:
                checksum = "eip55"
            else:
                continue  # a mistyped or altered address
            if int(digits, 16) == 0:
                continue  # the zero address is a placeholder, not a selector
            yield self.mention(
                "eth", "0x" + digits.lower(), text, match.start(), match.end(), checksum=checksum
            )


class MoneroExtractor(Extractor):
    """Standard (4…), subaddress (8…) and integrated (106 characters) Monero addresses.

    Decoded with Monero's 8-byte block base58; the network byte and the Keccak-256
    checksum are verified.
    """

    name = "monero"
    version = "1"
    kinds: ClassVar[frozenset[str]] = frozenset({"xmr"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _MONERO_RUN.finditer(text):
            decoded = monero_decode(match.group())
            if decoded is None or not monero_checksum_ok(decoded):
                continue
            address_type = _MONERO_NETWORKS.get(decoded[0])
            expected_length = 77 if address_type == "integrated" else 69
            if address_type is None or len(decoded) != expected_length:
                continue
            yield self.mention(
                "xmr", match.group(), text, match.start(), match.end(), type=address_type
            )
