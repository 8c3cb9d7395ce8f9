"""``do_record_sitting`` (the demo's fast path for past study) leaves what beating through
the same sitting leaves: the credit, the completion and the ledger rows of every month."""

from __future__ import annotations

import datetime as dt

import pytest

from learning.heartbeat import store
from learning.models import LessonProgress
from participation.models import ParticipationRecord
from tests.factories import make_person
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db

MARCH = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 8, 12, 0, tzinfo=dt.UTC)


def _beats(person, lesson, tab, start, seconds):
    for step in range(0, seconds + 1, 30):
        store.do_record_heartbeat(person, lesson, tab, start + dt.timedelta(seconds=step))


def _state(person, lesson):
    progress = LessonProgress.objects.get(person=person, lesson=lesson)
    ledger = sorted(
        ParticipationRecord.objects.filter(person=person).values_list(
            "period", "source", "requirement_key", "minutes", "status"
        )
    )
    return progress.credited_seconds, progress.completed_at is not None, ledger


@pytest.mark.parametrize(
    "sittings",
    [
        [(MARCH, 600)],  # part of the lesson
        [(MARCH, 1500)],  # past the completion line
        [(MARCH, 4000)],  # beyond the cap
        [(MARCH, 420), (APRIL, 900)],  # two months: the ledger splits the minutes
    ],
)
def test_a_sitting_leaves_what_its_beats_leave(org, sittings):
    course = make_course(lessons=1, quiz=False, expected=1800)
    [lesson] = lessons_of(course)
    beaten, fast = org.person, make_person(org.east)
    for number, (start, seconds) in enumerate(sittings):
        tab = f"tab-{number}"
        _beats(beaten, lesson, tab, start, seconds)
        store.do_record_sitting(
            fast, lesson, tab, start, start + dt.timedelta(seconds=seconds // 30 * 30)
        )
    assert _state(fast, lesson) == _state(beaten, lesson)
    credited = _state(fast, lesson)[0]
    assert credited and store.credited_for_person(fast) == {lesson.pk: credited}
