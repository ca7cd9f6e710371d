"""Column values as SQLite gives them (numbers, text, BLOBs, NULL) read leniently: what
the readers of every platform share."""

from __future__ import annotations


def integer(value: object) -> int | None:
    """A value as an integer, None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value if isinstance(value, float) else str(value).strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


def flag(value: object) -> bool | None:
    """An SQLite boolean (0/1 column), None when the column is absent or empty."""
    number = integer(value)
    return None if number is None else number != 0
