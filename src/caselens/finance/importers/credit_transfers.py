"""One credit transfer of an ISO 20022 payment message (pain.001, pacs.008) as a record.

Both messages carry the debtor (payer) and the creditor (payee) with their accounts and
agents; pain.001 states the debtor once per payment information block, pacs.008 on each
transaction. Whatever the transaction lacks is taken from ``block``.
"""

from __future__ import annotations

from datetime import datetime

from caselens.finance.importers import iso20022 as iso
from caselens.finance.importers.records import Record


def transfer_record(
    transaction: iso.Element,
    block: iso.Element | None,
    amount: iso.Element | None,
    time: datetime | None,
    channel: str | None,
) -> Record:
    def side(role: str) -> tuple[str | None, str | None, str | None]:
        holder = transaction if iso.first(transaction, f"{role}Acct") is not None else block
        bank = iso.bic(iso.first(holder, f"{role}Agt"))
        account = iso.account_key(iso.first(holder, f"{role}Acct"), bank)
        return account, bank, iso.party_name(iso.first(holder, role))

    payer, payer_bank, payer_name = side("Dbtr")
    payee, payee_bank, payee_name = side("Cdtr")
    value, currency = iso.amount(amount)
    reference = iso.text(transaction, "PmtId/EndToEndId")
    if reference == "NOTPROVIDED":
        reference = None
    return Record(
        line=iso.line_of(transaction),
        time=time,
        payer=payer,
        payee=payee,
        amount=value,
        currency=currency,
        tx_id=iso.text(transaction, "PmtId/UETR", "PmtId/TxId", "PmtId/InstrId") or reference,
        payer_bank=payer_bank,
        payer_name=payer_name,
        payee_bank=payee_bank,
        payee_name=payee_name,
        channel=channel,
        reference=iso.remittance(transaction) or reference,
    )
