"""Every app database reader, most specific first (the first that recognises a schema wins)."""

from __future__ import annotations

from caselens.ingest.formats.phone.database import PhoneReader
from caselens.ingest.formats.phone.readers.android import ANDROID_READERS
from caselens.ingest.formats.phone.readers.ios import IOS_READERS

READERS: list[type[PhoneReader]] = [*ANDROID_READERS, *IOS_READERS]
