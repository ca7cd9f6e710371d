"""E-mail formats: RFC 822 (EML, maildir), MBOX, Apple EMLX, Outlook MSG and PST/OST."""

from __future__ import annotations

from caselens.ingest.formats.mail.eml import EmlIngestor
from caselens.ingest.formats.mail.emlx import EmlxIngestor
from caselens.ingest.formats.mail.mbox import MboxIngestor
from caselens.ingest.formats.mail.msg import MsgIngestor
from caselens.ingest.formats.mail.pst import PstIngestor

__all__ = ["EmlIngestor", "EmlxIngestor", "MboxIngestor", "MsgIngestor", "PstIngestor"]
