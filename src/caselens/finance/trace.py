"""Fund tracing: follow money forward (where did it go?) or backward (where did it come
from?) through up to N hops, in time order, allocating by FIFO, LIFO or pro rata.

The trace starts from payments: the one named by ``row``, or those of an account (its
payments out for a forward trace, in for a backward one) inside the time window. They
are hop 1 and carry their whole amount. At each further hop the ledgers of the accounts
the money reached (``trace_ledger``) say which of their payments carry how much of it;
only those accounts' histories are pulled from the Parquet file (``trace_pull``).

A chain stops at ``hops`` payments, where what it carries falls below ``min_amount``,
and at the window (a forward trace never follows a payment after ``until``, a backward
one never before ``since``). Money that cycles back to an account is traced again like
any other arrival, at its own hop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb

from caselens.errors import InvalidInput, NotFound
from caselens.finance.trace_ledger import EPSILON, Allocation, Method, Payment, Vector, ledger
from caselens.finance.trace_pull import TransactionSource
from caselens.finance.trace_result import Flow, TraceNode, TraceResult

MAX_HOPS = 50


class Direction(StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(frozen=True, slots=True)
class TraceRequest:
    account: str | None = None
    row: int | None = None
    direction: Direction = Direction.FORWARD
    method: Method = Method.FIFO
    hops: int = 5
    min_amount: float = 0.0
    since: datetime | None = None
    until: datetime | None = None
    # Bounds on what one trace may read and list; reaching one is reported, never silent.
    max_accounts: int = 5000
    max_flows: int = 100_000

    def check(self) -> None:
        if (self.account is None) == (self.row is None):
            raise InvalidInput("start a trace from an account or from a row, not both or neither")
        if not 1 <= self.hops <= MAX_HOPS:
            raise InvalidInput(f"hops must be between 1 and {MAX_HOPS}", hops=self.hops)
        if self.min_amount < 0:
            raise InvalidInput("the minimum amount cannot be negative", min_amount=self.min_amount)
        if self.since and self.until and _epoch(self.since) > _epoch(self.until):
            raise InvalidInput("the window ends before it starts")
        if self.max_accounts < 1 or self.max_flows < 1:
            raise InvalidInput("the account and flow limits must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["direction"] = self.direction.value
        values["method"] = self.method.value
        for name in ("since", "until"):
            moment = values[name]
            values[name] = moment.isoformat() if moment else None
        return values


def _epoch(moment: datetime) -> int:
    # A time without a zone is read as UTC, like every time in the transaction plane.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())


def trace(
    path: Path, request: TraceRequest, *, connection: duckdb.DuckDBPyConnection | None = None
) -> TraceResult:
    """Trace funds in the transactions Parquet file at ``path``."""
    request.check()
    return _Tracer(TransactionSource(path, connection), request).run()


def _add(target: Vector, source: Vector, factor: float = 1.0) -> None:
    for origin, amount in source.items():
        target[origin] = target.get(origin, 0.0) + amount * factor


class _Tracer:
    def __init__(self, source: TransactionSource, request: TraceRequest) -> None:
        self.source = source
        self.request = request
        self.forward = request.direction is Direction.FORWARD
        self.since = _epoch(request.since) if request.since else None
        self.until = _epoch(request.until) if request.until else None
        self.payments: dict[int, Payment] = {}
        self.ledgers: dict[str, Allocation] = {}
        self.unfollowed: set[str] = set()
        self.stats: dict[str, Any] = defaultdict(int)
        self.result = TraceResult(request.as_dict(), [])

    def run(self) -> TraceResult:
        seeds = self._seeds()
        self.result.seeds = [payment.row for payment in seeds]
        # Nothing a backward trace follows is later than its last starting payment.
        self.upper = self.until if self.forward else max((p.ts for p in seeds), default=None)
        level: dict[int, Vector] = {payment.row: {payment.row: payment.amount} for payment in seeds}
        for hop in range(1, self.request.hops + 1):
            if hop > 1:
                level = self._kept(level)
            if not level or not self._record(hop, level):
                break
            if hop < self.request.hops:
                level = self._onward(level) if self.forward else self._back(level)
        for account, node in self.result.nodes.items():
            node.followed = account in self.ledgers
        self.stats["rows_read"] = self.source.rows_read
        self.stats["accounts_followed"] = len(self.ledgers)
        self.stats["accounts_not_followed"] = len(self.unfollowed)
        self.stats["flows"] = len(self.result.flows)
        self.stats.setdefault("truncated", False)
        self.result.stats = dict(self.stats)
        return self.result

    def _seeds(self) -> list[Payment]:
        request = self.request
        if request.row is not None:
            found = self.source.payment(request.row)
            if found is None:
                raise NotFound(f"no row {request.row} in the dataset", row=request.row)
            seeds = [found]
        else:
            assert request.account is not None
            if not self.source.knows_account(request.account):
                raise NotFound(
                    f"account {request.account!r} does not appear in the dataset",
                    account=request.account,
                )
            seeds = self.source.payments_of(
                request.account,
                outgoing=self.forward,
                since=self.since,
                until=self.until,
                min_amount=request.min_amount,
            )
        self.payments.update((payment.row, payment) for payment in seeds)
        return seeds

    def _kept(self, level: dict[int, Vector]) -> dict[int, Vector]:
        floor = max(self.request.min_amount, EPSILON)
        kept: dict[int, Vector] = {}
        for row, traced in level.items():
            if not self.forward and self.since is not None and self.payments[row].ts < self.since:
                self.stats["flows_before_window"] += len(traced)
                continue
            big = {origin: amount for origin, amount in traced.items() if amount >= floor}
            self.stats["flows_below_minimum"] += len(traced) - len(big)
            if big:
                kept[row] = big
        return kept

    def _record(self, hop: int, level: dict[int, Vector]) -> bool:
        """Add the level's flows; False when the flow limit stops the trace here."""
        flows = self.result.flows
        for row in sorted(level, key=lambda r: (self.payments[r].ts, r)):
            payment = self.payments[row]
            for origin, amount in sorted(level[row].items()):
                if len(flows) >= self.request.max_flows:
                    self.stats["truncated"] = True
                    return False
                share = amount / payment.amount if payment.amount else 0.0
                flows.append(
                    Flow(
                        row=row,
                        tx_id=payment.tx_id,
                        time=payment.time,
                        payer=payment.payer,
                        payee=payment.payee,
                        amount=amount,
                        currency=payment.currency,
                        share=share,
                        hop=hop,
                        origin=origin,
                    )
                )
                self._node(payment.payer, hop, payment.currency).traced_out += amount
                receiver = self._node(payment.payee, hop, payment.currency_received)
                receiver.traced_in += amount * payment.rate
        return True

    def _node(self, account: str, hop: int, currency: str) -> TraceNode:
        node = self.result.nodes.get(account)
        if node is None:
            node = self.result.nodes[account] = TraceNode(account, hop, currency=currency)
        return node

    def _load(self, accounts: list[str]) -> None:
        new = sorted(a for a in set(accounts) if a not in self.ledgers and a not in self.unfollowed)
        room = self.request.max_accounts - len(self.ledgers)
        if len(new) > room:
            self.stats["truncated"] = True
            self.unfollowed.update(new[max(room, 0) :])
            new = new[: max(room, 0)]
        for account, history in self.source.histories(new, self.upper).items():
            self.payments.update((payment.row, payment) for payment in history)
            self.ledgers[account] = ledger(account, history, self.request.method)

    def _onward(self, level: dict[int, Vector]) -> dict[int, Vector]:
        arrivals: dict[str, dict[int, Vector]] = defaultdict(dict)
        for row, traced in level.items():
            payment = self.payments[row]
            # Ledgers count what the payee received, in its own currency.
            arrivals[payment.payee][row] = {o: a * payment.rate for o, a in traced.items()}
        self._load(list(arrivals))
        following: dict[int, Vector] = defaultdict(dict)
        for account, arrived in arrivals.items():
            allocation = self.ledgers.get(account)
            if allocation is None:
                continue
            for row, carried in allocation.forward(arrived).items():
                _add(following[row], carried)
        return dict(following)

    def _back(self, level: dict[int, Vector]) -> dict[int, Vector]:
        paid: dict[str, dict[int, Vector]] = defaultdict(dict)
        for row, traced in level.items():
            paid[self.payments[row].payer][row] = traced
        self._load(list(paid))
        sources: dict[int, Vector] = defaultdict(dict)
        for account, outgoing in paid.items():
            allocation = self.ledgers.get(account)
            if allocation is None:
                continue
            funded, unknown = allocation.backward(outgoing)
            self.result.nodes[account].unexplained += sum(unknown.values())
            for row, traced in funded.items():
                # Back from what the payee received to what its payer paid.
                rate = self.payments[row].rate
                _add(sources[row], traced, 1.0 / rate if rate else 0.0)
        return dict(sources)
