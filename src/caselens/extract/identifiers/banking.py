"""IBAN (ISO 13616) and BIC (ISO 9362) codes.

An IBAN is proposed by its country code and check digits, read on through the spaces,
hyphens, dots and line breaks people put inside it, cut at the length its country
defines, and kept only when its mod-97 remainder is 1.

A BIC is eight or eleven letters and digits (bank, country, location, optional branch).
Many ordinary upper-case words have that shape ("DOCUMENT" reads as bank DOCU, country
ME, location NT), so the rule is: the country code must be an ISO 3166 country, and
either the word BIC or SWIFT stands within 20 characters before the code, or the code is
written in upper case and its location or branch code holds a digit ("NWBKGB2L",
"DEUTDEFF500"). A BIC of letters only without the keyword ("DEUTDEFF") is missed on
purpose: precision first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from caselens.extract.base import ExtractionContext, Extractor, Mention

# IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

# ISO 3166-1 alpha-2, officially assigned codes, plus XK (Kosovo, used by SWIFT).
_ISO_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
"""
ISO_COUNTRIES: frozenset[str] = frozenset(_ISO_COUNTRY_CODES.split())

_IBAN_START = re.compile(r"(?<![^\W_])([A-Za-z]{2})(\d{2})")
# Between two characters of an IBAN: a few spaces, hyphens or dots, at most one line break.
_IBAN_GAP = re.compile(r"[ \t.\-]{0,3}(?:\r?\n[ \t]{0,3})?")
_MAX_IBAN = max(IBAN_LENGTHS.values())


def iban_checksum_ok(iban: str) -> bool:
    """ISO 7064 mod 97-10 over the rearranged IBAN (upper case, no spaces)."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def _read_iban(text: str, start: int, length: int) -> tuple[str, int] | None:
    """The ``length`` characters of an IBAN from ``start``, and where they end."""
    chars: list[str] = []
    pos = start
    while len(chars) < length:
        if pos < len(text) and text[pos].isascii() and text[pos].isalnum():
            chars.append(text[pos])
            pos += 1
            continue
        if not chars:
            return None
        gap = _IBAN_GAP.match(text, pos)
        assert gap is not None
        nxt = gap.end()
        if nxt == pos or nxt >= len(text) or not (text[nxt].isascii() and text[nxt].isalnum()):
            return None
        pos = nxt
    # The IBAN must end here: no letter or digit glued to its last character.
    if pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
        return None
    return "".join(chars).upper(), pos


class IbanExtractor(Extractor):
    name = "iban"
    version = "1"
    kinds = frozenset({"iban"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _IBAN_START.finditer(text):
            country = match.group(1)
            if not (country.isupper() or country.islower()):
                continue
            length = IBAN_LENGTHS.get(country.upper())
            if length is None:
                continue
            read = _read_iban(text, match.start(), length)
            if read is None:
                continue
            iban, end = read
            if iban_checksum_ok(iban):
                yield self.mention("iban", iban, text, match.start(), end, country=iban[:2])


_BIC = re.compile(
    r"(?<![^\W_])([A-Za-z]{4})([A-Za-z]{2})([A-Za-z0-9]{2})([A-Za-z0-9]{3})?(?![^\W_])"
)
_BIC_KEYWORD = re.compile(r"\b(?:bic|swift)\b", re.IGNORECASE)
_KEYWORD_WINDOW = 20


class BicExtractor(Extractor):
    name = "bic"
    version = "1"
    kinds = frozenset({"bic"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for match in _BIC.finditer(text):
            _bank, country, location, branch = match.groups()
            raw = match.group(0)
            if country.upper() not in ISO_COUNTRIES:
                continue
            if not (raw.isupper() or raw.islower()):
                continue
            window = text[max(0, match.start() - _KEYWORD_WINDOW) : match.start()]
            keyword = _BIC_KEYWORD.search(window) is not None
            has_digit = any(c.isdigit() for c in location + (branch or ""))
            if not (keyword or (raw.isupper() and has_digit)):
                continue
            # Location codes never have the letter O as second character (0 marks a test BIC).
            if location[1].upper() == "O":
                continue
            value = raw.upper()
            yield self.mention(
                "bic", value, text, match.start(), match.end(), country=country.upper()
            )
