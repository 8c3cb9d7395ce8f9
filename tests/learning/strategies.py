"""Hypothesis strategies for heartbeat streams shared by the learning tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from participation.crediting import Beat

BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LESSONS = (1, 2, 3)
UNKNOWN_LESSON = 4

# Gaps cluster around the 15 s beat and the 30 s cut-off, with the odd fast beat and sleep.
gaps = st.one_of(st.sampled_from([0, 1, 5, 14, 15, 16, 29, 30, 31, 45, 200]), st.integers(0, 40))


def beat(lesson: int, tab: str, seconds: float, *, shanghai: bool = False) -> Beat:
    at = BASE + timedelta(seconds=seconds)
    return {"lesson": lesson, "tab": tab, "at": at.astimezone(SHANGHAI) if shanghai else at}


@st.composite
def beat_streams(draw: st.DrawFn, *, whole_seconds: bool = False, max_runs: int = 4) -> list[Beat]:
    """Several runs of beats, each run one (lesson, tab) with gaps around 15 and 30 s.

    Runs may share a (lesson, tab), overlap in time and start anywhere in the first 200 s.
    """
    beats: list[Beat] = []
    jitters = st.just(0) if whole_seconds else st.sampled_from([0, 0, 0, 250_000, 999_999])
    for _ in range(draw(st.integers(1, max_runs))):
        lesson = draw(st.sampled_from((*LESSONS, UNKNOWN_LESSON)))
        tab = draw(st.sampled_from("ab"))
        shanghai = draw(st.booleans())
        at = draw(st.integers(0, 200))
        for gap, jitter in [(0, 0), *draw(st.lists(st.tuples(gaps, jitters), max_size=10))]:
            at += gap
            beats.append(beat(lesson, tab, at + jitter / 1_000_000, shanghai=shanghai))
    return beats


expectations = st.dictionaries(st.sampled_from(LESSONS), st.integers(0, 300))


def in_time_order(beats: list[Beat]) -> list[Beat]:
    return sorted(beats, key=lambda b: (b["at"], b["lesson"], b["tab"]))
