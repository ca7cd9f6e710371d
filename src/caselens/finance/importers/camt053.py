"""ISO 20022 camt.053 bank-to-customer statements (any version of the namespace).

The statement's account (``Stmt/Acct``) is one side of every entry: a credit (``CRDT``)
is paid to it, a debit (``DBIT``) from it; the counterparty is the debtor or the creditor
of the entry's transaction details. An entry booking several transactions in one batch
gives one row per ``TxDtls`` (with its own amount when it has one).
"""

from __future__ import annotations

from pathlib import Path

from caselens.errors import InvalidInput
from caselens.finance.importers import iso20022 as iso
from caselens.finance.importers.base import Imported
from caselens.finance.importers.records import Record, TableBuilder
from caselens.finance.transactions import ImportReport

FORMAT = "camt053"
UNIDENTIFIED = "unidentified"


def read(path: Path, mapping: Path | None = None) -> Imported:
    if mapping is not None:
        raise InvalidInput("the camt053 format takes no --mapping")
    message = iso.read_message(path, "camt.053", "BkToCstmrStmt")
    report = ImportReport(format=FORMAT)
    builder = TableBuilder(report)
    for statement in iso.children(message.body, "Stmt"):
        account = iso.first(statement, "Acct")
        own_bank = iso.bic(iso.first(account, "Svcr"))
        own = iso.account_key(account, own_bank)
        for entry in iso.children(statement, "Ntry"):
            details = iso.children(entry, "NtryDtls/TxDtls") or [entry]
            for detail in details:
                _add(builder, own, own_bank, entry, detail)
    return Imported(table=builder.table(), report=report, source_rows=builder.data_rows)


def _add(
    builder: TableBuilder, own: str | None, own_bank: str | None, entry: iso.Element,
    detail: iso.Element,
) -> None:  # fmt: skip
    indicator = iso.text(detail, "CdtDbtInd") or iso.text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        builder.refuse(iso.line_of(detail), f"credit/debit indicator is {indicator!r}")
        return
    credit = indicator == "CRDT"
    # The counterparty: the debtor of a credit, the creditor of a debit.
    role = "Dbtr" if credit else "Cdtr"
    parties = iso.first(detail, "RltdPties")
    agent_bic = iso.bic(iso.first(detail, f"RltdAgts/{role}Agt"))
    counterparty = iso.account_key(iso.first(parties, f"{role}Acct"), agent_bic)
    if own is not None and counterparty is None:
        counterparty = f"{UNIDENTIFIED}:{own}"
    name = iso.party_name(iso.first(parties, role))
    value, currency = iso.amount(
        iso.first(detail, "Amt", "AmtDtls/TxAmt/Amt") if detail is not entry else None
    )
    if value is None:
        value, currency = iso.amount(iso.first(entry, "Amt"))
    booked = iso.first(entry, "BookgDt", "ValDt")
    code = iso.text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd", "BkTxCd/Prtry/Cd")
    record = Record(
        line=iso.line_of(detail),
        time=iso.moment(booked),
        payer=counterparty if credit else own,
        payee=own if credit else counterparty,
        amount=value,
        currency=currency,
        tx_id=iso.text(detail, "Refs/EndToEndId", "Refs/AcctSvcrRef", "Refs/TxId")
        or iso.text(entry, "AcctSvcrRef", "NtryRef"),
        channel=code,
        reference=iso.remittance(detail) or iso.text(entry, "AddtlNtryInf"),
    )
    if record.tx_id == "NOTPROVIDED":
        record.tx_id = iso.text(detail, "Refs/AcctSvcrRef") or iso.text(entry, "AcctSvcrRef")
    if credit:
        record.payer_bank, record.payer_name, record.payee_bank = agent_bic, name, own_bank
    else:
        record.payee_bank, record.payee_name, record.payer_bank = agent_bic, name, own_bank
    if iso.text(entry, "RvslInd") == "true":
        record.reference = f"reversal: {record.reference or ''}".strip()
    builder.add(record)
