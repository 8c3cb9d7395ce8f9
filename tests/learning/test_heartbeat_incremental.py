"""The per-beat shortcut (``participation.crediting.extended_credit``) credits what
``credit`` computes: whenever it answers, the whole person's credit after the beat is the
credit before with only the beat's own lesson moved, by exactly its answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from learning.heartbeat import store
from learning.heartbeat.rule import BeatRejected
from learning.models import LessonProgress, StudySession
from participation.crediting import (
    Session,
    StudyLog,
    apply_beat,
    cap_for,
    credit,
    credited,
    extended_credit,
    may_overlap,
    seconds_added,
    whole_seconds,
)
from tests.learning.strategies import BASE, beat, beat_streams, expectations, in_time_order

PROPERTY = settings(max_examples=400, deadline=None)


def shortcut(log: StudyLog, new_beat, expected) -> tuple[int | None, dict]:
    """What the server does for one beat: the shortcut's answer (None: re-credit) and the credit
    before the beat. Records the beat in ``log``."""
    key = (new_beat["lesson"], new_beat["tab"])
    before = log.open.get(key)
    credit_before = credited(log, expected)
    log.record(new_beat)
    after = log.open[key]
    if before is None or after is before or after.started_at != before.started_at:
        return None, credit_before  # a new session: nothing to extend
    others = [s for s in log.sessions() if s is not after]
    overlapped = any(may_overlap(other, before, after) for other in others)
    answer = extended_credit(
        before,
        after,
        credit_before[new_beat["lesson"]],
        cap_for(expected.get(new_beat["lesson"])),
        overlapped,
    )
    return answer, credit_before


@PROPERTY
@given(beat_streams(max_runs=5), expectations)
def test_the_shortcut_agrees_with_crediting_everything_again(beats, expected):
    log = StudyLog()
    for new_beat in in_time_order(beats):
        answer, credit_before = shortcut(log, new_beat, expected)
        event("shortcut" if answer is not None else "re-credit")
        if answer is None:
            continue
        want = credited(log, expected)
        assert want == {**credit_before, new_beat["lesson"]: answer}


@PROPERTY
@given(
    st.integers(0, 100),
    st.integers(0, 40),
    st.integers(1, 30),
    st.integers(0, 200),
    st.integers(0, 200),
    st.sampled_from([0, 250_000, 999_999]),
)
def test_may_overlap_holds_every_session_covering_an_added_second(
    start, length, extension, other_start, other_length, jitter
):
    def at(seconds: float):
        return BASE + timedelta(seconds=seconds, microseconds=jitter)

    before = Session(1, "a", at(start), at(start + length))
    after = Session(1, "a", before.started_at, at(start + length + extension))
    other = Session(2, "b", BASE + timedelta(seconds=other_start), at(other_start + other_length))
    added = range(*seconds_added(before, after))
    covered = range(*whole_seconds(other))
    if set(added) & set(covered):
        assert may_overlap(other, before, after)


def run(lesson: int, tab: str, seconds: range) -> list:
    return [beat(lesson, tab, s) for s in seconds]


def test_a_lone_tab_takes_the_shortcut_after_its_first_second():
    log = StudyLog()
    expected = {1: 600}
    answers = [shortcut(log, b, expected)[0] for b in run(1, "a", range(0, 301, 15))]
    assert answers[:2] == [None, None]  # first beat, then the session's first whole seconds
    assert answers[2:] == list(range(30, 301, 15))


def test_overlap_a_cap_or_a_first_second_need_a_full_recredit():
    log = StudyLog()
    for b in run(1, "a", range(0, 31, 15)) + run(2, "b", range(20, 36, 15)):
        log.record(b)
    before = log.open[1, "a"]
    after, _ = apply_beat(before, beat(1, "a", 45))
    other = log.open[2, "b"]
    assert may_overlap(other, before, after)
    assert extended_credit(before, after, 30, 900, overlapped=True) is None
    assert extended_credit(before, after, 30, 40, overlapped=False) is None  # 45 > cap 40
    assert extended_credit(before, after, 30, 45, overlapped=False) == 45
    fresh = Session(1, "c", BASE, BASE)
    assert (
        extended_credit(fresh, Session(1, "c", BASE, BASE + timedelta(seconds=15)), 0, 900, False)
        is None
    )


def test_a_beat_adding_no_whole_second_changes_nothing():
    started = BASE + timedelta(microseconds=400_000)
    before = Session(1, "a", started, started)
    after = Session(1, "a", started, BASE + timedelta(seconds=1))
    start, end = seconds_added(before, after)
    assert start == end
    assert extended_credit(before, after, 7, 0, overlapped=True) == 7


def test_a_sessions_first_second_can_reorder_lessons_so_it_is_recredited():
    # Lesson 1's tab "a" beat once at 0 s; its tab "b" and lesson 2 overlap on 100-150 s, which
    # lesson 2 holds because it started first. Tab "a"'s second beat gives lesson 1 its first
    # whole seconds from 0 s: lesson 1 now comes first and takes the overlap too.
    log = StudyLog()
    expected = {1: 1000, 2: 1000}
    for b in [beat(1, "a", 0), *run(1, "b", range(100, 191, 15)), *run(2, "c", range(50, 151, 10))]:
        log.record(b)
    answer, credit_before = shortcut(log, beat(1, "a", 15), expected)
    assert credit_before == {1: 40, 2: 100}
    assert credited(log, expected) == {1: 105, 2: 50}
    assert answer is None


# --- the database path, after every beat --------------------------------------------------------

T0 = BASE
TABS = ["tab-aaaaaaaa", "tab-bbbbbbbb", "tab-cccccccc"]

# Mostly one tab beating every 15 s, with switches of tab and lesson, sleeps and a stray fast beat.
sittings = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 0, 1]),  # lesson index
        st.sampled_from([0, 0, 0, 1, 1, 2]),  # tab index
        st.sampled_from([15, 15, 15, 15, 4, 14, 29, 30, 31, 90]),  # seconds since the last beat
        st.sampled_from([0, 0, 250_000, 999_999]),  # microseconds
    ),
    min_size=1,
    max_size=45,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=sittings)
def test_stored_credit_equals_credit_after_every_beat(org, lessons, steps):
    StudySession.objects.all().delete()
    LessonProgress.objects.all().delete()
    expected = {lesson.pk: lesson.expected_seconds for lesson in lessons}  # capped at 450 s
    accepted = []
    at = T0
    for lesson_index, tab_index, gap, micro in steps:
        at = at + timedelta(seconds=gap, microseconds=micro)
        lesson = lessons[lesson_index]
        try:
            progress = store.do_record_heartbeat(org.person, lesson, TABS[tab_index], at)
        except BeatRejected:
            continue
        accepted.append({"lesson": lesson.pk, "tab": TABS[tab_index], "at": at})
        want = credit(accepted, expected)
        stored = dict(
            LessonProgress.objects.filter(person=org.person).values_list(
                "lesson_id", "credited_seconds"
            )
        )
        assert stored == want
        assert progress.credited_seconds == want[lesson.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("other", [0, 1])
def test_two_interleaved_tabs_are_credited_once(org, lessons, other):
    # Tab b's session covers 15-45 s when tab a's beat at 60 s adds 30-60 s: 15 s overlap.
    plan = [("a", 0, 0), ("b", other, 15), ("a", 0, 30), ("b", other, 45), ("a", 0, 60)]
    for tab, lesson_index, second in plan:
        store.do_record_heartbeat(
            org.person, lessons[lesson_index], f"tab-{tab * 8}", T0 + timedelta(seconds=second)
        )
    stored = LessonProgress.objects.filter(person=org.person).values_list("credited_seconds")
    assert sum(seconds for (seconds,) in stored) == 60
