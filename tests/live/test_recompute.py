"""Attendance recompute: events → merge → policy → Attendance, ledger and makeups, at once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessEvent, Action
from live import audience, ledger, makeups, services
from live.models import Attendance, AttendanceStatus, Lecture, LectureAudience, Makeup
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from tests.factories import make_person
from tests.live.helpers import attend, jaas, make_lecture, past_lecture, pid, store

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def crowd(org):
    """Four more east-office persons, so one lecture shows every status."""
    return [make_person(org.east) for _ in range(4)]


def _statuses(lecture):
    return dict(Attendance.objects.filter(lecture=lecture).values_list("person_id", "status"))


def _events_for_every_status(lecture, org, crowd):
    """learner present, crowd[0] late, crowd[1] left early, crowd[2] two connections with a
    short reconnect gap (present), crowd[3] absent. A 120-minute lecture."""
    s, e = lecture.start, lecture.end
    bodies = [
        *attend(lecture, pid(lecture, org.person), s - 2 * MIN, e + MIN),
        *attend(lecture, pid(lecture, crowd[0]), s + 11 * MIN, e),
        *attend(lecture, pid(lecture, crowd[1]), s, s + 30 * MIN),
        *attend(lecture, pid(lecture, crowd[2]), s, s + 50 * MIN),
        *attend(lecture, pid(lecture, crowd[2]), s + 51 * MIN, e),
    ]
    store(bodies)
    return bodies


def test_each_person_gets_the_status_the_policy_gives(org, crowd):
    lecture = past_lecture(org, minutes=120)
    _events_for_every_status(lecture, org, crowd)
    services.do_recompute_attendance(lecture)
    assert _statuses(lecture) == {
        org.person.pk: AttendanceStatus.PRESENT,
        crowd[0].pk: AttendanceStatus.LATE,
        crowd[1].pk: AttendanceStatus.LEFT_EARLY,
        crowd[2].pk: AttendanceStatus.PRESENT,
        crowd[3].pk: AttendanceStatus.ABSENT,
    }
    row = Attendance.objects.get(lecture=lecture, person=org.person)
    assert row.seconds == 120 * 60
    assert row.policy == services.current_policy()
    assert row.figures["rule"] == "met"
    assert row.figures["first_join"] == lecture.start.isoformat()
    bridged = Attendance.objects.get(lecture=lecture, person=crowd[2])
    assert bridged.seconds == 120 * 60  # the one-minute gap is bridged
    lecture.refresh_from_db()
    assert lecture.attendance_computed_at is not None and not lecture.attendance_stale


def test_the_ledger_follows_the_statuses(org, crowd):
    lecture = past_lecture(org, minutes=120)
    _events_for_every_status(lecture, org, crowd)
    services.do_recompute_attendance(lecture)
    records = {
        r.person_id: r
        for r in ParticipationRecord.objects.filter(
            source=ParticipationSource.LECTURE, requirement_key=f"lecture:{lecture.pk}"
        )
    }
    assert set(records) == {org.person.pk, crowd[0].pk, crowd[1].pk, crowd[2].pk}  # not absent
    assert records[org.person.pk].status == ParticipationStatus.COMPLETED
    assert records[org.person.pk].minutes == 120
    assert records[crowd[0].pk].status == ParticipationStatus.COMPLETED
    assert records[crowd[1].pk].status == ParticipationStatus.IN_PROGRESS
    assert records[crowd[1].pk].minutes == 30
    assert records[org.person.pk].period == ledger.ledger_period(lecture)
    assert records[org.person.pk].requirement == lecture.title


def test_recompute_is_idempotent(org, crowd):
    lecture = past_lecture(org, minutes=120)
    _events_for_every_status(lecture, org, crowd)
    first = services.do_recompute_attendance(lecture)
    snapshot = (
        sorted(Attendance.objects.values_list("person_id", "status", "seconds", "figures")),
        sorted(ParticipationRecord.objects.values_list("person_id", "source", "minutes", "status")),
        sorted(Makeup.objects.values_list("person_id", "lecture_id", "kind")),
    )
    again = services.do_recompute_attendance(lecture)
    assert len(first) == len(again) == 5
    assert snapshot == (
        sorted(Attendance.objects.values_list("person_id", "status", "seconds", "figures")),
        sorted(ParticipationRecord.objects.values_list("person_id", "source", "minutes", "status")),
        sorted(Makeup.objects.values_list("person_id", "lecture_id", "kind")),
    )


def test_recompute_takes_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    make_person(org.east)  # absent from both: every path (makeups too) runs in both
    small = past_lecture(org, minutes=60)
    store(attend(small, pid(small, org.person), small.start, small.end))
    with django_assert_max_num_queries(23) as small_run:  # 23: + approved absences
        services.do_recompute_attendance(small)
    for _ in range(25):
        make_person(org.east)
    big = past_lecture(org, minutes=60)
    bodies = []
    for row in LectureAudience.objects.filter(lecture=big)[:20]:
        bodies += attend(big, row.participant_id, big.start, big.end)
    store(bodies)
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        services.do_recompute_attendance(big)


def test_attendance_waits_for_the_end(org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=10))
    with pytest.raises(services.LectureNotOver):
        services.do_recompute_attendance(lecture)
    assert not Attendance.objects.exists()


def test_recompute_fixes_an_unresolved_audience_first(org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(hours=2))
    assert lecture.audience_resolved_at is None
    services.do_recompute_attendance(lecture)
    lecture.refresh_from_db()
    assert lecture.audience_resolved_at is not None
    assert _statuses(lecture) == {org.person.pk: AttendanceStatus.ABSENT}


def test_only_this_rooms_events_count(org):
    lecture = past_lecture(org)
    other = past_lecture(org)
    store(attend(other, pid(lecture, org.person), other.start, other.end))
    services.do_recompute_attendance(lecture)
    assert _statuses(lecture) == {org.person.pk: AttendanceStatus.ABSENT}


# --- All or nothing ----------------------------------------------------------------------------


def test_a_recompute_killed_midway_leaves_nothing_and_a_rerun_is_right(org, crowd, monkeypatch):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(hours=3), minutes=120)
    audience.do_resolve_audience(lecture)
    _events_for_every_status(lecture, org, crowd)
    LectureAudience.objects.all().delete()  # so the recompute fixes the audience itself
    Lecture.objects.filter(pk=lecture.pk).update(audience_resolved_at=None)
    lecture.refresh_from_db()
    real = makeups.sync_for_attendance
    calls = []

    def crash(*args, **kwargs):
        # attendance rows, the audience and the ledger are written by now
        calls.append(Attendance.objects.filter(lecture=lecture).count())
        calls.append(ParticipationRecord.objects.count())
        raise RuntimeError("killed midway")

    monkeypatch.setattr(makeups, "sync_for_attendance", crash)
    with pytest.raises(RuntimeError, match="killed midway"):
        services.do_recompute_attendance(lecture)
    assert calls == [5, 4]  # the crash came after some writes
    assert not Attendance.objects.exists()
    assert not ParticipationRecord.objects.exists()
    assert not Makeup.objects.exists()
    assert not LectureAudience.objects.exists()
    lecture.refresh_from_db()
    assert lecture.audience_resolved_at is None and lecture.attendance_computed_at is None

    monkeypatch.setattr(makeups, "sync_for_attendance", real)
    # the participant ids are HMACs of the user id: the same again after the rerun's resolution
    services.do_recompute_attendance(lecture)
    assert _statuses(lecture)[org.person.pk] == AttendanceStatus.PRESENT
    assert _statuses(lecture)[crowd[3].pk] == AttendanceStatus.ABSENT
    assert ParticipationRecord.objects.count() == 4
    assert set(Makeup.objects.values_list("person_id", flat=True)) == {crowd[1].pk, crowd[3].pk}


def test_a_crash_in_the_ledger_rolls_back_the_attendance_too(org, monkeypatch):
    lecture = past_lecture(org)
    store(attend(lecture, pid(lecture, org.person), lecture.start, lecture.end))

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger, "sync_lecture_entries", crash)
    with pytest.raises(RuntimeError):
        services.do_recompute_attendance(lecture)
    assert not Attendance.objects.exists()


# --- Triggers ----------------------------------------------------------------------------------


def test_an_event_marks_the_lecture_stale(org, django_capture_on_commit_callbacks):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    event_body = jaas(lecture, "PARTICIPANT_JOINED", lecture.start, pid(lecture, org.person))
    import json

    from live.webhooks import parse_jaas_event

    with django_capture_on_commit_callbacks(execute=True):
        services.do_store_presence_event(parse_jaas_event(json.dumps(event_body).encode()))
    lecture.refresh_from_db()
    assert lecture.attendance_stale
    assert _statuses(lecture) == {org.person.pk: AttendanceStatus.ABSENT}  # not yet recomputed


def test_the_room_closing_after_the_end_recomputes_at_once(org, django_capture_on_commit_callbacks):
    import json

    from live.webhooks import parse_jaas_event

    lecture = past_lecture(org)
    store(attend(lecture, pid(lecture, org.person), lecture.start, lecture.end))
    closing = jaas(lecture, "ROOM_DESTROYED", lecture.end + MIN)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_store_presence_event(parse_jaas_event(json.dumps(closing).encode()))
    assert _statuses(lecture) == {org.person.pk: AttendanceStatus.PRESENT}


def test_the_room_closing_before_the_end_does_not_decide_anything(
    org, django_capture_on_commit_callbacks
):
    import json

    from live.webhooks import parse_jaas_event

    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=10))
    closing = jaas(lecture, "ROOM_DESTROYED", timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.do_store_presence_event(parse_jaas_event(json.dumps(closing).encode()))
    assert not Attendance.objects.exists()


def test_the_cron_command_fixes_audiences_and_computes_what_is_due(org):
    started = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    ended = make_lecture(org, start=timezone.now() - dt.timedelta(hours=3))
    upcoming = make_lecture(org)
    out = StringIO()
    call_command("recompute_attendance", stdout=out)
    assert out.getvalue().strip() == "2 audiences fixed, 1 lectures computed"
    for lecture in (started, ended, upcoming):
        lecture.refresh_from_db()
    assert started.audience_resolved_at and ended.audience_resolved_at
    assert upcoming.audience_resolved_at is None
    assert Attendance.objects.filter(lecture=ended).count() == 1
    out = StringIO()
    call_command("recompute_attendance", stdout=out)
    assert out.getvalue().strip() == "0 audiences fixed, 0 lectures computed"


# --- Overrides ---------------------------------------------------------------------------------


@pytest.fixture
def computed(org):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    return Attendance.objects.select_related("lecture").get(lecture=lecture, person=org.person)


def test_the_officer_overrides_with_a_reason_and_the_ledger_follows(org, computed):
    assert computed.status == AttendanceStatus.ABSENT
    assert Makeup.objects.filter(person=org.person).exists()
    services.do_override_attendance(
        computed, status=AttendanceStatus.PRESENT, reason="到中心现场参加", by=org.officer
    )
    computed.refresh_from_db()
    assert computed.status == AttendanceStatus.ABSENT  # the computed status is kept
    assert computed.effective_status == AttendanceStatus.PRESENT
    assert (computed.override_by, computed.override_reason) == (org.officer, "到中心现场参加")
    record = ParticipationRecord.objects.get(person=org.person, source=ParticipationSource.LECTURE)
    assert record.status == ParticipationStatus.COMPLETED
    assert not Makeup.objects.filter(person=org.person).exists()  # withdrawn
    event = AccessEvent.objects.filter(action=Action.CHANGE).latest("pk")
    assert event.person_id == org.person.pk and event.object_type == "live.attendance"
    assert "到中心现场参加" in event.detail


def test_an_override_survives_a_recompute(org, computed):
    services.do_override_attendance(
        computed, status=AttendanceStatus.EXCUSED, reason="病假，有证明", by=org.officer
    )
    services.do_recompute_attendance(computed.lecture)
    computed.refresh_from_db()
    assert computed.effective_status == AttendanceStatus.EXCUSED
    record = ParticipationRecord.objects.get(person=org.person, source=ParticipationSource.LECTURE)
    assert record.status == ParticipationStatus.EXCUSED


def test_clearing_an_override_goes_back_to_the_computed_status(org, computed):
    services.do_override_attendance(computed, status="present", reason="误判", by=org.officer)
    services.do_override_attendance(computed, status="", reason="核实后撤销", by=org.officer)
    computed.refresh_from_db()
    assert computed.effective_status == AttendanceStatus.ABSENT
    assert not ParticipationRecord.objects.filter(source=ParticipationSource.LECTURE).exists()
    assert Makeup.objects.filter(person=org.person).exists()


@pytest.mark.parametrize("reason", ["", "   ", "\x00"])
def test_an_override_needs_a_reason(org, computed, reason):
    with pytest.raises(ValidationError):
        services.do_override_attendance(computed, status="present", reason=reason, by=org.officer)
    computed.refresh_from_db()
    assert computed.override_status == ""


def test_an_override_needs_a_valid_status(org, computed):
    with pytest.raises(ValidationError):
        services.do_override_attendance(computed, status="maybe", reason="x", by=org.officer)


@pytest.mark.parametrize(
    "who",
    ["lecturer", "other_officer", "counselor", "administrator", "editor", "learner", "outsider"],
)
def test_only_officers_in_scope_may_override(org, computed, who):
    before = AccessEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.do_override_attendance(
            computed, status="present", reason="x", by=getattr(org, who)
        )
    computed.refresh_from_db()
    assert computed.override_status == ""
    assert AccessEvent.objects.count() == before


def test_no_lecturer_may_override_not_even_the_lectures_own(org, computed):
    from people.roles import Role
    from tests.factories import make_user

    stranger = make_user(role=Role.LECTURER)
    assert not services.may_override(stranger, computed)
    assert not services.may_override(org.lecturer, computed)
    assert services.may_override(org.officer, computed)


def test_a_failing_recompute_never_fails_the_webhook(
    client, org, settings, monkeypatch, django_capture_on_commit_callbacks
):
    import time

    from live.webhooks import jaas_signature_header
    from tests.live.conftest import JAAS_URL, SECRET, raw

    settings.JAAS_WEBHOOK_SECRET = SECRET
    lecture = past_lecture(org)

    def crash(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "do_recompute_attendance", crash)
    body = raw(jaas(lecture, "ROOM_DESTROYED", lecture.end))
    headers = {"X-Jaas-Signature": jaas_signature_header(SECRET, int(time.time()), body)}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(JAAS_URL, body, content_type="application/json", headers=headers)
    assert len(callbacks) == 1  # on_presence_event ran, and its recompute crashed
    assert response.status_code == 200 and response.json() == {"status": "stored"}
    lecture.refresh_from_db()
    assert lecture.attendance_stale  # the cron recompute picks it up


# --- The subject-access export -----------------------------------------------------------------


def test_a_persons_export_holds_their_lecture_attendance_and_makeups(org):
    lecture = past_lecture(org, title="法治讲座")
    services.do_recompute_attendance(lecture)
    data = services.collect_live_data(org.person)["lectures"]
    assert data["attendance"] == [
        {
            "lecture": "法治讲座",
            "start": timezone.localtime(lecture.start).isoformat(),
            "status": "absent",
            "computed_status": "absent",
            "seconds_present": 0,
            "changed_by_staff_because": "",
        }
    ]
    assert [m["lecture"] for m in data["makeups"]] == ["法治讲座"]
    assert services.collect_live_data(org.other_person)["lectures"] == {
        "attendance": [],
        "makeups": [],
    }
