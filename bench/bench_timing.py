"""Study-time crediting for one person's month: incremental session rows
(``participation.crediting``) against keeping every beat and re-crediting the whole list.

The month: 20 sittings of 24 min on one tab (one beat per 15 s, 1,940 beats, about 8 h), plus a
second tab open on another lesson for the first 12 min of each sitting (980 beats), so the
overlap rule has work to do. Pure Python, no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.common import best_of
from participation.crediting import Beat, StudyLog, credit, credited

START = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
SITTINGS = 20
SITTING = 24 * 60
SECOND_TAB = 12 * 60
EXPECTED = dict.fromkeys(range(SITTINGS + 1), 3600)


def month() -> list[Beat]:
    beats: list[Beat] = []
    for day in range(SITTINGS):
        sitting = START + timedelta(days=day)
        for s in range(0, SITTING + 1, 15):
            at = sitting + timedelta(seconds=s)
            beats.append({"lesson": day, "tab": "a", "at": at})
            if s <= SECOND_TAB:
                beats.append({"lesson": day + 1, "tab": "b", "at": at + timedelta(seconds=4)})
    return beats


def run() -> list[dict]:
    beats = month()
    want = credit(beats, EXPECTED)
    assert sum(want.values()) == SITTINGS * SITTING, want  # the second tab adds no time

    def ours_live():
        log = StudyLog()
        for beat in beats:
            log.record(beat)
            latest = credited(log, EXPECTED)
        assert latest == want

    def naive_live():
        kept: list[Beat] = []
        for beat in beats:
            kept.append(beat)
            latest = credit(kept, EXPECTED)
        assert latest == want

    def ours_once():
        log = StudyLog()
        for beat in beats:
            log.record(beat)
        assert credited(log, EXPECTED) == want

    def naive_once():
        assert credit(list(beats), EXPECTED) == want

    n = len(beats)
    return [
        {
            "name": f"month, credit after every beat ({n} beats)",
            "ours": best_of(ours_live),
            "naive": best_of(naive_live, repeat=1),
            "note": "session rows vs re-credit all beats (quadratic)",
        },
        {
            "name": f"month, credit once at month end ({n} beats)",
            "ours": best_of(ours_once),
            "naive": best_of(naive_once),
            "note": "stored: 40 session rows vs 2,920 beat rows",
        },
    ]
