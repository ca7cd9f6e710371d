"""IP addresses, URLs and bare domain names.

``ipaddress`` validates addresses (it also refuses IPv4 octets with leading zeros, which
some tools read as octal). A dotted quad that is part of a longer dotted run ("1.2.3.4.5")
or follows the word "version" (or Exchange's "Server id") is a version number, not an address.

A bare domain needs a real top-level domain (``_tlds``). File names whose extension is also
a TLD ("setup.py", "notes.md", "archive.zip") are the common false positive: for those
clashing TLDs a domain is only taken when it starts with ``www.`` or a path ("/") follows.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers._tlds import TLDS

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
# "with Microsoft SMTP Server id 8.2.234.1": Exchange writes its build number so.
_VERSION_WORD = re.compile(
    r"\b(?:version|ver\.?|v|build|release|rev\.?|server\s+id)\s*$", re.IGNORECASE
)
# Hex digits, colons and (for an embedded IPv4) dots, with at least one colon.
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f.]{0,39}+:[0-9A-Fa-f:.]{1,44}+(?![\w:])")
_URL = re.compile(
    r"(?<![\w@.])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`{}|\\^\x00-\x1f]{1,2048}+", re.IGNORECASE
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}+)"
_DOMAIN = re.compile(
    r"(?<![\w@.\-/:])" + _LABEL + r"(?:\." + _LABEL + r"){1,10}+(?![\w-]|\.[\w-])", re.IGNORECASE
)
_SMTP_REPLY_CODE = re.compile(r"[245]\d\d-[a-z]", re.IGNORECASE)
_SMTP_REPLY_BEFORE = re.compile(r"(?:^|\n|smtp;)[ \t]*\Z", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?'\"*"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
# TLDs that are far more often file extensions in case documents than domains.
FILE_EXTENSION_TLDS = frozenset(
    {"zip", "mov", "py", "sh", "rs", "md", "so", "ps", "pm", "mk", "la", "am", "mm", "ml", "cc"}
)


def ip_scope(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The most specific of the address's special-purpose ranges, or global."""
    for scope in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{scope}"):
            return scope.replace("_", "-")
    return "global" if address.is_global else "shared"


def _ipv6_value(address: ipaddress.IPv6Address) -> str:
    """RFC 5952 form, with an IPv4-mapped address written in its dotted tail."""
    if address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


class IpExtractor(Extractor):
    """IPv4 and IPv6 addresses, valued in their compressed canonical form."""

    name = "ip"
    version = "2"
    kinds: ClassVar[frozenset[str]] = frozenset({"ipv4", "ipv6"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        ipv6_spans: list[tuple[int, int]] = []
        for match in _IPV6.finditer(text):
            candidate = match.group().rstrip(".")
            if candidate.endswith(":") and not candidate.endswith("::"):
                candidate = candidate[:-1]
            if candidate.count(":") < 2 or not any(char.isdigit() for char in candidate):
                continue  # "dead::beef" and C++ scopes are words, not addresses
            try:
                address6 = ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            start, end = match.start(), match.start() + len(candidate)
            ipv6_spans.append((start, end))
            yield self.mention(
                "ipv6", _ipv6_value(address6), text, start, end, scope=ip_scope(address6)
            )
        for match in _IPV4.finditer(text):
            start, end = match.span()
            if any(
                outer_start <= start and end <= outer_end for outer_start, outer_end in ipv6_spans
            ):
                continue
            if _VERSION_WORD.search(text, max(0, start - 16), start):
                continue
            try:
                address4 = ipaddress.IPv4Address(match.group())
            except ValueError:
                continue  # an octet over 255 or with a leading zero
            yield self.mention("ipv4", str(address4), text, start, end, scope=ip_scope(address4))


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and closing brackets the URL did not open."""
    while url:
        last = url[-1]
        unbalanced = last in _BRACKETS and url.count(last) > url.count(_BRACKETS[last])
        if last not in _TRAILING_PUNCTUATION and not unbalanced:
            break
        url = url[:-1]
    return url


def _valid_host_name(host: str, require_known_tld: bool) -> bool:
    labels = host.rstrip(".").split(".")
    if any(not label or len(label) > 63 or label[0] == "-" or label[-1] == "-" for label in labels):
        return False
    if len(labels) == 1:
        return host == "localhost" and not require_known_tld
    tld = labels[-1]
    if require_known_tld:
        return tld in TLDS
    return tld.isalpha() or tld.startswith("xn--")


def normalize_url(url: str) -> str | None:
    """Scheme and host in lower case, default port dropped, ``www.`` given ``http://``.

    None when the URL has no usable host.
    """
    bare_www = url[:4].lower() == "www."
    if bare_www:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _valid_host_name(host, require_known_tld=bare_www):
            return None
    else:
        if ":" in host:
            host = f"[{host}]"
    scheme = parts.scheme.lower()
    netloc = host.rstrip(".")
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _soft_break_at(text: str, end: int) -> bool:
    """A quoted-printable soft line break: "=" as the last character of a line."""
    return text[end - 1 : end] == "=" and text[end : end + 1] in ("\r", "\n")


class UrlExtractor(Extractor):
    """http, https and ftp URLs, and URLs written from ``www.`` without a scheme.

    A "=" that ends a line is a quoted-printable soft break in raw mail, not part of the URL.
    """

    name = "url"
    version = "2"
    kinds: ClassVar[frozenset[str]] = frozenset({"url"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _URL.finditer(text):
            raw = _trim_url(match.group())
            if _soft_break_at(text, match.start() + len(raw)):
                raw = _trim_url(raw[:-1])
            value = normalize_url(raw)
            if value is None:
                continue
            yield self.mention("url", value, text, match.start(), match.start() + len(raw))


class DomainExtractor(Extractor):
    """Bare domain names ending in a real TLD, in lower case.

    In a bounce, "554-mail.com" is an SMTP reply code with its continuation dash, then the
    host: the code is dropped when it starts the line or follows "smtp;".
    """

    name = "domain"
    version = "2"
    kinds: ClassVar[frozenset[str]] = frozenset({"domain"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _DOMAIN.finditer(text):
            raw, start = match.group(), match.start()
            if _SMTP_REPLY_CODE.match(raw) and _SMTP_REPLY_BEFORE.search(
                text, max(0, start - 80), start
            ):
                raw, start = raw[4:], start + 4
            labels = raw.split(".")
            tld = labels[-1]
            if tld.lower() not in TLDS or not tld.isalpha():
                continue
            if tld not in (tld.lower(), tld.upper()):
                continue  # "end.It" is a missing space, not Italy
            if any(label.startswith("-") or label.endswith("-") for label in labels):
                continue
            if tld.lower() in FILE_EXTENSION_TLDS and not (
                labels[0].lower() == "www" or text.startswith("/", match.end())
            ):
                continue  # setup.py, notes.md: a file name
            yield self.mention("domain", raw.lower(), text, start, match.end())
