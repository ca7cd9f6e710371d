"""The AMLworld reader: layout, bad rows, the patterns file, and the corpus data set."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from caselens.errors import InvalidInput
from caselens.finance.importers import FORMATS, amlworld, format_for
from caselens.finance.importers.amlworld import read_amlworld
from caselens.finance.transactions import SCHEMA
from tests.conftest import CORPUS, needs_corpus

HEADER = (
    "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
    "Amount Paid,Payment Currency,Payment Format,Is Laundering"
)
GOOD = [
    "2022/09/01 00:20,10,8000EBD30,10,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0",
    "2022/09/01 00:20,3208,8000F4580,1,8000F5340,0.01,US Dollar,0.01,US Dollar,Cheque,0",
    "2022/09/01 00:00,3209,8000F4670,3209,8000F4670,14675.57,Euro,14675.57,EUR,Reinvestment,1",
]
BAD = [
    ("2022/02/30 10:00,1,A,2,B,1.00,US Dollar,1.00,US Dollar,ACH,0", "impossible or unreadable"),
    ("2022/09/02 10:00,1,A,2,B,1.00,US Dollar,1,5,US Dollar,ACH,0", "expected 11 fields"),
    ("2022/09/02 10:00,1,A,2,B,1.00,US Dollar,abc,US Dollar,ACH,0", "unparseable Amount Paid"),
    ("2022/09/02 10:00,1,A,2,B,1.00,US Dollar,1.00,Doubloon,ACH,0", "unknown Payment Currency"),
    ("2022/09/02 10:00,1,,2,B,1.00,US Dollar,1.00,US Dollar,ACH,0", "missing account"),
    ("2022/09/02 10:00,1,A,2,B,1.00,US Dollar,1.00,US Dollar,ACH,2", "Is Laundering"),
]


def write_amlworld(path: Path, lines: list[str]) -> Path:
    text = "\n".join([HEADER, *lines]) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_rows_bad_rows_and_one_record_in_full(tmp_path: Path) -> None:
    # Good and bad rows interleaved, with a blank line (not a data row) in the middle.
    lines = [GOOD[0], BAD[0][0], BAD[1][0], "", GOOD[1], *[bad for bad, _ in BAD[2:]], GOOD[2]]
    imported = read_amlworld(write_amlworld(tmp_path / "x_Trans.csv.gz", lines))
    table = imported.table
    assert table.schema == SCHEMA
    assert imported.report.rows == table.num_rows == 3
    assert imported.report.bad_rows == len(BAD)
    assert imported.source_rows == 9  # blank line excluded
    listed = sorted(imported.report.listed, key=lambda bad: bad.line)
    assert [bad.line for bad in listed] == [3, 4, 7, 8, 9, 10]
    for bad, (_, reason) in zip(listed, BAD, strict=True):
        assert reason in bad.reason
    # Rows keep their position among data rows, so refused rows leave gaps.
    assert table.column("row").to_pylist() == [0, 3, 8]
    assert table.slice(2, 1).to_pylist()[0] == {
        "row": 8,
        "line": 11,
        "tx_id": "8",
        "time": datetime(2022, 9, 1, 0, 0, tzinfo=UTC),
        "ts": 1661990400,
        "payer": "3209:8000F4670",
        "payer_bank": "3209",
        "payer_name": None,
        "payee": "3209:8000F4670",
        "payee_bank": "3209",
        "payee_name": None,
        "amount": 14675.57,
        "currency": "EUR",
        "amount_received": 14675.57,
        "currency_received": "EUR",
        "channel": "Reinvestment",
        "reference": None,
        "label": 1,
    }
    assert imported.attempts == ()


def test_column_reader_and_line_reader_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every line has eleven fields: the column reader takes the file (the line reader is
    # not even asked). A blank line at the end (not a data row) sends the same lines
    # through the line reader.
    lines = [GOOD[0], BAD[0][0], GOOD[1], BAD[2][0], BAD[5][0], GOOD[2]]
    line_reader = amlworld._read_lines
    with monkeypatch.context() as patched:
        patched.setattr(amlworld, "_read_lines", None)
        by_columns = read_amlworld(write_amlworld(tmp_path / "a.csv.gz", lines))
    assert amlworld._read_lines is line_reader
    by_lines = read_amlworld(write_amlworld(tmp_path / "b.csv", [*lines, ""]))
    assert by_columns.table.equals(by_lines.table)
    assert by_columns.table.column("row").to_pylist() == [0, 2, 5]
    assert by_columns.source_rows == by_lines.source_rows == 6
    refused = [(bad.line, bad.reason) for bad in by_columns.report.listed]
    assert refused == [(bad.line, bad.reason) for bad in by_lines.report.listed]
    assert sorted(line for line, _ in refused) == [3, 5, 6]
    assert any(reason.endswith(BAD[2][0]) for _, reason in refused)  # the line as read


def test_patterns_file_gives_attempts_with_row_numbers(tmp_path: Path) -> None:
    source = write_amlworld(tmp_path / "HI-Tiny_Trans.csv", [*GOOD, GOOD[2]])
    (tmp_path / "HI-Tiny_Patterns.txt").write_text(
        "BEGIN LAUNDERING ATTEMPT - CYCLE:  Max 2 hops\n"
        f"{GOOD[2]}\n{GOOD[2]}\n"
        "END LAUNDERING ATTEMPT - CYCLE\n\n"
        "BEGIN LAUNDERING ATTEMPT - FAN-OUT\n"
        f"{GOOD[1]}\n"
        "2030/01/01 00:00,1,NOPE,2,NOPE,1.00,US Dollar,1.00,US Dollar,ACH,1\n"
        "END LAUNDERING ATTEMPT - FAN-OUT\n"
    )
    assert format_for("amlworld").companions(source) == (tmp_path / "HI-Tiny_Patterns.txt",)
    imported = read_amlworld(source)
    first, second = imported.attempts
    assert (first.typology, first.detail, first.line, first.rows) == (
        "CYCLE",
        "Max 2 hops",
        1,
        (2, 3),
    )
    assert (second.typology, second.detail, second.rows) == ("FAN-OUT", None, (1,))
    assert imported.companions == (tmp_path / "HI-Tiny_Patterns.txt",)
    assert any("1 transaction lines" in warning for warning in imported.report.warnings)


def test_not_amlworld_is_refused_as_a_whole(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("date,amount\n2022-01-01,1\n")
    with pytest.raises(InvalidInput, match="not the AMLworld layout"):
        read_amlworld(other)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InvalidInput, match="empty file"):
        read_amlworld(empty)
    with pytest.raises(InvalidInput, match="no --mapping"):
        FORMATS["amlworld"].read(other, other)


@needs_corpus
def test_corpus_gentex_counts_and_attempts() -> None:
    folder = CORPUS / "aml"
    source = folder / "GENTEX-A_Trans.csv.gz"
    if not source.is_file():
        pytest.skip("GENTEX-A not in the corpus")
    summary = json.loads((folder / "GENTEX-A_summary.json").read_text())
    imported = read_amlworld(source)
    table = imported.table
    assert table.num_rows == summary["rows_written"] == 1_602_730
    assert imported.report.bad_rows == 0
    assert pc.sum(table.column("label")).as_py() == summary["illicit_rows"] == 2_628
    assert len(imported.attempts) == 255
    labelled = set(pc.filter(table.column("row"), pc.equal(table.column("label"), 1)).to_pylist())
    assert {row for attempt in imported.attempts for row in attempt.rows} == labelled
    by_type: dict[str, int] = {}
    for attempt in imported.attempts:
        by_type[attempt.typology] = by_type.get(attempt.typology, 0) + 1
    assert by_type == {name: v["instances"] for name, v in summary["patterns_by_type"].items()}
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["payer"], first["payee"], first["amount"], first["channel"]) == (
        "1956:395086E57",
        "2393:62D56DB5B",
        601.31,
        "Credit Card",
    )
