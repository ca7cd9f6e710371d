"""Android databases: SMS/MMS, contacts and call log, WhatsApp."""

from __future__ import annotations

from caselens.ingest.formats.phone.database import PhoneReader

ANDROID_READERS: list[type[PhoneReader]] = []
