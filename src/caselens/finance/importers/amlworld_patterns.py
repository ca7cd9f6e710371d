"""The ``*_Patterns.txt`` file of an AMLworld data set: its labelled laundering attempts.

Each attempt is ``BEGIN LAUNDERING ATTEMPT - <TYPE>[: detail]``, its transactions as lines
of the main file's layout, then ``END LAUNDERING ATTEMPT - <TYPE>``. A transaction is found
in the main file by its line text; a line repeated within one attempt takes the next
occurrence of that text in the main file. Problems of the patterns file are warnings of
the import: the transactions themselves are read from the main file all the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from caselens.finance.importers.base import LaunderingAttempt
from caselens.finance.transactions import ImportReport

_BEGIN = re.compile(r"^BEGIN LAUNDERING ATTEMPT\s*-\s*([^:]+?)\s*(?::\s*(.*?))?\s*$")
_END = re.compile(r"^END LAUNDERING ATTEMPT\b")
_TRANSACTIONS_SUFFIXES = ("_Trans.csv.gz", "_Trans.csv")
MAX_WARNINGS = 20


def patterns_beside(path: Path) -> Path | None:
    """``HI-Small_Patterns.txt`` for ``HI-Small_Trans.csv`` (or ``.csv.gz``), if present."""
    for suffix in _TRANSACTIONS_SUFFIXES:
        if path.name.endswith(suffix):
            candidate = path.with_name(path.name[: -len(suffix)] + "_Patterns.txt")
            return candidate if candidate.is_file() else None
    return None


def read_patterns(
    path: Path, body: pa.Array, rows: np.ndarray, report: ImportReport
) -> tuple[LaunderingAttempt, ...]:
    """Attempts of ``path`` with their ``row`` numbers among ``body`` (the data lines)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        report.warnings.append(f"{path.name}: cannot be read: {err.strerror or err}")
        return ()
    parsed = _attempts(text.splitlines(), path.name, report)
    keys = sorted({line for _, _, _, lines in parsed for line in lines})
    occurrences = _occurrences(body, rows, keys)
    attempts = []
    unmatched = 0
    for typology, detail, begin, lines in parsed:
        taken: dict[str, int] = {}
        found = []
        for line in lines:
            position = taken.get(line, 0)
            candidates = occurrences.get(line, [])
            if position < len(candidates):
                found.append(candidates[position])
                taken[line] = position + 1
            else:
                unmatched += 1
        attempts.append(LaunderingAttempt(typology, detail, begin, tuple(found)))
    if unmatched:
        report.warnings.append(
            f"{path.name}: {unmatched} transaction lines of laundering attempts are not in "
            "the transactions file"
        )
    return tuple(attempts)


def _attempts(
    lines: list[str], name: str, report: ImportReport
) -> list[tuple[str, str | None, int, list[str]]]:
    found: list[tuple[str, str | None, int, list[str]]] = []
    current: tuple[str, str | None, int, list[str]] | None = None
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        begin = _BEGIN.match(line)
        if begin:
            if current is not None:
                problems.append(f"line {number}: attempt of line {current[2]} has no END")
                found.append(current)
            current = (begin.group(1).strip(), begin.group(2) or None, number, [])
        elif _END.match(line):
            if current is None:
                problems.append(f"line {number}: END without BEGIN")
            else:
                found.append(current)
                current = None
        elif current is None:
            problems.append(f"line {number}: transaction outside any attempt")
        else:
            current[3].append(line)
    if current is not None:
        problems.append(f"attempt of line {current[2]} has no END")
        found.append(current)
    for problem in problems[:MAX_WARNINGS]:
        report.warnings.append(f"{name}: {problem}")
    if len(problems) > MAX_WARNINGS:
        report.warnings.append(f"{name}: {len(problems) - MAX_WARNINGS} more problems")
    return found


def _occurrences(body: pa.Array, rows: np.ndarray, keys: list[str]) -> dict[str, list[int]]:
    """For each key, the ``row`` numbers of the data lines with that text, in file order."""
    if not keys:
        return {}
    trimmed = pc.utf8_trim_whitespace(body)
    hit = pc.fill_null(pc.is_in(trimmed, value_set=pa.array(keys)), False)
    found: dict[str, list[int]] = {}
    for index in np.flatnonzero(np.asarray(hit, dtype=bool)):
        found.setdefault(str(trimmed[int(index)].as_py()), []).append(int(rows[index]))
    return found
