"""The lecture page (per role), the home-page card, and the staff views in the admin."""

from __future__ import annotations

import datetime as dt
import json
import re

import jwt
import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from live import audience, jitsi, roster, services
from live.models import Attendance, AttendancePolicy, AttendanceStatus, Lecture, Makeup
from tests.factories import login_staff, make_person
from tests.live.helpers import attend, make_lecture, past_lecture, pid, store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
SECRET = "s" * 40


def _url(lecture):
    return f"/live/lectures/{lecture.pk}/"


def _embed(response) -> dict:
    match = re.search(
        r'<script id="jitsi-embed" type="application/json">(.*?)</script>',
        response.content.decode(),
    )
    assert match, "no embed settings on the page"
    return json.loads(match.group(1))


@pytest.fixture
def self_hosted(settings):
    settings.JITSI_DOMAIN = "meet.example.org"
    settings.JITSI_XMPP_DOMAIN = "meet.example.org"
    settings.JITSI_APP_ID = "platform"
    settings.JITSI_APP_SECRET = SECRET
    settings.JAAS_APP_ID = ""


@pytest.fixture
def running(org):
    """A lecture under way, for the east office (learner's)."""
    return make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5), title="宪法讲座")


# --- The lecture page, per role ----------------------------------------------------------------


def test_an_audience_member_sees_the_page_and_how_attendance_works(client, org, running):
    client.force_login(org.learner)
    response = client.get(_url(running))
    assert response.status_code == 200
    html = response.content.decode()
    assert "宪法讲座" in html and 'data-testid="attendance-explained"' in html
    assert 'data-phase="open"' in html
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )


@pytest.mark.parametrize(
    "who",
    ["other_learner", "officer", "other_officer", "counselor", "administrator", "outsider"],
)
def test_anyone_else_gets_404(client, org, running, who):
    login_staff(client, getattr(org, who))
    assert client.get(_url(running)).status_code == 404


def test_a_missing_lecture_is_404_and_anonymous_signs_in_first(client, org, running):
    assert client.get(_url(running)).status_code == 302
    client.force_login(org.learner)
    assert client.get("/live/lectures/987654/").status_code == 404


def test_a_person_outside_the_fixed_list_cannot_open_it(client, org, running):
    audience.do_resolve_audience(running)
    newcomer = make_person(org.east)
    client.force_login(newcomer.user)
    assert client.get(_url(running)).status_code == 404


def test_the_attendee_token_is_no_moderator_and_carries_only_the_opaque_id(
    client, org, running, self_hosted
):
    client.force_login(org.learner)
    embed = _embed(client.get(_url(running)))
    assert embed["domain"] == "meet.example.org" and embed["room"] == running.room_name
    assert embed["script_url"] == "https://meet.example.org/external_api.js"
    claims = jwt.decode(embed["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    user = claims["context"]["user"]
    assert user["moderator"] == "false"
    assert user["id"] == jitsi.participant_id(org.learner.pk)
    assert user["name"] == "张*"  # other participants never see a full name
    assert org.person.case_number not in json.dumps(claims)
    assert claims["exp"] == int((running.end + services.TOKEN_GRACE).timestamp())


def test_the_lecturer_joins_as_moderator(client, org, running, self_hosted):
    login_staff(client, org.lecturer)
    response = client.get(_url(running))
    assert response.status_code == 200
    assert 'data-testid="lecturer-note"' in response.content.decode()
    claims = jwt.decode(_embed(response)["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"]["moderator"] == "true"
    assert claims["context"]["user"]["name"] == running.speaker


def test_the_page_may_load_jitsi_from_its_domain_only(client, org, running):
    client.force_login(org.learner)
    response = client.get(_url(running))
    embed = _embed(response)
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert embed["origin"] in policy["script-src"].split()
    assert embed["origin"] in policy["frame-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"]
    html = response.content.decode()
    assert f'<script src="{embed["script_url"]}" defer></script>' in html
    assert "live/lecture.js" in html


def test_before_the_room_opens_there_is_no_embed(client, org):
    lecture = make_lecture(org, start=timezone.now() + dt.timedelta(hours=2))
    client.force_login(org.learner)
    html = client.get(_url(lecture)).content.decode()
    assert 'data-testid="lecture-not-open"' in html and "jitsi-embed" not in html


def test_the_room_opens_fifteen_minutes_before(client, org):
    lecture = make_lecture(org, start=timezone.now() + dt.timedelta(minutes=14))
    client.force_login(org.learner)
    assert "jitsi-embed" in client.get(_url(lecture)).content.decode()


def test_an_in_person_lecture_embeds_no_room(client, org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=1), mode="centre")
    client.force_login(org.learner)
    html = client.get(_url(lecture)).content.decode()
    assert 'data-testid="lecture-in-person"' in html and "jitsi-embed" not in html


def test_after_the_end_the_person_sees_their_status_and_makeup(client, org):
    lecture = past_lecture(org)
    services.do_recompute_attendance(lecture)
    client.force_login(org.learner)
    html = client.get(_url(lecture)).content.decode()
    assert 'data-testid="my-attendance"' in html and str(AttendanceStatus.ABSENT.label) in html
    makeup = Makeup.objects.get()
    assert f'href="/live/makeups/{makeup.pk}/"' in html


# --- The home-page card ------------------------------------------------------------------------


def test_the_home_page_lists_the_persons_next_lectures(client, org):
    mine = make_lecture(org, title="预防电信诈骗", start=timezone.now() + dt.timedelta(days=2))
    make_lecture(org, title="西区专场", offices=(org.west,))
    past_lecture(org, title="已结束")
    client.force_login(org.learner)
    html = client.get("/").content.decode()
    assert 'data-testid="upcoming-lectures"' in html
    assert "预防电信诈骗" in html and f'href="/live/lectures/{mine.pk}/"' in html
    assert "西区专场" not in html and "已结束" not in html


def test_the_upcoming_list_is_one_query(org, django_assert_num_queries):
    for _ in range(5):
        make_lecture(org)
    with django_assert_num_queries(1):
        assert len(services.upcoming_for_person(org.person)) == 3


def test_no_lectures_says_so(client, org):
    client.force_login(org.learner)
    assert 'data-testid="no-lectures"' in client.get("/").content.decode()


# --- Lecturers in the admin --------------------------------------------------------------------


def _lecture_form(org, **changes):
    start = timezone.localtime() + dt.timedelta(days=3)
    data = {
        "title": "防范电信诈骗",
        "topic": "legal",
        "description": "",
        "lecturer_title": "民警",
        "lecturer_name": "",
        "start": start.strftime("%Y-%m-%d %H:%M"),
        "end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "mode": "online",
        "location": "",
        "recording_url": "",
        "audience_offices": [str(org.east.pk)],
        "required": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_lecturer_creates_a_lecture_as_its_lecturer(client, org):
    login_staff(client, org.lecturer)
    form = client.get("/admin/lectures/new/").content.decode()
    assert 'name="lecturer"' not in form and 'name="audience_persons"' not in form
    response = client.post("/admin/lectures/new/", _lecture_form(org, lecturer=org.officer.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    lecture = Lecture.objects.get()
    assert lecture.lecturer == org.lecturer and lecture.created_by == org.lecturer
    assert list(lecture.audience_offices.all()) == [org.east]
    assert lecture.room_name.startswith("lecture-")


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"audience_offices": None}, "Choose the audience"),
        ({"end": "2020-01-01 00:00"}, "must end after it starts"),
        ({"recording_url": "https://elsewhere.example/x.mp4"}, "the technical staff"),
    ],
)
def test_a_bad_lecture_form_is_refused(client, org, changes, error):
    login_staff(client, org.lecturer)
    response = client.post("/admin/lectures/new/", _lecture_form(org, **changes))
    assert response.status_code == 200 and error in response.content.decode()
    assert not Lecture.objects.exists()


def test_a_lecturer_sees_and_edits_only_their_own(client, org):
    from people.roles import Role
    from tests.factories import make_user

    mine = make_lecture(org, title="我的讲座")
    theirs = make_lecture(org, title="别人的讲座", lecturer=make_user(role=Role.LECTURER))
    login_staff(client, org.lecturer)
    listing = client.get("/admin/lectures/").content.decode()
    assert "我的讲座" in listing and "别人的讲座" not in listing
    assert client.get(f"/admin/lectures/edit/{mine.pk}/").status_code == 200
    assert client.get(f"/admin/lectures/edit/{theirs.pk}/").status_code == 404
    response = client.post(f"/admin/lectures/edit/{theirs.pk}/", _lecture_form(org, title="x"))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "别人的讲座"


def test_an_administrator_picks_the_lecturer_and_named_persons(client, org):
    login_staff(client, org.administrator)
    form = client.get("/admin/lectures/new/").content.decode()
    assert 'name="lecturer"' in form and 'name="audience_persons"' in form
    data = _lecture_form(
        org, lecturer=org.lecturer.pk, audience_offices=None, audience_persons=[org.person.pk]
    )
    assert client.post("/admin/lectures/new/", data).status_code == 302
    lecture = Lecture.objects.get()
    assert lecture.lecturer == org.lecturer and list(lecture.audience_persons.all()) == [org.person]


def test_the_audience_of_a_started_lecture_cannot_change(client, org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=1))
    audience.do_resolve_audience(lecture)
    login_staff(client, org.lecturer)
    start = timezone.localtime(lecture.start).strftime("%Y-%m-%d %H:%M")
    end = timezone.localtime(lecture.end).strftime("%Y-%m-%d %H:%M")
    data = _lecture_form(org, audience_offices=[str(org.west.pk)], start=start, end=end)
    assert client.post(f"/admin/lectures/edit/{lecture.pk}/", data).status_code == 302
    assert list(lecture.audience_offices.all()) == [org.east]


def test_an_officer_sees_lectures_in_scope_but_does_not_add(client, org):
    make_lecture(org, title="东区讲座")
    make_lecture(org, title="西区讲座", offices=(org.west,))
    login_staff(client, org.officer)
    listing = client.get("/admin/lectures/").content.decode()
    assert "东区讲座" in listing and "西区讲座" not in listing
    assert client.get("/admin/lectures/new/").status_code == 302  # Wagtail's permission denial


# --- The attendance table and overrides --------------------------------------------------------


@pytest.fixture
def ended(org):
    """An ended lecture for the whole bureau: learner present, other_learner absent."""
    lecture = past_lecture(org, offices=(org.bureau,))
    store(attend(lecture, pid(lecture, org.person), lecture.start, lecture.end))
    return lecture


def _table(client, lecture):
    return client.get(f"/admin/live/lectures/{lecture.pk}/attendance/")


def test_the_lecturer_sees_the_whole_table_computed_on_first_view(client, org, ended):
    login_staff(client, org.lecturer)
    response = _table(client, ended)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="attendance-row"') == 2
    assert 'data-status="present"' in html and 'data-status="absent"' in html
    assert org.person.case_number not in html  # lecturers see rosters, not case numbers
    assert 'data-testid="override-form"' not in html  # overrides are the officers'
    event = AccessEvent.objects.filter(action=Action.VIEW, object_type="live.lecture").get()
    assert event.object_id == str(ended.pk)


def test_an_officer_sees_only_the_persons_in_scope(client, org, ended):
    login_staff(client, org.officer)
    html = _table(client, ended).content.decode()
    assert html.count('data-testid="attendance-row"') == 1
    assert f'data-person="{org.person.pk}"' in html and org.person.case_number in html


@pytest.mark.parametrize("who, where", [("counselor", "/admin/"), ("outsider", "/admin/login/")])
def test_others_may_not_see_the_table(client, org, ended, who, where):
    login_staff(client, getattr(org, who))
    response = _table(client, ended)
    assert response.status_code == 302 and response["Location"].split("?")[0] == where
    assert not Attendance.objects.exists()


def test_the_table_is_a_fixed_number_of_queries(client, org, ended, django_assert_max_num_queries):
    login_staff(client, org.lecturer)
    _table(client, ended)  # computes
    with django_assert_max_num_queries(40) as small:
        _table(client, ended)
    count = len(small.captured_queries)  # read now: the next request clears the log
    for _ in range(10):
        make_person(org.east)
    bigger = past_lecture(org, offices=(org.bureau,))
    _table(client, bigger)
    with django_assert_max_num_queries(count):
        _table(client, bigger)


def test_an_officer_overrides_through_the_form(client, org, ended):
    services.do_recompute_attendance(ended)
    row = Attendance.objects.get(lecture=ended, person=org.person)
    login_staff(client, org.officer)
    url = f"/admin/live/attendance/{row.pk}/override/"
    response = client.post(url, {"status": "excused", "reason": "  "})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.override_status == ""
    client.post(url, {"status": "excused", "reason": "住院，有病历"})
    row.refresh_from_db()
    assert (row.effective_status, row.override_by) == ("excused", org.officer)


@pytest.mark.parametrize("who", ["lecturer", "administrator", "counselor", "editor"])
def test_only_officers_override_through_the_form(client, org, ended, who):
    """README "Roles": officers may override attendance with a reason; the lecturer (whose
    lecture it is), administrators, counselors and editors may not."""
    services.do_recompute_attendance(ended)
    row = Attendance.objects.get(lecture=ended, person=org.other_person)
    assert row.status == "absent"
    login_staff(client, getattr(org, who))
    url = f"/admin/live/attendance/{row.pk}/override/"
    response = client.post(url, {"status": "present", "reason": "到中心现场参加"})
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or response["Location"].split("?")[0] == "/admin/"
    row.refresh_from_db()
    assert (row.override_status, row.effective_status) == ("", "absent")
    assert AccessEvent.objects.filter(action=Action.DENIED).exists()
    assert not AccessEvent.objects.filter(action=Action.CHANGE).exists()


@pytest.mark.parametrize("who", ["lecturer", "administrator"])
def test_who_cannot_change_attendance_is_offered_no_change_column(client, org, ended, who):
    """The lecturer (and a non-superuser administrator) changes no row: the table has no
    "Change" column and the page does not speak of changes; the officer's has both."""
    login_staff(client, getattr(org, who))
    html = _table(client, ended).content.decode()
    assert "<th>Change</th>" not in html and "A change needs a reason" not in html
    assert 'data-testid="override-form"' not in html
    client.logout()
    login_staff(client, org.officer)
    officer_html = _table(client, ended).content.decode()
    assert "<th>Change</th>" in officer_html and "A change needs a reason" in officer_html
    assert 'data-testid="override-form"' in officer_html


def test_the_lecturer_sees_names_as_the_live_roster_shows_them(client, org, ended):
    """One rule for a lecturer: the attendance page, its download and the live roster show
    the same masked name (people.names.mask_name_for_peers); officers see names in full."""
    login_staff(client, org.lecturer)
    html = _table(client, ended).content.decode()
    access = roster.access_lecture_socket(org.lecturer, ended.pk)
    on_roster = {
        row["person"]: row["name"]
        for row in roster.roster_snapshot(access, open_sockets=set(), seen_sockets=set())["rows"]
    }
    assert on_roster == {org.person.pk: "张*", org.other_person.pk: "李*"}
    for masked in on_roster.values():
        assert f"<td>{masked} <span" in html
    assert "张三" not in html and "李四" not in html
    export = client.post(
        f"/admin/live/lectures/{ended.pk}/attendance/export/", {"format": "csv"}
    ).content.decode("utf-8-sig")
    assert "张*" in export and "李*" in export
    assert "张三" not in export and "李四" not in export

    client.logout()
    login_staff(client, org.officer)
    officer_html = _table(client, ended).content.decode()
    person_page = reverse("people_person_detail", args=[org.person.pk])
    assert f'<a href="{person_page}" data-testid="person-link">张三</a> <span' in officer_html
    assert 'data-testid="person-link"' not in html  # never for the lecturer


def test_an_officer_out_of_scope_gets_404_and_a_logged_denial(client, org, ended):
    services.do_recompute_attendance(ended)
    row = Attendance.objects.get(lecture=ended, person=org.person)
    login_staff(client, org.other_officer)
    url = f"/admin/live/attendance/{row.pk}/override/"
    assert client.post(url, {"status": "present", "reason": "x"}).status_code == 404
    row.refresh_from_db()
    assert row.override_status == ""
    assert AccessEvent.objects.filter(action=Action.DENIED, person_id=org.person.pk).exists()


# --- The attendance policy in the admin --------------------------------------------------------


def test_editing_the_policy_makes_a_new_version(client, org):
    first = AttendancePolicy.objects.get()
    login_staff(client, org.administrator)
    data = {
        "presence_percent": "85",
        "late_after_minutes": "5",
        "left_early_before_minutes": "10",
        "checks_percent": "100",
        "note": "放宽到 85%",
    }
    response = client.post(f"/admin/attendance-policies/edit/{first.pk}/", data)
    assert response.status_code == 302
    first.refresh_from_db()
    latest = services.current_policy()
    assert latest.version == 2 and latest.created_by == org.administrator
    assert latest.rules["min_presence_ratio"] == 0.85 and latest.rules["min_checks_ratio"] == 1.0
    assert first.rules["min_presence_ratio"] == 0.9 and not first.active
    bad = {**data, "presence_percent": "120"}
    assert client.post("/admin/attendance-policies/new/", bad).status_code == 200
    assert AttendancePolicy.objects.count() == 2


def test_only_administrators_edit_the_policy(client, org):
    login_staff(client, org.officer)
    assert client.get("/admin/attendance-policies/").status_code == 302


def test_a_recording_host_allowed_for_media_is_in_the_policy(client, org, settings):
    settings.CSP_MEDIA_SRC = ["https://media.example.org"]
    lecture = past_lecture(org, recording_url="https://media.example.org/lecture.mp4")
    services.do_recompute_attendance(lecture)
    client.force_login(org.learner)
    response = client.get(f"/live/makeups/{Makeup.objects.get().pk}/")
    media = next(
        part
        for part in response["Content-Security-Policy"].split(";")
        if part.strip().startswith("media-src")
    )
    assert media.split()[1:] == ["'self'", "blob:", "https://media.example.org"]


def test_the_lecturers_home_links_each_next_lecture_to_its_page(client, org):
    lecture = make_lecture(org, title="预防电信诈骗", start=timezone.now() + dt.timedelta(days=2))
    login_staff(client, org.lecturer)
    html = client.get("/admin/").content.decode()
    assert f'data-testid="home-lecture-page" href="/live/lectures/{lecture.pk}/"' in html
    # the page the link opens works for the lecturer before the room opens
    assert client.get(f"/live/lectures/{lecture.pk}/").status_code == 200


def test_the_lecture_form_speaks_plain_words_about_recordings(client, org, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.cookies["django_language"] = "zh-hans"
    login_staff(client, org.lecturer)
    form = client.get("/admin/lectures/new/").content.decode()
    assert "CSP_MEDIA_SRC" not in form
    assert "技术人员已允许的视频网站" in form
    response = client.post(
        "/admin/lectures/new/",
        _lecture_form(org, recording_url="https://elsewhere.example/x.mp4"),
    )
    text = response.content.decode()
    assert "CSP_MEDIA_SRC" not in text and "请联系技术人员" in text


def test_a_superuser_administrator_overrides_nothing_either(client, org, ended):
    """The demo's ``admin`` is an administrator and a Django superuser; the README gives
    overrides to officers alone, so a superuser gets no change column and a forced POST
    changes nothing."""
    from live.models import Attendance
    from live.overrides import may_override_attendance

    org.administrator.is_superuser = True
    org.administrator.save(update_fields=["is_superuser"])
    assert not may_override_attendance(org.administrator)
    login_staff(client, org.administrator)
    html = _table(client, ended).content.decode()
    assert 'data-testid="override-form"' not in html
    before = list(Attendance.objects.values_list("pk", "status", "override_reason"))
    assert before
    for pk, _status, _reason in before:
        client.post(
            reverse("live_attendance_override", args=[pk]),
            {"status": "present", "reason": "superuser"},
        )
    assert list(Attendance.objects.values_list("pk", "status", "override_reason")) == before
