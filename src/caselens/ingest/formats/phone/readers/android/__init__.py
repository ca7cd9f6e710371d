"""Android databases: SMS/MMS, contacts and call log, WhatsApp."""

from __future__ import annotations

from caselens.ingest.formats.phone.database import PhoneReader
from caselens.ingest.formats.phone.readers.android.calllog import AndroidCallLogReader
from caselens.ingest.formats.phone.readers.android.contacts import AndroidContactsReader
from caselens.ingest.formats.phone.readers.android.sms import AndroidSmsReader
from caselens.ingest.formats.phone.readers.android.whatsapp import (
    WhatsAppContactsReader,
    WhatsAppMessagesReader,
)

# contacts2.db before calllog.db: both have a ``calls`` table; the contacts tables decide.
ANDROID_READERS: list[type[PhoneReader]] = [
    AndroidSmsReader,
    AndroidContactsReader,
    AndroidCallLogReader,
    WhatsAppMessagesReader,
    WhatsAppContactsReader,
]
