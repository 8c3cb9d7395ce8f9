"""Lectures: room names, the audience rule and its fixed list, scoping, policy versions,
matching webhook events to lectures, reminders."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from live import audience, jitsi, services
from live.models import (
    AttendancePolicy,
    Lecture,
    LectureAudience,
    validate_recording_url,
)
from live.webhooks import UnknownParticipant, UnknownRoom, parse_jaas_event
from notifications.models import Notification
from people.models import Category, PersonStatus
from tests.factories import make_person
from tests.live.helpers import jaas, make_lecture

pytestmark = pytest.mark.django_db


# --- The lecture --------------------------------------------------------------------------------


def test_each_lecture_gets_its_own_unguessable_room(org):
    first, second = make_lecture(org), make_lecture(org)
    assert first.room_name != second.room_name
    assert first.room_name.startswith("lecture-") and len(first.room_name) >= 32
    first.title = "改名"
    first.save()
    first.refresh_from_db()
    assert first.room_name != "" and Lecture.objects.get(pk=first.pk).room_name == first.room_name


def test_the_speaker_is_the_title_and_the_shown_name(org):
    lecture = make_lecture(org, lecturer_title="律师", lecturer_name="王律师")
    assert lecture.speaker == "律师 王律师"
    lecture.lecturer_name = ""
    assert lecture.speaker == f"律师 {org.lecturer.get_full_name()}"


@pytest.mark.parametrize("url", ["/documents/3/talk.mp4", "https://media.example.org/a.mp4"])
def test_a_recording_must_play_under_the_csp(settings, url):
    settings.CSP_MEDIA_SRC = ["https://media.example.org"]
    validate_recording_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/a.mp4",
        "http://media.example.org/a.mp4",
        "//media.example.org/a.mp4",
        "javascript:alert(1)",
        "/\\evil.example/a.mp4",
    ],
)
def test_a_recording_from_elsewhere_is_refused(settings, url):
    settings.CSP_MEDIA_SRC = ["https://media.example.org"]
    with pytest.raises(ValidationError):
        validate_recording_url(url)


# --- The audience -------------------------------------------------------------------------------


def test_offices_include_the_offices_below_them(org):
    lecture = make_lecture(org, offices=(org.bureau,))
    assert set(audience.candidate_audience(lecture)) == {org.person, org.other_person}


def test_categories_narrow_the_offices_and_named_persons_are_added(org):
    strict = make_person(org.east, category=Category.STRICT)
    west_strict = make_person(org.west, category=Category.STRICT)
    lecture = make_lecture(
        org, offices=(org.east,), categories=(Category.STRICT,), persons=(org.other_person,)
    )
    assert set(audience.candidate_audience(lecture)) == {strict, org.other_person}
    everywhere = make_lecture(org, categories=(Category.STRICT,))
    assert set(audience.candidate_audience(everywhere)) == {strict, west_strict}


def test_only_named_persons_without_offices_or_categories(org):
    lecture = make_lecture(org, persons=(org.other_person,))
    assert list(audience.candidate_audience(lecture)) == [org.other_person]


def test_persons_whose_supervision_ended_are_not_in_the_audience(org):
    ended = make_person(org.east)
    ended.status = PersonStatus.ENDED
    ended.save(update_fields=["status"])
    lecture = make_lecture(org, persons=(ended,), offices=(org.east,))
    assert set(audience.candidate_audience(lecture)) == {org.person}


def test_the_audience_is_fixed_once_and_never_changes_after(org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=1))
    assert audience.do_resolve_audience(lecture) == 1
    row = LectureAudience.objects.get(lecture=lecture)
    assert row.person == org.person
    assert row.participant_id == jitsi.participant_id(org.learner.pk)
    newcomer = make_person(org.east)
    lecture.audience_offices.add(org.west)
    assert audience.do_resolve_audience(lecture) == 1
    assert list(Lecture.objects.for_person(newcomer)) == []
    assert list(Lecture.objects.for_person(org.other_person)) == []
    assert list(Lecture.objects.for_person(org.person)) == [lecture]


def test_before_it_is_fixed_the_rule_decides(org):
    lecture = make_lecture(org, categories=(Category.NORMAL,), offices=(org.east,))
    assert list(Lecture.objects.for_person(org.person)) == [lecture]
    org.person.category = Category.STRICT
    org.person.save(update_fields=["category"])
    assert list(Lecture.objects.for_person(org.person)) == []


def test_starting_lectures_are_fixed_by_the_cron_command(org):
    started = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=1))
    upcoming = make_lecture(org)
    assert audience.do_resolve_started_audiences() == 1
    started.refresh_from_db()
    upcoming.refresh_from_db()
    assert started.audience_resolved_at and upcoming.audience_resolved_at is None


def test_upcoming_lectures_are_soonest_first_and_not_ended(org):
    later = make_lecture(org, start=timezone.now() + dt.timedelta(days=3))
    sooner = make_lecture(org, start=timezone.now() + dt.timedelta(hours=2))
    running = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=10))
    make_lecture(org, start=timezone.now() - dt.timedelta(days=1))
    assert list(Lecture.objects.for_person(org.person).upcoming()) == [running, sooner, later]


# --- Who sees which lecture ---------------------------------------------------------------------


@pytest.fixture
def lectures(org):
    east = make_lecture(org, offices=(org.east,), title="东")
    west = make_lecture(org, offices=(org.west,), title="西")
    bureau = make_lecture(org, offices=(org.bureau,), title="全区")
    named = make_lecture(org, persons=(org.other_person,), title="点名")
    from people.roles import Role
    from tests.factories import make_user

    elsewhere = make_lecture(
        org, offices=(org.east,), title="别人的", lecturer=make_user(role=Role.LECTURER)
    )
    return {"east": east, "west": west, "bureau": bureau, "named": named, "other": elsewhere}


@pytest.mark.parametrize(
    "who, expected",
    [
        ("lecturer", {"east", "west", "bureau", "named"}),
        ("learner", {"east", "bureau", "other"}),
        ("other_learner", {"west", "bureau", "named"}),
        ("officer", {"east", "bureau", "other"}),
        ("other_officer", {"west", "bureau", "named"}),
        ("administrator", {"east", "west", "bureau", "named", "other"}),
        ("counselor", set()),  # office audiences count for a counselor once they are fixed
        ("outsider", set()),
    ],
)
def test_lectures_are_scoped_per_role(org, lectures, who, expected):
    visible = set(Lecture.objects.visible_to(getattr(org, who)))
    assert visible == {lectures[name] for name in expected}


def test_a_counselor_sees_fixed_lectures_of_the_caseload(org, lectures):
    audience.do_resolve_audience(lectures["east"])
    assert set(Lecture.objects.visible_to(org.counselor)) == {lectures["east"]}
    # named persons count before the list is fixed
    assert set(Lecture.objects.visible_to(org.other_counselor)) == {lectures["named"]}


def test_only_the_lecturer_and_administrators_edit(org, lectures):
    assert set(Lecture.objects.editable_by(org.lecturer)) == {
        lectures[n] for n in ("east", "west", "bureau", "named")
    }
    assert not Lecture.objects.editable_by(org.officer).exists()
    assert Lecture.objects.editable_by(org.administrator).count() == 5


def test_nobody_signed_out_sees_lectures(org, lectures):
    from django.contrib.auth.models import AnonymousUser

    assert not Lecture.objects.visible_to(AnonymousUser()).exists()
    org.learner.is_active = False
    assert not Lecture.objects.visible_to(org.learner).exists()


# --- Policy versions ---------------------------------------------------------------------------


RULES = {
    "min_presence_ratio": 0.8,
    "late_after_minutes": 5,
    "left_early_before_minutes": 15,
    "min_checks_ratio": 1.0,
}


def test_the_first_policy_comes_with_the_migration():
    policy = services.current_policy()
    assert policy.version == 1 and policy.active
    services.check_policy_rules(policy.rules)


def test_a_new_policy_version_becomes_the_active_one(org):
    first = services.current_policy()
    second = services.do_create_policy_version(RULES, note="更严格", by=org.administrator)
    assert second.version == first.version + 1
    first.refresh_from_db()
    assert not first.active and second.active
    assert services.current_policy() == second
    assert first.rules != second.rules  # the old version is untouched


@pytest.mark.parametrize(
    "rules",
    [
        {**RULES, "min_presence_ratio": 1.5},
        {**RULES, "late_after_minutes": -1},
        {**RULES, "extra": 1},
        {k: v for k, v in RULES.items() if k != "min_checks_ratio"},
        [],
        None,
    ],
)
def test_a_malformed_policy_is_refused_and_nothing_changes(org, rules):
    before = list(AttendancePolicy.objects.values_list("version", "active", "rules"))
    with pytest.raises(ValidationError):
        services.do_create_policy_version(rules, by=org.administrator)
    assert list(AttendancePolicy.objects.values_list("version", "active", "rules")) == before


# --- Matching events to lectures ----------------------------------------------------------------


def _parsed(body):
    return parse_jaas_event(json.dumps(body).encode())


def test_an_event_of_no_lectures_room_is_refused(org):
    lecture = make_lecture(org)
    body = jaas(lecture, "ROOM_CREATED", timezone.now())
    body["fqn"] = "app/lecture-000000000000000000000000"
    with pytest.raises(UnknownRoom):
        services.check_presence_event(_parsed(body))
    assert services.check_presence_event(_parsed(jaas(lecture, "ROOM_CREATED", timezone.now())))


def test_before_the_start_the_rules_candidates_may_join(org):
    lecture = make_lecture(org)
    ok = jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), jitsi.participant_id(org.learner.pk))
    assert services.check_presence_event(_parsed(ok)) == lecture
    lecture.refresh_from_db()
    assert lecture.audience_resolved_at is None  # early joining does not fix the list
    stranger = jitsi.participant_id(org.other_learner.pk)
    with pytest.raises(UnknownParticipant):
        services.check_presence_event(
            _parsed(jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), stranger))
        )


def test_after_the_start_the_fixed_list_decides(org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    body = jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), jitsi.participant_id(org.learner.pk))
    assert services.check_presence_event(_parsed(body)) == lecture
    lecture.refresh_from_db()
    assert lecture.audience_resolved_at is not None  # fixed on the first event after the start
    newcomer = make_person(org.east)
    late = jaas(
        lecture, "PARTICIPANT_JOINED", timezone.now(), jitsi.participant_id(newcomer.user_id)
    )
    with pytest.raises(UnknownParticipant):
        services.check_presence_event(_parsed(late))


def test_the_lecturer_is_a_known_participant(org):
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    body = jaas(
        lecture, "PARTICIPANT_JOINED", timezone.now(), jitsi.participant_id(org.lecturer.pk)
    )
    assert services.check_presence_event(_parsed(body)) == lecture


# --- Reminders ----------------------------------------------------------------------------------


def test_reminders_go_once_to_each_audience_member_of_a_lecture_starting_soon(org):
    soon = make_lecture(org, start=timezone.now() + dt.timedelta(minutes=30), title="普法讲座")
    make_lecture(org, start=timezone.now() + dt.timedelta(hours=5))
    extra = make_person(org.east)
    out = StringIO()
    call_command("send_lecture_reminders", stdout=out)
    assert out.getvalue().strip() == "2 reminders sent, 0 makeup notices sent"
    notes = Notification.objects.order_by("recipient_id")
    assert {n.recipient for n in notes} == {org.learner, extra.user}
    assert all("普法讲座" in n.title and n.url == f"/live/lectures/{soon.pk}/" for n in notes)
    out = StringIO()
    call_command("send_lecture_reminders", stdout=out)
    assert out.getvalue().strip() == "0 reminders sent, 0 makeup notices sent"
    assert Notification.objects.count() == 2


def test_reminders_use_the_fixed_list_when_there_is_one(org):
    lecture = make_lecture(org, start=timezone.now() + dt.timedelta(minutes=30))
    audience.do_resolve_audience(lecture)
    make_person(org.east)  # joined the office after the list was fixed
    assert services.do_send_reminders() == 1


def test_the_reminder_window_is_checked(org):
    with pytest.raises(Exception, match="--minutes"):
        call_command("send_lecture_reminders", "--minutes", "0", stdout=StringIO())
