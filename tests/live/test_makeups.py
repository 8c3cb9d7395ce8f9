"""Makeups: assigned for absence or leaving early, completed by watching the recording with
verified time or by attending a later lecture on the same topic; the ledger follows."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from courses.models import Topic
from live import makeups, services
from live.models import AttendanceStatus, Makeup, MakeupKind, MakeupWatchSession
from notifications.models import Notification
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from tests.factories import login_staff
from tests.live.helpers import attend, past_lecture, pid, store

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
RECORDING = "/documents/1/lecture.mp4"


def _makeup_ledger(person):
    return ParticipationRecord.objects.filter(person=person, source=ParticipationSource.MAKEUP)


def test_absent_and_left_early_persons_get_a_makeup(org):
    from tests.factories import make_person

    early = make_person(org.east)
    lecture = past_lecture(org, recording_url=RECORDING)
    store(attend(lecture, pid(lecture, early), lecture.start, lecture.start + 20 * MIN))
    services.do_recompute_attendance(lecture)
    assigned = {m.person_id: m for m in Makeup.objects.filter(lecture=lecture)}
    assert set(assigned) == {org.person.pk, early.pk}
    makeup = assigned[org.person.pk]
    assert makeup.kind == MakeupKind.RECORDING
    assert makeup.due_date == timezone.localdate(lecture.end) + dt.timedelta(days=14)
    assert makeup.completed_at is None


def test_without_a_recording_the_makeup_is_a_later_lecture(org):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    assert Makeup.objects.get(person=org.person).kind == MakeupKind.LATER_LECTURE


def test_present_persons_and_optional_lectures_get_no_makeup(org):
    attended = past_lecture(org)
    store(attend(attended, pid(attended, org.person), attended.start, attended.end))
    services.do_recompute_attendance(attended)
    optional = past_lecture(org, required=False)
    services.do_recompute_attendance(optional)
    assert not Makeup.objects.exists()


def test_makeup_notices_are_sent_once(org):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    assert not Notification.objects.exists()  # the recompute itself stays quiet and fast
    out = StringIO()
    call_command("send_lecture_reminders", stdout=out)
    assert out.getvalue().strip() == "0 reminders sent, 1 makeup notices sent"
    notice = Notification.objects.get(recipient=org.learner)
    makeup = Makeup.objects.get()
    assert notice.url == f"/live/makeups/{makeup.pk}/" and lecture.title in notice.title
    out = StringIO()
    call_command("send_lecture_reminders", stdout=out)
    assert out.getvalue().strip() == "0 reminders sent, 0 makeup notices sent"
    assert Notification.objects.count() == 1


# --- Watching the recording --------------------------------------------------------------------


@pytest.fixture
def recording_makeup(org):
    lecture = past_lecture(org, minutes=10, recording_url=RECORDING)
    services.do_recompute_attendance(lecture)
    return Makeup.objects.select_related("lecture").get(person=org.person)


def _watch(makeup, start, seconds, step=15, tab="tab-aaaaaaaa"):
    at = start
    while at <= start + dt.timedelta(seconds=seconds):
        makeup = makeups.do_record_watch_heartbeat(makeup, tab, at)
        at += dt.timedelta(seconds=step)
    return makeup


def test_watching_most_of_the_recording_completes_the_makeup(org, recording_makeup):
    start = timezone.now().replace(microsecond=0)
    makeup = _watch(recording_makeup, start, 7 * 60)  # 70 % of ten minutes
    assert makeup.credited_seconds == 7 * 60 and makeup.completed_at is None
    assert not _makeup_ledger(org.person).exists()
    makeup = _watch(makeup, start + dt.timedelta(seconds=7 * 60 + 15), 60)
    makeup.refresh_from_db()
    assert makeup.completed_at is not None
    assert makeup.completed_how == MakeupKind.RECORDING
    assert makeup.credited_seconds >= makeups.completion_seconds(makeup.lecture) == 480
    record = _makeup_ledger(org.person).get()
    assert record.status == ParticipationStatus.COMPLETED
    assert record.requirement_key == f"lecture:{makeup.lecture_id}"
    assert record.period == timezone.localdate(makeup.lecture.start).replace(day=1)
    assert record.minutes == makeup.credited_seconds // 60


def test_two_tabs_count_once_and_gaps_do_not_count(recording_makeup):
    start = timezone.now().replace(microsecond=0)
    makeup = _watch(recording_makeup, start, 120, tab="tab-aaaaaaaa")
    makeup = _watch(makeup, start + dt.timedelta(seconds=5), 120, tab="tab-bbbbbbbb")
    assert makeup.credited_seconds == 125
    later = start + dt.timedelta(minutes=5)  # a 3-minute pause: not credited
    makeup = _watch(makeup, later, 30, tab="tab-aaaaaaaa")
    assert makeup.credited_seconds == 155
    assert MakeupWatchSession.objects.filter(makeup=makeup).count() == 3


def test_a_beat_too_soon_is_refused_and_changes_nothing(recording_makeup):
    now = timezone.now()
    makeups.do_record_watch_heartbeat(recording_makeup, "tab-aaaaaaaa", now)
    with pytest.raises(makeups.BeatRejected, match="too_fast"):
        makeups.do_record_watch_heartbeat(
            recording_makeup, "tab-aaaaaaaa", now + dt.timedelta(seconds=2)
        )
    assert MakeupWatchSession.objects.get().last_beat_at == now


def test_no_recording_no_watching(org):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    makeup = Makeup.objects.get()
    with pytest.raises(makeups.BeatRejected, match="no_recording"):
        makeups.do_record_watch_heartbeat(makeup, "tab-aaaaaaaa")
    assert not MakeupWatchSession.objects.exists()


def test_a_left_early_person_is_credited_only_the_part_not_yet_counted(org):
    lecture = past_lecture(org, minutes=30, recording_url=RECORDING)
    store(attend(lecture, pid(lecture, org.person), lecture.start, lecture.start + 5 * MIN))
    services.do_recompute_attendance(lecture)
    assert lecture.attendance.get().status == AttendanceStatus.LEFT_EARLY
    makeup = Makeup.objects.get(person=org.person)
    makeup = _watch(makeup, timezone.now().replace(microsecond=0), 25 * 60, step=25)
    assert makeup.completed_at is not None
    entries = dict(
        ParticipationRecord.objects.filter(person=org.person).values_list("source", "minutes")
    )
    # completed at 24 of 30 minutes watched; the first 5 were counted for the lecture itself
    assert entries == {ParticipationSource.LECTURE: 5, ParticipationSource.MAKEUP: 19}


# --- Attending a later lecture -----------------------------------------------------------------


def test_attending_a_later_lecture_on_the_topic_completes_the_makeup(org):
    missed = past_lecture(org, hours_ago=50, topic=Topic.LEGAL)
    services.do_recompute_attendance(missed)
    other_topic = past_lecture(org, hours_ago=20, topic=Topic.MORAL)
    store(attend(other_topic, pid(other_topic, org.person), other_topic.start, other_topic.end))
    services.do_recompute_attendance(other_topic)
    makeup = Makeup.objects.get(lecture=missed)
    assert makeup.completed_at is None  # another topic does not count
    later = past_lecture(org, hours_ago=3, topic=Topic.LEGAL)
    store(attend(later, pid(later, org.person), later.start, later.end))
    services.do_recompute_attendance(later)
    makeup.refresh_from_db()
    assert makeup.completed_how == MakeupKind.LATER_LECTURE
    assert makeup.completed_lecture == later
    record = _makeup_ledger(org.person).get()
    assert record.requirement_key == f"lecture:{missed.pk}"
    assert record.minutes == 0  # the later lecture's own entry counts its time
    services.do_recompute_attendance(later)  # idempotent
    assert _makeup_ledger(org.person).count() == 1


def test_one_later_lecture_settles_one_makeup_the_oldest_first(org):
    first = past_lecture(org, hours_ago=80)
    second = past_lecture(org, hours_ago=50)
    services.do_recompute_attendance(first)
    services.do_recompute_attendance(second)
    later = past_lecture(org, hours_ago=3)
    store(attend(later, pid(later, org.person), later.start, later.end))
    services.do_recompute_attendance(later)
    done = dict(Makeup.objects.values_list("lecture_id", "completed_lecture_id"))
    assert done == {first.pk: later.pk, second.pk: None}


def test_an_override_of_the_later_lecture_reopens_the_makeup(org):
    missed = past_lecture(org, hours_ago=50)
    services.do_recompute_attendance(missed)
    later = past_lecture(org, hours_ago=3)
    store(attend(later, pid(later, org.person), later.start, later.end))
    services.do_recompute_attendance(later)
    attendance = later.attendance.get(person=org.person)
    services.do_override_attendance(
        attendance, status=AttendanceStatus.ABSENT, reason="代他人签到", by=org.officer
    )
    makeup = Makeup.objects.get(lecture=missed)
    assert makeup.completed_at is None and makeup.completed_lecture is None
    assert not _makeup_ledger(org.person).exists()


def test_a_completed_makeup_is_kept_when_its_lecture_is_overridden(org, recording_makeup):
    _watch(recording_makeup, timezone.now(), 10 * 60)
    attendance = recording_makeup.lecture.attendance.get(person=org.person)
    services.do_override_attendance(
        attendance, status=AttendanceStatus.EXCUSED, reason="事后补交请假条", by=org.officer
    )
    assert Makeup.objects.get().completed_at is not None


# --- The makeup page and its heartbeat endpoint ------------------------------------------------


URL = "/live/makeups/heartbeat/"


def test_the_makeup_page_plays_the_recording_with_heartbeats(client, org, recording_makeup):
    client.force_login(org.learner)
    response = client.get(f"/live/makeups/{recording_makeup.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-lesson="{recording_makeup.pk}"' in html and 'data-url="/live/makeups/heartbeat/"'
    assert "data-study-video" in html and RECORDING in html
    assert "js/heartbeat.js" in html
    # Minutes, not "0 / 480 seconds".
    assert ">已学 0 分钟 / 共 8 分钟<" in html


@pytest.mark.parametrize("who", ["other_learner", "officer", "lecturer", "outsider"])
def test_the_makeup_page_is_the_persons_own(client, org, recording_makeup, who):
    login_staff(client, getattr(org, who))
    assert client.get(f"/live/makeups/{recording_makeup.pk}/").status_code == 404
    response = client.post(
        URL, {"lesson": recording_makeup.pk, "tab": "tab-aaaaaaaa"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not MakeupWatchSession.objects.exists()


def test_the_heartbeat_endpoint_credits_server_time(client, org, recording_makeup):
    client.force_login(org.learner)
    body = {"lesson": recording_makeup.pk, "tab": "tab-aaaaaaaa", "at": "2000-01-01"}
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"credited_seconds": 0, "expected_seconds": 480, "completed": False}
    assert client.post(URL, body, content_type="application/json").status_code == 429
    paused = client.post(URL, {**body, "playing": False}, content_type="application/json")
    assert paused.status_code == 200
    assert MakeupWatchSession.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"lesson": "x", "tab": "tab-aaaaaaaa"}, {"lesson": 1, "tab": "short"}, {"lesson": 10**30}],
)
def test_a_malformed_heartbeat_is_refused(client, org, recording_makeup, body):
    client.force_login(org.learner)
    assert client.post(URL, body, content_type="application/json").status_code == 400


def test_an_anonymous_heartbeat_is_refused(client, recording_makeup):
    body = {"lesson": recording_makeup.pk, "tab": "tab-aaaaaaaa"}
    assert client.post(URL, body, content_type="application/json").status_code == 403
