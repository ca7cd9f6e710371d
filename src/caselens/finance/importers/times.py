"""Times from text, vectorised: strptime, impossible dates caught, local zones applied.

pyarrow's ``strptime`` rolls impossible dates over (2022/02/30 becomes 2022/03/02), which
would put a payment on a day it never had. Each parsed time is therefore written back in
the same format and compared with the source, digit runs taken as numbers (so "1.2.2024"
matches "01.02.2024"); a mismatch is an impossible date. Formats with a UTC offset
(``%z``) are compared on their date and time fields only, before the offset is applied.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from caselens.errors import InvalidInput

_LEADING_ZEROS = r"(^|[^0-9])0+([0-9])"


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None
    return name


def parse_times(
    text: pa.Array, time_format: str, timezone: str = "UTC"
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Seconds since the epoch (UTC, int64; 0 where bad), the bad mask, and the mask of
    local times that occur twice (the hour a clock is set back), read as the earlier."""
    cleaned = pc.utf8_trim_whitespace(text)
    has_offset = "%z" in time_format
    local_format = time_format.replace("%z", "").strip() if has_offset else time_format
    local_text = cleaned
    if has_offset:
        # The date and time fields alone, for the check against rolled-over dates.
        local_text = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(cleaned, r"\s*(Z|[+-]\d{2}:?\d{2})\s*$", "")
        )
    local = pc.strptime(local_text, format=local_format, unit="s", error_is_null=True)
    bad = _rolled_over(local, local_text, local_format)
    ambiguous = np.zeros(len(text), dtype=bool)
    if has_offset:
        parsed = pc.strptime(cleaned, format=time_format, unit="s", error_is_null=True)
        bad |= np.asarray(pc.is_null(parsed), dtype=bool)
        seconds = pc.cast(parsed, pa.int64())
    elif timezone == "UTC":
        seconds = pc.cast(local, pa.int64())
    else:
        earliest = pc.assume_timezone(
            local, timezone=timezone, ambiguous="earliest", nonexistent="earliest"
        )
        latest = pc.assume_timezone(
            local, timezone=timezone, ambiguous="latest", nonexistent="latest"
        )
        seconds = pc.cast(earliest, pa.int64())
        differs = np.asarray(
            pc.fill_null(pc.not_equal(seconds, pc.cast(latest, pa.int64())), False), dtype=bool
        )
        # Both a repeated hour and a skipped one give two readings; only a skipped one
        # (a local time that never happened) fails to come back from UTC unchanged.
        back = pc.cast(pc.local_timestamp(earliest), pa.timestamp("s"))
        returns = np.asarray(pc.fill_null(pc.equal(back, local), True), dtype=bool)
        bad |= differs & ~returns
        ambiguous = differs & returns
    return pc.fill_null(seconds, 0), bad, ambiguous


def _rolled_over(local: pa.Array, text: pa.Array, time_format: str) -> np.ndarray:
    """Where ``local`` is null or, written back in ``time_format``, is not ``text``.

    Most sources pad their fields as the format writes them, so the written-back text
    is compared as it is first; only the rows that differ are compared digit by digit
    (the regular expressions are the dear part on millions of rows)."""
    rendered = pc.strftime(local, format=time_format)
    bad = ~np.asarray(pc.fill_null(pc.equal(rendered, text), False), dtype=bool)
    unequal = np.flatnonzero(bad & ~np.asarray(pc.is_null(local), dtype=bool))
    if len(unequal):
        chosen = pa.array(unequal)
        same = pc.equal(
            _digits_as_numbers(pc.take(rendered, chosen)),
            _digits_as_numbers(pc.take(text, chosen)),
        )
        bad[unequal] = ~np.asarray(pc.fill_null(same, False), dtype=bool)
    return bad


def _digits_as_numbers(text: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(text, _LEADING_ZEROS, r"\1\2")
