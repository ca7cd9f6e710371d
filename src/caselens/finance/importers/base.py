"""What every transaction reader returns: the table, the report, and what came with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from caselens.finance.transactions import ImportReport


@dataclass(frozen=True, slots=True)
class LaunderingAttempt:
    """One labelled laundering attempt of a data set (AMLworld ``*_Patterns.txt``)."""

    typology: str  # as the source names it: FAN-IN, CYCLE, SCATTER-GATHER, ...
    detail: str | None  # the text after the typology ("Max 10 hops"), if any
    line: int  # line of its BEGIN marker in the patterns file
    rows: tuple[int, ...]  # ``row`` numbers of its transactions in the dataset

    def as_dict(self) -> dict[str, Any]:
        return {
            "typology": self.typology,
            "detail": self.detail,
            "line": self.line,
            "rows": list(self.rows),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunderingAttempt:
        return cls(data["typology"], data.get("detail"), int(data["line"]), tuple(data["rows"]))


@dataclass(frozen=True, slots=True)
class Imported:
    """A reader's result: valid rows in :data:`~caselens.finance.transactions.SCHEMA`."""

    table: pa.Table
    report: ImportReport
    source_rows: int  # data rows in the source, refused ones included: ``row`` runs below it
    # Files read beside the source (a patterns file): evidence of the case as well.
    companions: tuple[Path, ...] = ()
    attempts: tuple[LaunderingAttempt, ...] = ()
    # How the source was read (the mapping, as given), kept with the dataset's report.
    options: dict[str, Any] = field(default_factory=dict)


class Reader(Protocol):
    """Read one file; bad rows go to the report, a file not of the format raises
    :class:`~caselens.errors.InvalidInput`."""

    def __call__(self, path: Path, mapping: Path | None = None) -> Imported: ...


def _no_companions(path: Path) -> tuple[Path, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class TransactionFormat:
    """A registered format: its reader and the files it reads beside the source."""

    name: str
    read: Reader
    # Files beside ``path`` that the reader will read too (AMLworld's patterns file),
    # so that they are acquired as evidence with the source and read from the store.
    companions: Callable[[Path], tuple[Path, ...]] = _no_companions
    takes_mapping: bool = False
    description: str = ""
