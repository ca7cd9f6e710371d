"""The one columnar layout every transaction importer writes and every engine reads.

A row is one payment from a payer account to a payee account. Account keys are what the
source calls the account, made unique within the import (AMLworld: ``"<bank>:<account>"``;
statements and ISO 20022 messages: the IBAN, else ``"<BIC or bank>:<account number>"``).
``ts`` repeats ``time`` as whole seconds since the epoch (UTC) because window frames over
an integer (``RANGE BETWEEN 86400 PRECEDING AND CURRENT ROW``) read the same in DuckDB
and in Spark SQL, which is how one definition of a detector or a feature runs on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# 0-based position of the transaction among the data rows of its source, in file order
# (header excluded): the ``row`` of ``aml score`` output and the key of every alert.
ROW = "row"

SCHEMA = pa.schema(
    [
        pa.field(ROW, pa.int64(), nullable=False),
        # 1-based line (CSV, MT940) or element number (XML) in the source, for the analyst.
        pa.field("line", pa.int64()),
        # The source's own reference when it has one (end-to-end id, bank reference),
        # else "<row>"; unique within the import.
        pa.field("tx_id", pa.string(), nullable=False),
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("ts", pa.int64(), nullable=False),  # seconds since 1970-01-01T00:00:00Z
        pa.field("payer", pa.string(), nullable=False),
        pa.field("payer_bank", pa.string()),
        pa.field("payer_name", pa.string()),
        pa.field("payee", pa.string(), nullable=False),
        pa.field("payee_bank", pa.string()),
        pa.field("payee_name", pa.string()),
        # What the payer paid, in ``currency`` (ISO 4217; XBT for bitcoin).
        pa.field("amount", pa.float64(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        # What the payee received: equal to the above unless the source says otherwise.
        pa.field("amount_received", pa.float64(), nullable=False),
        pa.field("currency_received", pa.string(), nullable=False),
        pa.field("channel", pa.string()),  # payment format: ACH, Wire, Cheque, Card, Cash...
        pa.field("reference", pa.string()),  # remittance information, purpose
        # Ground truth where the source has it (AMLworld "Is Laundering"), else null.
        pa.field("label", pa.int8()),
    ]
)
COLUMNS = tuple(SCHEMA.names)


@dataclass(frozen=True, slots=True)
class BadRow:
    """A source row that could not be read: where it is and why, in the analyst's words."""

    line: int  # 1-based line (or element number) in the source file
    reason: str


@dataclass(slots=True)
class ImportReport:
    """What an import read: rows kept, rows refused (the first ``MAX_LISTED`` listed)."""

    format: str
    rows: int = 0
    bad_rows: int = 0
    listed: list[BadRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    MAX_LISTED = 1000

    def refuse(self, line: int, reason: str) -> None:
        self.bad_rows += 1
        if len(self.listed) < self.MAX_LISTED:
            self.listed.append(BadRow(line, reason))
