"""Selector fields of a query, normalized the way extractors normalize what they find.

``phone:020 7946 0958`` in a UK case means +442079460958, so it finds every spelling of
that number in the case; a value that is not a valid identifier of its kind is an error,
not an empty result.
"""

from __future__ import annotations

import phonenumbers

from caselens.extract.base import NAME_KINDS, ExtractionContext, Extractor
from caselens.extract.identifiers import EXTRACTORS
from caselens.search.query import SELECTOR_FIELDS, Filter, QueryError


def selector_values(node: Filter, context: ExtractionContext) -> list[tuple[str, str]]:
    """The (kind, normalized value) pairs a selector field of the query stands for."""
    kinds = SELECTOR_FIELDS[node.field]
    value = node.value.strip()
    if set(kinds) <= set(NAME_KINDS):
        return [(kind, _name_fingerprint(node)) for kind in kinds]
    if kinds == ("phone",):
        return [("phone", _phone(value, context, node))]
    wanted = set(kinds)
    extractors: list[type[Extractor]] = [e for e in EXTRACTORS if e.kinds & wanted]
    found = []
    for extractor in extractors:
        for mention in extractor().find(value, context):
            # The whole value must be the identifier, not merely contain one.
            whole = not value[: mention.start].strip() and not value[mention.end :].strip(" /.")
            if mention.kind in wanted and whole:
                found.append((mention.kind, mention.value))
    if not found:
        raise QueryError(f'"{node.value}" is not a valid {node.field} ({"/".join(kinds)})')
    return list(dict.fromkeys(found))


def _phone(value: str, context: ExtractionContext, node: Filter) -> str:
    # The query names one number: parse it as a whole (the extractor scans text for
    # numbers). A number possible by length but unassigned is still searched for.
    region = context.default_region or "ZZ"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        hint = "" if context.default_region else " (write it with its country code: +44...)"
        raise QueryError(f'"{node.value}" is not a phone number{hint}')
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _name_fingerprint(node: Filter) -> str:
    from caselens.extract.fingerprint import name_fingerprint

    fingerprint = name_fingerprint(node.value)
    if not fingerprint:
        raise QueryError(f'"{node.value}" has nothing to match as a name')
    return fingerprint
