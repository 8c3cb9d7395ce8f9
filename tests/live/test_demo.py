"""The demo seeds one past lecture with attendance replayed through the real endpoint, and
one upcoming lecture."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from live.demo import PAST, UPCOMING
from live.models import Attendance, AttendanceStatus, Lecture, Makeup, PresenceEvent
from people.models import Person

pytestmark = pytest.mark.django_db


def _statuses(lecture):
    return {
        a.person.user.username: a.status
        for a in Attendance.objects.filter(lecture=lecture).select_related("person__user")
    }


def test_seed_demo_replays_a_past_lecture_and_plans_one(settings):
    settings.JAAS_WEBHOOK_SECRET = ""  # the demo signs with a one-off secret then
    call_command("seed_demo")
    past = Lecture.objects.get(title=PAST["title"])
    upcoming = Lecture.objects.get(title=UPCOMING["title"])
    assert PresenceEvent.objects.filter(room_name=past.room_name).count() == 22
    statuses = _statuses(past)
    assert len(statuses) == Person.objects.active().filter(office__code="dongcheng").count() == 10
    assert {u for u, s in statuses.items() if s == AttendanceStatus.PRESENT} == {
        "learner1",
        "learner2",
        "learner3",
        "learner4",
        "learner5",
        "learner9",
    }
    assert statuses["learner6"] == AttendanceStatus.LATE
    assert statuses["learner7"] == AttendanceStatus.LEFT_EARLY
    assert statuses["learner8"] == statuses["learner10"] == AttendanceStatus.ABSENT
    makeups = Makeup.objects.filter(lecture=past)
    assert set(makeups.values_list("person__user__username", flat=True)) == {
        "learner7",
        "learner8",
        "learner10",
    }
    assert upcoming.audience_resolved_at is None and not upcoming.has_started()
    assert (
        Lecture.objects.for_person(Person.objects.get(user__username="learner20"))
        .filter(pk=upcoming.pk)
        .exists()
    )

    call_command("seed_demo")  # idempotent
    assert Lecture.objects.count() == 14  # and twelve months of history (cms.demo)
    assert PresenceEvent.objects.filter(room_name=past.room_name).count() == 22
    assert _statuses(past) == statuses
