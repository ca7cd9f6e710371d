"""Format ingestors, one module each, registered here in one place."""

from __future__ import annotations

import importlib

from caselens.errors import ConfigurationError
from caselens.ingest.formats.archives import ARCHIVE_INGESTORS
from caselens.ingest.formats.calendar import CalendarIngestor
from caselens.ingest.formats.contacts import VCardIngestor
from caselens.ingest.formats.epub import EpubIngestor
from caselens.ingest.formats.fallback import FallbackIngestor
from caselens.ingest.formats.image import ImageIngestor
from caselens.ingest.formats.legacy_office import (
    ExcelIngestor,
    PowerPointIngestor,
    WordIngestor,
)
from caselens.ingest.formats.mail import (
    EmlIngestor,
    EmlxIngestor,
    MboxIngestor,
    MsgIngestor,
    PstIngestor,
)
from caselens.ingest.formats.media import MediaIngestor
from caselens.ingest.formats.odf import OdfIngestor
from caselens.ingest.formats.office_crypto import EncryptedOoxmlIngestor
from caselens.ingest.formats.ooxml import OoxmlIngestor
from caselens.ingest.formats.pdf import PdfIngestor
from caselens.ingest.formats.phone.cdr import CdrIngestor
from caselens.ingest.formats.phone.database import PhoneDatabaseIngestor
from caselens.ingest.formats.phone.telegram_export import TelegramExportIngestor
from caselens.ingest.formats.phone.ufed import UfedReportIngestor
from caselens.ingest.formats.phone.whatsapp_export import WhatsAppExportIngestor
from caselens.ingest.formats.rtf import RtfIngestor
from caselens.ingest.formats.structured import JsonIngestor, XmlIngestor
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.formats.unsupported import KnownUnsupportedIngestor
from caselens.ingest.registry import Ingestor

# Ties in score go to the ingestor listed first.
INGESTORS: list[type[Ingestor]] = [
    KnownUnsupportedIngestor,
    EmlIngestor,
    EmlxIngestor,
    MboxIngestor,
    MsgIngestor,
    PstIngestor,
    EncryptedOoxmlIngestor,
    WordIngestor,
    ExcelIngestor,
    PowerPointIngestor,
    PdfIngestor,
    OoxmlIngestor,
    OdfIngestor,
    EpubIngestor,
    RtfIngestor,
    *ARCHIVE_INGESTORS,
    PhoneDatabaseIngestor,
    MediaIngestor,
    UfedReportIngestor,
    TelegramExportIngestor,
    WhatsAppExportIngestor,
    CdrIngestor,
    ImageIngestor,
    XmlIngestor,
    JsonIngestor,
    VCardIngestor,
    CalendarIngestor,
    TextIngestor,
    FallbackIngestor,
]


def load_plugins(paths: list[str]) -> list[type[Ingestor]]:
    """Ingestors named as 'module:Class', registered through the same hook as built-ins."""
    loaded: list[type[Ingestor]] = []
    for path in paths:
        module_name, _, class_name = path.partition(":")
        try:
            candidate = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as err:
            raise ConfigurationError(f"cannot load ingestor plugin {path!r}: {err}") from err
        if not (isinstance(candidate, type) and issubclass(candidate, Ingestor)):
            raise ConfigurationError(f"ingestor plugin {path!r} is not an Ingestor class")
        loaded.append(candidate)
    return loaded


def active_ingestors(plugins: list[str], names: list[str]) -> list[type[Ingestor]]:
    """Plugins, then the built-in ingestors; only those named when ``names`` is not empty.

    The fallback always stays, so that every item is still recorded with its hashes.
    """
    available = load_plugins(plugins) + INGESTORS
    if not names:
        return available
    known = {cls.name for cls in available}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown ingestor(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    chosen = {*names, FallbackIngestor.name}
    return [cls for cls in available if cls.name in chosen]


def by_name(name: str) -> type[Ingestor] | None:
    return next((cls for cls in INGESTORS if cls.name == name), None)
