"""Each typology detector on a hand-built file where it must fire, and on a near miss
where it must not (the same shape with one thing wrong: too few, too slow, too late)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from caselens.errors import InvalidInput
from caselens.finance.detect import DETECTORS, Finding, plan
from caselens.finance.detect.run import detect_duckdb
from tests.finance.test_trace_rows import write_transactions

Payment = tuple[str, str, float, float]  # payer, payee, amount (EUR), hours after START


def run(tmp_path: Path, name: str, payments: list[Payment], **parameters: Any) -> list[Finding]:
    ordered = sorted(payments, key=lambda payment: payment[3])
    path = write_transactions(tmp_path / f"{name}.parquet", ordered)
    overrides: Mapping[str, Mapping[str, Any]] = {name: parameters} if parameters else {}
    return detect_duckdb(path, plan([name], overrides))


def fan_in(payers: int, hours_apart: float) -> list[Payment]:
    return [(f"P{i}", "HUB", 900.0 + i, i * hours_apart) for i in range(payers)]


def test_fan_in_fires_on_five_payers_in_a_week(tmp_path: Path) -> None:
    found = run(tmp_path, "fan_in", fan_in(5, 30))
    assert len(found) == 1
    alert = found[0]
    assert alert.anchor == "HUB" and alert.rows == (0, 1, 2, 3, 4)
    assert set(alert.accounts) == {"HUB", "P0", "P1", "P2", "P3", "P4"}
    assert alert.measure == 5 and alert.score == pytest.approx(0.5)
    assert "received from 5 distinct accounts within 7 days" in alert.explanation


def test_fan_in_near_miss_spread_over_more_than_the_window(tmp_path: Path) -> None:
    # Five payers, but 45 hours apart: never more than four inside one week.
    assert run(tmp_path, "fan_in", fan_in(5, 45)) == []
    # Four payers paying twice each are still four counterparties.
    twice = fan_in(4, 5) + [(f"P{i}", "HUB", 100.0, 30 + i) for i in range(4)]
    assert run(tmp_path, "fan_in", twice) == []


def test_fan_in_leaves_out_busy_shops(tmp_path: Path) -> None:
    # A shop with many customers over the dataset is not a collection account.
    customers = [(f"C{i}", "SHOP", 20.0, i * 0.5) for i in range(8)]
    assert run(tmp_path, "fan_in", customers, hub_limit=6) == []
    assert len(run(tmp_path, "fan_in", customers, hub_limit=0)) == 1


def test_fan_out_fires_and_near_miss(tmp_path: Path) -> None:
    spread = [("SRC", f"Q{i}", 500.0, float(i)) for i in range(6)]
    found = run(tmp_path, "fan_out", spread)
    assert [f.anchor for f in found] == ["SRC"] and found[0].measure == 6
    assert run(tmp_path, "fan_out", spread[:4]) == []


def test_fan_in_episodes_are_one_alert_each(tmp_path: Path) -> None:
    # Two bursts of five payers a month apart: two alerts, not one per window.
    bursts = fan_in(5, 2) + [(f"R{i}", "HUB", 700.0, 24 * 30 + i) for i in range(5)]
    found = run(tmp_path, "fan_in", bursts)
    assert sorted(f.rows for f in found) == [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]


def gather_scatter(out_hours: float) -> list[Payment]:
    incoming = [(f"S{i}", "HUB", 1000.0, float(i)) for i in range(3)]
    outgoing = [("HUB", f"D{i}", 950.0, out_hours + i) for i in range(3)]
    return incoming + outgoing


def test_gather_scatter_fires_when_money_leaves_soon(tmp_path: Path) -> None:
    found = run(tmp_path, "gather_scatter", gather_scatter(10))
    assert len(found) == 1
    assert found[0].rows == (0, 1, 2, 3, 4, 5)
    assert (found[0].measure, found[0].second_measure) == (3, 3)


def test_gather_scatter_near_miss_money_leaves_too_late(tmp_path: Path) -> None:
    assert run(tmp_path, "gather_scatter", gather_scatter(24 * 4)) == []


def scatter_gather(intermediaries: int, second_leg_hours: float) -> list[Payment]:
    legs: list[Payment] = []
    for i in range(intermediaries):
        legs.append(("SRC", f"M{i}", 1000.0, float(i)))
        legs.append((f"M{i}", "DST", 980.0, i + second_leg_hours))
    return legs


def test_scatter_gather_fires_on_three_parallel_paths(tmp_path: Path) -> None:
    found = run(tmp_path, "scatter_gather", scatter_gather(3, 5))
    assert len(found) == 1
    alert = found[0]
    assert alert.anchor == "SRC" and set(alert.accounts) == {"SRC", "DST", "M0", "M1", "M2"}
    assert alert.tx_count == 6 and alert.amount == pytest.approx(3000.0)


def test_scatter_gather_near_misses(tmp_path: Path) -> None:
    assert run(tmp_path, "scatter_gather", scatter_gather(2, 5)) == []  # two paths only
    assert run(tmp_path, "scatter_gather", scatter_gather(3, 24 * 4)) == []  # too slow
    # The intermediaries pay before they are paid: no money passes through them.
    backwards = [(p, q, a, (h + 20) if p == "SRC" else h) for p, q, a, h in scatter_gather(3, 5)]
    assert run(tmp_path, "scatter_gather", backwards) == []


def cycle(amounts: list[float], hours: list[float]) -> list[Payment]:
    accounts = [f"C{i}" for i in range(len(amounts))]
    return [
        (accounts[i], accounts[(i + 1) % len(accounts)], amounts[i], hours[i])
        for i in range(len(amounts))
    ]


def test_cycle_fires_on_money_coming_back(tmp_path: Path) -> None:
    found = run(tmp_path, "cycle", cycle([5000, 4900, 4800, 4700], [0, 5, 9, 20]))
    assert len(found) == 1
    alert = found[0]
    assert alert.anchor == "C0" and alert.accounts == ("C0", "C1", "C2", "C3")
    assert alert.rows == (0, 1, 2, 3) and alert.measure == 4
    assert alert.score == pytest.approx(0.5 + 0.5 * 4700 / 5000)
    assert "C0 -> C1 -> C2 -> C3 -> C0" in alert.explanation


def test_cycle_near_misses(tmp_path: Path) -> None:
    # A hop back in time: the last payment happens before the one that would feed it.
    assert run(tmp_path, "cycle", cycle([5000, 4900, 4800], [0, 5, 3])) == []
    # An amount outside the tolerance breaks the chain.
    assert run(tmp_path, "cycle", cycle([5000, 2000, 1950], [0, 5, 9])) == []
    # A refund (two hops) is not a cycle by default, but is with min_hops=2.
    refund = cycle([300, 300], [0, 2])
    assert run(tmp_path, "cycle", refund) == []
    assert len(run(tmp_path, "cycle", refund, min_hops=2)) == 1
    # Longer than the window.
    assert run(tmp_path, "cycle", cycle([5000, 4900, 4800], [0, 100, 200])) == []


def test_cycle_of_ten_hops_is_found_once(tmp_path: Path) -> None:
    amounts = [1000.0 - 5 * i for i in range(10)]
    found = run(tmp_path, "cycle", cycle(amounts, [float(i) for i in range(10)]))
    assert [f.measure for f in found] == [10]


def bipartite(sources: int, destinations: int) -> list[Payment]:
    return [
        (f"S{s}", f"T{t}", 700.0, float(s * destinations + t))
        for s in range(sources)
        for t in range(destinations)
    ]


def test_bipartite_fires_on_sources_paying_the_same_destinations(tmp_path: Path) -> None:
    found = run(tmp_path, "bipartite", bipartite(3, 3))
    assert len(found) == 1
    assert found[0].tx_count == 9 and (found[0].measure, found[0].second_measure) == (3, 3)


def test_bipartite_near_miss_one_source_pays_elsewhere(tmp_path: Path) -> None:
    payments = bipartite(3, 3)
    payments[-1] = ("S2", "OTHER", 700.0, payments[-1][3])
    assert run(tmp_path, "bipartite", payments) == []


def stack(middle_pays: list[str]) -> list[Payment]:
    payments: list[Payment] = []
    for first in ("A1", "A2"):
        payments += [(first, "M1", 800.0, 0.0), (first, "M2", 800.0, 1.0)]
    payments += [("M1", target, 790.0, 10.0) for target in ("Z1", "Z2")]
    payments += [("M2", target, 790.0, 11.0) for target in middle_pays]
    return payments


def test_stack_fires_on_three_layers(tmp_path: Path) -> None:
    found = run(tmp_path, "stack", stack(["Z1", "Z2"]))
    assert len(found) == 1
    assert found[0].measure == 2 and found[0].tx_count == 8
    assert set(found[0].accounts) == {"M1", "M2", "A1", "A2", "Z1", "Z2"}


def test_stack_near_miss_middle_accounts_pay_different_layers(tmp_path: Path) -> None:
    assert run(tmp_path, "stack", stack(["Z1", "Z3"])) == []


def test_structuring_fires_on_repeated_amounts_under_the_threshold(tmp_path: Path) -> None:
    payments = [("SMURF", f"R{i % 2}", 9_600.0 + i, i * 20.0) for i in range(4)]
    found = run(tmp_path, "structuring", payments)
    assert len(found) == 1 and found[0].measure == 4
    assert "between 9,000.00 and 10,000.00" in found[0].explanation


def test_structuring_near_misses(tmp_path: Path) -> None:
    at_threshold = [("SMURF", "R", 10_000.0, i * 20.0) for i in range(4)]
    assert run(tmp_path, "structuring", at_threshold) == []  # reported anyway
    too_low = [("SMURF", "R", 8_000.0, i * 20.0) for i in range(4)]
    assert run(tmp_path, "structuring", too_low) == []
    # In a currency the analyst did not ask about.
    under = [("SMURF", "R", 9_500.0, i * 20.0) for i in range(4)]
    assert run(tmp_path, "structuring", under, currencies="USD") == []
    assert len(run(tmp_path, "structuring", under, currencies="usd, eur")) == 1


def pass_through(out_hours: float, forwarded: float) -> list[Payment]:
    return [
        ("VICTIM1", "MULE", 3000.0, 0.0),
        ("MULE", "CASH1", 3000.0 * forwarded, out_hours),
        ("VICTIM2", "MULE", 2000.0, 10.0),
        ("MULE", "CASH2", 2000.0 * forwarded, 10 + out_hours),
    ]


def test_pass_through_fires_on_a_mule(tmp_path: Path) -> None:
    found = run(tmp_path, "pass_through", pass_through(3, 0.95))
    assert len(found) == 1
    assert found[0].anchor == "MULE" and found[0].rows == (0, 1, 2, 3)
    assert found[0].second_measure == 3 * 3600  # the fastest pass, seconds
    assert "fastest in about 3 hours" in found[0].explanation


def test_pass_through_near_misses(tmp_path: Path) -> None:
    assert run(tmp_path, "pass_through", pass_through(30, 0.95)) == []  # too slow
    assert run(tmp_path, "pass_through", pass_through(3, 0.5)) == []  # keeps half
    # Paying the money back to whoever sent it is not passing it on.
    refund = [("V", "MULE", 100.0, 0.0), ("MULE", "V", 100.0, 1.0)] * 2
    assert (
        run(tmp_path, "pass_through", [(p, q, a, h + i) for i, (p, q, a, h) in enumerate(refund)])
        == []
    )


def dormant(silent_days: float) -> list[Payment]:
    wake = silent_days * 24
    return [
        ("SLEEPER", "SHOP", 20.0, 0.0),
        ("IN", "SLEEPER", 5000.0, wake),
        ("SLEEPER", "OUT1", 2500.0, wake + 2),
        ("SLEEPER", "OUT2", 2400.0, wake + 3),
    ]


def test_dormant_account_waking_up_fires(tmp_path: Path) -> None:
    found = [f for f in run(tmp_path, "dormant", dormant(120)) if f.anchor == "SLEEPER"]
    assert len(found) == 1
    assert found[0].rows == (0, 1, 2, 3) and found[0].measure == pytest.approx(120)
    assert "no payment for 120 days" in found[0].explanation


def test_dormant_near_miss_not_silent_long_enough(tmp_path: Path) -> None:
    assert [f for f in run(tmp_path, "dormant", dormant(60)) if f.anchor == "SLEEPER"] == []


def test_every_detector_is_registered_with_a_version_and_documented_parameters() -> None:
    assert set(DETECTORS) == {
        "fan_in",
        "fan_out",
        "gather_scatter",
        "scatter_gather",
        "cycle",
        "bipartite",
        "stack",
        "structuring",
        "pass_through",
        "dormant",
    }
    for detector in DETECTORS.values():
        assert detector.version and detector.title
        assert all(spec.help for spec in detector.parameters.values())


def test_parameters_are_checked() -> None:
    with pytest.raises(InvalidInput, match="no parameter"):
        plan(["fan_in"], {"fan_in": {"min_payers": 3}})
    with pytest.raises(InvalidInput, match="an integer"):
        plan(["fan_in"], {"fan_in": {"min_counterparties": "many"}})
    with pytest.raises(InvalidInput, match="at least 2"):
        plan(["fan_in"], {"fan_in": {"min_counterparties": 1}})
    with pytest.raises(InvalidInput, match="max_counterparties is below"):
        plan(["fan_in"], {"fan_in": {"min_counterparties": 9, "max_counterparties": 5}})
    with pytest.raises(InvalidInput, match="at most 10"):
        plan(["cycle"], {"cycle": {"max_hops": 11}})
    with pytest.raises(InvalidInput, match="no detector"):
        plan(["laundering"])
    chosen = plan(["cycle"], {"cycle": {"tolerance": "0.05"}})
    assert chosen[0][1]["tolerance"] == 0.05


def test_a_finding_is_fingerprinted_by_typology_and_transactions(tmp_path: Path) -> None:
    first = run(tmp_path, "fan_in", fan_in(5, 30))[0]
    again = run(tmp_path, "fan_in", fan_in(5, 30), min_amount=1.0)[0]
    assert first.fingerprint == again.fingerprint  # other parameters, same alert
    other = run(tmp_path, "fan_in", fan_in(6, 30))[0]
    assert other.fingerprint != first.fingerprint


def test_pass_through_counts_money_split_over_several_payments(tmp_path: Path) -> None:
    split = [
        ("VICTIM1", "MULE", 2500.0, 0.0),
        ("MULE", "FRONT", 1400.0, 3.0),
        ("MULE", "ABROAD", 1000.0, 4.0),
        ("VICTIM2", "MULE", 4000.0, 72.0),
        ("MULE", "FRONT", 2000.0, 74.0),
        ("MULE", "ABROAD", 1900.0, 75.0),
    ]
    found = run(tmp_path, "pass_through", split)
    assert len(found) == 1 and found[0].measure == 2 and found[0].tx_count == 6
    # Passes further apart than episode_hours are separate, and each alone is too few.
    assert run(tmp_path, "pass_through", split, episode_hours=48) == []
    # Passing on only part of it is not passing it through.
    kept = [p if p[2] != 1000.0 else ("MULE", "ABROAD", 300.0, 4.0) for p in split]
    assert run(tmp_path, "pass_through", kept, min_passes=1)[0].measure == 1
