"""One account's ledger for fund tracing: which incoming payments fund each outgoing one.

An account holds "lots": each incoming payment is a lot of what it received, made at the
payment's place in time. Each outgoing payment consumes lots by the chosen rule:

- FIFO: the oldest lot first; LIFO: the newest first. A lot may be consumed in part.
- pro rata: every lot gives the same fraction of what it still holds.

Events are taken in time order, same-time payments in file order (``row``), so money can
only leave an account after it arrived. A payment larger than the lots still held draws
the rest from an opening balance the data does not show ("unfunded"), only once the
recorded lots are exhausted. Amounts are in the account's own units: what it received
(``amount_received``) and what it paid (``amount``).

How lots are consumed depends only on the account's own payments, never on what is being
traced, so a ledger is computed once per account and tracing is linear over it: a
``Vector`` of traced money per origin goes in, the share carried comes out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

# Below this, money is rounding noise left by repeated fractions, not funds.
EPSILON = 1e-9

Vector = dict[int, float]  # origin (the ``row`` of a starting payment) -> amount


class Method(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    PRO_RATA = "pro-rata"


@dataclass(frozen=True, slots=True)
class Payment:
    """One row of a dataset, as much as tracing needs of it."""

    row: int
    tx_id: str
    ts: int
    time_us: int  # microseconds since the epoch, UTC; ``time`` made only when shown
    payer: str
    payee: str
    amount: float
    currency: str
    amount_received: float
    currency_received: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_us / 1_000_000, UTC)

    @property
    def rate(self) -> float:
        """Units received per unit paid (1 unless the payment changed currency)."""
        return self.amount_received / self.amount if self.amount else 1.0


class Allocation(Protocol):
    def forward(self, arrived: Mapping[int, Vector]) -> dict[int, Vector]:
        """Traced money arriving with incoming rows -> what outgoing rows carry of it."""
        ...

    def backward(self, paid: Mapping[int, Vector]) -> tuple[dict[int, Vector], Vector]:
        """Traced money of outgoing rows -> the incoming rows that funded it, and the part
        drawn from an unrecorded opening balance."""
        ...


def ledger(account: str, events: Sequence[Payment], method: Method) -> Allocation:
    """The ledger of ``account`` over its payments, sorted by (ts, row)."""
    if method is Method.PRO_RATA:
        return ProRataLedger(account, events)
    return LotLedger(account, events, lifo=method is Method.LIFO)


def _add(target: Vector, source: Vector, factor: float) -> None:
    for origin, amount in source.items():
        target[origin] = target.get(origin, 0.0) + amount * factor


class LotLedger:
    """FIFO or LIFO: explicit lots, each consumed whole or in part."""

    def __init__(self, account: str, events: Sequence[Payment], *, lifo: bool) -> None:
        self.size: dict[int, float] = {}
        self.paid: dict[int, float] = {}
        self.funding: dict[int, list[tuple[int, float]]] = defaultdict(list)
        self.uses: dict[int, list[tuple[int, float]]] = defaultdict(list)
        self.unfunded: dict[int, float] = {}
        lots: list[list[float]] = []  # [row, remaining]; FIFO keeps a moving head
        head = 0
        for payment in events:
            # A payment to oneself leaves first and arrives after: it cannot fund itself.
            if payment.payer == account:
                self.paid[payment.row] = payment.amount
                need = payment.amount
                while need > EPSILON and head < len(lots):
                    lot = lots[-1] if lifo else lots[head]
                    taken = min(need, lot[1])
                    lot[1] -= taken
                    need -= taken
                    source = int(lot[0])
                    self.funding[payment.row].append((source, taken))
                    self.uses[source].append((payment.row, taken))
                    if lot[1] <= EPSILON:
                        if lifo:
                            lots.pop()
                        else:
                            head += 1
                if need > EPSILON:
                    self.unfunded[payment.row] = need
            if payment.payee == account:
                self.size[payment.row] = payment.amount_received
                if payment.amount_received > EPSILON:
                    lots.append([float(payment.row), payment.amount_received])

    def forward(self, arrived: Mapping[int, Vector]) -> dict[int, Vector]:
        carried: dict[int, Vector] = defaultdict(dict)
        for row, traced in arrived.items():
            size = self.size.get(row, 0.0)
            if size <= EPSILON:
                continue
            for outgoing, taken in self.uses.get(row, ()):
                _add(carried[outgoing], traced, taken / size)
        return dict(carried)

    def backward(self, paid: Mapping[int, Vector]) -> tuple[dict[int, Vector], Vector]:
        funded: dict[int, Vector] = defaultdict(dict)
        unknown: Vector = {}
        for row, traced in paid.items():
            amount = self.paid.get(row, 0.0)
            if amount <= EPSILON:
                continue
            for incoming, taken in self.funding.get(row, ()):
                _add(funded[incoming], traced, taken / amount)
            if row in self.unfunded:
                _add(unknown, traced, self.unfunded[row] / amount)
        return dict(funded), unknown


class ProRataLedger:
    """Pro rata: a payment takes the fraction ``phi`` = paid / balance of every lot.

    Tracing then needs no lot list: traced money in the account shrinks by ``phi`` at
    each payment (forward), and a lot's share of later payments is a running weight
    walked back in time (backward); both are one pass over the account's events.
    """

    def __init__(self, account: str, events: Sequence[Payment]) -> None:
        # Steps in time order: (row, is_outgoing, amount, phi); a payment to oneself
        # gives an outgoing then an incoming step.
        self.steps: list[tuple[int, bool, float, float]] = []
        self.position: dict[tuple[int, bool], int] = {}
        self.unfunded: dict[int, float] = {}
        balance = 0.0
        for payment in events:
            if payment.payer == account:
                funded = min(payment.amount, max(balance, 0.0))
                phi = funded / balance if balance > EPSILON else 0.0
                balance -= funded
                if payment.amount - funded > EPSILON:
                    self.unfunded[payment.row] = payment.amount - funded
                self._step(payment.row, True, payment.amount, phi)
            if payment.payee == account:
                balance += payment.amount_received
                self._step(payment.row, False, payment.amount_received, 0.0)

    def _step(self, row: int, outgoing: bool, amount: float, phi: float) -> None:
        self.position[(row, outgoing)] = len(self.steps)
        self.steps.append((row, outgoing, amount, phi))

    def forward(self, arrived: Mapping[int, Vector]) -> dict[int, Vector]:
        starts = [self.position[(row, False)] for row in arrived if (row, False) in self.position]
        carried: dict[int, Vector] = {}
        held: Vector = {}
        for row, outgoing, _amount, phi in self.steps[min(starts, default=len(self.steps)) :]:
            if not outgoing:
                if row in arrived:
                    _add(held, arrived[row], 1.0)
                continue
            if phi <= 0.0 or not held:
                continue
            carried[row] = {origin: amount * phi for origin, amount in held.items()}
            held = {o: a * (1.0 - phi) for o, a in held.items() if a * (1.0 - phi) > EPSILON}
        return carried

    def backward(self, paid: Mapping[int, Vector]) -> tuple[dict[int, Vector], Vector]:
        ends = [self.position[(row, True)] for row in paid if (row, True) in self.position]
        funded: dict[int, Vector] = {}
        unknown: Vector = {}
        # Traced money per unit that a lot still held just after this point.
        weight: Vector = {}
        for row, outgoing, amount, phi in reversed(self.steps[: max(ends, default=-1) + 1]):
            if not outgoing:
                if weight:
                    funded[row] = {origin: w * amount for origin, w in weight.items()}
                continue
            # A payment that empties the account leaves nothing for earlier lots to fund.
            weight = {} if phi >= 1.0 else {o: w * (1.0 - phi) for o, w in weight.items()}
            traced = paid.get(row)
            if traced and amount > EPSILON:
                _add(weight, traced, phi / amount)
                if row in self.unfunded:
                    _add(unknown, traced, self.unfunded[row] / amount)
        return funded, unknown
