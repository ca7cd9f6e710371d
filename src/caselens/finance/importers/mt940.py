"""SWIFT MT940 customer statements, read with the maintained ``mt-940`` parser.

The statement's own account (``:25:``) is one side of every entry: a credit (``C``) is
paid to it, a debit (``D``) paid from it. The counterparty comes from a structured
``:86:`` (German ``?30`` bank, ``?31`` IBAN, ``?32`` name; or a SEPA ``IBAN+``); when the
statement does not name one (cash, fees) it is ``unidentified:<own account>``, one such
key per account so that no two accounts are linked through it.

The parser stops at the first entry it cannot read, so entries are handed to it one tag
at a time and an unreadable ``:61:`` line (or an impossible date, which the library
would otherwise move to the end of February) is refused with its line number.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import mt940
import mt940.models
import mt940.tags

from caselens.errors import InvalidInput
from caselens.finance.importers.base import Imported
from caselens.finance.importers.records import Record, TableBuilder
from caselens.finance.transactions import ImportReport

FORMAT = "mt940"
UNIDENTIFIED = "unidentified"
_STATEMENT_TAG = mt940.tags.Tags.STATEMENT.value.id
# What SWIFT allows at the start of a :61: line: value date, optional entry date, mark,
# optional funds code, and an amount with its decimal comma (the library is laxer).
_ENTRY_START = re.compile(r"^\d{6}(\d{4}|\s{4})?R?[CDcd][A-Z]?\s?\d{1,12},\d{0,3}(?![\d,])")
_READ_ERRORS = (RuntimeError, ValueError, KeyError, TypeError, InvalidOperation)


class _Statements(mt940.models.Transactions):
    """The library's statement model, refusing one bad ``:61:`` instead of the file."""

    def __init__(self, lines: list[int]) -> None:
        processors: Any = {"pre_statement": []}  # keep impossible dates impossible
        super().__init__(processors=processors, options=mt940.Options.all())
        self.statement_lines = lines
        self.entries: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        self.refused: list[tuple[int, str]] = []
        self.problems: list[str] = []
        self._seen = -1
        self._skipping = False

    def _process_match(self, match: Any, i: int, valid_matches: Any, data: str) -> None:
        statement = self.normalize_tag_id(match.group("tag")) == _STATEMENT_TAG
        if statement:
            self._seen += 1
            self._skipping = False
        elif self._skipping and match.group("tag") == "86":
            return  # the details of a refused entry
        if statement:
            end = valid_matches[i + 1].start() if i + 1 < len(valid_matches) else len(data)
            if not _ENTRY_START.match(data[match.end() : end].strip()):
                self.refused.append((self._line(), "date, debit/credit mark or amount malformed"))
                self._skipping = True
                return
            if self.transactions and not self.transactions[-1].data.get("id"):
                # The library fills a trailing transaction without a type code instead of
                # starting a new one; give it a fresh one so entries never merge.
                self.transactions.append(mt940.models.Transaction(self))
        before = len(self.transactions)
        try:
            super()._process_match(match, i, valid_matches, data)
        except _READ_ERRORS as err:
            if statement:
                self.refused.append((self._line(), _reason(err)))
                self._skipping = True
                # A failed entry must not keep a half-filled transaction behind.
                del self.transactions[before:]
            else:
                self.problems.append(f"tag :{match.group('full_tag')}: unreadable: {_reason(err)}")
            return
        if statement and self.transactions:
            # The statement-level fields (account, currency) as they stand at this entry.
            self.entries.append((self._line(), self.transactions[-1].data, dict(self.data)))

    def _line(self) -> int:
        if 0 <= self._seen < len(self.statement_lines):
            return self.statement_lines[self._seen]
        return 0


def read(path: Path, mapping: Path | None = None) -> Imported:
    if mapping is not None:
        raise InvalidInput("the mt940 format takes no --mapping")
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read: {err.strerror or err}") from err
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(":61:")]
    if ":20:" not in text or ":25:" not in text:
        raise InvalidInput(f"{path}: not an MT940 statement (no :20: and :25: tags)")
    statements = _Statements(lines)
    statements.parse(text)
    report = ImportReport(format=FORMAT)
    report.warnings.extend(statements.problems)
    builder = TableBuilder(report)
    refused = dict(statements.refused)
    entries = {entry[0]: entry for entry in statements.entries}
    unidentified = 0
    for line in lines:
        if line in refused:
            builder.refuse(line, f"unreadable :61: entry: {refused[line]}")
            continue
        entry = entries.get(line)
        if entry is None:
            builder.refuse(line, "unreadable :61: entry")
            continue
        record = _record(*entry)
        sides = (record.payer or "", record.payee or "")
        unidentified += any(side.startswith(f"{UNIDENTIFIED}:") for side in sides)
        builder.add(record)
    if unidentified:
        report.warnings.append(f"{unidentified} entries name no counterparty ({UNIDENTIFIED}:)")
    return Imported(table=builder.table(), report=report, source_rows=builder.data_rows)


def _record(line: int, entry: dict[str, Any], statement: dict[str, Any]) -> Record:
    own, own_bank = _own_account(statement.get("account_identification"))
    counterparty = _text(entry.get("applicant_iban")) or _text(entry.get("gvc_applicant_iban"))
    counterparty_bank = _text(entry.get("applicant_bin")) or _text(entry.get("gvc_applicant_bin"))
    name = _text(entry.get("applicant_name"))
    if own is not None and counterparty is None:
        counterparty = f"{UNIDENTIFIED}:{own}"
    amount = entry.get("amount")
    value = getattr(amount, "amount", None)
    status = str(entry.get("status") or "").upper()
    credit = status.endswith("C")
    booked = entry.get("entry_date") or entry.get("date")
    record = Record(
        line=line,
        time=_midnight(booked),
        payer=counterparty if credit else own,
        payee=own if credit else counterparty,
        amount=abs(Decimal(value)) if isinstance(value, Decimal) else None,
        currency=getattr(amount, "currency", None),
        tx_id=_text(entry.get("bank_reference")) or _text(entry.get("end_to_end_reference")),
        channel=_text(entry.get("id")),
        reference=_text(entry.get("purpose")) or _text(entry.get("transaction_details")),
    )
    if credit:
        record.payer_bank, record.payer_name, record.payee_bank = counterparty_bank, name, own_bank
    else:
        record.payee_bank, record.payee_name, record.payer_bank = counterparty_bank, name, own_bank
    if status.startswith("R"):
        record.reference = f"reversal: {record.reference or ''}".strip()
    return record


def _own_account(value: object) -> tuple[str | None, str | None]:
    """``:25:`` as an account key: the IBAN, or ``<bank>:<account>`` from ``BANK/ACCOUNT``."""
    text = _text(value)
    if text is None:
        return None, None
    bank, slash, account = text.partition("/")
    if slash and account:
        return f"{bank.strip()}:{account.strip()}", bank.strip()
    return re.sub(r"\s+", "", text), None


def _midnight(value: object) -> datetime | None:
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _reason(err: BaseException) -> str:
    message = err.args[0] if err.args else type(err).__name__
    return str(message)[:200]
