"""Fund tracing on hand-built files: every figure below is worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from caselens.errors import InvalidInput, NotFound
from caselens.finance.trace import Direction, TraceRequest, trace
from caselens.finance.trace_ledger import Method
from caselens.finance.trace_result import TraceResult
from tests.finance.test_trace_rows import MULE, START, write_transactions


@pytest.fixture
def mule(tmp_path: Path) -> Path:
    return write_transactions(tmp_path / "mule.parquet", MULE)


def carried(result: TraceResult) -> dict[tuple[int, int], float]:
    """(hop, row) -> amount of traced money carried."""
    found: dict[tuple[int, int], float] = {}
    for flow in result.flows:
        found[(flow.hop, flow.row)] = found.get((flow.hop, flow.row), 0.0) + flow.amount
    return found


def test_fifo_spends_the_older_lot_first_and_splits_a_partial_lot(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, method=Method.FIFO, hops=3))
    # M holds 260 of O's money when V's 100 arrives: X's 250 is all O's; Y's 100 is
    # O's last 10 and 90 of V's; Z's 80 is V's last 10 and 70 M never recorded receiving.
    assert carried(result) == pytest.approx(
        {(1, 2): 100.0, (2, 4): 90.0, (2, 5): 10.0, (3, 6): 90.0}
    )
    assert result.seeds == [2]
    first = next(flow for flow in result.flows if flow.row == 4)
    assert first.as_dict() == {
        "hop": 2,
        "row": 4,
        "tx_id": "T0004",
        "time": "2024-03-01T13:00:00+00:00",
        "from": "M",
        "to": "Y",
        "amount": pytest.approx(90.0),
        "currency": "EUR",
        "share": pytest.approx(0.9),
        "origin": 2,
    }
    # The payment M made before the money arrived never carries it.
    assert "W" not in result.nodes and "X" not in result.nodes
    mule_node = result.nodes["M"]
    assert (mule_node.traced_in, mule_node.traced_out) == pytest.approx((100.0, 100.0))
    assert result.nodes["Q"].followed is False  # reached at the last hop, not read on
    assert result.nodes["Z"].traced_in == pytest.approx(10.0)


def test_lifo_spends_the_newest_lot_first(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, method=Method.LIFO, hops=3))
    # X's 250 takes all of V's 100 first, then 150 of O's; Y and Z get only O's money.
    assert carried(result) == pytest.approx({(1, 2): 100.0, (2, 3): 100.0})
    assert next(f for f in result.flows if f.row == 3).share == pytest.approx(0.4)
    assert set(result.nodes) == {"V", "M", "X"}
    assert result.nodes["X"].followed is True


def test_pro_rata_takes_the_same_fraction_of_every_lot(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, method=Method.PRO_RATA, hops=2))
    # M holds 360, 100 of it traced: X's 250 takes 250/360 of it, leaving 110 (30.56
    # traced); Y's 100 takes 100/110 of that; Z's 80 empties the remaining 10.
    assert carried(result) == pytest.approx(
        {(1, 2): 100.0, (2, 3): 625 / 9, (2, 4): 250 / 9, (2, 5): 25 / 9}
    )
    assert sum(f.amount for f in result.flows if f.hop == 2) == pytest.approx(100.0)


def test_a_cycle_back_to_the_source_is_traced_again_at_its_own_hop(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, method=Method.FIFO, hops=5))
    # Y -> Q -> V brings 90 of V's own money back to V; V's next payment (50 to M)
    # spends the first 50 of that lot, 45 of which is traced.
    assert carried(result)[(4, 7)] == pytest.approx(90.0)
    assert carried(result)[(5, 8)] == pytest.approx(45.0)
    source = result.nodes["V"]
    assert (source.first_hop, source.traced_in, source.traced_out) == pytest.approx(
        (1, 90.0, 145.0)
    )
    assert result.nodes["M"].traced_in == pytest.approx(145.0)
    assert [flow.origin for flow in result.flows] == [2] * len(result.flows)


def test_a_hop_that_would_go_back_in_time_is_refused(tmp_path: Path) -> None:
    # B pays C an hour before A's money reaches B, and pays D after: only D's is traced.
    path = write_transactions(
        tmp_path / "t.parquet", [("B", "C", 50.0, 0), ("A", "B", 50.0, 1), ("B", "D", 50.0, 2)]
    )
    for method in Method:
        result = trace(path, TraceRequest(row=1, method=method, hops=4))
        assert carried(result) == pytest.approx({(1, 1): 50.0, (2, 2): 50.0}), method
        assert "C" not in result.nodes


def test_same_time_payments_follow_file_order(tmp_path: Path) -> None:
    # Day-dated statements: both on the same day, the onward payment booked after.
    path = write_transactions(
        tmp_path / "t.parquet", [("B", "C", 30.0, 0), ("A", "B", 30.0, 0), ("B", "D", 30.0, 0)]
    )
    result = trace(path, TraceRequest(row=1, hops=2))
    assert carried(result) == pytest.approx({(1, 1): 30.0, (2, 2): 30.0})


def test_backward_fifo_finds_the_lots_that_funded_a_payment(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=4, direction=Direction.BACKWARD, hops=3))
    assert carried(result) == pytest.approx({(1, 4): 100.0, (2, 0): 10.0, (2, 2): 90.0})
    # Neither O nor V received anything before paying: the data shows no source.
    assert result.nodes["O"].unexplained == pytest.approx(10.0)
    assert result.nodes["V"].unexplained == pytest.approx(90.0)


def test_backward_pro_rata_agrees_with_forward_pro_rata(mule: Path) -> None:
    backward = trace(
        mule, TraceRequest(row=4, direction=Direction.BACKWARD, method=Method.PRO_RATA, hops=2)
    )
    # Of Y's 100, the victim's share is what the forward trace gave Y: 250/9.
    assert carried(backward) == pytest.approx({(1, 4): 100.0, (2, 0): 650 / 9, (2, 2): 250 / 9})


def test_backward_lifo_and_the_window(mule: Path) -> None:
    request = TraceRequest(row=3, direction=Direction.BACKWARD, method=Method.LIFO, hops=2)
    assert carried(trace(mule, request)) == pytest.approx(
        {(1, 3): 250.0, (2, 2): 100.0, (2, 0): 150.0}
    )
    # Starting the window after O's payment leaves only the victim's lot.
    late = TraceRequest(
        row=3,
        direction=Direction.BACKWARD,
        method=Method.LIFO,
        hops=2,
        since=START.replace(hour=10),
    )
    result = trace(mule, late)
    assert carried(result) == pytest.approx({(1, 3): 250.0, (2, 2): 100.0})
    assert result.stats["flows_before_window"] == 1


def test_minimum_amount_and_hop_limit_stop_a_chain(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, hops=3, min_amount=20.0))
    assert carried(result) == pytest.approx({(1, 2): 100.0, (2, 4): 90.0, (3, 6): 90.0})
    assert result.stats["flows_below_minimum"] == 1
    assert carried(trace(mule, TraceRequest(row=2, hops=1))) == {(1, 2): 100.0}


def test_forward_stops_at_the_horizon(mule: Path) -> None:
    result = trace(mule, TraceRequest(row=2, hops=5, until=START.replace(hour=13)))
    assert carried(result) == pytest.approx({(1, 2): 100.0, (2, 4): 90.0})


def test_an_account_start_traces_each_of_its_payments(mule: Path) -> None:
    result = trace(mule, TraceRequest(account="V", hops=2))
    # V paid M twice: 100 at 11:00 and 50 at 17:00, each its own origin.
    assert result.seeds == [2, 8]
    assert {(f.hop, f.row, f.origin) for f in result.flows} == {
        (1, 2, 2),
        (1, 8, 8),
        (2, 4, 2),
        (2, 5, 2),
    }
    backward = trace(mule, TraceRequest(account="Z", direction=Direction.BACKWARD, hops=2))
    assert backward.seeds == [5]
    assert carried(backward) == pytest.approx({(1, 5): 80.0, (2, 2): 10.0})
    assert backward.nodes["M"].unexplained == pytest.approx(70.0)
    assert trace(mule, TraceRequest(account="V", since=START.replace(hour=20))).flows == []


def test_money_that_changes_currency_keeps_its_share(tmp_path: Path) -> None:
    # A pays 100 EUR that B receives as 90 GBP; B pays 45 GBP on (half of the lot).
    path = write_transactions(
        tmp_path / "fx.parquet",
        [("A", "B", 100.0, 0), ("B", "C", 45.0, 1)],
        received={0: (90.0, "GBP")},
    )
    result = trace(path, TraceRequest(row=0, hops=2))
    assert carried(result) == pytest.approx({(1, 0): 100.0, (2, 1): 45.0})
    assert result.nodes["B"].traced_in == pytest.approx(90.0)
    assert result.nodes["B"].currency == "GBP"
    back = trace(path, TraceRequest(row=1, direction=Direction.BACKWARD, hops=2))
    assert carried(back) == pytest.approx({(1, 1): 45.0, (2, 0): 50.0})


def test_limits_are_reported(tmp_path: Path) -> None:
    path = write_transactions(
        tmp_path / "fan.parquet",
        [("A", "B", 90.0, 0)] + [("B", f"C{i}", 10.0, 1 + i) for i in range(9)],
    )
    result = trace(path, TraceRequest(row=0, hops=3, max_flows=4))
    assert len(result.flows) == 4 and result.stats["truncated"] is True
    capped = trace(path, TraceRequest(row=0, hops=3, max_accounts=1))
    assert capped.stats["truncated"] is True
    assert capped.stats["accounts_not_followed"] == 9


def test_bad_requests_are_refused_clearly(mule: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no row 99"):
        trace(mule, TraceRequest(row=99))
    with pytest.raises(NotFound, match="'NOBODY' does not appear"):
        trace(mule, TraceRequest(account="NOBODY"))
    with pytest.raises(InvalidInput, match="not both"):
        trace(mule, TraceRequest(row=1, account="V"))
    with pytest.raises(InvalidInput, match="hops"):
        trace(mule, TraceRequest(row=1, hops=0))
    other = tmp_path / "other.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"row": [1]}), other)
    with pytest.raises(InvalidInput, match="not in the transactions layout"):
        trace(other, TraceRequest(row=1))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(InvalidInput, match="cannot read"):
        trace(broken, TraceRequest(row=1))
