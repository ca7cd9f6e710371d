"""ISO 20022 pacs.008 FI-to-FI customer credit transfers (any version of the namespace).

Each ``CdtTrfTxInf`` is one row, for the interbank settlement amount on its settlement
date (or the group header's, which older versions state once for all).
"""

from __future__ import annotations

from pathlib import Path

from caselens.errors import InvalidInput
from caselens.finance.importers import iso20022 as iso
from caselens.finance.importers.base import Imported
from caselens.finance.importers.credit_transfers import transfer_record
from caselens.finance.importers.records import TableBuilder
from caselens.finance.transactions import ImportReport

FORMAT = "pacs008"


def read(path: Path, mapping: Path | None = None) -> Imported:
    if mapping is not None:
        raise InvalidInput("the pacs008 format takes no --mapping")
    message = iso.read_message(path, "pacs.008", "FIToFICstmrCdtTrf")
    report = ImportReport(format=FORMAT)
    builder = TableBuilder(report)
    header = iso.first(message.body, "GrpHdr")
    settled = iso.first(header, "IntrBkSttlmDt")
    method = iso.text(header, "SttlmInf/SttlmMtd")
    for transaction in iso.children(message.body, "CdtTrfTxInf"):
        date = iso.first(transaction, "IntrBkSttlmDt")
        if date is None:
            date = settled if settled is not None else iso.first(header, "CreDtTm")
        when = iso.moment(date)
        amount = iso.first(transaction, "IntrBkSttlmAmt")
        channel = iso.text(transaction, "PmtTpInf/SvcLvl/Cd", "PmtTpInf/LclInstrm/Cd") or method
        builder.add(transfer_record(transaction, None, amount, when, channel))
    return Imported(table=builder.table(), report=report, source_rows=builder.data_rows)
