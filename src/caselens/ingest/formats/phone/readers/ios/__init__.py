"""iOS (and macOS) databases: Messages, address book, call history, WhatsApp."""

from __future__ import annotations

from caselens.ingest.formats.phone.database import PhoneReader
from caselens.ingest.formats.phone.readers.ios.addressbook import AddressBookReader
from caselens.ingest.formats.phone.readers.ios.callhistory import CallHistoryReader
from caselens.ingest.formats.phone.readers.ios.messages import AppleMessagesReader
from caselens.ingest.formats.phone.readers.ios.whatsapp import WhatsAppIosReader

IOS_READERS: list[type[PhoneReader]] = [
    AppleMessagesReader,
    AddressBookReader,
    CallHistoryReader,
    WhatsAppIosReader,
]
