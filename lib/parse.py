"""Parsing identifiers that arrive from the client."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**63 - 1  # the largest value a BigAutoField (and SQLite's INTEGER) can hold


def parse_id(value: object, maximum: int = MAX_ID) -> int | None:
    """A positive integer id from JSON or form input, or None.

    Accepts ints and ASCII digit strings only ("²".isdigit() is true but int() refuses it),
    and nothing the database could not store: 10**30 must not reach a query."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= maximum:
        return value
    return None
