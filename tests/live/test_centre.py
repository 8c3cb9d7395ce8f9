"""Attendance at the centre: the rotating code, the learner's scan, staff marks, and check-ins
counted by the attendance recompute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent, Action
from live import audience, centre, services
from live.attendance import union_intervals
from live.models import Attendance, AttendanceStatus, CentreCheckIn, CheckInMethod, LectureMode
from tests.factories import login_staff, make_person
from tests.live.helpers import attend, make_lecture, past_lecture, pid, store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
MIN = dt.timedelta(minutes=1)


def running(org, mode=LectureMode.CENTRE, **kwargs):
    """A lecture at the centre that started 5 minutes ago, for the east office."""
    return make_lecture(org, start=timezone.now() - 5 * MIN, mode=mode, **kwargs)


def scan_url(lecture, token=None):
    return f"/live/check-in/{lecture.pk}/{token or centre.qr_token(lecture)}/"


# --- The token --------------------------------------------------------------------------------


def test_the_token_changes_every_30_seconds_and_the_last_two_are_accepted(org):
    lecture = running(org)
    t0 = dt.datetime(2026, 11, 28, 2, 0, 0, tzinfo=dt.UTC)  # a step boundary
    token = centre.qr_token(lecture, t0)
    assert centre.qr_token(lecture, t0 + dt.timedelta(seconds=29)) == token
    assert centre.qr_token(lecture, t0 + dt.timedelta(seconds=30)) != token
    centre.check_token(lecture, token, t0)
    centre.check_token(lecture, token, t0 + dt.timedelta(seconds=59))
    with pytest.raises(centre.CheckInRefused) as refused:
        centre.check_token(lecture, token, t0 + dt.timedelta(seconds=60))
    assert refused.value.reason == "expired"


def test_a_token_not_yet_issued_is_refused(org):
    lecture = running(org)
    now = timezone.now()
    future = centre.qr_token(lecture, now + dt.timedelta(seconds=60))
    with pytest.raises(centre.CheckInRefused) as refused:
        centre.check_token(lecture, future, now)
    assert refused.value.reason == "invalid"


@pytest.mark.parametrize(
    "token", ["", "x", "zz.AAAAAAAAAAAAAAAA", "1.short", "1" * 13 + ".AAAAAAAAAAAAAAAA"]
)
def test_malformed_tokens_are_invalid(org, token):
    with pytest.raises(centre.CheckInRefused) as refused:
        centre.check_token(running(org), token, timezone.now())
    assert refused.value.reason == "invalid"


def test_a_token_fits_only_its_lecture(org):
    one, two = running(org), running(org)
    now = timezone.now()
    with pytest.raises(centre.CheckInRefused) as refused:
        centre.check_token(two, centre.qr_token(one, now), now)
    assert refused.value.reason == "invalid"
    forged = centre.qr_token(one, now)[:-2] + "AA"
    with pytest.raises(centre.CheckInRefused):
        centre.check_token(one, forged, now)


def test_the_qr_code_is_an_inline_svg_without_a_fixed_size():
    svg = centre.qr_svg("https://example.org/live/check-in/1/abc.def/")
    assert svg.startswith('<svg role="img" class="qr" ')
    assert 'width="' not in svg.split(">", 1)[0]
    assert "<path" in svg


# --- The learner's scan ------------------------------------------------------------------------


def test_a_learner_in_the_audience_is_checked_in_by_scanning(client, org):
    lecture = running(org)
    client.force_login(org.learner)
    response = client.get(scan_url(lecture))
    assert response.status_code == 200
    assert b'data-testid="check-in-done"' in response.content
    assert b'data-new="1"' in response.content
    row = CentreCheckIn.objects.get(lecture=lecture, person=org.person)
    assert row.method == CheckInMethod.QR and row.checked_out_at is None
    assert row.recorded_by == org.learner
    logged = AccessEvent.objects.filter(action=Action.CHANGE, person_id=org.person.pk)
    assert logged.filter(detail__contains="check-in by scan").count() == 1


def test_scanning_twice_changes_nothing(client, org):
    lecture = running(org)
    client.force_login(org.learner)
    client.get(scan_url(lecture))
    first = CentreCheckIn.objects.get()
    response = client.get(scan_url(lecture))
    assert response.status_code == 200
    assert b'data-new="0"' in response.content
    assert b"already checked in" in response.content
    assert list(CentreCheckIn.objects.all()) == [first]
    assert CentreCheckIn.objects.get().checked_in_at == first.checked_in_at


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("1.AAAAAAAAAAAAAAAA", "invalid"),
        ("forged", "invalid"),
        ("old", "expired"),
        ("other", "invalid"),
    ],
)
def test_bad_tokens_store_nothing(client, org, token, reason):
    lecture = running(org)
    if token == "old":
        token = centre.qr_token(lecture, timezone.now() - dt.timedelta(seconds=90))
    elif token == "other":
        token = centre.qr_token(running(org))
    elif token == "forged":
        token = centre.qr_token(lecture)[:-4] + "abcd"
    client.force_login(org.learner)
    response = client.get(scan_url(lecture, token))
    assert response.status_code == 400
    assert f'data-reason="{reason}"'.encode() in response.content
    assert not CentreCheckIn.objects.exists()


def test_someone_outside_the_audience_is_told_and_nothing_is_stored(client, org):
    lecture = running(org)
    for user in (org.other_learner, org.outsider, org.officer):
        login_staff(client, user)
        response = client.get(scan_url(lecture))
        assert response.status_code == 403
        assert b"not on the list for this lecture" in response.content
    assert not CentreCheckIn.objects.exists()


@pytest.mark.parametrize(
    ("start", "reason"),
    [(dt.timedelta(minutes=31), "too_early"), (dt.timedelta(minutes=-61), "over")],
)
def test_scans_outside_the_window_are_refused(client, org, start, reason):
    lecture = make_lecture(org, start=timezone.now() + start, minutes=60, mode=LectureMode.CENTRE)
    client.force_login(org.learner)
    response = client.get(scan_url(lecture))
    assert response.status_code == 400
    assert f'data-reason="{reason}"'.encode() in response.content
    assert not CentreCheckIn.objects.exists()


def test_check_in_opens_30_minutes_before_the_start(client, org):
    lecture = make_lecture(org, start=timezone.now() + 29 * MIN, mode=LectureMode.BOTH)
    client.force_login(org.learner)
    assert client.get(scan_url(lecture)).status_code == 200
    assert CentreCheckIn.objects.filter(lecture=lecture, person=org.person).exists()


def test_an_online_lecture_has_no_check_in(client, org):
    lecture = running(org, mode=LectureMode.ONLINE)
    client.force_login(org.learner)
    response = client.get(scan_url(lecture))
    assert response.status_code == 400
    assert not CentreCheckIn.objects.exists()


def test_a_signed_out_scan_is_remembered_while_the_person_signs_in(client, org):
    lecture = running(org)
    scanned = timezone.now() - 3 * MIN  # the code on the screen has changed since
    token = centre.qr_token(lecture, scanned)
    session = client.session
    session[centre_views_key()] = {
        "lecture": lecture.pk,
        "token": token,
        "at": scanned.isoformat(),
    }
    session.save()
    client.force_login(org.learner)
    response = client.get(scan_url(lecture, token))
    assert response.status_code == 200
    row = CentreCheckIn.objects.get(lecture=lecture, person=org.person)
    assert abs(row.checked_in_at - scanned) < dt.timedelta(seconds=1)


def test_a_signed_out_scan_goes_to_the_login_page(client, org):
    lecture = running(org)
    response = client.get(scan_url(lecture))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    saved = client.session[centre_views_key()]
    assert saved["lecture"] == lecture.pk
    assert client.get(scan_url(lecture, "1.AAAAAAAAAAAAAAAA")).status_code == 400


def centre_views_key():
    from live.centre_views import SESSION_KEY

    return SESSION_KEY


# --- Staff: screen, audience list and marks ---------------------------------------------------


def test_the_check_in_screen_shows_the_current_code(client, org):
    lecture = running(org)
    login_staff(client, org.lecturer)
    response = client.get(f"/admin/live/lectures/{lecture.pk}/check-in-screen/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg role="img" class="qr"' in html
    assert f"/live/check-in/{lecture.pk}/{centre.qr_token(lecture)}/" in html
    assert 'http-equiv="refresh"' in html


def test_the_check_in_screen_waits_before_the_window(client, org):
    lecture = make_lecture(org, mode=LectureMode.CENTRE)  # tomorrow
    login_staff(client, org.lecturer)
    response = client.get(f"/admin/live/lectures/{lecture.pk}/check-in-screen/")
    assert b"check-in-not-open" in response.content
    assert b"<svg" not in response.content


def _mark(client, lecture, person, action, **data):
    return client.post(
        f"/admin/live/lectures/{lecture.pk}/centre/mark/",
        {"person": person.pk, "action": action, **data},
    )


def test_the_lecturer_checks_a_person_in_and_out_and_undoes_it(client, org):
    lecture = running(org)
    login_staff(client, org.lecturer)
    assert _mark(client, lecture, org.person, "check_in").status_code == 302
    row = CentreCheckIn.objects.get()
    assert row.method == CheckInMethod.STAFF and row.recorded_by == org.lecturer
    _mark(client, lecture, org.person, "check_out")
    assert CentreCheckIn.objects.get().checked_out_at is not None
    _mark(client, lecture, org.person, "undo_check_out")  # no reason: refused
    assert CentreCheckIn.objects.get().checked_out_at is not None
    _mark(client, lecture, org.person, "undo_check_out", reason="pressed the wrong row")
    assert CentreCheckIn.objects.get().checked_out_at is None
    _mark(client, lecture, org.person, "undo_check_in", reason="not here after all")
    assert not CentreCheckIn.objects.exists()
    details = list(
        AccessEvent.objects.filter(action=Action.CHANGE, person_id=org.person.pk)
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert len(details) == 4
    assert details[0].startswith("centre check-in at ")
    assert details[1].startswith("centre check-out at ")
    assert details[2].startswith("centre check-out at ") and "wrong row" in details[2]
    assert "undone" in details[3] and "not here after all" in details[3]


def test_a_staff_mark_can_name_an_earlier_time(org):
    lecture = running(org)
    at = lecture.start + 2 * MIN
    centre.do_staff_mark(lecture, org.person.pk, action="check_in", by=org.lecturer, at=at)
    assert CentreCheckIn.objects.get().checked_in_at == at
    with pytest.raises(ValidationError):
        centre.do_staff_mark(
            lecture, org.person.pk, action="check_out", by=org.lecturer, at=at - MIN
        )
    with pytest.raises(ValidationError):  # in the future
        centre.do_staff_mark(
            lecture,
            org.person.pk,
            action="check_out",
            by=org.lecturer,
            at=timezone.now() + 5 * MIN,
        )
    with pytest.raises(ValidationError):  # before check-in opens
        centre.do_staff_mark(
            lecture, org.person.pk, action="check_out", by=org.lecturer, at=lecture.start - 31 * MIN
        )


def test_checking_in_twice_is_refused(org):
    lecture = running(org)
    centre.do_staff_mark(lecture, org.person.pk, action="check_in", by=org.lecturer)
    with pytest.raises(ValidationError):
        centre.do_staff_mark(lecture, org.person.pk, action="check_in", by=org.lecturer)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("lecturer", True),
        ("officer", True),
        ("administrator", True),
        ("other_officer", False),
        ("counselor", False),
        ("learner", False),
        ("outsider", False),
    ],
)
def test_who_may_mark_the_learner(org, role, allowed):
    lecture = running(org)
    user = getattr(org, role)
    assert centre.may_mark(user, lecture, org.person.pk) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            centre.do_staff_mark(lecture, org.person.pk, action="check_in", by=user)


def test_after_the_end_only_an_officer_may_mark(org):
    """A mark after check-in has closed changes a finished lecture's attendance: an override,
    the officers' (README "Roles"), never the lecturer's."""
    lecture = running(org)
    after = lecture.end + 10 * MIN
    assert centre.may_mark(org.lecturer, lecture, org.person.pk, now=after - 20 * MIN)
    assert not centre.may_mark(org.lecturer, lecture, org.person.pk, now=after)
    with pytest.raises(PermissionDenied):
        centre.do_staff_mark(lecture, org.person.pk, action="check_in", by=org.lecturer, now=after)
    assert not CentreCheckIn.objects.filter(lecture=lecture).exists()
    assert centre.may_mark(org.officer, lecture, org.person.pk, now=after)
    centre.do_staff_mark(
        lecture, org.person.pk, action="check_in", by=org.officer, at=lecture.start, now=after
    )
    assert CentreCheckIn.objects.filter(lecture=lecture, person=org.person).exists()


def test_an_officer_may_not_mark_a_person_outside_their_scope(org):
    other = make_person(org.west)
    lecture = running(org, offices=(org.east, org.west))
    assert centre.may_mark(org.officer, lecture, org.person.pk)
    assert not centre.may_mark(org.officer, lecture, other.pk)
    assert centre.may_mark(org.lecturer, lecture, other.pk)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("lecturer", 200),
        ("officer", 200),
        ("administrator", 200),
        ("other_officer", 404),
        ("counselor", 403),
    ],
)
def test_the_audience_list_per_role(client, org, role, status):
    lecture = running(org)
    login_staff(client, getattr(org, role))
    response = client.get(f"/admin/live/lectures/{lecture.pk}/centre/")
    if status == 403:  # Wagtail turns the denial into a redirect to the admin home
        assert response.status_code == 302
        assert AccessEvent.objects.filter(action=Action.DENIED).exists()
        return
    assert response.status_code == status
    if status == 200:
        assert f'data-person="{org.person.pk}"'.encode() in response.content


def test_an_online_lecture_has_no_audience_list(client, org):
    lecture = running(org, mode=LectureMode.ONLINE)
    login_staff(client, org.lecturer)
    assert client.get(f"/admin/live/lectures/{lecture.pk}/centre/").status_code == 404
    assert client.get(f"/admin/live/lectures/{lecture.pk}/check-in-screen/").status_code == 404


def test_the_audience_list_takes_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    lecture = running(org)
    login_staff(client, org.lecturer)
    client.get(f"/admin/live/lectures/{lecture.pk}/centre/")  # fixes the audience
    with django_assert_max_num_queries(30) as few:
        client.get(f"/admin/live/lectures/{lecture.pk}/centre/")
    for _ in range(15):
        person = make_person(org.east)
        centre.do_staff_mark(lecture, person.pk, action="check_in", by=org.lecturer)
    audience.do_resolve_audience(lecture)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/admin/live/lectures/{lecture.pk}/centre/")
    assert response.content.count(b'data-testid="centre-row"') >= 1


def test_a_bad_mark_form_changes_nothing(client, org):
    lecture = running(org)
    login_staff(client, org.lecturer)
    for data in ({}, {"person": "x", "action": "check_in"}, {"person": org.person.pk}):
        response = client.post(f"/admin/live/lectures/{lecture.pk}/centre/mark/", data)
        assert response.status_code == 302
    response = _mark(client, lecture, org.person, "check_in", at="25:99")
    assert response.status_code == 302
    assert not CentreCheckIn.objects.exists()


# --- Counted in the attendance ---------------------------------------------------------------


def test_a_check_in_counts_as_presence_until_the_end(org):
    lecture = past_lecture(org, minutes=60, mode=LectureMode.CENTRE)
    CentreCheckIn.objects.create(
        lecture=lecture,
        person=org.person,
        method=CheckInMethod.QR,
        checked_in_at=lecture.start - 20 * MIN,  # early: counted from the start
    )
    services.do_recompute_attendance(lecture)
    row = Attendance.objects.get(lecture=lecture, person=org.person)
    assert row.status == AttendanceStatus.PRESENT
    assert row.seconds == 3600
    assert row.figures["centre_seconds"] == 3600 and row.figures["online_seconds"] == 0


def test_online_and_centre_presence_are_united(org):
    lecture = past_lecture(org, minutes=100, mode=LectureMode.BOTH)
    s = lecture.start
    store(attend(lecture, pid(lecture, org.person), s, s + 50 * MIN))
    CentreCheckIn.objects.create(
        lecture=lecture,
        person=org.person,
        method=CheckInMethod.STAFF,
        checked_in_at=s + 40 * MIN,  # overlaps the online time by 10 minutes
        checked_out_at=s + 95 * MIN,
    )
    services.do_recompute_attendance(lecture)
    row = Attendance.objects.get(lecture=lecture, person=org.person)
    assert row.seconds == 95 * 60
    assert row.status == AttendanceStatus.PRESENT  # 95 % of the time
    assert (row.figures["online_seconds"], row.figures["centre_seconds"]) == (3000, 3300)


def test_a_mark_after_the_recompute_makes_it_stale_and_counts_next_time(org):
    lecture = past_lecture(org, hours_ago=1.5, minutes=60, mode=LectureMode.CENTRE)
    services.do_recompute_attendance(lecture)
    assert Attendance.objects.get(person=org.person).status == AttendanceStatus.ABSENT
    # After the end a mark is an override: the officer's (the lecturer's is refused above).
    centre.do_staff_mark(
        lecture, org.person.pk, action="check_in", by=org.officer, at=lecture.start
    )
    lecture.refresh_from_db()
    assert lecture.attendance_stale
    assert services.do_recompute_due() == 1
    assert Attendance.objects.get(person=org.person).status == AttendanceStatus.PRESENT


# --- union_intervals (pure) --------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
offsets = st.integers(min_value=-3600, max_value=3 * 3600)
pairs = st.lists(st.tuples(offsets, offsets), max_size=12)


def _intervals(raw):
    return [
        (T0 + dt.timedelta(seconds=a, microseconds=7), T0 + dt.timedelta(seconds=b)) for a, b in raw
    ]


@given(pairs, st.randoms())
def test_union_is_inside_the_window_and_order_independent(raw, rnd):
    start, end = T0, T0 + dt.timedelta(hours=2)
    intervals = _intervals(raw)
    result = union_intervals(intervals, start, end)
    shuffled = list(intervals)
    rnd.shuffle(shuffled)
    assert union_intervals(shuffled, start, end) == result
    total = sum((b - a).total_seconds() for a, b in result)
    assert total <= (end - start).total_seconds()
    for (a, b), nxt in zip(result, result[1:], strict=False):
        assert start <= a < b <= end
        assert b < nxt[0]  # sorted and disjoint
    assert union_intervals(result, start, end) == result  # idempotent
    for a, b in intervals:  # every piece is covered (to the whole second)
        a, b = max(a, start), min(b, end)
        if (b - a).total_seconds() >= 2:
            middle = a + (b - a) / 2
            assert any(x <= middle <= y for x, y in result)


def test_union_refuses_naive_datetimes_and_an_empty_window():
    with pytest.raises(ValueError):
        union_intervals([], T0, T0)
    with pytest.raises(ValueError):
        union_intervals([(T0.replace(tzinfo=None), T0)], T0, T0 + MIN)
