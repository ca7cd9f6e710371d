"""The default region of a case, for numbers written the national way."""

from __future__ import annotations

import phonenumbers


def region_of(jurisdiction: str | None) -> str | None:
    """ISO 3166 alpha-2 from a jurisdiction such as "GB-ENG" or "de"; None when unknown."""
    if not jurisdiction:
        return None
    code = jurisdiction.strip()[:2].upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None
