"""ISO 20022 pain.001 customer credit transfer initiations (any version of the namespace).

Each payment information block (``PmtInf``) names the debtor, its account and the
requested execution date; each ``CdtTrfTxInf`` in it is one row, paid from that account
to the creditor's for the instructed amount.
"""

from __future__ import annotations

from pathlib import Path

from caselens.errors import InvalidInput
from caselens.finance.importers import iso20022 as iso
from caselens.finance.importers.base import Imported
from caselens.finance.importers.credit_transfers import transfer_record
from caselens.finance.importers.records import TableBuilder
from caselens.finance.transactions import ImportReport

FORMAT = "pain001"


def read(path: Path, mapping: Path | None = None) -> Imported:
    if mapping is not None:
        raise InvalidInput("the pain001 format takes no --mapping")
    message = iso.read_message(path, "pain.001", "CstmrCdtTrfInitn")
    report = ImportReport(format=FORMAT)
    builder = TableBuilder(report)
    for block in iso.children(message.body, "PmtInf"):
        when = iso.moment(iso.first(block, "ReqdExctnDt"))
        method = iso.text(block, "PmtTpInf/SvcLvl/Cd") or iso.text(block, "PmtMtd")
        for transaction in iso.children(block, "CdtTrfTxInf"):
            amount = iso.first(transaction, "Amt/InstdAmt", "Amt/EqvtAmt/Amt")
            channel = iso.text(transaction, "PmtTpInf/SvcLvl/Cd") or method
            builder.add(transfer_record(transaction, block, amount, when, channel))
    return Imported(table=builder.table(), report=report, source_rows=builder.data_rows)
