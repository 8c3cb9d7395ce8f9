"""Figures other apps add to the participation dashboard of an office and to its monthly
report (PDF section, Excel sheet), without this app importing them: a higher app registers a
source in its ``AppConfig.ready()`` (``rollcall``: the video roll-calls done as planned).

A source is called with the viewer, the offices asked about and the months; it answers, for
each office, a ``FigureTable`` over that office and the offices below it, counting only the
persons the viewer may see, in a fixed number of queries whatever the number of offices or
persons (a bureau's "every office" report asks for all its offices at once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from people.models import Office


@dataclass(frozen=True)
class FigureTable:
    key: str  # a stable name (tests, test ids)
    title: str  # translated
    columns: list[str]  # translated; the first is the month
    rows: list[list[object]]  # one per month asked, oldest first: [label, number, ...]
    empty_text: str  # translated: said when every number is 0

    @property
    def is_empty(self) -> bool:
        return all(not any(row[1:]) for row in self.rows)


FigureSource = Callable[[object, Sequence[Office], Sequence[dt.date]], dict[int, FigureTable]]

_SOURCES: dict[str, FigureSource] = {}


def register_office_figures(key: str, source: FigureSource) -> None:
    """Register (or replace, on a reload) the source ``key``."""
    _SOURCES[key] = source


def office_figures(
    user, offices: Sequence[Office], months: Sequence[dt.date]
) -> dict[int, list[FigureTable]]:
    """Every registered source's table for each office, in registration order."""
    out: dict[int, list[FigureTable]] = {office.pk: [] for office in offices}
    if not offices:
        return out
    for source in _SOURCES.values():
        tables = source(user, offices, months)
        for office in offices:
            if office.pk in tables:
                out[office.pk].append(tables[office.pk])
    return out
