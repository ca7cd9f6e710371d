"""Transaction readers, one module per format, registered here by format name.

Every reader returns an :class:`~caselens.finance.importers.base.Imported`: the valid rows
in the columnar layout of :mod:`caselens.finance.transactions`, and a report of the rows it
refused with their line (or element) number and reason.
"""

from __future__ import annotations

from caselens.errors import InvalidInput
from caselens.finance.importers import amlworld, camt053, mapped, mt940, pacs008, pain001
from caselens.finance.importers.base import (
    Imported,
    LaunderingAttempt,
    Reader,
    TransactionFormat,
)

FORMATS: dict[str, TransactionFormat] = {
    entry.name: entry
    for entry in (
        TransactionFormat(
            mapped.FORMAT,
            mapped.read,
            takes_mapping=True,
            description="CSV or XLSX with a YAML column mapping",
        ),
        TransactionFormat(
            amlworld.FORMAT,
            amlworld.read,
            companions=amlworld.companions,
            description="IBM AMLworld CSV (and its *_Patterns.txt)",
        ),
        TransactionFormat(mt940.FORMAT, mt940.read, description="SWIFT MT940 statement"),
        TransactionFormat(camt053.FORMAT, camt053.read, description="ISO 20022 camt.053"),
        TransactionFormat(pain001.FORMAT, pain001.read, description="ISO 20022 pain.001"),
        TransactionFormat(pacs008.FORMAT, pacs008.read, description="ISO 20022 pacs.008"),
    )
}

__all__ = ["FORMATS", "Imported", "LaunderingAttempt", "Reader", "TransactionFormat", "format_for"]


def format_for(name: str) -> TransactionFormat:
    """The registered format of that name; an unknown name is refused with the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise InvalidInput(f"unknown transaction format {name!r}; choose one of {known}") from None
