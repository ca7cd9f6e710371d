"""iOS (and macOS) databases: Messages, address book, call history, WhatsApp."""

from __future__ import annotations

from caselens.ingest.formats.phone.database import PhoneReader

IOS_READERS: list[type[PhoneReader]] = []
