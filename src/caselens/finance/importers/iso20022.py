"""Shared reading of ISO 20022 XML messages (camt.053, pain.001, pacs.008), any version.

Elements are found by local name (``{*}Amt``), so every version of a message's namespace
(``camt.053.001.02`` to ``.13``) reads alike, and the spellings that changed between
versions (``BIC`` / ``BICFI``; a party's ``Nm`` or ``Pty/Nm``; a date as text or as
``Dt`` / ``DtTm``) are tried in turn. The parser resolves no entities and fetches nothing.
Line numbers given for refused entries are the lines of their elements in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from caselens.errors import InvalidInput
from caselens.finance.importers.values import decimal_amount

Element = Any  # lxml elements (lxml ships no type information)


@dataclass(frozen=True, slots=True)
class Message:
    body: Element  # the message element under ``Document`` (BkToCstmrStmt, ...)
    namespace: str  # e.g. urn:iso:std:iso:20022:tech:xsd:camt.053.001.08


def read_message(path: Path, message: str, body_name: str) -> Message:
    """The body of an ISO 20022 ``message`` (``camt.053``) whose element is ``body_name``."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as err:
        raise InvalidInput(f"{path}: not well-formed XML: {err}") from err
    body = root if local(root) == body_name else first(root, body_name)
    namespace = etree.QName(root).namespace or ""
    if body is None or (namespace and f"{message}." not in namespace):
        found = f"{local(root)} ({namespace or 'no namespace'})"
        raise InvalidInput(f"{path}: not an ISO 20022 {message} message: root is {found}")
    return Message(body, namespace)


def local(element: Element) -> str:
    return str(etree.QName(element).localname)


def first(element: Element | None, *paths: str) -> Element | None:
    """The first element found by any of ``paths`` (``/``-separated local names)."""
    if element is None:
        return None
    for path in paths:
        found = element.find("/".join(f"{{*}}{part}" for part in path.split("/")))
        if found is not None:
            return found
    return None


def children(element: Element, path: str) -> list[Element]:
    return list(element.iterfind("/".join(f"{{*}}{part}" for part in path.split("/"))))


def text(element: Element | None, *paths: str) -> str | None:
    found = first(element, *paths) if paths else element
    if found is None or found.text is None:
        return None
    value = " ".join(found.text.split())
    return value or None


def amount(element: Element | None) -> tuple[Decimal | None, str | None]:
    """An amount element: its value and its ``Ccy`` attribute."""
    if element is None:
        return None, None
    currency = element.get("Ccy")
    return decimal_amount(element.text), currency.strip().upper() if currency else None


def bic(agent: Element | None) -> str | None:
    return text(agent, "FinInstnId/BICFI", "FinInstnId/BIC", "BICFI", "BIC")


def account_key(account: Element | None, agent_bic: str | None) -> str | None:
    """The layout's account key: the IBAN, else ``<BIC or bank>:<account number>``."""
    if account is None:
        return None
    iban = text(account, "Id/IBAN")
    if iban:
        return re.sub(r"\s+", "", iban).upper()
    other = text(account, "Id/Othr/Id")
    if other is None:
        return None
    return f"{agent_bic}:{other}" if agent_bic else other


def party_name(party: Element | None) -> str | None:
    return text(party, "Nm", "Pty/Nm")


def remittance(element: Element | None) -> str | None:
    if element is None:
        return None
    lines = [text(line) for line in children(element, "RmtInf/Ustrd")]
    joined = " ".join(line for line in lines if line)
    return joined or None


def moment(element: Element | None) -> datetime | None:
    """A date or date-time element (as text, or holding ``Dt`` / ``DtTm``), aware.

    A date is midnight UTC; a date-time without an offset is taken as UTC, which ISO 20022
    leaves to the parties (the report says so in a warning)."""
    if element is None:
        return None
    value = text(element, "DtTm", "Dt") or text(element)
    if value is None:
        return None
    try:
        if "T" in value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def line_of(element: Element) -> int:
    return int(element.sourceline or 0)
