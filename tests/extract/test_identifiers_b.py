"""Wallet, IP, URL and domain extractors: valid, invalid and tricky values.

Addresses are published examples only: the Bitcoin genesis address, BIP-13, BIP-173 and
BIP-350 test vectors, EIP-55 examples, the Tether contract on Tron, the Monero general
fund; Litecoin addresses are built here from the genesis key hash.
"""

from __future__ import annotations

import hashlib

import pytest

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers import extract_identifiers
from caselens.extract.identifiers._base58 import (
    BASE58_ALPHABET,
    BECH32_CHARSET,
    _bech32_polymod,
    _hrp_expand,
)
from caselens.extract.identifiers._keccak import keccak256
from caselens.extract.identifiers.crypto import (
    BitcoinExtractor,
    EthereumExtractor,
    LitecoinExtractor,
    MoneroExtractor,
    TronExtractor,
)
from caselens.extract.identifiers.network import DomainExtractor, IpExtractor, UrlExtractor

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
GENESIS_HASH160 = bytes.fromhex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18")
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
TETHER_ON_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
MONERO_FUND = (
    "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1"
    "UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"
)


def found(extractor: type[Extractor], text: str) -> list[Mention]:
    mentions = list(extractor().find(text, ExtractionContext()))
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.raw
    return mentions


def values(extractor: type[Extractor], text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.value) for m in found(extractor, text)]


def base58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    encoded = ""
    while number:
        number, digit = divmod(number, 58)
        encoded = BASE58_ALPHABET[digit] + encoded
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + encoded


def segwit(hrp: str, version: int, program: bytes) -> str:
    bits = "".join(f"{byte:08b}" for byte in program)
    bits += "0" * (-len(bits) % 5)
    data = [version, *(int(bits[i : i + 5], 2) for i in range(0, len(bits), 5))]
    constant = 1 if version == 0 else 0x2BC830A3
    polymod = _bech32_polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


# Keccak


def test_keccak256_known_vectors() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # Longer than one 136-byte block, and exactly one block: padding lands in a new block.
    assert keccak256(b"a" * 136) != keccak256(b"a" * 135)
    assert keccak256(b"x" * 300) != hashlib.sha3_256(b"x" * 300).digest()


# Bitcoin


def test_bitcoin_base58_address_spelled_out() -> None:
    text = f"Send to {GENESIS}."
    [mention] = found(BitcoinExtractor, text)
    assert mention == Mention(
        "btc", GENESIS, GENESIS, 8, 42, "bitcoin", "1", {"network": "mainnet", "type": "p2pkh"}
    )


def test_bitcoin_p2sh_and_one_changed_character() -> None:
    assert values(BitcoinExtractor, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == [
        ("btc", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    ]
    assert values(BitcoinExtractor, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb") == []
    assert values(BitcoinExtractor, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNA") == []  # case matters
    assert values(BitcoinExtractor, GENESIS + "x") == []  # part of a longer word


def test_bitcoin_bech32_and_bech32m_vectors() -> None:
    text = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4 and " + TAPROOT
    mentions = found(BitcoinExtractor, text)
    assert [(m.value, m.detail["type"], m.detail["encoding"]) for m in mentions] == [
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "p2wpkh", "bech32"),
        (TAPROOT, "p2tr", "bech32m"),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # one checksum character changed
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with bech32m
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
        "bc1pw5dgrnzv",  # program of 1 byte
        "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
    ],
)
def test_bitcoin_invalid_segwit(address: str) -> None:
    assert values(BitcoinExtractor, f"to {address} now") == []


def test_bitcoin_testnet_is_marked() -> None:
    address = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"
    [mention] = found(BitcoinExtractor, address)
    assert mention.detail == {"network": "testnet", "type": "p2wsh", "encoding": "bech32"}


# Litecoin, Tron, Monero


def test_litecoin_base58_and_segwit() -> None:
    legacy = base58check(b"\x30" + GENESIS_HASH160)
    native = segwit("ltc", 0, GENESIS_HASH160)
    assert legacy.startswith("L")
    assert values(LitecoinExtractor, f"{legacy} {native} {GENESIS}") == [
        ("ltc", legacy),
        ("ltc", native),
    ]
    assert values(BitcoinExtractor, legacy) == []


def test_segwit_round_trip_of_a_32_byte_program() -> None:
    program = hashlib.sha256(b"taproot").digest()
    address = segwit("bc", 1, program)
    assert values(BitcoinExtractor, address) == [("btc", address)]
    assert values(BitcoinExtractor, segwit("bc", 0, program[:31])) == []  # 31 bytes for v0


def test_tron() -> None:
    assert values(TronExtractor, f"USDT {TETHER_ON_TRON}") == [("trx", TETHER_ON_TRON)]
    assert values(TronExtractor, TETHER_ON_TRON[:-1] + "7") == []
    assert values(TronExtractor, GENESIS) == []


def test_monero_checksum() -> None:
    [mention] = found(MoneroExtractor, f"XMR: {MONERO_FUND}.")
    assert (mention.value, mention.detail) == (MONERO_FUND, {"type": "subaddress"})
    assert values(MoneroExtractor, MONERO_FUND[:-1] + "J") == []
    assert values(MoneroExtractor, MONERO_FUND[:-1]) == []


# Ethereum


def test_ethereum_eip55_and_unchecked() -> None:
    text = (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed "
        "0xde709f2102306220921060314715629080e2fb77 "
        "0x52908400098527886E0F7030069857D2E4169EE7"
    )
    mentions = found(EthereumExtractor, text)
    assert [(m.value, m.detail["checksum"]) for m in mentions] == [
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "eip55"),
        ("0xde709f2102306220921060314715629080e2fb77", "none"),
        ("0x52908400098527886e0f7030069857d2e4169ee7", "none"),
    ]


def test_ethereum_rejects_wrong_checksum_and_longer_hex() -> None:
    assert values(EthereumExtractor, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") == []
    transaction_hash = "0x" + "ab" * 32
    assert values(EthereumExtractor, transaction_hash) == []


# IP addresses


def test_ipv4_valid_and_scope() -> None:
    mentions = found(IpExtractor, "from 8.8.8.8 via 192.168.1.10, then 127.0.0.1.")
    assert [(m.value, m.detail["scope"]) for m in mentions] == [
        ("8.8.8.8", "global"),
        ("192.168.1.10", "private"),
        ("127.0.0.1", "loopback"),
    ]


@pytest.mark.parametrize(
    "text",
    ["version 1.2.3.4.5", "build 1.2.3.4", "v10.0.0.1", "010.1.1.1", "256.1.1.1", "1.2.3"],
)
def test_ipv4_invalid(text: str) -> None:
    assert values(IpExtractor, text) == []


def test_ipv6_forms() -> None:
    text = "[2001:DB8:0:0:0:0:0:1]:8080, fe80::1%eth0, ::ffff:192.0.2.1 and ::1."
    mentions = found(IpExtractor, text)
    assert [(m.raw, m.value) for m in mentions] == [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("fe80::1", "fe80::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::1", "::1"),
    ]
    assert mentions[1].detail == {"scope": "link-local"}


@pytest.mark.parametrize("text", ["std::vector", "dead::beef", "12:30:45", "00:1a:2b:3c:4d:5e"])
def test_ipv6_invalid(text: str) -> None:
    assert values(IpExtractor, text) == []


# URLs and domains


def test_url_in_parentheses_followed_by_full_stop() -> None:
    text = "(see https://Example.COM:443/a_(b)/c?x=1#top)."
    [mention] = found(UrlExtractor, text)
    assert mention.raw == "https://Example.COM:443/a_(b)/c?x=1#top"
    assert mention.value == "https://example.com/a_(b)/c?x=1#top"


def test_url_normalization() -> None:
    text = "www.Example.org, ftp://files.example.net:21/x and http://localhost:8080/api; http://"
    assert values(UrlExtractor, text) == [
        ("url", "http://www.example.org/"),
        ("url", "ftp://files.example.net/x"),
        ("url", "http://localhost:8080/api"),
    ]


def test_domains() -> None:
    text = "Hosts: example.com, Sub.Domain.co.uk and shop.onion. Not: end.It or e.g. this."
    assert values(DomainExtractor, text) == [
        ("domain", "example.com"),
        ("domain", "sub.domain.co.uk"),
        ("domain", "shop.onion"),
    ]


def test_file_names_are_not_domains() -> None:
    text = "report.pdf, setup.py, notes.md, image.png and archive.zip"
    assert values(DomainExtractor, text) == []
    assert values(DomainExtractor, "www.setup.py and setup.py/docs") == [
        ("domain", "www.setup.py"),
        ("domain", "setup.py"),
    ]


def test_containment_through_extract_identifiers() -> None:
    text = "Go to https://www.example.com/login (host 93.184.216.34) or example.org."
    mentions = extract_identifiers(text, extractors=[UrlExtractor, DomainExtractor, IpExtractor])
    assert [(m.kind, m.value) for m in mentions] == [
        ("url", "https://www.example.com/login"),
        ("ipv4", "93.184.216.34"),
        ("domain", "example.org"),
    ]
    in_url = extract_identifiers(
        "http://[2001:db8::1]:8080/x", extractors=[UrlExtractor, IpExtractor]
    )
    assert [(m.kind, m.value) for m in in_url] == [("url", "http://[2001:db8::1]:8080/x")]


def test_long_runs_do_not_backtrack() -> None:
    text = ("1" * 100_000 + " 0x" + "a" * 100_000 + " " + "a." * 50_000 + " ") * 2
    extractors: list[type[Extractor]] = [BitcoinExtractor, EthereumExtractor, MoneroExtractor]
    extractors += [IpExtractor, UrlExtractor, DomainExtractor]
    for extractor in extractors:
        assert found(extractor, text) == []
