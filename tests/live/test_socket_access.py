"""The lecture socket's one-query attendee access (``roster.access_attendee_socket``) decides
exactly as the reference path (``access_lecture_socket`` + ``open_check_for``), or defers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.http import Http404
from django.utils import timezone

from live import audience, roster
from live.models import JOIN_OPENS_BEFORE, LectureMode, PresenceCheck, PresenceCheckResponse
from tests.factories import make_person, make_user
from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db

WHO = ("learner", "other_learner", "counselor", "lecturer", "officer", "outsider", "editor")


def reference(user, pk: int, now: dt.datetime):
    """(person id, pending check) for an attendee, "staff" or "refused"."""
    try:
        access = roster.access_lecture_socket(user, pk, now)
    except Http404:
        return "refused"
    if access.is_staff:
        return "staff"
    return access.person.pk, roster.open_check_for(access.lecture, access.person, now)


def _check(lecture, person, sent: dt.datetime, *, closed=False, status="asked"):
    check = PresenceCheck.objects.create(
        lecture=lecture,
        sent_by=lecture.lecturer,
        sent_at=sent,
        expires_at=sent + roster.CHECK_WINDOW,
        closed_at=sent + roster.CHECK_WINDOW if closed else None,
    )
    PresenceCheckResponse.objects.create(presence_check=check, person=person, status=status)
    return check


def test_shortcut_agrees_with_the_reference_path(org):
    now = timezone.now().replace(microsecond=0)
    learner_lecturer = make_lecture(org, start=now - dt.timedelta(minutes=5), lecturer=org.learner)
    lectures = [
        make_lecture(org, start=now - dt.timedelta(minutes=5)),  # running
        make_lecture(org, start=now + dt.timedelta(minutes=10)),  # in the join window
        make_lecture(org, start=now + dt.timedelta(minutes=40)),  # too early
        make_lecture(org, start=now - dt.timedelta(hours=2)),  # over
        make_lecture(org, start=now - dt.timedelta(minutes=5), mode=LectureMode.CENTRE),
        make_lecture(org, start=now - dt.timedelta(minutes=5), mode=LectureMode.BOTH),
        make_lecture(org, start=now - dt.timedelta(minutes=5), offices=(org.west,)),
        make_lecture(org, start=now - dt.timedelta(minutes=5), persons=(org.person,)),
        learner_lecturer,
    ]
    unresolved = make_lecture(org, start=now - dt.timedelta(minutes=5))
    for lecture in lectures:
        audience.do_resolve_audience(lecture, now)
    running = lectures[0]
    # checks: open (asked), answered, closed, expired; and one on another lecture
    second = make_person(org.east, make_user("second-east", "learner", name="王五"))
    from live.jitsi import participant_id
    from live.models import LectureAudience

    LectureAudience.objects.create(
        lecture=running, person=second, participant_id=participant_id(second.user_id)
    )
    _check(running, org.person, now - dt.timedelta(seconds=70))  # expired, not closed
    _check(running, org.person, now - dt.timedelta(seconds=20), closed=True)
    _check(running, second, now - dt.timedelta(seconds=10), status="answered")
    open_check = _check(running, org.person, now - dt.timedelta(seconds=10))
    _check(lectures[5], second, now - dt.timedelta(seconds=5))

    users = [getattr(org, who) for who in WHO] + [second.user]
    times = [
        now,
        now + dt.timedelta(seconds=30),
        running.start - JOIN_OPENS_BEFORE,  # the window opens (inclusive)
        running.start - JOIN_OPENS_BEFORE - dt.timedelta(seconds=1),
        running.end,  # and closes (exclusive)
        running.end - dt.timedelta(seconds=1),
    ]
    attendees = 0
    for lecture, user, at in itertools.product([*lectures, unresolved], users, times):
        expected = reference(user, lecture.pk, at)
        found = roster.access_attendee_socket(user.pk, lecture.pk, at)
        if lecture is unresolved or not isinstance(expected, tuple):
            assert found is None, (lecture.title, user.username, at)
        else:
            assert found == expected, (lecture.title, user.username, at)
            attendees += 1
    assert attendees > 10
    assert roster.access_attendee_socket(org.learner.pk, running.pk, now) == (
        org.person.pk,
        roster.open_check_for(running, org.person, now),
    )
    assert roster.access_attendee_socket(org.learner.pk, running.pk, now)[1]["check"] == (
        open_check.pk
    )
    assert roster.access_attendee_socket(org.learner.pk, 987654, now) is None


def test_shortcut_is_one_query(org, django_assert_num_queries):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    audience.do_resolve_audience(lecture)
    with django_assert_num_queries(1):
        assert roster.access_attendee_socket(org.learner.pk, lecture.pk) == (org.person.pk, None)
