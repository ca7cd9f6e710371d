"""Refusing bad rows of a column-wise reader without Python work per good row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from caselens.finance.transactions import ImportReport

Check = tuple[np.ndarray, str]  # (mask of failing rows, reason in the analyst's words)


def refuse_failing(
    report: ImportReport,
    checks: Sequence[Check],
    lines: np.ndarray,
    describe: Callable[[int], str],
) -> np.ndarray:
    """Record every row failing a check in ``report``; return the mask of rows kept.

    The first failing check names the reason. Reasons are spelled out (with ``describe``
    of the row, its text as read) only for the rows the report lists, so a file of bad
    rows costs no Python work per row beyond that.
    """
    size = len(lines)
    reason_code = np.full(size, -1, dtype=np.int64)
    for code in range(len(checks) - 1, -1, -1):
        reason_code[checks[code][0]] = code
    refused = np.flatnonzero(reason_code >= 0)
    room = max(0, ImportReport.MAX_LISTED - len(report.listed))
    for index in refused[:room]:
        reason = checks[int(reason_code[index])][1]
        report.refuse(int(lines[index]), f"{reason}: {describe(int(index))[:160]}")
    report.bad_rows += max(0, len(refused) - room)
    return np.asarray(reason_code < 0)
