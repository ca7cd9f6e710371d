"""E-mail addresses, as people write them (RFC 5322 without quoted local parts).

Each ``@`` proposes a candidate: the local part is read backwards (at most 64
characters: letters, digits, dots, plus, hyphen and the other RFC atom characters that
appear in practice), the domain forwards (labels of 1 to 63 characters, at most 253 in
all, ending in an alphabetic top-level domain of two letters or more, or an ``xn--``
one). Internationalized domains are kept as written and validated by their IDNA
encoding. Trailing punctuation is never part of the address.

The value is the whole address in lower case: domains are case-insensitive by
definition, and mailbox local parts are case-insensitive in practice at every major
provider, so "John.Doe@Example.org" and "john.doe@example.org" are one selector.

Quotes around an address ("'Ken.Lay@enron.com'") are not part of it, though RFC 5322
allows an apostrophe in a local part. Message identifiers are written like addresses but
name a message, not a mailbox: nothing is taken from the value of a Message-ID,
In-Reply-To, References, Content-ID header or an iCalendar UID (folded lines included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from caselens.extract.base import ExtractionContext, Extractor, Mention

try:
    import idna as _idna
except ImportError:  # pragma: no cover - idna ships with most environments
    _idna = None  # type: ignore[assignment]

_LOCAL_CHARS = r"[\w.+\-!#$%&'*^`{|}~]"
_LOCAL = re.compile(_LOCAL_CHARS + r"{1,64}\Z")
_LOCAL_CHAR = re.compile(_LOCAL_CHARS)
# Header fields whose value is a message identifier, not a mailbox (">" for quoted mail).
_ID_FIELD = re.compile(
    r"[>\s]*(?:message-id|resent-message-id|in-reply-to|references|content-id|x-message-id"
    r"|uid)\s*[:;]",
    re.IGNORECASE,
)
_MAX_FOLDED_LINES = 32  # how far back a folded header is followed
_DOMAIN = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,126}(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})(?![\w-])",
    re.IGNORECASE,
)


def _in_identifier_field(text: str, at: int) -> bool:
    """Whether ``at`` lies in the value of a message-identifier header (or its folds)."""
    line_start = text.rfind("\n", 0, at) + 1
    for _ in range(_MAX_FOLDED_LINES):
        if _ID_FIELD.match(text, line_start):
            return True
        if line_start == 0 or text[line_start : line_start + 1] not in (" ", "\t"):
            return False  # not a folded continuation: the field ended here
        line_start = text.rfind("\n", 0, line_start - 1) + 1
    return False


def _domain_ok(domain: str) -> bool:
    if len(domain) > 253:
        return False
    if domain.isascii():
        return all(
            not (label.startswith("-") or label.endswith("-")) for label in domain.split(".")
        )
    try:
        if _idna is not None:
            _idna.encode(domain, uts46=True)
        else:
            domain.encode("idna")
    except (UnicodeError, ValueError):
        return False
    return True


class EmailExtractor(Extractor):
    name = "email"
    version = "2"
    kinds = frozenset({"email"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        at = text.find("@")
        while at != -1:
            mention = self._at(text, at)
            if mention is not None:
                yield mention
            at = text.find("@", at + 1)

    def _at(self, text: str, at: int) -> Mention | None:
        local_match = _LOCAL.search(text, max(0, at - 64), at)
        domain_match = _DOMAIN.match(text, at + 1)
        if local_match is None or domain_match is None:
            return None
        start = local_match.start()
        if start > 0 and _LOCAL_CHAR.match(text, start - 1):
            return None  # a local part longer than 64 characters
        local = local_match.group(0)
        stripped = local.lstrip(".'`")  # a quote before the address is not part of it
        start += len(local) - len(stripped)
        if not stripped or stripped.endswith(".") or ".." in stripped:
            return None
        domain = domain_match.group(0)
        if not _domain_ok(domain):
            return None
        if _in_identifier_field(text, at):
            return None
        end = domain_match.end()
        value = f"{stripped}@{domain}".lower()
        return self.mention("email", value, text, start, end, domain=domain.lower())
