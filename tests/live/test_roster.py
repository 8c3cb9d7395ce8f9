"""The live roster and presence checks (live.roster) against the database, and their effect
on the computed attendance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from live import audience, roster, services
from live.models import CheckResponseStatus, LectureMode, PresenceCheck, PresenceCheckResponse
from tests.factories import make_person, make_user
from tests.live.helpers import attend, jaas, make_lecture, past_lecture, pid, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(org):
    """A lecture under way for 5 minutes (east office: ``org.person``), audience fixed."""
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    audience.do_resolve_audience(lecture)
    lecture.refresh_from_db()
    return lecture


def join(lecture, person, at):
    store([jaas(lecture, "PARTICIPANT_JOINED", at, pid(lecture, person))])


def leave(lecture, person, at):
    store([jaas(lecture, "PARTICIPANT_LEFT", at, pid(lecture, person), disconnectReason="left")])


# --- Access -------------------------------------------------------------------------------------


def test_audience_member_connects_as_attendee_and_lecturer_as_roster_viewer(org, running):
    access = roster.access_lecture_socket(org.learner, running.pk)
    assert access.person == org.person and not access.is_staff
    access = roster.access_lecture_socket(org.lecturer, running.pk)
    assert access.is_staff and access.scope_ids is None


def test_officer_sees_only_persons_in_scope(org, running):
    west_person = make_person(org.west)
    running.audience_persons.add(west_person)
    access = roster.access_lecture_socket(org.officer, running.pk)
    assert access.is_staff
    assert access.scope_ids == frozenset({org.person.pk})


@pytest.mark.parametrize("who", ["other_learner", "counselor", "editor", "outsider"])
def test_anyone_else_is_refused(org, running, who):
    with pytest.raises(Http404):
        roster.access_lecture_socket(getattr(org, who), running.pk)


def test_attendee_outside_the_join_window_or_at_the_centre_is_refused(org):
    later = make_lecture(org, start=timezone.now() + dt.timedelta(hours=2))
    with pytest.raises(Http404):
        roster.access_lecture_socket(org.learner, later.pk)
    ended = past_lecture(org)
    with pytest.raises(Http404):
        roster.access_lecture_socket(org.learner, ended.pk)
    centre = make_lecture(org, start=timezone.now(), mode=LectureMode.CENTRE)
    with pytest.raises(Http404):
        roster.access_lecture_socket(org.learner, centre.pk)
    # the lecturer still sees the ended lecture's roster
    assert roster.access_lecture_socket(org.lecturer, ended.pk).is_staff


def test_missing_lecture_is_refused(org):
    with pytest.raises(Http404):
        roster.access_lecture_socket(org.lecturer, 987654)


# --- The roster ---------------------------------------------------------------------------------


def test_roster_states_come_from_the_server_and_sockets_only_shorten(org, running):
    stayed = org.person
    left = make_person(org.east, make_user("left-one", "learner", name="王五"))
    waiting = make_person(org.east, make_user("waiting-one", "learner", name="赵六"))
    closed_page = make_person(org.east, make_user("closed-page", "learner", name="钱七"))
    socket_only = make_person(org.east, make_user("socket-only", "learner", name="孙八"))
    for person in (left, waiting, closed_page, socket_only):
        running.audience_persons.add(person)
    audience.do_resolve_audience(running)  # already fixed: nothing changes
    from live.jitsi import participant_id
    from live.models import LectureAudience

    for person in (left, waiting, closed_page, socket_only):
        LectureAudience.objects.get_or_create(
            lecture=running,
            person=person,
            defaults={"participant_id": participant_id(person.user_id)},
        )
    now = timezone.now()
    join(
        running, stayed, now - dt.timedelta(minutes=6)
    )  # before the start: the window opens 15 min early
    join(running, left, now - dt.timedelta(minutes=4))
    leave(running, left, now - dt.timedelta(minutes=3))
    join(running, closed_page, now - dt.timedelta(minutes=4))
    access = roster.access_lecture_socket(org.lecturer, running.pk)
    snapshot = roster.roster_snapshot(
        access,
        open_sockets={stayed.pk, socket_only.pk},
        seen_sockets={stayed.pk, socket_only.pk, closed_page.pk},
        now=now,
    )
    states = {row["person"]: row["state"] for row in snapshot["rows"]}
    assert states == {
        stayed.pk: roster.PRESENT,
        left.pk: roster.LEFT,
        waiting.pk: roster.NOT_JOINED,
        closed_page.pk: roster.LEFT,  # in the video room, but the page was closed
        socket_only.pk: roster.NOT_JOINED,  # an open page without the server proves nothing
    }
    assert snapshot["expected"] == 5
    assert snapshot["counts"] == {"present": 1, "left": 2, "not_joined": 2}
    names = {row["name"] for row in snapshot["rows"]}
    assert "张*" in names and "张三" not in names


def test_roster_state_rule():
    assert roster.roster_state(None, True, True) == roster.NOT_JOINED
    assert roster.roster_state(True, False, False) == roster.PRESENT  # no page signal at all
    assert roster.roster_state(True, True, True) == roster.PRESENT
    assert roster.roster_state(True, True, False) == roster.LEFT
    assert roster.roster_state(False, True, True) == roster.LEFT


# --- Presence checks ----------------------------------------------------------------------------


def test_check_is_asked_of_everyone_in_the_room_and_answered_in_time(org, running):
    now = timezone.now()
    absent = make_person(org.east)
    running.audience_persons.add(absent)
    join(running, org.person, now - dt.timedelta(minutes=2))
    check = roster.do_send_presence_check(running, org.lecturer, now)
    assert check.expires_at - check.sent_at == roster.CHECK_WINDOW
    asked = dict(check.responses.values_list("person_id", "status"))
    assert asked == {org.person.pk: CheckResponseStatus.ASKED}

    result = roster.do_answer_presence_check(check.pk, org.person, now + dt.timedelta(seconds=59))
    assert result.status == "answered"
    response = PresenceCheckResponse.objects.get(presence_check=check, person=org.person)
    assert response.status == CheckResponseStatus.ANSWERED
    assert response.answered_at == now + dt.timedelta(seconds=59)
    # answering twice changes nothing
    again = roster.do_answer_presence_check(check.pk, org.person, now + dt.timedelta(seconds=70))
    assert again.status == "already"
    response.refresh_from_db()
    assert response.answered_at == now + dt.timedelta(seconds=59)


def test_late_answer_is_a_miss(org, running):
    now = timezone.now()
    join(running, org.person, now - dt.timedelta(minutes=2))
    check = roster.do_send_presence_check(running, org.lecturer, now)
    late = roster.do_answer_presence_check(check.pk, org.person, now + dt.timedelta(seconds=61))
    assert late.status == "missed"
    assert check.responses.get().status == CheckResponseStatus.MISSED


def test_nobody_answers_for_someone_else_or_a_check_they_were_not_asked(org, running):
    now = timezone.now()
    join(running, org.person, now - dt.timedelta(minutes=2))
    check = roster.do_send_presence_check(running, org.lecturer, now)
    stranger = make_person(org.east)
    assert roster.do_answer_presence_check(check.pk, stranger, now).status == "not_asked"
    for bad in (None, "1", -1, 0, 10**12, True, 1.5):
        assert roster.do_answer_presence_check(bad, org.person, now).status == "not_asked"
    assert check.responses.get().status == CheckResponseStatus.ASKED


def test_expired_checks_close_as_missed_by_the_command(org, running):
    now = timezone.now()
    join(running, org.person, now - dt.timedelta(minutes=2))
    check = roster.do_send_presence_check(running, org.lecturer, now - dt.timedelta(seconds=90))
    call_command("close_presence_checks")
    check.refresh_from_db()
    assert check.closed_at is not None
    assert check.responses.get().status == CheckResponseStatus.MISSED
    assert roster.do_close_expired_checks() == 0  # idempotent


def test_refused_checks(org, running):
    now = timezone.now()
    with pytest.raises(roster.CheckRefused) as refused:
        roster.do_send_presence_check(running, org.lecturer, now)
    assert refused.value.reason == "nobody_present"
    join(running, org.person, now - dt.timedelta(minutes=2))
    roster.do_send_presence_check(running, org.lecturer, now)
    with pytest.raises(roster.CheckRefused) as refused:
        roster.do_send_presence_check(running, org.lecturer, now + dt.timedelta(seconds=10))
    assert refused.value.reason == "check_open"
    # after the window the old one is closed and a new one may go out
    roster.do_send_presence_check(running, org.lecturer, now + dt.timedelta(seconds=61))
    assert PresenceCheck.objects.filter(lecture=running, closed_at__isnull=False).count() == 1
    with pytest.raises(roster.CheckRefused) as refused:
        roster.do_send_presence_check(running, org.lecturer, running.end - dt.timedelta(seconds=30))
    assert refused.value.reason == "not_running"


def test_reconnecting_page_gets_the_open_check_again(org, running):
    now = timezone.now()
    join(running, org.person, now - dt.timedelta(minutes=2))
    check = roster.do_send_presence_check(running, org.lecturer, now)
    pending = roster.open_check_for(running, org.person, now + dt.timedelta(seconds=20))
    assert pending["check"] == check.pk and pending["seconds"] == 40
    roster.do_answer_presence_check(check.pk, org.person, now + dt.timedelta(seconds=21))
    assert roster.open_check_for(running, org.person, now + dt.timedelta(seconds=22)) is None


# --- Checks in the computed attendance ----------------------------------------------------------


def _ended_with_check(org, *, answered: bool | None):
    """A 60-minute lecture, ended; org.person present throughout; one check 45 minutes in."""
    lecture = past_lecture(org, hours_ago=2)
    store(attend(lecture, pid(lecture, org.person), lecture.start, lecture.end))
    sent = lecture.start + dt.timedelta(minutes=45)
    check = PresenceCheck.objects.create(
        lecture=lecture, sent_by=org.lecturer, sent_at=sent, expires_at=sent + roster.CHECK_WINDOW
    )
    status = {True: "answered", False: "asked", None: "missed"}[answered]
    PresenceCheckResponse.objects.create(
        presence_check=check,
        person=org.person,
        status=status,
        answered_at=sent + dt.timedelta(seconds=10) if answered else None,
    )
    return lecture, check


def test_answered_check_keeps_full_credit(org):
    lecture, _check = _ended_with_check(org, answered=True)
    (row,) = services.do_recompute_attendance(lecture)
    assert row.status == "present"
    assert row.seconds == 3600
    assert row.figures["checks"] == {"asked": 1, "answered": 1}


def test_missed_check_shortens_credit_and_counts_against_the_policy(org):
    lecture, check = _ended_with_check(org, answered=False)  # still "asked": closed on recompute
    (row,) = services.do_recompute_attendance(lecture)
    assert check.responses.get().status == CheckResponseStatus.MISSED
    assert row.seconds == 45 * 60  # nothing credited after the missed check
    assert row.figures["checks"] == {"asked": 1, "answered": 0}
    assert row.status == "left_early"  # 75 % < 90 %, and the credit ends 15 minutes early


def test_policy_that_ignores_checks_does_not_shorten(org):
    rules = {**services.current_policy().rules, "min_checks_ratio": 0}
    services.do_create_policy_version(rules, note="checks ignored")
    lecture, _check = _ended_with_check(org, answered=None)
    (row,) = services.do_recompute_attendance(lecture)
    assert row.status == "present" and row.seconds == 3600
