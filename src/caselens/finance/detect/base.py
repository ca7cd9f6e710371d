"""What every typology detector is: parameters, one SQL definition, and its findings.

A detector is written once, as SQL in the subset that DuckDB and Spark SQL share, over a
view ``tx`` of a dataset (the columns of ``finance.transactions.SCHEMA``, with ``row``
renamed ``rn`` because ``ROW`` is a keyword). The few functions the two spell differently
(building a list, joining one into a string) come from a :class:`Dialect`. Windows are ranges of the
integer ``ts`` (seconds), and ties in time are broken by ``rn``, so both engines put the
same rows in the same window.

Every detector's query returns the same columns (:data:`FINDING_COLUMNS`); a finding
becomes an alert, fingerprinted by its typology and its transactions so that running a
detector again finds the alert it made before instead of repeating it.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from caselens.errors import InvalidInput

# anchor: the account the alert is about; accounts: the others involved; rows: the
# transactions (``row`` numbers); measure: the detector's key figure (counterparties,
# hops, pairs...) and second_measure another where it has one (0 otherwise), whose
# meaning the detector's explanation gives.
FINDING_COLUMNS = (
    "anchor",
    "accounts",
    "rows",
    "window_start",
    "window_end",
    "tx_count",
    "amount",
    "measure",
    "second_measure",
    "score",
)

ParameterValue = int | float | str
DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True, slots=True)
class Dialect:
    """The spellings that differ between the engines."""

    name: str
    list_function: str  # build a list from values: list_value(a, b) / array(a, b)
    join_function: str  # a list of strings as one string: array_to_string / array_join

    def make_list(self, *values: str) -> str:
        return f"{self.list_function}({', '.join(values)})"

    def join(self, expression: str) -> str:
        """A list of account keys as one string (to group by a set), joined with U+001F."""
        return f"{self.join_function}({expression}, chr(31))"


DUCKDB = Dialect("duckdb", "list_value", "array_to_string")
SPARK = Dialect("spark", "array", "array_join")


def tie_aware_window(later: str, earlier: str, seconds: str) -> str:
    """SQL: ``earlier`` lies in the ``seconds`` up to and including ``later``, in (ts, rn)
    order: a payment at the same second counts only when it comes first in the file."""
    return (
        f"{earlier}.ts > {later}.ts - {seconds} AND ({earlier}.ts < {later}.ts "
        f"OR ({earlier}.ts = {later}.ts AND {earlier}.rn <= {later}.rn))"
    )


def after(later: str, earlier: str) -> str:
    """SQL: ``later`` comes strictly after ``earlier`` in (ts, rn) order."""
    return (
        f"({later}.ts > {earlier}.ts OR ({later}.ts = {earlier}.ts AND {later}.rn > {earlier}.rn))"
    )


def count_score(measure: str, minimum: str) -> str:
    """SQL: 0.5 when the measure just reaches its minimum, approaching 1 as it grows."""
    return f"1.0 - {minimum} / (2.0 * {measure})"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected instance of a typology, as both engines report it."""

    typology: str
    detector_version: str
    anchor: str
    accounts: tuple[str, ...]  # the anchor first, then the others in order
    rows: tuple[int, ...]  # the transactions, ascending
    window_start: int  # ts of the first transaction
    window_end: int  # ts of the last
    tx_count: int
    amount: float
    measure: float
    second_measure: float
    score: float
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    explanation: str = ""

    @property
    def fingerprint(self) -> str:
        """The same typology over the same transactions is the same alert."""
        text = self.typology + ":" + ",".join(str(row) for row in self.rows)
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "typology": self.typology,
            "detector_version": self.detector_version,
            "fingerprint": self.fingerprint,
            "anchor": self.anchor,
            "accounts": list(self.accounts),
            "rows": list(self.rows),
            "window_start": self.window_start,
            "window_end": self.window_end,
            "tx_count": self.tx_count,
            "amount": self.amount,
            "measure": self.measure,
            "second_measure": self.second_measure,
            "score": self.score,
            "parameters": dict(self.parameters),
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Parameter:
    default: ParameterValue
    help: str
    minimum: float | None = 0  # smallest accepted value of a number (None: any)


HUB_LIMIT = Parameter(
    100, "accounts with more distinct counterparties (shops, payroll) are left out; 0 keeps all"
)


def payments(hub_limit: int) -> str:
    """CTEs ending in ``pay``: the payments between two distinct accounts, without those
    touching an account that has more than ``hub_limit`` distinct counterparties over
    the dataset. Shops and employers are paid by (or pay) thousands; left in, they make
    every customer look like a fan-out and hide a source's few payments among the rest."""
    columns = "rn, ts, payer, payee, amount, amount_received, currency, currency_received"
    if hub_limit <= 0:
        return f"pay AS (SELECT {columns} FROM tx WHERE payer <> payee)"
    return f"""pay0 AS (SELECT {columns} FROM tx WHERE payer <> payee),
ends AS (SELECT payer AS acct, payee AS other FROM pay0 UNION SELECT payee, payer FROM pay0),
busy AS (SELECT acct FROM ends GROUP BY acct HAVING COUNT(*) > {int(hub_limit)}),
pay AS (
    SELECT pay0.* FROM pay0
    LEFT JOIN busy b1 ON b1.acct = pay0.payer LEFT JOIN busy b2 ON b2.acct = pay0.payee
    WHERE b1.acct IS NULL AND b2.acct IS NULL
)"""


class Detector(ABC):
    """One typology: its parameters, its query, and how a finding is put into words."""

    name: ClassVar[str]  # the typology, as alerts name it
    version: ClassVar[str]  # changes whenever the definition changes what it finds
    title: ClassVar[str]
    parameters: ClassVar[Mapping[str, Parameter]]

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, ParameterValue]:
        """The defaults with ``overrides`` applied, each checked and of its default's type."""
        values: dict[str, ParameterValue] = {k: p.default for k, p in self.parameters.items()}
        for key, raw in (overrides or {}).items():
            spec = self.parameters.get(key)
            if spec is None:
                known = ", ".join(sorted(self.parameters))
                raise InvalidInput(f"{self.name} has no parameter {key!r} (it has: {known})")
            values[key] = _coerce(self.name, key, spec, raw)
        self.check(values)
        return values

    def check(self, values: Mapping[str, ParameterValue]) -> None:  # noqa: B027
        """Refuse combinations of parameters that cannot work (override to add rules)."""

    @abstractmethod
    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        """SQL over the view ``tx`` returning :data:`FINDING_COLUMNS`."""

    @abstractmethod
    def explain(self, finding: Finding) -> str:
        """The finding in an analyst's words, with the figures that made it fire."""


def _coerce(detector: str, key: str, spec: Parameter, raw: Any) -> ParameterValue:
    kind = type(spec.default)
    try:
        if kind is str:
            return str(raw)
        value: int | float = int(raw) if kind is int else float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{detector}.{key} must be {'an integer' if kind is int else 'a number'}, not {raw!r}"
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{detector}.{key} must be a finite number, not {raw!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidInput(f"{detector}.{key} must be at least {spec.minimum}, not {raw!r}")
    return value


def sql_text(value: str) -> str:
    """A string parameter as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def duration(seconds: float) -> str:
    """Seconds in the largest whole unit, for explanations."""
    for unit, size in (("day", DAY), ("hour", HOUR), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} s"
