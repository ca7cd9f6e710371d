"""Sliding windows that fire, merged into episodes: the shape of most count typologies.

Every payment of an account ends a window of the ``window`` seconds before it (ties in
time broken by file order). A window *fires* when its counts pass the detector's test;
windows that fire and overlap are one episode, and the episode is one alert holding every
payment of its windows. This way a fan-in of eight payers over eight days is one alert,
not eight, and the same rows give the same alert on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caselens.finance.detect.base import tie_aware_window


@dataclass(frozen=True, slots=True)
class EpisodeQuery:
    """The parts of a windowed detector.

    ``events`` is a SELECT of (hub, other, rn, ts, amount, side) over ``tx``: the
    payments seen from the account under watch (``hub``), ``side`` 'in' or 'out'.
    ``counts`` maps a name to an aggregate over the window's payments ``b``;
    ``fires`` is a condition on those names; ``measure`` the figure an alert reports
    (``second`` another, when there is one);
    ``score`` an expression of ``measure``. ``ends``, a condition on the payment ``a``,
    limits which payments end windows.
    ``candidates`` (optional) is a HAVING condition over all of a hub's events that a hub
    must meet to be looked at at all, so that quiet accounts cost one aggregate.
    """

    events: str
    window: int
    counts: Mapping[str, str]
    fires: str
    measure: str
    score: str
    second: str = "0"
    ends: str = "1 = 1"
    candidates: str | None = None
    prelude: str = ""  # CTEs the events read (``base.payments``)

    def sql(self) -> str:
        counts = ", ".join(f"{aggregate} AS {name}" for name, aggregate in self.counts.items())
        names = ", ".join(self.counts)
        window = str(int(self.window))
        hubs = (
            f"SELECT hub FROM ev0 GROUP BY hub HAVING {self.candidates}"
            if self.candidates
            else "SELECT DISTINCT hub FROM ev0"
        )
        prelude = f"{self.prelude},\n" if self.prelude else ""
        return f"""
WITH {prelude}ev0 AS ({self.events}),
hubs AS ({hubs}),
ev AS (SELECT ev0.* FROM ev0 JOIN hubs ON hubs.hub = ev0.hub),
win AS (
    SELECT a.hub, a.rn, a.ts, {counts}
    FROM ev a JOIN ev b ON b.hub = a.hub AND {tie_aware_window("a", "b", window)}
    WHERE {self.ends}
    GROUP BY a.hub, a.rn, a.ts
),
fired AS (
    SELECT hub, rn, ts, {names}, {self.measure} AS measure,
        {self.second} AS second_measure,
        CASE WHEN LAG(ts) OVER (PARTITION BY hub ORDER BY ts, rn) > ts - {window}
            THEN 0 ELSE 1 END AS opens
    FROM win WHERE {self.fires}
),
episode AS (
    SELECT hub, rn, ts, measure, second_measure,
        SUM(opens) OVER (PARTITION BY hub ORDER BY ts, rn
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode
    FROM fired
),
peak AS (
    SELECT hub, episode, MAX(measure) AS measure, MAX(second_measure) AS second_measure
    FROM episode GROUP BY hub, episode
),
member AS (
    SELECT DISTINCT p.hub, p.episode, b.rn, b.ts, b.other, b.amount
    FROM episode p JOIN ev b ON b.hub = p.hub AND {tie_aware_window("p", "b", window)}
),
found AS (
SELECT m.hub AS anchor,
    array_sort(array_distinct(array_agg(m.other))) AS accounts,
    array_sort(array_agg(m.rn)) AS rows,
    MIN(m.ts) AS window_start, MAX(m.ts) AS window_end,
    COUNT(*) AS tx_count, SUM(m.amount) AS amount,
    CAST(MAX(k.measure) AS DOUBLE) AS measure,
    CAST(MAX(k.second_measure) AS DOUBLE) AS second_measure
FROM member m JOIN peak k ON k.hub = m.hub AND k.episode = m.episode
GROUP BY m.hub, m.episode
)
SELECT found.*, {self.score} AS score FROM found
"""
