"""Readers of mapped CSV/XLSX, MT940, camt.053, pain.001 and pacs.008, and the registry."""

from __future__ import annotations

import csv
import importlib
import json
import pkgutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

import caselens.finance.importers as importers
from caselens.cli.app import main
from caselens.errors import InvalidInput
from caselens.finance.importers import FORMATS
from caselens.finance.importers.base import Imported
from caselens.finance.transactions import SCHEMA
from caselens.services import Caselens
from tests.conftest import ADMIN

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "docs" / "examples" / "transactions-mapping.yaml"


def _read(format_name: str, name: str, mapping: Path | None = None) -> Imported:
    imported = FORMATS[format_name].read(FIXTURES / name, mapping)
    assert imported.table.schema == SCHEMA
    assert imported.report.rows == imported.table.num_rows
    assert imported.source_rows == imported.report.rows + imported.report.bad_rows
    return imported


def _refused(imported: Imported) -> list[tuple[int, str]]:
    return sorted((bad.line, bad.reason) for bad in imported.report.listed)


def test_every_reader_module_is_registered() -> None:
    helpers = {"base", "checks", "values", "times", "records", "tabular", "mapping"}
    helpers |= {"iso20022", "credit_transfers", "amlworld_patterns"}
    registered = {entry.read.__module__ for entry in FORMATS.values()}
    for module in pkgutil.iter_modules(importers.__path__):
        if module.name in helpers:
            continue
        loaded = importlib.import_module(f"caselens.finance.importers.{module.name}")
        assert loaded.__name__ in registered, f"{module.name} has no entry in FORMATS"
        assert FORMATS[loaded.FORMAT].read is loaded.read
    assert sorted(FORMATS) == ["amlworld", "camt053", "csv", "mt940", "pacs008", "pain001"]


def test_mapped_csv() -> None:
    imported = _read("csv", "bank-export.csv", MAPPING)
    assert imported.source_rows == 9  # the blank line is not a data row
    refused = _refused(imported)
    assert [line for line, _ in refused] == [5, 6, 7, 8, 10, 11]
    assert "impossible" in refused[0][1] and "31.02.2024" in refused[0][1]
    assert "unparseable amount" in refused[1][1]
    assert "unknown ISO 4217 currency" in refused[2][1]
    assert "missing account" in refused[3][1]
    assert "impossible" in refused[4][1]  # 02:30 on the night Berlin skips that hour
    assert "expected 12 fields" in refused[5][1]
    rows = imported.table.to_pylist()
    assert [row["tx_id"] for row in rows] == ["R-001", "R-002", "R-009"]
    # A quoted value over two lines: the record starts on line 3, the next on line 5.
    assert rows[1]["reference"] == "Weiterleitung\nzweite Zeile"
    assert rows[2] == {
        "row": 8,
        "line": 12,
        "tx_id": "R-009",
        "time": datetime(2024, 3, 3, 9, 30, tzinfo=UTC),  # 10:30 in Berlin (CET)
        "ts": 1709458200,
        "payer": "DE75512108001245126199",
        "payer_bank": "SOGEDEFFXXX",
        "payer_name": "Carl Dorn",
        "payee": "DE89370400440532013000",
        "payee_bank": "COBADEFFXXX",
        "payee_name": "Anna Berg",
        "amount": 12345.67,
        "currency": "EUR",
        "amount_received": 12345.67,
        "currency_received": "EUR",
        "channel": "Bar",
        "reference": "Bargeld",
        "label": None,
    }
    assert imported.options["mapping_name"] == "transactions-mapping.yaml"


def test_xlsx_with_typed_cells(tmp_path: Path) -> None:
    with (FIXTURES / "bank-export.csv").open(newline="", encoding="utf-8") as handle:
        records = [r for r in csv.reader(handle, delimiter=";") if r]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Umsaetze"
    sheet.append(records[0])
    for record in records[1:3]:
        sheet.append(record)
    # Typed cells: a real date-time and a number, read as the mapping says text looks.
    sheet.append(["X-1", datetime(2024, 3, 4, 12, 0), "Anna Berg", "DE89370400440532013000",
                  "COBADEFFXXX", "Carl Dorn", "DE75512108001245126199", "SOGEDEFFXXX", 99.5,
                  "EUR", "SEPA", "typed"])  # fmt: skip
    sheet.append(["X-2", "30.02.2024 10:00", "Anna Berg", "DE89370400440532013000", "",
                  "Carl Dorn", "DE75512108001245126199", "", "1,00", "EUR", "SEPA",
                  "bad"])  # fmt: skip
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    imported = FORMATS["csv"].read(path, MAPPING)
    assert imported.table.column("tx_id").to_pylist() == ["R-001", "R-002", "X-1"]
    typed = imported.table.to_pylist()[2]
    assert (typed["line"], typed["amount"], typed["time"]) == (
        4,
        99.5,
        datetime(2024, 3, 4, 11, 0, tzinfo=UTC),
    )
    assert [(bad.line, "impossible" in bad.reason) for bad in imported.report.listed] == [(5, True)]


def test_mapping_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs --mapping"):
        FORMATS["csv"].read(FIXTURES / "bank-export.csv", None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {payer: A, payee: B, amount: C, time: D, colour: E}\n")
    with pytest.raises(InvalidInput, match="colour"):
        FORMATS["csv"].read(FIXTURES / "bank-export.csv", bad)
    bad.write_text("columns: {payer: A, payee: B, amount: C, time: D}\ncurrency: EUR\n")
    with pytest.raises(InvalidInput, match="no column 'A'"):
        FORMATS["csv"].read(FIXTURES / "bank-export.csv", bad)


def test_mt940_statement() -> None:
    imported = _read("mt940", "statement.mt940")
    assert _refused(imported) == [
        (9, "unreadable :61: entry: day is out of range for month"),
        (11, "unreadable :61: entry: date, debit/credit mark or amount malformed"),
    ]
    rows = imported.table.to_pylist()
    own = "DE02120300000000202051"
    # Credit: paid to the statement account; debit: paid from it.
    assert [(r["payer"], r["payee"], r["amount"]) for r in rows] == [
        ("DE89370400440532013000", own, 1250.0),
        (own, "DE75512108001245126199", 1200.0),
        (own, f"unidentified:{own}", 40.0),
    ]
    assert rows[0] == {
        "row": 0,
        "line": 5,
        "tx_id": "B-1001",
        "time": datetime(2024, 3, 1, tzinfo=UTC),
        "ts": 1709251200,
        "payer": "DE89370400440532013000",
        "payer_bank": "COBADEFFXXX",
        "payer_name": "Anna Berg",
        "payee": own,
        "payee_bank": None,
        "payee_name": None,
        "amount": 1250.0,
        "currency": "EUR",
        "amount_received": 1250.0,
        "currency_received": "EUR",
        "channel": "NTRF",
        "reference": "Rechnung 17 Miete",
        "label": None,
    }


def test_camt053_statement() -> None:
    imported = _read("camt053", "statement.camt053.xml")
    assert _refused(imported) == [
        (46, "impossible or unreadable date"),
        (52, "unknown ISO 4217 currency 'EUX'"),
        (57, "unparseable amount"),
    ]
    rows = imported.table.to_pylist()
    own = "DE02120300000000202051"
    assert [(r["payer"], r["payee"], r["tx_id"]) for r in rows] == [
        ("DE89370400440532013000", own, "E2E-RENT-17"),
        (own, "DE75512108001245126199", "B-1002"),
        (own, f"unidentified:{own}", "B-1005"),
    ]
    assert rows[1]["time"] == datetime(2024, 3, 1, 10, 40, tzinfo=UTC)  # 11:40+01:00
    assert (rows[0]["payer_name"], rows[0]["payer_bank"], rows[0]["payee_bank"]) == (
        "Anna Berg",
        "COBADEFFXXX",
        "BYLADEM1001",
    )
    assert rows[0]["reference"] == "Rechnung 17 Miete" and rows[0]["channel"] == "ESCT"


def test_camt053_older_namespace_reads_alike(tmp_path: Path) -> None:
    text = (FIXTURES / "statement.camt053.xml").read_text()
    old = text.replace("camt.053.001.08", "camt.053.001.02").replace("BICFI>", "BIC>")
    (tmp_path / "old.xml").write_text(old)
    again = FORMATS["camt053"].read(tmp_path / "old.xml")
    assert again.table.drop(["line"]).equals(
        _read("camt053", "statement.camt053.xml").table.drop(["line"])
    )
    with pytest.raises(InvalidInput, match=r"not an ISO 20022 camt\.053"):
        FORMATS["camt053"].read(FIXTURES / "payments.pain001.xml")


def test_pain001_initiation() -> None:
    imported = _read("pain001", "payments.pain001.xml")
    assert _refused(imported) == [(22, "negative amount"), (28, "missing account")]
    first, last = imported.table.to_pylist()
    assert (first["payer"], first["payee"], first["amount"], first["tx_id"]) == (
        "DE02120300000000202051",
        "DE75512108001245126199",
        480.0,
        "I-1",
    )
    assert (last["payee"], last["currency"], last["time"]) == (
        "NWBKGB2L:60161331926819",
        "GBP",
        datetime(2024, 3, 4, tzinfo=UTC),
    )


def test_pacs008_transfers() -> None:
    imported = _read("pacs008", "transfers.pacs008.xml")
    assert _refused(imported) == [(23, "impossible or unreadable date"), (32, "no currency given")]
    (row,) = imported.table.to_pylist()
    assert (row["tx_id"], row["payee"], row["payee_bank"], row["amount"], row["channel"]) == (
        "eb6305c9-1f7f-49de-aed0-16487c27b42d",
        "LU280019400644750000",
        "BCEELULL",
        470.0,
        "CLRG",
    )


def test_cli_import_and_list(
    app: Caselens, case: str, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--as", ADMIN.user, "tx", "import", case, str(FIXTURES / "statement.camt053.xml")]
    assert main([*args, "--format", "camt053", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["rows"], shown["bad_rows"], shown["refused"][0]["line"]) == (3, 3, 46)
    assert main([*args, "--format", "camt053"]) == 0
    assert "already imported" in capsys.readouterr().out
    assert main(["--as", ADMIN.user, "tx", "list", case, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["format"], d["rows"]) for d in listed] == [
        ("statement.camt053.xml", "camt053", 3)
    ]
    assert main([*args, "--format", "pacs008"]) == 2
    assert "not an ISO 20022 pacs.008" in capsys.readouterr().err
